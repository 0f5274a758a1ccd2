"""The operations of the derivation language, as the generated ``evaluate`` calls them. Each is
total: an absent argument gives an absent, empty or false result."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import filterfalse
from typing import Any

from isfdsl.runtime.codes import _union
from isfdsl.runtime.convert import T


def eq(a: Any, b: Any) -> bool:
    return a is not None and b is not None and bool(a == b)


def ne(a: Any, b: Any) -> bool:
    return a is not None and b is not None and bool(a != b)


def lt(a: Any, b: Any) -> bool:
    return a is not None and b is not None and bool(a < b)


def le(a: Any, b: Any) -> bool:
    return a is not None and b is not None and bool(a <= b)


def gt(a: Any, b: Any) -> bool:
    return a is not None and b is not None and bool(a > b)


def ge(a: Any, b: Any) -> bool:
    return a is not None and b is not None and bool(a >= b)


def not_in(a: Any, xs: Any) -> bool:
    return a is not None and a not in xs


def plus(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if isinstance(a, str) or isinstance(b, str):
        return f"{a}{b}"
    return a + b


def text(v: object) -> str | None:
    return None if v is None else str(v)


def substr(s: object, start: object, end: object = None) -> str | None:
    t = text(s)
    if t is None or not isinstance(start, int):
        return None
    if end is None:
        return t[start:]
    return t[start:end] if isinstance(end, int) else None


def char(s: object, i: object) -> str | None:
    t = text(s)
    if t is None or not isinstance(i, int) or not 0 <= i < len(t):
        return None
    return t[i]


def starts_with(s: object, prefix: object) -> bool:
    return s is not None and prefix is not None and str(s).startswith(str(prefix))


def replace_prefix(s: object, old: object, new: object) -> str | None:
    t = text(s)
    if t is None or old is None or new is None:
        return t
    return str(new) + t[len(str(old)):] if t.startswith(str(old)) else t


def first(xs: Sequence[T]) -> T | None:
    return xs[0] if xs else None


def field(v: Any, i: int) -> Any:
    return v[i] if isinstance(v, tuple) else None


def coalesce(*xs: Any) -> Any:
    for x in xs:
        if x is not None:
            return x
    return None


def compact(xs: Iterable[T | None]) -> tuple[T, ...]:
    """A list never holds absent elements."""
    return tuple(x for x in xs if x is not None)


def intersect(a: Sequence[T], b: Sequence[T]) -> tuple[T, ...]:
    """The elements of ``a`` that are in ``b``, each once, in order (a list never holds an absent
    element: filtered and deduplicated at C speed)."""
    if not a or not b:
        return ()
    return tuple(dict.fromkeys(filter(b.__contains__, a)))


def minus(a: Sequence[T], b: Sequence[T]) -> tuple[T, ...]:
    """The elements of ``a`` that are not in ``b``, each once, in order (at C speed, as ``intersect``)."""
    if not a:
        return ()
    return tuple(dict.fromkeys(filterfalse(b.__contains__, a) if b else a))


def pair_codes(p: tuple[str, str | None] | None) -> tuple[str, ...]:
    """The present codes of a pair, first then second."""
    return () if p is None else tuple(c for c in p if c is not None)


def pairs_codes(ps: Iterable[tuple[str, str | None]]) -> tuple[str, ...]:
    """The present codes of every pair of a list, each once."""
    return _union(ps)  # type: ignore[arg-type]  # pairs hold None for a missing second code: left out
