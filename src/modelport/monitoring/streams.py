"""Serving's everyday blocks copied into column buffers as they arrive: the sink keeps no object per request.

A stream gathers the blocks of one model version, route, column list and dtypes. Each block's inputs,
predictions and probabilities are appended to byte buffers, its ids to a list, its time, latency and row
count to typed arrays, and the block itself is dropped at once. At the flush, `seal` takes the buffers and
`Sealed.columns()` makes them one group's `Columns` (blocks.assemble): what `blocks.partition` makes of the
same blocks, value for value and type for type. Blocks no stream takes (failures, lists of rows, frames,
V2 columns given one by one, strided arrays) are queued whole, as before.

Why: keeping a second's blocks alive until the flush, about 1 KB of small objects per request freed in a
burst by the flusher, cost about 3 points of serving throughput at concurrency 64, more than writing them
(docs/benchmarks.md, "Session 8"). Copying a one-row request's arrays into the buffers is a few C calls.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import repeat
from operator import floordiv, sub
from typing import Any

import numpy as np
import pyarrow as pa

from modelport.monitoring import blocks
from modelport.monitoring.records import as_utc

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_PER_ROUTE = 4  # streams of one model version and route (dtypes, with or without probabilities); more go whole


class Stream:
    """The buffers of one model version's route, column list, input and output dtypes."""

    __slots__ = (
        "_counts",
        "_flat",
        "_ids",
        "_inputs",
        "_latency",
        "_predictions",
        "_probabilities",
        "_times",
        "classes",
        "columns",
        "inputs_dtype",
        "model",
        "predictions_dtype",
        "probabilities_dtype",
        "route",
        "rows",
        "version",
        "width",
    )

    def __init__(self, block: Any) -> None:
        self.model, self.version, self.route, self.columns = block.model, block.version, block.route, block.columns
        self.width = len(block.columns)
        self._flat = (self.width,)  # a lone row may come flat
        self.inputs_dtype: np.dtype[Any] = block.inputs.dtype
        self.predictions_dtype: np.dtype[Any] = block.predictions.dtype
        probabilities = block.probabilities
        self.probabilities_dtype = None if probabilities is None else probabilities.dtype
        self.classes = None if probabilities is None else probabilities.shape[1]
        self._empty()

    def _empty(self) -> None:
        self.rows = 0
        self._inputs, self._predictions, self._probabilities = bytearray(), bytearray(), bytearray()
        self._ids: list[str] = []
        self._times: list[Any] = []
        self._latency, self._counts = array("d"), array("q")

    @staticmethod
    def opens(block: Any) -> bool:
        """Whether a stream can start with `block`'s kinds of arrays (the block must then `fit` it)."""
        inputs, predictions, probabilities = block.inputs, block.predictions, block.probabilities
        return (type(inputs) is np.ndarray and inputs.dtype in blocks.MATRIX and type(predictions) is np.ndarray
                and predictions.dtype.kind in "biufU" and type(block.columns) is list and len(block.columns) > 0
                and isinstance(block.route, str) and (probabilities is None or (
                    type(probabilities) is np.ndarray and probabilities.ndim == 2
                    and probabilities.dtype.kind in "iuf")))

    def fits(self, block: Any, rows: int) -> bool:
        """Whether `block` (of `rows` rows) holds what this stream holds, shaped as `blocks.columnar` takes it.

        Its time's zone is read at the seal, in the flusher; the contiguity of its arrays by `add`. Called once
        per request on the event loop: each check here costs about 0.1 µs.
        """
        inputs, predictions = block.inputs, block.predictions
        return (block.columns is self.columns and block.status == "ok" and type(block.prediction_ids) is list
                and type(block.time) is datetime
                and type(inputs) is np.ndarray and type(predictions) is np.ndarray
                and inputs.dtype == self.inputs_dtype and predictions.dtype == self.predictions_dtype
                and (inputs.shape == (rows, self.width) or (rows == 1 and inputs.shape == self._flat))
                and predictions.shape == (rows,) and self._fits_probabilities(block.probabilities, rows))

    def _fits_probabilities(self, probabilities: Any, rows: int) -> bool:
        if self.classes is None:
            return probabilities is None
        return (type(probabilities) is np.ndarray and probabilities.dtype == self.probabilities_dtype
                and probabilities.shape == (rows, self.classes))

    def add(self, block: Any, rows: int) -> bool:
        """Append the values of a block that `fits`; False, with nothing appended, when one does not go.

        `extend` copies an array's bytes through the buffer protocol and refuses a strided view (TypeError),
        and the latency array refuses what is not a number: trying costs less than checking each first.
        (`+=` would not do: numpy's reflected add answers it, adding the array's values to the buffer's bytes.)
        """
        inputs_at, predictions_at = len(self._inputs), len(self._predictions)
        try:
            self._latency.append(block.latency_ms)
        except TypeError:
            return False
        try:
            self._inputs.extend(block.inputs)
            self._predictions.extend(block.predictions)
            if self.classes is not None:
                self._probabilities.extend(block.probabilities)
        except (TypeError, BufferError):
            self._latency.pop()
            del self._inputs[inputs_at:], self._predictions[predictions_at:]
            return False
        self._ids += block.prediction_ids
        self._times.append(block.time)
        self._counts.append(rows)
        self.rows += rows
        return True

    def seal(self) -> Sealed | None:
        """Hand over the buffers (None when empty) and start new ones."""
        if not self.rows:
            return None
        sealed = Sealed(self, self._inputs, self._predictions, self._probabilities, self._ids, self._times,
                        self._latency, self._counts)
        self._empty()
        return sealed


@dataclass(frozen=True)
class Sealed:
    """A stream's rows of one flush interval, ready to be made columns (in the flusher, outside the sink's lock)."""

    stream: Stream
    inputs: bytearray
    predictions: bytearray
    probabilities: bytearray
    ids: list[str]
    times: list[Any]
    latency: array[float]
    counts: array[int]

    @property
    def rows(self) -> int:
        """How many rows were sealed."""
        return len(self.ids)

    def columns(self) -> blocks.Columns:
        """The rows as one group's columns."""
        stream, total = self.stream, len(self.ids)
        micros, latency = _microseconds(self.times), np.frombuffer(self.latency, np.float64)
        if total > len(self.counts):  # one time and latency per request, repeated for each of its rows
            spread = np.frombuffer(self.counts, np.int64)
            micros, latency = np.repeat(micros, spread), np.repeat(latency, spread)
        inputs = np.frombuffer(self.inputs, stream.inputs_dtype).reshape(total, stream.width)
        if stream.classes is None:
            probabilities = pa.nulls(total, type=pa.null())
        else:
            values = np.frombuffer(self.probabilities, stream.probabilities_dtype)
            probabilities = blocks.probability_lists(values.reshape(total, stream.classes))
        return blocks.assemble(stream, self.ids, micros, latency, np.frombuffer(self.predictions,
                               stream.predictions_dtype), probabilities, blocks.input_columns(inputs, stream.columns))


def _microseconds(times: list[Any]) -> np.ndarray:
    """Zoned datetimes as microseconds since the epoch; naive ones are taken as UTC (as the records path does)."""
    try:
        return np.fromiter(map(floordiv, map(sub, times, repeat(_EPOCH)), repeat(_MICROSECOND)), np.int64, len(times))
    except TypeError:  # a naive time (or not a time: as_utc names it)
        return np.fromiter(((as_utc(t) - _EPOCH) // _MICROSECOND for t in times), np.int64, len(times))


class Streams:
    """The open streams of a sink, by model, version and route; not thread-safe (the sink's lock guards it)."""

    def __init__(self) -> None:
        self._open: dict[tuple[Any, ...], list[Stream]] = {}

    def add(self, block: Any, rows: int) -> bool:
        """Copy `block` into its stream and return True, or return False to have the block queued whole."""
        try:
            key = (block.model, block.version, block.route)
            found = self._open.get(key)
            if found is not None:
                for stream in found:
                    if stream.fits(block, rows):
                        return stream.add(block, rows)
            if rows < 1 or not Stream.opens(block) or (found is not None and len(found) >= _PER_ROUTE):
                return False
            stream = Stream(block)
            if not (stream.fits(block, rows) and stream.add(block, rows)):
                return False
        except (AttributeError, TypeError):  # a record, a dict or an unhashable key: queued whole
            return False
        self._open.setdefault(key, []).append(stream)
        return True

    def seal(self) -> list[Sealed]:
        """Every stream's rows since the last seal; streams that took nothing since then are closed."""
        sealed = []
        for key, streams in list(self._open.items()):
            kept = []
            for stream in streams:
                rows = stream.seal()
                if rows is not None:
                    sealed.append(rows)
                    kept.append(stream)
            if kept:
                self._open[key] = kept
            else:
                del self._open[key]
        return sealed
