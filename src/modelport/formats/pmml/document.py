"""Reading a PMML document safely, and turning a batch of input rows into field values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import numpy as np
import pandas as pd
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import parse

from modelport.formats.pmml.expressions import Env
from modelport.formats.pmml.models import Context, ensure_supported
from modelport.foundation.errors import InvalidInputError, UnsafeArtifactError
from modelport.signatures.schema import ColumnSpec, Signature

_NUMERIC_TYPES = ("double", "float", "integer")
_COLUMN_DTYPE = {"double": "float64", "float": "float64", "integer": "int64", "boolean": "bool", "string": "string"}


def read(path: Path) -> Element:
    """Parse a PMML file with DTDs, entities and external references refused (it is untrusted input)."""
    try:
        root: Element = parse(str(path), forbid_dtd=True, forbid_entities=True, forbid_external=True).getroot()
    except DefusedXmlException as exc:
        raise UnsafeArtifactError(f"{path.name}: PMML with a DTD or entities is refused (XXE risk): {exc}") from exc
    except ParseError as exc:
        raise InvalidInputError(f"{path.name} is not well-formed XML: {exc}", field="model") from exc
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]  # PMML 3.x and 4.x namespaces: match on local names
    if root.tag != "PMML":
        raise InvalidInputError(f"{path.name} is XML but not PMML (root element <{root.tag}>)", field="model")
    return root


@dataclass(frozen=True)
class Field:
    """A DataDictionary field: its name, data type, optype and declared values."""

    name: str
    data_type: str
    optype: str
    values: tuple[str, ...]

    @property
    def numeric(self) -> bool:
        return (self.data_type in _NUMERIC_TYPES and self.optype != "categorical") or self.optype == "continuous"


class Document:
    """A parsed PMML document: its data fields, its (first) model, the target and the active inputs."""

    def __init__(self, root: Element) -> None:
        self.root = root
        self.model = ensure_supported(root)
        self.fields = {f.name: f for f in _data_fields(root)}
        schema = self.model.findall("MiningSchema/MiningField")
        self.active = [f.get("name", "") for f in schema if f.get("usageType", "active") == "active"]
        targets = [f.get("name", "") for f in schema if f.get("usageType") in ("target", "predicted")]
        self.target = self.fields.get(targets[0]) if targets else None
        self.derived = {f.get("name", ""): f for f in root.findall("TransformationDictionary/DerivedField")}
        self.is_classifier = self.model.get("functionName") == "classification"
        self.context = Context(self._categories())

    def _categories(self) -> tuple[str, ...]:
        if not self.is_classifier:
            return ()
        if self.target is not None and self.target.values:
            return self.target.values
        found: list[str] = []  # no declared values: the labels in the order the model first names them
        for element in self.model.iter():
            label = element.get("targetCategory") if element.tag == "RegressionTable" else (
                element.get("value") if element.tag == "ScoreDistribution" else None)
            if label is not None and label not in found:
                found.append(label)
        return tuple(found)

    def environment(self, data: Any) -> Env:
        """Field values for a batch: a DataFrame (or dict of columns) by name, an array by position."""
        frame = _frame(data, self.active)
        missing = [name for name in self.active if name not in frame.columns]
        if missing:
            raise InvalidInputError(f"PMML input is missing column(s) {', '.join(map(repr, missing))} "
                                    f"(the model reads: {', '.join(self.active)})", field=missing[0])
        values = {name: self._column(name, frame[name]) for name in self.active}
        return Env(len(frame), values, self.derived)

    def _column(self, name: str, series: pd.Series) -> np.ndarray:
        field = self.fields.get(name)
        if field is None or field.numeric:
            converted = pd.to_numeric(series, errors="coerce")
            if (converted.isna() & series.notna()).any():
                raise InvalidInputError(f"PMML input {name!r}: expected numbers", field=name)
            # dataType="float" (as jpmml/sklearn2pmml write for scikit-learn trees) is single precision
            dtype = np.float32 if field is not None and field.data_type == "float" else np.float64
            return converted.to_numpy(dtype=dtype, na_value=np.nan)
        return np.asarray([None if pd.isna(v) else _text(v) for v in series], dtype=object)

    def typed(self, labels: Any) -> Any:
        """Labels (PMML strings) converted to the target field's data type."""
        kind = self.target.data_type if self.target is not None else "string"
        if kind == "integer":
            return int(float(labels)) if isinstance(labels, str) else np.asarray(labels, dtype=float).astype(np.int64)
        if kind in ("double", "float"):
            return float(labels) if isinstance(labels, str) else np.asarray(labels, dtype=float)
        return labels if isinstance(labels, str) else np.asarray(labels, dtype=object)

    def signature(self) -> Signature:
        """The input columns the model reads, from the DataDictionary and MiningSchema."""
        replaced = {f.get("name") for f in self.model.findall("MiningSchema/MiningField")
                    if f.get("missingValueReplacement") is not None}
        columns = []
        for name in self.active:
            field = self.fields.get(name)
            dtype = "float64" if field is None or field.numeric else _COLUMN_DTYPE.get(field.data_type, "string")
            columns.append(ColumnSpec(name, dtype, nullable=name in replaced))
        classes = tuple(self.typed(c) for c in self.context.categories) if self.is_classifier else None
        return Signature(columns=tuple(columns), classes=classes)


def _text(value: Any) -> str:
    # Integers that arrive as floats (1.0) must still match a PMML category "1".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _data_fields(root: Element) -> list[Field]:
    return [
        Field(f.get("name", ""), f.get("dataType", "double"), f.get("optype", "continuous"),
              tuple(v.get("value", "") for v in f.findall("Value") if v.get("property", "valid") == "valid"))
        for f in root.findall("DataDictionary/DataField")
    ]


def _frame(data: Any, active: list[str]) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict):
        return pd.DataFrame(data)
    array = np.asarray(data)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2 or array.shape[1] != len(active):
        raise InvalidInputError(f"PMML input: expected rows of {len(active)} values ({', '.join(active)}), "
                                f"got an array of shape {array.shape}", field="inputs")
    return pd.DataFrame(array, columns=active)
