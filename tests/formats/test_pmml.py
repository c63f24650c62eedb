"""PMML scored in pure Python against scikit-learn, on files exported by nyoka in the test."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelport.formats.pmml import PmmlAdapter, PmmlPredictor
from modelport.foundation.errors import InvalidInputError, UnsafeArtifactError, UnsupportedFormatError

from .conftest import export_pmml, round_thresholds_as_written


def _exported(model: Any, x: pd.DataFrame, y: Any, path: Path, scaler: bool = False) -> tuple[Any, PmmlPredictor]:
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    steps = [("scale", StandardScaler())] if scaler else []
    pipeline = Pipeline([*steps, ("model", model)]).fit(x, y)
    round_thresholds_as_written(pipeline[-1])
    return pipeline, PmmlAdapter().load(export_pmml(pipeline, x, path))


CLASSIFIERS = {
    "tree": lambda: __import__("sklearn.tree", fromlist=["x"]).DecisionTreeClassifier(max_depth=4, random_state=0),
    "forest": lambda: __import__("sklearn.ensemble", fromlist=["x"]).RandomForestClassifier(
        n_estimators=7, max_depth=4, random_state=0),
    "boosting": lambda: __import__("sklearn.ensemble", fromlist=["x"]).GradientBoostingClassifier(
        n_estimators=8, max_depth=2, random_state=0),
}


@pytest.mark.parametrize("kind", sorted(CLASSIFIERS))
@pytest.mark.parametrize("dataset", ["iris", "cancer"])
def test_tree_classifiers_match_sklearn(kind: str, dataset: str, request: pytest.FixtureRequest,
                                        tmp_path: Path) -> None:
    x, y = request.getfixturevalue(dataset)
    pipeline, predictor = _exported(CLASSIFIERS[kind](), x, y, tmp_path / "m.pmml")
    assert predictor.predict(x).tolist() == pipeline.predict(x).tolist()
    np.testing.assert_allclose(predictor.predict_proba(x), pipeline.predict_proba(x), rtol=0, atol=1e-12)
    assert predictor.classes == pipeline.classes_.tolist()


def test_binary_logistic_regression_with_a_scaler_matches_sklearn(cancer: Any, tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = cancer
    pipeline, predictor = _exported(LogisticRegression(max_iter=2000), x, y, tmp_path / "lr.pmml", scaler=True)
    assert predictor.predict(x).tolist() == pipeline.predict(x).tolist()
    np.testing.assert_allclose(predictor.predict_proba(x), pipeline.predict_proba(x), rtol=0, atol=1e-9)


def test_multiclass_logistic_regression_follows_the_pmml_not_sklearn(iris: Any, tmp_path: Path) -> None:
    # nyoka writes one-vs-rest (per-class logit, then simplemax) while scikit-learn's default is
    # multinomial softmax: the labels agree, the probabilities are the exporter's, not sklearn's.
    from sklearn.linear_model import LogisticRegression

    x, y = iris
    pipeline, predictor = _exported(LogisticRegression(max_iter=500), x, y, tmp_path / "lr.pmml", scaler=True)
    assert (predictor.predict(x) == pipeline.predict(x)).mean() > 0.95
    np.testing.assert_allclose(predictor.predict_proba(x).sum(axis=1), 1.0, atol=1e-12)


def test_linear_regression_with_transformations_matches_sklearn(diabetes: Any, tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    x, y = diabetes
    pipeline, predictor = _exported(LinearRegression(), x, y, tmp_path / "linear.pmml", scaler=True)
    np.testing.assert_allclose(predictor.predict(x), pipeline.predict(x), rtol=0, atol=1e-9)
    assert predictor.predict_proba(x) is None and predictor.classes is None


@pytest.mark.parametrize("kind", ["tree", "forest"])
def test_tree_regressors_match_sklearn_exactly(kind: str, diabetes: Any, tmp_path: Path) -> None:
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.tree import DecisionTreeRegressor

    x, y = diabetes
    model = DecisionTreeRegressor(max_depth=5) if kind == "tree" else RandomForestRegressor(
        n_estimators=6, max_depth=4, random_state=0)
    pipeline, predictor = _exported(model, x, y, tmp_path / "r.pmml")
    np.testing.assert_allclose(predictor.predict(x), pipeline.predict(x), rtol=0, atol=1e-9)


def test_gradient_boosting_regressor_matches_up_to_the_exporters_rounding(diabetes: Any, tmp_path: Path) -> None:
    # nyoka writes the initial prediction (Targets/@rescaleConstant) with 7 significant digits:
    # the scorer is exact against that constant, so the only difference from sklearn is its rounding.
    from sklearn.ensemble import GradientBoostingRegressor

    x, y = diabetes
    pipeline, predictor = _exported(GradientBoostingRegressor(n_estimators=10, max_depth=2, random_state=0),
                                    x, y, tmp_path / "gbr.pmml")
    written = float(predictor.document.model.find("Targets/Target").get("rescaleConstant"))
    expected = pipeline.predict(x) - float(np.mean(y)) + written
    np.testing.assert_allclose(predictor.predict(x), expected, rtol=0, atol=1e-9)


def test_native_signature_comes_from_the_data_dictionary(pmml_gb_iris: tuple[Any, Path], iris: Any) -> None:
    predictor = PmmlAdapter().load(pmml_gb_iris[1])
    signature = predictor.native_signature
    assert signature.column_names == list(iris[0].columns)
    assert {c.dtype for c in signature.columns} == {"float64"}
    assert signature.classes == (0, 1, 2)


def test_an_array_is_read_by_position_and_a_missing_column_is_named(pmml_gb_iris: tuple[Any, Path],
                                                                    iris: Any) -> None:
    pipeline, path = pmml_gb_iris
    predictor = PmmlAdapter().load(path)
    x = iris[0]
    assert predictor.predict(x.to_numpy()).tolist() == pipeline.predict(x).tolist()
    with pytest.raises(InvalidInputError, match=r"missing column.*petal width"):
        predictor.predict(x.drop(columns=["petal width (cm)"]))
    with pytest.raises(InvalidInputError, match="expected rows of 4 values"):
        predictor.predict(np.zeros((2, 3)))


HAND_WRITTEN = """\
<?xml version="1.0"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <DataDictionary>
    <DataField name="colour" optype="categorical" dataType="string"/>
    <DataField name="size" optype="continuous" dataType="double"/>
    <DataField name="label" optype="categorical" dataType="string"><Value value="no"/><Value value="yes"/></DataField>
  </DataDictionary>
  <RegressionModel functionName="classification" normalizationMethod="softmax">
    <MiningSchema>
      <MiningField name="colour"/>
      <MiningField name="size" missingValueReplacement="2"/>
      <MiningField name="label" usageType="target"/>
    </MiningSchema>
    <LocalTransformations>
      <DerivedField name="big" optype="continuous" dataType="double">
        <Apply function="threshold"><FieldRef field="size"/><Constant>3</Constant></Apply>
      </DerivedField>
    </LocalTransformations>
    <RegressionTable intercept="0.5" targetCategory="yes">
      <NumericPredictor name="size" coefficient="1.5"/>
      <NumericPredictor name="big" coefficient="-4"/>
      <CategoricalPredictor name="colour" value="red" coefficient="2"/>
    </RegressionTable>
    <RegressionTable intercept="0" targetCategory="no"/>
  </RegressionModel>
</PMML>
"""


def test_categorical_predictors_local_transformations_and_missing_replacement(tmp_path: Path) -> None:
    path = tmp_path / "hand.pmml"
    path.write_text(HAND_WRITTEN)
    predictor = PmmlAdapter().load(path)
    data = pd.DataFrame({"colour": ["red", "blue", None], "size": [1.0, 4.0, np.nan]})
    yes = np.array([0.5 + 1.5 + 2, 0.5 + 6 - 4, 0.5 + 3])  # the NaN size is replaced by 2
    expected = 1 / (1 + np.exp(-yes))
    np.testing.assert_allclose(predictor.predict_proba(data)[:, 1], expected, atol=1e-12)
    assert predictor.predict(data).tolist() == ["yes", "yes", "yes"]
    assert predictor.classes == ["no", "yes"]
    assert [c.nullable for c in predictor.native_signature.columns] == [False, True]


SET_TREE = """\
<PMML xmlns="http://www.dmg.org/PMML-4_3" version="4.3">
  <DataDictionary>
    <DataField name="city" optype="categorical" dataType="string"/>
    <DataField name="age" optype="continuous" dataType="double"/>
  </DataDictionary>
  <TreeModel functionName="regression" noTrueChildStrategy="returnLastPrediction">
    <MiningSchema><MiningField name="city"/><MiningField name="age"/></MiningSchema>
    <Node score="0"><True/>
      <Node score="10"><SimpleSetPredicate field="city" booleanOperator="isIn">
          <Array type="string">"New York" Paris</Array></SimpleSetPredicate>
        <Node score="11"><CompoundPredicate booleanOperator="surrogate">
            <SimplePredicate field="age" operator="lessThan" value="30"/>
            <SimplePredicate field="city" operator="equal" value="Paris"/>
          </CompoundPredicate></Node>
      </Node>
      <Node score="20"><SimplePredicate field="age" operator="isMissing"/></Node>
    </Node>
  </TreeModel>
</PMML>
"""


def test_set_predicates_surrogates_and_last_prediction(tmp_path: Path) -> None:
    path = tmp_path / "tree.pmml"
    path.write_text(SET_TREE)
    data = pd.DataFrame({"city": ["Paris", "New York", "New York", "Rome", "Rome"],
                         "age": [np.nan, 25.0, 40.0, np.nan, 50.0]})
    # Paris/NaN age: the surrogate decides (city == Paris) -> 11; NY/40: no child true -> last prediction 10
    assert PmmlAdapter().load(path).predict(data).tolist() == [11.0, 11.0, 10.0, 20.0, 0.0]


def test_entities_and_dtds_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "xxe.pmml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE PMML [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                    '<PMML version="4.4"><Header>&x;</Header></PMML>')
    with pytest.raises(UnsafeArtifactError, match="DTD or entities is refused"):
        PmmlAdapter().load(path)


@pytest.mark.parametrize(("text", "error", "message"), [
    ("<PMML><Header/>", InvalidInputError, "not well-formed XML"),
    ("<model/>", InvalidInputError, "not PMML"),
    ("<PMML><DataDictionary/></PMML>", InvalidInputError, "no model element"),
    ("<PMML><NeuralNetwork functionName='regression'/></PMML>", UnsupportedFormatError, "NeuralNetwork"),
])
def test_broken_or_unsupported_documents_get_clear_errors(tmp_path: Path, text: str, error: type, message: str) -> None:
    path = tmp_path / "bad.pmml"
    path.write_text(text)
    with pytest.raises(error, match=message):
        PmmlAdapter().load(path)


def test_unknown_functions_fail_naming_the_function(tmp_path: Path) -> None:
    path = tmp_path / "fn.pmml"
    path.write_text(textwrap.dedent(HAND_WRITTEN).replace('function="threshold"', 'function="soundex"'))
    with pytest.raises(UnsupportedFormatError, match="'soundex'"):
        PmmlAdapter().load(path).predict(pd.DataFrame({"colour": ["red"], "size": [1.0]}))


def test_sniff_by_content_and_by_name(tmp_path: Path, pmml_gb_iris: tuple[Any, Path]) -> None:
    adapter = PmmlAdapter()
    bare = tmp_path / "model"
    bare.write_bytes(pmml_gb_iris[1].read_bytes())
    assert adapter.sniff(bare)
    other = tmp_path / "config.xml"
    other.write_text("<?xml version='1.0'?><config/>")
    assert not adapter.sniff(other)
    assert not adapter.accepts(object())
