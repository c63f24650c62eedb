"""PMML fields, expressions and predicates, evaluated for a whole batch of rows at once.

Numeric fields are float64 arrays with NaN for missing; categorical fields are object
arrays with None for missing. Predicates use PMML's three-valued logic: each returns
(truth, known) boolean arrays, and UNKNOWN counts as false where a decision is made.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable, Mapping
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np

from modelport.foundation.errors import InvalidInputError, UnsupportedFormatError

Truth = tuple[np.ndarray, np.ndarray]


class Env:
    """Field values for a batch: given columns, derived fields computed on first use, and a parent scope."""

    def __init__(self, size: int, values: dict[str, np.ndarray] | None = None,
                 derived: Mapping[str, Element] | None = None, parent: Env | None = None) -> None:
        self.size = size
        self.values = dict(values or {})
        self.derived = dict(derived or {})
        self.parent = parent

    def child(self, derived: Mapping[str, Element] | None = None) -> Env:
        """A nested scope (a model's LocalTransformations) that sees this one's fields."""
        return Env(self.size, derived=derived, parent=self)

    def get(self, name: str) -> np.ndarray:
        """The values of field `name`, computing a derived field the first time it is asked for."""
        if name in self.values:
            return self.values[name]
        if name in self.derived:
            value = evaluate(_only_expression(self.derived[name]), self)
            self.values[name] = value
            return value
        if self.parent is not None:
            return self.parent.get(name)
        raise InvalidInputError(f"PMML field {name!r} is used but never defined", field=name)

    def has(self, name: str) -> bool:
        return name in self.values or name in self.derived or (self.parent is not None and self.parent.has(name))


def missing(values: np.ndarray) -> np.ndarray:
    """True where a value is missing (NaN or None)."""
    if values.dtype.kind == "f":
        return np.asarray(np.isnan(values))
    if values.dtype.kind == "O":
        return np.array([v is None or (isinstance(v, float) and math.isnan(v)) for v in values], dtype=bool)
    return np.zeros(values.shape, dtype=bool)


def constant_like(text: str | None, column: np.ndarray) -> Any:
    """A PMML attribute value in the type of the column it is compared with."""
    if column.dtype == np.float32:  # a dataType="float" field compares in single precision, as exporters meant
        return np.float32(text) if text is not None else np.float32("nan")
    if column.dtype.kind in "fiub":
        return float(text) if text is not None else math.nan
    return text


# --- expressions --------------------------------------------------------------------------------
def _only_expression(element: Element) -> Element:
    for child in element:
        if child.tag in EXPRESSIONS:
            return child
    raise InvalidInputError(f"PMML {element.tag} {element.get('name')!r} has no expression", field="model")


def evaluate(element: Element, env: Env) -> np.ndarray:
    """The value of one expression element for every row."""
    handler = EXPRESSIONS.get(element.tag)
    if handler is None:
        raise UnsupportedFormatError(f"PMML expression <{element.tag}> is not supported by modelport's scorer")
    return handler(element, env)


def _field_ref(element: Element, env: Env) -> np.ndarray:
    values = env.get(element.get("field", ""))
    return _map_missing(values, element.get("mapMissingTo"))


def _map_missing(values: np.ndarray, replacement: str | None) -> np.ndarray:
    if replacement is None:
        return values
    gaps = missing(values)
    if not gaps.any():
        return values
    out = values.copy()
    out[gaps] = constant_like(replacement, values)
    return out


def _constant(element: Element, env: Env) -> np.ndarray:
    text = (element.text or "").strip()
    kind = element.get("dataType")
    if kind in (None, "double", "float", "integer") and _is_number(text):
        return np.full(env.size, float(text))
    return np.full(env.size, text, dtype=object)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _norm_continuous(element: Element, env: Env) -> np.ndarray:
    x = env.get(element.get("field", "")).astype(float)
    pairs = [(float(n.get("orig", "nan")), float(n.get("norm", "nan"))) for n in element.iter("LinearNorm")]
    orig, norm = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    out = np.interp(x, orig, norm)
    outliers = element.get("outliers", "asIs")
    low, high = x < orig[0], x > orig[-1]
    if outliers == "asIs":  # extrapolate along the first and last segments
        out = np.where(low, norm[0] + (x - orig[0]) * (norm[1] - norm[0]) / (orig[1] - orig[0]), out)
        out = np.where(high, norm[-1] + (x - orig[-1]) * (norm[-1] - norm[-2]) / (orig[-1] - orig[-2]), out)
    elif outliers == "asMissingValues":
        out = np.where(low | high, np.nan, out)
    out = np.where(np.isnan(x), np.nan, out)
    return _map_missing(out, element.get("mapMissingTo"))


def _norm_discrete(element: Element, env: Env) -> np.ndarray:
    column = env.get(element.get("field", ""))
    out = (column == constant_like(element.get("value"), column)).astype(float)
    out[missing(column)] = np.nan
    return _map_missing(out, element.get("mapMissingTo"))


def _apply(element: Element, env: Env) -> np.ndarray:
    name = element.get("function", "")
    function = FUNCTIONS.get(name)
    if function is None:
        raise UnsupportedFormatError(f"PMML function {name!r} is not supported by modelport's scorer")
    args = [evaluate(child, env) for child in element if child.tag in EXPRESSIONS]
    if name in ("isMissing", "isNotMissing", "if"):
        result = function(*args)
    else:
        numeric = [a.astype(float) if a.dtype.kind != "O" else a for a in args]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            result = function(*numeric)
    return _map_missing(np.asarray(result), element.get("mapMissingTo") or element.get("defaultValue"))


def _truth(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=float)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
    "min": lambda *a: np.min(np.vstack(a), axis=0), "max": lambda *a: np.max(np.vstack(a), axis=0),
    "sum": lambda *a: np.sum(np.vstack(a), axis=0), "avg": lambda *a: np.mean(np.vstack(a), axis=0),
    "product": lambda *a: np.prod(np.vstack(a), axis=0),
    "log10": np.log10, "ln": np.log, "sqrt": np.sqrt, "abs": np.abs, "exp": np.exp, "pow": np.power,
    "floor": np.floor, "ceil": np.ceil, "round": np.round,
    "threshold": lambda a, b: _truth(a > b),
    "isMissing": lambda a: _truth(missing(a)), "isNotMissing": lambda a: _truth(~missing(a)),
    "equal": lambda a, b: _truth(a == b), "notEqual": lambda a, b: _truth(a != b),
    "lessThan": lambda a, b: _truth(a < b), "lessOrEqual": lambda a, b: _truth(a <= b),
    "greaterThan": lambda a, b: _truth(a > b), "greaterOrEqual": lambda a, b: _truth(a >= b),
    "and": lambda *a: _truth(np.all(np.vstack(a) != 0, axis=0)),
    "or": lambda *a: _truth(np.any(np.vstack(a) != 0, axis=0)),
    "not": lambda a: _truth(a == 0),
    "if": lambda cond, then, other=None: np.where(
        cond.astype(float) != 0, then, other if other is not None else np.full(len(cond), np.nan)),
}

EXPRESSIONS: dict[str, Callable[[Element, Env], np.ndarray]] = {
    "FieldRef": _field_ref, "Constant": _constant, "Apply": _apply,
    "NormContinuous": _norm_continuous, "NormDiscrete": _norm_discrete,
}


# --- predicates ---------------------------------------------------------------------------------
def predicate(element: Element, env: Env, rows: np.ndarray) -> Truth:
    """(truth, known) of the predicate inside `element` (a Node or Segment) for the given row indices."""
    for child in element:
        if child.tag in PREDICATES:
            return PREDICATES[child.tag](child, env, rows)
    raise InvalidInputError(f"PMML <{element.tag}> has no predicate", field="model")


def _constant_truth(value: bool) -> Callable[[Element, Env, np.ndarray], Truth]:
    def truth(element: Element, env: Env, rows: np.ndarray) -> Truth:
        return np.full(len(rows), value), np.ones(len(rows), dtype=bool)

    return truth


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "equal": np.equal, "notEqual": np.not_equal, "lessThan": np.less, "lessOrEqual": np.less_equal,
    "greaterThan": np.greater, "greaterOrEqual": np.greater_equal,
}


def _simple(element: Element, env: Env, rows: np.ndarray) -> Truth:
    column = env.get(element.get("field", ""))[rows]
    gaps = missing(column)
    operator = element.get("operator", "")
    if operator == "isMissing":
        return gaps, np.ones(len(rows), dtype=bool)
    if operator == "isNotMissing":
        return ~gaps, np.ones(len(rows), dtype=bool)
    compare = _COMPARE.get(operator)
    if compare is None:
        raise UnsupportedFormatError(f"PMML SimplePredicate operator {operator!r} is not supported")
    value = constant_like(element.get("value"), column)
    with np.errstate(invalid="ignore"):
        truth = np.asarray(compare(column, value), dtype=bool)
    return truth & ~gaps, ~gaps


def _simple_set(element: Element, env: Env, rows: np.ndarray) -> Truth:
    column = env.get(element.get("field", ""))[rows]
    array = element.find("Array")
    items = shlex.split(array.text or "") if array is not None else []
    members = [constant_like(item, column) for item in items]
    truth = np.isin(column, members)
    if element.get("booleanOperator") == "isNotIn":
        truth = ~truth
    gaps = missing(column)
    return truth & ~gaps, ~gaps


def _compound(element: Element, env: Env, rows: np.ndarray) -> Truth:
    parts = [PREDICATES[c.tag](c, env, rows) for c in element if c.tag in PREDICATES]
    operator = element.get("booleanOperator", "and")
    if operator == "surrogate":  # the first predicate whose inputs are known decides
        truth, known = parts[-1]
        for part_truth, part_known in reversed(parts[:-1]):
            truth, known = np.where(part_known, part_truth, truth), part_known | known
        return truth, known
    if operator == "and":
        false = np.any([k & ~t for t, k in parts], axis=0)
        true = np.all([k & t for t, k in parts], axis=0)
        return true, true | false
    if operator == "or":
        true = np.any([k & t for t, k in parts], axis=0)
        false = np.all([k & ~t for t, k in parts], axis=0)
        return true, true | false
    if operator == "xor":
        known = np.all([k for _, k in parts], axis=0)
        return np.logical_xor.reduce([t for t, _ in parts]) & known, known
    raise UnsupportedFormatError(f"PMML CompoundPredicate operator {operator!r} is not supported")


PREDICATES: dict[str, Callable[[Element, Env, np.ndarray], Truth]] = {
    "True": _constant_truth(True), "False": _constant_truth(False), "SimplePredicate": _simple,
    "SimpleSetPredicate": _simple_set, "CompoundPredicate": _compound,
}
