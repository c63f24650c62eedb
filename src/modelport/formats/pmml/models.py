"""PMML model elements scored for a batch: RegressionModel, TreeModel and MiningModel (ensembles, chains)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np
from scipy.special import expit, ndtr

from modelport.formats.pmml.expressions import Env, constant_like, evaluate, missing, predicate
from modelport.foundation.errors import InvalidInputError, UnsupportedFormatError

MODEL_TAGS = ("RegressionModel", "TreeModel", "MiningModel")


@dataclass
class Result:
    """A model's answer for a batch: numbers (regression) or labels plus probabilities (classification)."""

    value: np.ndarray
    probabilities: np.ndarray | None = None  # (rows, len(categories))


@dataclass(frozen=True)
class Context:
    """What every nested model needs: the target's categories, in the order probabilities are reported."""

    categories: tuple[str, ...]


def score(model: Element, env: Env, context: Context) -> Result:
    """Score one model element: its local fields and missing-value rules, the model, targets and outputs."""
    local = env.child(_local_fields(model))
    _replace_missing(model, local)
    scorer = SCORERS.get(model.tag)
    if scorer is None:
        raise UnsupportedFormatError(f"PMML <{model.tag}> is not supported; supported: {', '.join(MODEL_TAGS)}")
    result = _rescale(model, scorer(model, local, context))
    _publish_outputs(model, result, env, local, context)
    return result


def _local_fields(model: Element) -> dict[str, Element]:
    block = model.find("LocalTransformations")
    return {} if block is None else {f.get("name", ""): f for f in block.findall("DerivedField")}


def _replace_missing(model: Element, env: Env) -> None:
    schema = model.find("MiningSchema")
    for field in schema.findall("MiningField") if schema is not None else []:
        replacement = field.get("missingValueReplacement")
        name = field.get("name", "")
        if replacement is None or not env.has(name):
            continue
        values = env.get(name)
        gaps = missing(values)
        if gaps.any():
            values = values.copy()
            values[gaps] = constant_like(replacement, values)
        env.values[name] = values


def _rescale(model: Element, result: Result) -> Result:
    target = model.find("Targets/Target")
    if target is None or result.probabilities is not None:
        return result
    value = result.value.astype(float) * float(target.get("rescaleFactor", "1")) + float(
        target.get("rescaleConstant", "0"))
    if target.get("min") is not None or target.get("max") is not None:
        value = np.clip(value, float(target.get("min", "-inf")), float(target.get("max", "inf")))
    if target.get("castInteger") == "round":
        value = np.round(value)
    return Result(value)


def _publish_outputs(model: Element, result: Result, env: Env, local: Env, context: Context) -> None:
    """Make the model's OutputFields visible to the models after it (a modelChain's next segments)."""
    for field in model.findall("Output/OutputField"):
        feature = field.get("feature", "predictedValue")
        if feature == "predictedValue":
            value = result.value
        elif feature == "probability" and result.probabilities is not None:
            category = field.get("value")
            column = context.categories.index(category) if category in context.categories else None
            value = result.probabilities[:, column] if column is not None else result.probabilities.max(axis=1)
        elif feature == "transformedValue":
            expression = next((c for c in field if c.tag != "Extension"), None)
            if expression is None:
                continue
            value = evaluate(expression, local)  # sees the outputs published just before it, through `env`
        else:
            continue
        env.values[field.get("name", "")] = value


# --- RegressionModel ----------------------------------------------------------------------------
_LINKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": lambda y: y, "logit": expit, "softmax": expit, "exp": np.exp, "probit": ndtr,
    "cloglog": lambda y: 1.0 - np.exp(-np.exp(y)), "loglog": lambda y: np.exp(-np.exp(-y)),
    "cauchit": lambda y: 0.5 + np.arctan(y) / np.pi,
}


def _table(table: Element, env: Env) -> np.ndarray:
    total = np.full(env.size, float(table.get("intercept", "0")))
    for term in table.findall("NumericPredictor"):
        x = env.get(term.get("name", "")).astype(float)
        total = total + float(term.get("coefficient", "0")) * x ** float(term.get("exponent", "1"))
    for term in table.findall("CategoricalPredictor"):
        column = env.get(term.get("name", ""))
        hit = (column == constant_like(term.get("value"), column)).astype(float)
        total = total + float(term.get("coefficient", "0")) * hit
    for term in table.findall("PredictorTerm"):
        product = np.prod([env.get(ref.get("field", "")).astype(float) for ref in term.findall("FieldRef")], axis=0)
        total = total + float(term.get("coefficient", "0")) * product
    return total


def _regression(model: Element, env: Env, context: Context) -> Result:
    tables = model.findall("RegressionTable")
    method = model.get("normalizationMethod", "none")
    with np.errstate(over="ignore"):
        if model.get("functionName") != "classification":
            link = _LINKS.get(method)
            if link is None:
                raise UnsupportedFormatError(f"PMML regression normalizationMethod {method!r} is not supported")
            return Result(link(_table(tables[0], env)))
        scores = np.column_stack([_table(t, env) for t in tables])
        probabilities = _normalise(scores, method)
    labels = [str(t.get("targetCategory")) for t in tables]
    return _classified(probabilities, labels, context)


def _normalise(scores: np.ndarray, method: str) -> np.ndarray:
    if method == "softmax":
        shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
        return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))
    if method == "simplemax":
        return np.asarray(scores / scores.sum(axis=1, keepdims=True))
    link = _LINKS.get(method)
    if link is None:
        raise UnsupportedFormatError(f"PMML classification normalizationMethod {method!r} is not supported")
    # Binary-style links score every category but the last; the last takes what is left.
    out = np.empty_like(scores)
    out[:, :-1] = link(scores[:, :-1])
    out[:, -1] = 1.0 - out[:, :-1].sum(axis=1)
    return out


def _classified(probabilities: np.ndarray, labels: list[str], context: Context) -> Result:
    """Reorder a model's probability columns to the context's categories; the label is the most probable."""
    ordered = np.zeros((len(probabilities), len(context.categories)))
    for column, label in enumerate(labels):
        if label not in context.categories:
            raise InvalidInputError(f"PMML category {label!r} is not a value of the target field", field="model")
        ordered[:, context.categories.index(label)] += probabilities[:, column]
    return Result(_labels(ordered, context), ordered)


def _labels(probabilities: np.ndarray, context: Context) -> np.ndarray:
    labels = np.asarray(context.categories, dtype=object)[np.argmax(probabilities, axis=1)]
    labels[np.isnan(probabilities).any(axis=1)] = None
    return np.asarray(labels)


# --- TreeModel ----------------------------------------------------------------------------------
def _tree(model: Element, env: Env, context: Context) -> Result:
    root = model.find("Node")
    if root is None:
        raise InvalidInputError("PMML TreeModel has no Node", field="model")
    leaves: list[Element] = []
    leaf_of = np.full(env.size, -1)
    last_prediction = model.get("noTrueChildStrategy") == "returnLastPrediction"

    def walk(node: Element, rows: np.ndarray) -> None:
        remaining = rows
        for child in node.findall("Node"):
            if remaining.size == 0:
                return
            truth, _ = predicate(child, env, remaining)
            walk(child, remaining[truth])
            remaining = remaining[~truth]
        if remaining.size and (not node.findall("Node") or last_prediction):
            leaf_of[remaining] = len(leaves)
            leaves.append(node)

    truth, _ = predicate(root, env, np.arange(env.size))
    walk(root, np.flatnonzero(truth))
    reached = leaf_of >= 0
    if model.get("functionName") == "classification":
        table = np.vstack([_distribution(leaf, context) for leaf in leaves] or [np.zeros(len(context.categories))])
        probabilities = np.where(reached[:, None], table[np.maximum(leaf_of, 0)], np.nan)
        labels = np.asarray([leaf.get("score") for leaf in leaves] or [None], dtype=object)[np.maximum(leaf_of, 0)]
        labels[~reached] = None
        return Result(labels, probabilities)
    scores = np.asarray([float(leaf.get("score", "nan")) for leaf in leaves] or [np.nan])
    return Result(np.where(reached, scores[np.maximum(leaf_of, 0)], np.nan))


def _distribution(node: Element, context: Context) -> np.ndarray:
    out = np.zeros(len(context.categories))
    entries = node.findall("ScoreDistribution")
    counts = {str(e.get("value")): float(e.get("recordCount", "0")) for e in entries}
    total = sum(counts.values())
    for entry in entries:
        label = str(entry.get("value"))
        if label in context.categories:
            confidence = entry.get("probability") or entry.get("confidence")
            out[context.categories.index(label)] = (
                float(confidence) if confidence is not None else counts[label] / total if total else 0.0)
    if not entries and node.get("score") in context.categories:
        out[context.categories.index(str(node.get("score")))] = 1.0
    return out


# --- MiningModel --------------------------------------------------------------------------------
def _mining(model: Element, env: Env, context: Context) -> Result:
    segmentation = model.find("Segmentation")
    if segmentation is None:
        raise InvalidInputError("PMML MiningModel has no Segmentation", field="model")
    method = segmentation.get("multipleModelMethod", "")
    rows = np.arange(env.size)
    parts: list[tuple[Result, np.ndarray, float]] = []
    for segment in segmentation.findall("Segment"):
        inner = next((c for c in segment if c.tag in SCORERS), None)
        if inner is None:
            raise UnsupportedFormatError(f"PMML Segment {segment.get('id')!r} holds no supported model")
        truth, _ = predicate(segment, env, rows)
        parts.append((score(inner, env, context), truth, float(segment.get("weight", "1"))))
        if method == "selectFirst" and truth.all():
            break
    classify = model.get("functionName") == "classification"
    if method in ("modelChain", "selectFirst"):
        return _select(parts, first=method == "selectFirst", classify=classify)
    if classify:
        return _combine_classes(parts, method, context)
    return Result(_combine_numbers(parts, method))


def _select(parts: list[tuple[Result, np.ndarray, float]], *, first: bool, classify: bool) -> Result:
    ordered = list(reversed(parts)) if first else parts
    value = ordered[0][0].value.copy()
    probabilities: Any = ordered[0][0].probabilities
    for result, truth, _ in ordered[1:]:
        value = np.where(truth, result.value, value)
        if result.probabilities is not None:
            fallback = np.nan if probabilities is None else probabilities
            probabilities = np.where(truth[:, None], result.probabilities, fallback)
    return Result(value, probabilities if classify else None)


def _combine_numbers(parts: list[tuple[Result, np.ndarray, float]], method: str) -> np.ndarray:
    values = np.vstack([r.value.astype(float) for r, _, _ in parts])
    active = np.vstack([t for _, t, _ in parts])
    weights = np.array([w for _, _, w in parts])[:, None] * active
    masked = np.where(active, values, np.nan)
    if method == "sum":
        return np.asarray(np.where(active, values, 0.0).sum(axis=0))
    if method == "weightedSum":
        return np.asarray((np.where(active, values, 0.0) * weights).sum(axis=0))
    if method == "average":
        return np.asarray(np.nanmean(masked, axis=0))
    if method == "weightedAverage":
        return np.asarray((np.where(active, values, 0.0) * weights).sum(axis=0) / weights.sum(axis=0))
    if method == "median":
        return np.asarray(np.nanmedian(masked, axis=0))
    if method == "max":
        return np.asarray(np.nanmax(masked, axis=0))
    raise UnsupportedFormatError(f"PMML multipleModelMethod {method!r} is not supported for regression")


def _combine_classes(parts: list[tuple[Result, np.ndarray, float]], method: str, context: Context) -> Result:
    weights = np.vstack([t * w for _, t, w in parts])  # (segments, rows)
    if method in ("majorityVote", "weightedMajorityVote"):
        stacked = np.stack([_one_hot(r.value, context) for r, _, _ in parts])
    elif method in ("average", "weightedAverage"):
        stacked = np.stack([_probabilities_of(r, context) for r, _, _ in parts])
        if method == "average":
            weights = (weights > 0).astype(float)
    else:
        raise UnsupportedFormatError(f"PMML multipleModelMethod {method!r} is not supported for classification")
    votes = (stacked * weights[:, :, None]).sum(axis=0)
    probabilities = votes / weights.sum(axis=0)[:, None]
    return Result(_labels(probabilities, context), probabilities)


def _one_hot(labels: np.ndarray, context: Context) -> np.ndarray:
    return np.column_stack([(labels == c).astype(float) for c in context.categories])


def _probabilities_of(result: Result, context: Context) -> np.ndarray:
    return result.probabilities if result.probabilities is not None else _one_hot(result.value, context)


SCORERS: dict[str, Callable[[Element, Env, Context], Result]] = {
    "RegressionModel": _regression, "TreeModel": _tree, "MiningModel": _mining,
}


#: every model element of PMML 4.4
PMML_MODELS = frozenset({
    "AnomalyDetectionModel", "AssociationModel", "BayesianNetworkModel", "BaselineModel", "ClusteringModel",
    "GaussianProcessModel", "GeneralRegressionModel", "MiningModel", "NaiveBayesModel", "NearestNeighborModel",
    "NeuralNetwork", "RegressionModel", "RuleSetModel", "SequenceModel", "Scorecard", "SupportVectorMachineModel",
    "TextModel", "TimeSeriesModel", "TreeModel",
})


def ensure_supported(document: Element) -> Any:
    """The first model element of a PMML document, refusing model types this scorer does not know."""
    models = [child for child in document if child.tag in PMML_MODELS]
    if not models:
        raise InvalidInputError("the PMML document holds no model element", field="model")
    unknown = sorted({e.tag for e in document.iter() if e.tag in PMML_MODELS and e.tag not in SCORERS})
    if unknown:
        raise UnsupportedFormatError(
            f"PMML model type(s) {', '.join(unknown)} are not supported; supported: {', '.join(MODEL_TAGS)}")
    return models[0]
