"""Code lists (exact codes, prefixes, ranges) and code tables (a key's rows, combination rows filed
under the code they complete), each remembering the answers it has given."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain
from typing import Any, Generic

from isfdsl.runtime.convert import CACHE_LIMIT, T, V, remember, small


class CodeSet:
    """A code list: exact codes, prefixes and (lo, hi) ranges over normalised codes. Membership of a
    code is computed once and remembered."""

    __slots__ = ("_cache", "codes", "name", "prefixes", "ranges")

    def __init__(self, name: str, codes: frozenset[str], prefixes: tuple[str, ...] = (),
                 ranges: tuple[tuple[str, str], ...] = ()) -> None:
        self.name = name
        self.codes = codes
        self.prefixes = prefixes
        self.ranges = ranges
        self._cache: dict[str, bool] = {}

    def __contains__(self, code: object) -> bool:
        if not isinstance(code, str):
            return False
        hit = self._cache.get(code)
        if hit is None:
            hit = (code in self.codes or any(code.startswith(p) for p in self.prefixes)
                   or any(code[: len(lo)] >= lo and code[: len(hi)] <= hi for lo, hi in self.ranges))
            if len(self._cache) < CACHE_LIMIT and small(code):
                self._cache[code] = hit
        return hit


class CodeTable(Generic[V]):
    """A code table: key -> ordered rows (second code or None, value). A row with a second code is a
    combination row ``second & key``, filed under the code it completes."""

    __slots__ = ("_entries", "_many_cache", "_pair_cache", "_plain", "_rows", "name")

    def __init__(self, name: str, rows: Mapping[str, tuple[tuple[str | None, V], ...]]) -> None:
        self.name = name
        self._rows = rows
        self._plain: dict[str, tuple[V, ...]] = {k: _unique(v for s, v in rs if s is None) for k, rs in rows.items()}
        self._pair_cache: dict[tuple[str, str | None], tuple[V, ...]] = {}
        self._many_cache: dict[Sequence[object], tuple[V, ...]] = {}
        self._entries: tuple[tuple[str, V], ...] | None = None

    @property
    def entries(self) -> tuple[tuple[str, V], ...]:
        """Every plain row as (key, value), keys in order of first appearance (built on first use)."""
        if self._entries is None:
            self._entries = tuple((k, v) for k, rs in self._rows.items() for s, v in rs if s is None)
        return self._entries

    def get(self, key: object) -> tuple[V, ...]:
        """Values of the plain rows of one key (a code or text)."""
        return () if key is None else self._plain.get(str(key), ())

    def pair(self, pair: tuple[str, str | None] | None) -> tuple[V, ...]:
        """Plain rows of the first code, then the rows of the second that are plain or complete the pair."""
        if pair is None:
            return ()
        hit = self._pair_cache.get(pair)
        if hit is None:
            a, b = pair
            found = list(self._plain.get(a, ()))
            if b is not None:
                found.extend(v for s, v in self._rows.get(b, ()) if s is None or s == a)
            hit = _unique(found)
            if len(self._pair_cache) < CACHE_LIMIT and small(pair):
                self._pair_cache[pair] = hit
        return hit

    def combo(self, pair: tuple[str, str | None] | None) -> tuple[V, ...]:
        """Values of the combination rows ``first & second`` only."""
        if pair is None:
            return ()
        a, b = pair
        return () if b is None else _unique(v for s, v in self._rows.get(b, ()) if s == a)

    def many(self, keys: Sequence[object]) -> tuple[V, ...]:
        """The union over several keys, in order (remembered per tuple of keys)."""
        return self._many(keys, self.get)

    def many_pairs(self, pairs: Sequence[tuple[str, str | None]]) -> tuple[V, ...]:
        """The union of ``pair`` over several pairs, in order (remembered per tuple of pairs)."""
        return self._many(pairs, self.pair)

    def _many(self, keys: Sequence[Any], one: Callable[[Any], tuple[V, ...]]) -> tuple[V, ...]:
        if len(keys) < 2:
            return one(keys[0]) if keys else ()
        hit = self._many_cache.get(keys) if keys.__class__ is tuple else None
        if hit is None:
            hit = _union([one(k) for k in keys])
            if keys.__class__ is tuple:  # a tuple of texts and a tuple of pairs are never equal
                remember(self._many_cache, keys, hit)
        return hit


def _unique(xs: Iterable[T]) -> tuple[T, ...]:
    return _union((xs,))


def _union(lists: Iterable[Iterable[T]]) -> tuple[T, ...]:
    """The elements of several lists, each once, in order of first appearance, absent ones left out."""
    seen: dict[Any, None] = dict.fromkeys(chain.from_iterable(lists))
    seen.pop(None, None)
    return tuple(seen)
