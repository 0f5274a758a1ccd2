"""Results as Arrow columns: the type of each result column (money as exact decimals) and its value;
pyarrow itself is imported by the grouper on first use."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from isfdsl.runtime.contract import Result, describe, round_refund


def _places(d: Decimal) -> int:
    """The number of decimals ``d`` is written with."""
    exponent = d.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


#: Precision of the decimal columns in Arrow output: the widest ``decimal128``.
ARROW_PRECISION = 38
#: Arrow type of each result column, given pyarrow and the decimals of the points.
_ARROW_TYPES: dict[str, Callable[[Any, int], Any]] = {
    "system": lambda pa, _: pa.string(), "group": lambda pa, _: pa.string(), "name": lambda pa, _: pa.string(),
    "rule": lambda pa, _: pa.string(), "return_code": lambda pa, _: pa.string(),
    "points": lambda pa, places: pa.decimal128(ARROW_PRECISION, places),
    "refund": lambda pa, _: pa.decimal128(ARROW_PRECISION, 2), "problems": lambda pa, _: pa.string(),
}


def _arrow_value(r: Result, name: str) -> object:
    if name == "points":
        return r.points
    if name == "refund":
        return None if r.refund is None else round_refund(r.refund)
    if name == "problems":
        return describe(r.problems) or None
    return getattr(r, name)
