"""Code lists (exact codes, prefixes, ranges) and code tables (a key's rows, combination rows filed
under the code they complete), each remembering the answers it has given."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import chain, repeat
from operator import itemgetter
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
    combination row ``second & key``, filed under the code it completes.

    ``plain`` maps each key to the values of its plain rows (each once, in order): the generated code
    looks a code up there directly. A package's tables are read from its data file
    (``isfdsl.runtime.data``), which builds them without a Python tuple per row."""

    __slots__ = ("_combined", "_entries", "_listed", "_pairs", "_sets", "name", "plain")

    def __init__(self, name: str, rows: Mapping[str, tuple[tuple[str | None, V], ...]]) -> None:
        listed = {k: [v for s, v in rs if s is None] for k, rs in rows.items()}
        self.setup(name, {k: _unique(vs) for k, vs in listed.items() if vs},
                   {k: vs for k, vs in listed.items() if len(set(vs)) < len(vs)},
                   {k: tuple(rs) for k, rs in rows.items() if any(s is not None for s, _ in rs)})

    def setup(self, name: str, plain: dict[str, tuple[V, ...]], listed: dict[str, list[V]],
              combined: dict[str, tuple[tuple[str | None, V], ...]]) -> None:
        """``plain``: each key with plain rows (keys in order) -> its plain rows' values, each once;
        ``listed``: the keys whose plain rows repeat a value -> every row's value; ``combined``: every
        row of each key that has combination rows."""
        self.name = name
        self.plain = plain
        self._listed = listed
        self._combined = combined
        self._pairs: dict[tuple[str, str | None], tuple[V, ...]] = {}
        self._sets: dict[object, frozenset[V]] = {}
        self._entries: tuple[tuple[str, V], ...] | None = None

    @property
    def entries(self) -> tuple[tuple[str, V], ...]:
        """Every plain row as (key, value), keys in order of first appearance (built on first use)."""
        if self._entries is None:
            listed = self._listed
            self._entries = tuple((k, v) for k, vs in self.plain.items() for v in listed.get(k, vs))
        return self._entries

    def get(self, key: object) -> tuple[V, ...]:
        """Values of the plain rows of one key (a code or text)."""
        return () if key is None else self.plain.get(str(key), ())

    def values(self, key: object) -> frozenset[V]:
        """The values of ``get(key)`` as a set, remembered per key: a test whether a key's values meet
        another list (``any(x in lookup(t, k) where x in xs)``) is ``not values(k).isdisjoint(xs)``,
        one step at C speed however many values the key has."""
        hit = self._sets.get(key)
        if hit is None:
            hit = frozenset(self.get(key))
            if hit:
                remember(self._sets, key, hit, CACHE_LIMIT)
        return hit

    def pair(self, pair: tuple[str, str | None] | None) -> tuple[V, ...]:
        """Plain rows of the first code, then the rows of the second that are plain or complete the pair."""
        if pair is None:
            return ()
        a, b = pair
        if b is None:
            return self.plain.get(a, ())
        hit = self._pairs.get(pair)
        if hit is None:
            found = list(self.plain.get(a, ()))
            rows = self._combined.get(b)
            found.extend(self.plain.get(b, ()) if rows is None else (v for s, v in rows if s is None or s == a))
            hit = _unique(found)
            remember(self._pairs, pair, hit, CACHE_LIMIT)
        return hit

    def combo(self, pair: tuple[str, str | None] | None) -> tuple[V, ...]:
        """Values of the combination rows ``first & second`` only."""
        if pair is None:
            return ()
        a, b = pair
        return () if b is None else _unique(v for s, v in self._combined.get(b, ()) if s == a)

    def many(self, keys: Sequence[object]) -> tuple[V, ...]:
        """The union over several keys, in order."""
        n = len(keys)
        if n < 2:
            return self.get(keys[0]) if n else ()
        return tuple(dict.fromkeys(chain.from_iterable(map(self.get, keys))))  # a value is never absent

    def many_texts(self, keys: Sequence[str]) -> tuple[V, ...]:
        """``many`` of keys that are texts (a list of codes): the dictionary looked up at C speed,
        without a call per key."""
        n = len(keys)
        if n < 2:
            return self.plain.get(keys[0], ()) if n else ()
        return tuple(dict.fromkeys(chain.from_iterable(map(self.plain.get, keys, repeat(())))))

    def many_pairs(self, pairs: Sequence[tuple[str, str | None]]) -> tuple[V, ...]:
        """The union of ``pair`` over several pairs, in order. Pairs without a second code (the usual
        list) are their first codes' plain rows: looked up at C speed."""
        n = len(pairs)
        if n < 2:
            return self.pair(pairs[0]) if n else ()
        if not any(map(_second, pairs)):
            return tuple(dict.fromkeys(chain.from_iterable(map(self.plain.get, map(_first, pairs), repeat(())))))
        return tuple(dict.fromkeys(chain.from_iterable(map(self.pair, pairs))))


_first, _second = itemgetter(0), itemgetter(1)


def combine(records: list[T], width: int) -> T:
    """What a list gives, from what each of its items gives: ``records`` holds one record per item, a
    tuple of ``width`` lists (each item's look-ups); the result unites them position by position, each
    value once, in order of first appearance — as looking the whole list up does (a look-up of a list
    is the union of its items' look-ups). One item's record is the list's."""
    if len(records) == 1:
        return records[0]
    parts: Any = records
    if not parts:
        return ((),) * width  # type: ignore[return-value]
    return tuple(tuple(dict.fromkeys(chain.from_iterable(column))) for column in zip(*parts))  # type: ignore[return-value]


def _unique(xs: Iterable[T]) -> tuple[T, ...]:
    return _union((xs,))


def _union(lists: Iterable[Iterable[T]]) -> tuple[T, ...]:
    """The elements of several lists, each once, in order of first appearance, absent ones left out."""
    seen: dict[Any, None] = dict.fromkeys(chain.from_iterable(lists))
    seen.pop(None, None)
    return tuple(seen)
