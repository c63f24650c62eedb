"""Batch-scoring benchmark: modelport batch vs the model's own predict vs `mlflow models predict`."""
