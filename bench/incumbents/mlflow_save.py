"""Run inside bench/.envs/mlflow: save a joblib model as an MLflow model folder (tensor signature).

Usage: python mlflow_save.py MODEL.joblib ROWS.npy OUT_DIR
"""

from __future__ import annotations

import sys


def main(model_path: str, rows_path: str, out: str) -> None:
    """Save the same fitted estimator with mlflow.sklearn, its signature inferred from the load rows."""
    import joblib
    import mlflow.sklearn
    import numpy as np
    from mlflow.models import infer_signature

    model = joblib.load(model_path)
    rows = np.load(rows_path)
    mlflow.sklearn.save_model(model, out, signature=infer_signature(rows, model.predict(rows)),
                              serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE)


if __name__ == "__main__":
    main(*sys.argv[1:4])
