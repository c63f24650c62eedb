"""Garbage collection tuned for a long-running server.

A server holds a large, long-lived heap (scikit-learn, pandas, numpy, the models) and makes many
short-lived objects per request. With CPython's defaults every full collection walks that whole
heap, a pause that lands on whichever requests are in flight. Once the models are loaded and
warm, everything alive is frozen (`gc.freeze`: later collections skip it), and the youngest
generation is collected less often, so requests pay for their own garbage only.
"""

from __future__ import annotations

import gc

#: allocations between collections of the youngest generation (CPython's default is 700)
YOUNG_THRESHOLD = 20_000


def settle() -> None:
    """Collect once, freeze what survives, and collect young garbage less often."""
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(YOUNG_THRESHOLD, young), middle, old)
