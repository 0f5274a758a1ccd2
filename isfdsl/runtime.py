"""Runtime of the generated groupers: input conversion, code lists, code tables, the bit-set index that
dispatches decision tables, results, streaming and Arrow batches, and the CSV command line.

This module is standard library only. The Python emitter copies it verbatim into every generated
package as ``_runtime.py``; the reference interpreter shares its input conversion (one definition of
what a valid value is) but not its decision logic, which it re-implements plainly as the oracle.
"""

from __future__ import annotations

import copy
import csv
import importlib
import io
import sys
from bisect import bisect_left
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as _dc_field
from decimal import Decimal, InvalidOperation
from itertools import chain
from operator import itemgetter
from typing import Any, Generic, NamedTuple, Protocol, TextIO, TypeVar

T = TypeVar("T")
V = TypeVar("V")

#: (attribute, value as given, reason) for one input value that could not be used.
Problem = tuple[str, str, str]

#: Caches keyed by one code or value stop growing at this size (they stay correct, only slower).
CACHE_LIMIT = 1 << 17
#: Caches keyed by combinations (a list of codes, several attributes) are smaller and start afresh when
#: full: a year of activity holds far more combinations than codes, and memory must stay bounded.
COMBINATION_LIMIT = 1 << 15

K = TypeVar("K")


def remember(cache: dict[K, V], key: K, value: V, limit: int = COMBINATION_LIMIT) -> None:
    """Store ``value`` under ``key``, emptying ``cache`` first when it holds ``limit`` entries."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value

# ---------------------------------------------------------------------- input conversion


def blank(raw: object) -> bool:
    """Whether an input value counts as missing: None, empty text or an empty list."""
    return raw is None or raw == "" or (isinstance(raw, (list, tuple)) and len(raw) == 0)


#: The most digits an integer may have (exact decimal arithmetic keeps 28): a longer one is an invalid
#: value, named in the problems. (Python cannot even turn an integer of 4,300 digits into text.)
MAX_DIGITS = 28
_TOO_LONG = f"an integer of more than {MAX_DIGITS} digits"
_BOUND = 10 ** MAX_DIGITS


def _text(raw: object) -> str:
    """``raw`` as text for a converter; an integer of more than MAX_DIGITS digits is invalid."""
    if isinstance(raw, int) and not -_BOUND < raw < _BOUND:
        raise ValueError(_TOO_LONG)
    return str(raw)


def shown(raw: object) -> str:
    """``raw`` as text in a problem: a value holding an integer too long to be turned into text (which
    raises ValueError) is described instead."""
    try:
        return _text(raw)
    except ValueError:
        return f"<{_TOO_LONG}>" if isinstance(raw, int) else f"<a value holding {_TOO_LONG}>"


def to_int(raw: object, lo: int | None, hi: int | None, bounds: str) -> int:
    """An integer within [lo, hi]; ``bounds`` names the range in the error."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        n = raw
        if not -_BOUND < n < _BOUND:
            raise ValueError(_TOO_LONG)
    else:
        text = "" if isinstance(raw, bool) else _text(raw).strip()
        digits = text.lstrip("+-").lstrip("0")
        if len(digits) > MAX_DIGITS:  # never handed to int(): beyond 4,300 digits it raises
            raise ValueError(_TOO_LONG if digits.isdigit() else "not an integer")
        try:
            n = int(text)
        except ValueError:
            raise ValueError("not an integer") from None
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise ValueError(f"outside {bounds}")
    return n


def to_decimal(raw: object) -> Decimal:
    try:
        d = Decimal("" if isinstance(raw, bool) else _text(raw).strip())
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not d.is_finite():
        raise ValueError("not a finite number")
    return d


_TRUE = frozenset({"1", "true", "yes", "j", "ja"})
_FALSE = frozenset({"0", "false", "no", "n", "nei"})


def to_bool(raw: object) -> bool:
    text = _text(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("not a boolean")


def to_enum(raw: object, members: Mapping[str, str], enum: str) -> str:
    """The member name for a member's value or name."""
    member = members.get(_text(raw).strip())
    if member is None:
        raise ValueError(f"not a value of {enum}")
    return member


def to_code(raw: object, ignore: str, upper: bool = True) -> str | None:
    """A code with the ignored characters removed, trimmed and (unless ``upper`` is false) in upper
    case; None when empty."""
    if raw is None:
        return None
    text = _text(raw)
    for ch in ignore:
        text = text.replace(ch, "")
    text = text.strip()
    return (text.upper() if upper else text) or None


def to_pair(raw: object, ignore: str, upper: bool = True) -> tuple[str, str | None] | None:
    """A (first, second) code pair from ``"A|B"``, ``"A&B"``, a sequence or a mapping; None when the
    first code is empty (a pair is only ever looked up through its first code)."""
    first: object
    second: object = None
    if isinstance(raw, str):
        parts = raw.split("|", 1) if "|" in raw else raw.split("&", 1)
        first = parts[0]
        second = parts[1] if len(parts) > 1 else None
    elif isinstance(raw, Mapping):
        first, second = raw.get("first"), raw.get("second")
    elif isinstance(raw, (list, tuple)):
        first = raw[0] if raw else None
        second = raw[1] if len(raw) > 1 else None
    else:
        first = raw
    a = to_code(first, ignore, upper)
    return None if a is None else (a, to_code(second, ignore, upper))


def to_text(raw: object) -> str:
    return _text(raw)


def to_list(raw: object, convert: Callable[[object], T | None]) -> list[T]:
    """A list from a sequence, or from text separated by commas, semicolons or white space; empty
    items are skipped and every item is converted (an invalid item makes the whole value invalid)."""
    items: Sequence[object]
    if isinstance(raw, str):
        items = raw.replace(",", " ").replace(";", " ").split()
    elif isinstance(raw, (list, tuple)):
        items = raw
    else:
        items = [raw]
    out: list[T] = []
    for item in items:
        if item is None or item == "":
            continue
        value = convert(item)
        if value is not None:
            out.append(value)
    return out


class _Missing:
    """The sentinel of a memory look-up that found nothing (None is a remembered answer)."""

    __slots__ = ()


#: A converter of one raw input value (see ``memo``).
Converter = Callable[[object], T | None]


def memo(convert: Callable[[object], T | None], known: dict[Any, T | None] | None = None,
         limit: int = CACHE_LIMIT) -> Converter[T]:
    """A converter that remembers its answer (or its error) for every text, and every list of texts,
    it has seen: in a year of activity the same codes and numbers recur, so each is converted once.
    Blank input converts to None. (A closure, not an object with ``__call__``: the call is cheaper.)

    ``known`` maps each valid text (a list as the tuple of its items) to its value: the generated
    ``evaluate`` looks values up there directly and calls the converter only on a miss (see
    ``convert``). It holds at most ``limit`` entries and starts afresh when full. Only texts are
    remembered, so a look-up never meets a key that is equal but converts differently (False == 0)."""
    known = {} if known is None else known
    known[None] = None
    failed: dict[Hashable, str] = {}

    def converted(raw: object) -> T | None:
        return None if blank(raw) else convert(raw)

    def call(raw: object) -> T | None:
        cls = raw.__class__
        key: Any = raw
        if cls is list or cls is tuple:
            key = tuple(key)
        elif cls is not str:
            return converted(raw)
        try:
            hit = known.get(key, _MISS)
        except TypeError:  # an unhashable element (a list inside)
            return converted(raw)
        if hit is not _MISS:
            return hit  # type: ignore[return-value]
        reason = failed.get(key)
        if reason is not None:
            raise ValueError(reason)
        if not _texts(raw):
            return converted(raw)
        try:
            hit = converted(raw)
        except ValueError as exc:
            remember(failed, key, str(exc), limit)
            raise
        _keep(known, key, hit, limit)
        return hit

    return call


def _keep(known: dict[Any, Any], key: object, value: object, limit: int) -> None:
    """Store a converted value in a memory of known values, which starts afresh (knowing only that
    None converts to None) when it holds ``limit`` entries."""
    if len(known) >= limit:
        known.clear()
        known[None] = None
    known[key] = value


def memo_list(item: Converter[T], item_known: dict[Any, T | None], known: dict[Any, tuple[T, ...] | None],
              limit: int = COMBINATION_LIMIT) -> Converter[tuple[T, ...]]:
    """A converter of lists that remembers like ``memo`` (``known``: each list of texts seen, as a
    tuple). A list not seen before whose items are all known to ``item`` (``item_known``: its
    dictionary) is converted by look-ups alone — no call per item; any other goes through
    ``to_list`` and ``item``. Items that are blank or convert to None are left out, as ``to_list``
    leaves them out."""
    whole = memo(lambda raw: tuple(to_list(raw, item)), known, limit)
    lookup = item_known.__getitem__

    def call(raw: object) -> tuple[T, ...] | None:
        cls = raw.__class__
        items: Any = raw
        if (cls is list or cls is tuple) and items:
            try:
                value = tuple([v for v in map(lookup, items) if v is not None])
            except (KeyError, TypeError):  # an item not known (new, invalid, not a text) or unhashable
                return whole(raw)
            _keep(known, tuple(items), value, limit)
            return value
        return whole(raw)

    return call


def convert(converter: Converter[T], raw: object, attribute: str, problems: list[Problem]) -> T | None:
    """What ``evaluate`` does when a value is not among the known ones (first sight of a text, a value
    that is not a text, an invalid one): convert it, or record the problem and give None."""
    if raw is None:
        return None
    try:
        return converter(raw)
    except ValueError as exc:
        problems.append((attribute, shown(raw), str(exc)))
        return None


_MISS = _Missing()


def _texts(raw: object) -> bool:
    """Whether ``raw`` is a text, or a list of texts and tuples of texts: only such inputs are
    remembered, so a look-up never meets a key that is equal but converts differently (False == 0,
    1 == 1.0 — and no other value equals a text). ``join`` checks at C speed."""
    if raw.__class__ is str:
        return True
    try:
        "".join(chain.from_iterable(raw))  # type: ignore[arg-type]
    except TypeError:
        return False
    return True


# ---------------------------------------------------------------------- code lists and code tables


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
            if len(self._cache) < CACHE_LIMIT:
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
            if len(self._pair_cache) < CACHE_LIMIT:
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


# ---------------------------------------------------------------------- operations of the derivation language
# Each is total: an absent argument gives an absent, empty or false result.


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


def extreme(pick: Callable[[Sequence[Any]], Any], xs: Sequence[Any], default: Any) -> Any:
    items = [x for x in xs if x is not None]
    return pick(items) if items else default


def union(*lists: Sequence[T]) -> tuple[T, ...]:
    return _union(lists)


def intersect(a: Sequence[T], b: Sequence[T]) -> tuple[T, ...]:
    return _unique(x for x in a if x in b)


def minus(a: Sequence[T], b: Sequence[T]) -> tuple[T, ...]:
    return _unique(x for x in a if x not in b)


def pair_codes(p: tuple[str, str | None] | None) -> tuple[str, ...]:
    """The present codes of a pair, first then second."""
    return () if p is None else tuple(c for c in p if c is not None)


def pairs_codes(ps: Iterable[tuple[str, str | None]]) -> tuple[str, ...]:
    """The present codes of every pair of a list, each once."""
    return _union(ps)  # type: ignore[arg-type]  # pairs hold None for a missing second code: left out


# ---------------------------------------------------------------------- decision tables


class C(NamedTuple):
    """One condition of a row over one feature; see ``isfdsl.ir.Constraint`` for the kinds."""

    feature: str
    kind: str
    negated: bool = False
    values: tuple[object, ...] = ()
    ref: str | None = None
    lo: Decimal | None = None
    hi: Decimal | None = None
    lo_open: bool = False
    hi_open: bool = False
    text: str = ""


class Row(NamedTuple):
    """A row of a decision table: its stable id, result (group, return code), conditions and source."""

    id: str
    group: str | None
    rc: str | None
    conditions: tuple[C, ...]
    source: str
    title: str | None = None


class GroupRecord(NamedTuple):
    name: str
    points: Decimal
    trim: int | None = None
    perday: Decimal | None = None
    flags: tuple[str, ...] = ()


def holds(c: C, value: object, is_list: bool, codesets: Mapping[str, CodeSet]) -> tuple[bool, tuple[str, ...]]:
    """Whether condition ``c`` holds for a feature value, and the codes that satisfied it."""
    kind = c.kind
    if kind == "present":
        there = value is not None and not (is_list and len(value) == 0)  # type: ignore[arg-type]
        return there != c.negated, ()
    if kind == "bool":
        return (value is True) == c.values[0], ()
    if kind == "has":
        items: Sequence[object] = value if is_list and isinstance(value, (list, tuple)) else ()
        if c.ref is not None:
            cs = codesets[c.ref]
            hits = tuple(str(x) for x in items if x in cs)
        else:
            hits = tuple(str(x) for x in items if x in c.values)
        return bool(hits) != c.negated, (hits if not c.negated else ())
    if value is None:
        return False, ()
    if kind == "set":
        return (value in c.values) != c.negated, ()
    if kind == "codelist":
        hit = value in codesets[c.ref or ""]
        return hit != c.negated, ((str(value),) if hit and not c.negated else ())
    n: Any = value
    ok = True
    if c.lo is not None:
        ok = n > c.lo if c.lo_open else n >= c.lo
    if ok and c.hi is not None:
        ok = n < c.hi if c.hi_open else n <= c.hi
    return ok != c.negated, ()


class _Index:
    """Maps one feature's value to the bit mask of rows whose conditions on that feature hold."""

    def __init__(self, entries: list[tuple[int, tuple[C, ...]]], free: int, is_list: bool,
                 codesets: Mapping[str, CodeSet]) -> None:
        self.entries = entries
        self.free = free
        self.is_list = is_list
        self.codesets = codesets
        #: The mask of every value seen so far (values in a case are hashable: lists are tuples).
        self.known: dict[object, int] = {}

    #: How many values ``known`` holds before it starts afresh (lists are combinations: fewer).
    limit = CACHE_LIMIT

    def learn(self, value: object) -> int:
        """The mask of a value not yet known, remembered."""
        m = self.mask(value)
        remember(self.known, value, m, self.limit)
        return m

    def compute(self, value: object) -> int:
        return self.free | self._scan(self.entries, value)

    def _scan(self, entries: Sequence[tuple[int, tuple[C, ...]]], value: object) -> int:
        """The rows among ``entries`` whose conditions all hold for ``value``."""
        m = 0
        for bit, conds in entries:
            if all(holds(c, value, self.is_list, self.codesets)[0] for c in conds):
                m |= bit
        return m

    def mask(self, value: object) -> int:
        raise NotImplementedError


class _ValueIndex(_Index):
    """Any feature: each value's conditions evaluated (and remembered in ``known``). Rows whose only
    condition on the feature is ``== v`` or ``in {…}`` are found through one dictionary of values."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.literal: dict[object, int] = {}
        literal: list[tuple[int, tuple[C, ...]]] = []
        general: list[tuple[int, tuple[C, ...]]] = []
        for bit, conds in self.entries:
            if len(conds) == 1 and conds[0].kind == "set" and not conds[0].negated:
                literal.append((bit, conds))
                for v in conds[0].values:
                    self.literal[v] = self.literal.get(v, 0) | bit
            else:
                general.append((bit, conds))
        self.literal_entries, self.general = literal, general

    def mask(self, value: object) -> int:
        try:
            m = self.free | (self.literal.get(value, 0) if value is not None else 0)
        except TypeError:  # unhashable: the literal rows tested one by one
            m = self.free | self._scan(self.literal_entries, value)
        return m | self._scan(self.general, value)


class _IntervalIndex(_Index):
    """A number feature tested by intervals only: masks per segment between the bounds (bisection)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.points = sorted({b for _, cs in self.entries for c in cs for b in (c.lo, c.hi) if b is not None})
        self.cache: dict[int, int] = {}

    def mask(self, value: object) -> int:
        if value is None:
            key = -1
        else:
            n: Any = value
            i = bisect_left(self.points, n)
            key = 2 * i + 1 if i < len(self.points) and self.points[i] == value else 2 * i
        m = self.cache.get(key)
        if m is None:
            m = self.cache[key] = self.compute(value)
        return m


class _ListIndex(_Index):
    """A list feature tested by ``has``/``lacks``/presence only. The k-th positive atom of every row
    forms column k; a row passes column k when some element satisfies its atom. Element contributions
    are remembered per element."""

    limit = COMBINATION_LIMIT

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.columns: list[list[tuple[int, C]]] = []
        self.negated: list[tuple[int, C]] = []
        self.when_empty = self.when_filled = self.free
        width = 0
        for bit, conds in self.entries:
            positive = [c for c in conds if c.kind == "has" and not c.negated]
            for k, c in enumerate(positive):
                if k == len(self.columns):
                    self.columns.append([])
                self.columns[k].append((bit, c))
            width = max(width, len(positive))
            self.negated.extend((bit, c) for c in conds if c.kind == "has" and c.negated)
            presence = [c for c in conds if c.kind == "present"]
            if all(c.negated for c in presence):  # passes presence when empty
                self.when_empty |= bit if not positive else 0
            if not any(c.negated for c in presence):  # passes presence when filled
                self.when_filled |= bit
        everyone = self.free | sum(bit for bit, _ in self.entries)
        self.column_free = [everyone & ~sum(bit for bit, _ in col) for col in self.columns]
        # Each column (and the negated atoms) as a dictionary of literal values -> rows, and the atoms
        # that name a code list.
        self.split = [_atoms(col) for col in self.columns]
        self.split_negated = _atoms(self.negated)
        self.cache: dict[object, tuple[tuple[int, ...], int]] = {}

    def _bits(self, split: tuple[dict[object, int], list[tuple[int, str]]], x: object) -> int:
        literal, refs = split
        m = literal.get(x, 0)
        for bit, ref in refs:
            if x in self.codesets[ref]:
                m |= bit
        return m

    def contribution(self, x: object) -> tuple[tuple[int, ...], int]:
        hit = self.cache.get(x)
        if hit is None:
            hit = (tuple(self._bits(split, x) for split in self.split), self._bits(self.split_negated, x))
            if len(self.cache) < CACHE_LIMIT:
                self.cache[x] = hit
        return hit

    def mask(self, value: object) -> int:
        items: Sequence[object] = value if isinstance(value, (list, tuple)) else ()
        if not items:
            return self.when_empty
        cache = self.cache
        neg = 0
        if len(self.columns) == 1:  # the usual shape: at most one `has` per row on this feature
            col = 0
            for x in items:
                hit = cache.get(x) or self.contribution(x)
                col |= hit[0][0]
                neg |= hit[1]
            return self.when_filled & ~neg & (self.column_free[0] | col)
        cols = list(self.column_free)
        for x in items:
            xs, n = cache.get(x) or self.contribution(x)
            for k, bits in enumerate(xs):
                cols[k] |= bits
            neg |= n
        m = self.when_filled & ~neg
        for bits in cols:
            m &= bits
        return m


def _atoms(atoms: list[tuple[int, C]]) -> tuple[dict[object, int], list[tuple[int, str]]]:
    """``has`` atoms as a dictionary of their literal values -> rows, and (row, code list) pairs."""
    literal: dict[object, int] = {}
    refs: list[tuple[int, str]] = []
    for bit, c in atoms:
        if c.ref is not None:
            refs.append((bit, c.ref))
        else:
            for v in c.values:
                literal[v] = literal.get(v, 0) | bit
    return literal, refs


def _gate(post: Row) -> tuple[bool, frozenset[object] | None]:
    """A post-rule's cheap first test: whether it is on the group (else on the return code) and the
    values its first plain ``group``/``return_code`` condition accepts (None: no such condition)."""
    for c in post.conditions:
        if c.feature in ("group", "return_code") and c.kind == "set" and not c.negated:
            return c.feature == "group", frozenset(c.values)
    return False, None


class _Together:
    """Features probed as one (the generated code groups those that read the same attributes): the
    mask of each combination of their values is remembered, so a case pays one look-up for them all.
    There are no more combinations than of the attributes they read."""

    limit = COMBINATION_LIMIT

    def __init__(self, members: Sequence[_Index]) -> None:
        self.members = tuple(members)
        self.known: dict[object, int] = {}

    def mask(self, values: Sequence[object]) -> int:
        m = -1
        for index, value in zip(self.members, values):
            m &= index.mask(value)
        return m

    def learn(self, values: Sequence[object]) -> int:
        m = -1
        for index, value in zip(self.members, values):
            bits = index.known.get(value, -1)
            m &= bits if bits >= 0 else index.learn(value)
        remember(self.known, values, m, self.limit)
        return m


class DecisionTable:
    """A compiled decision table: rows in order, dispatched through one bit-set index per feature.

    ``features`` maps each feature a row tests to (its position in the evaluated case, whether it is a
    list). Row k is bit k; the rows that can match are the AND of the masks of every feature, and the
    first of them is the lowest set bit. ``together`` names groups of features looked up as one (see
    ``_Together``).
    """

    def __init__(self, name: str, system: str, policy: str, rows: Sequence[Row], fallback: str | None,
                 fallback_rc: str | None, post: Sequence[Row], features: Mapping[str, tuple[int, bool]],
                 codesets: Mapping[str, CodeSet], otherwise: str | None = None,
                 together: Sequence[Sequence[str]] = ()) -> None:
        self.name, self.system, self.policy = name, system, policy
        self.otherwise = otherwise
        self.rows = tuple(rows)
        self.fallback, self.fallback_rc = fallback, fallback_rc or "0"
        self.post = tuple(post)
        #: per post-rule: whether its gate tests the group (else the return code), and the gate — the
        #: values one of its ``group``/``return_code`` conditions accepts — tested before the rule is
        self.post_gates = tuple((p, *_gate(p)) for p in self.post)
        self.features = features
        self.codesets = codesets
        self.everyone = (1 << len(self.rows)) - 1
        #: per row: (group, row id, return code)
        self.outcomes = tuple((row.group, row.id, row.rc or "0") for row in self.rows)
        indexes: dict[str, tuple[int, int, _Index]] = {}
        for feature, (position, is_list) in features.items():
            entries = [(1 << k, tuple(c for c in row.conditions if c.feature == feature)) for k, row in enumerate(self.rows)]
            tested = [(bit, cs) for bit, cs in entries if cs]
            if not tested:
                continue
            free = self.everyone & ~sum(bit for bit, _ in tested)
            kinds = {c.kind for _, cs in tested for c in cs}
            index: _Index
            if is_list and kinds <= {"has", "present"}:
                index = _ListIndex(tested, free, is_list, codesets)
            elif not is_list and kinds == {"interval"} and not any(c.negated for _, cs in tested for c in cs):
                index = _IntervalIndex(tested, free, is_list, codesets)
            else:
                index = _ValueIndex(tested, free, is_list, codesets)
            indexes[feature] = (len(tested), position, index)
        joint = []
        for names in together:
            present = [n for n in names if n in indexes]
            if len(present) < 2:  # a group of one (the others tested only by post-rules) stays single
                continue
            members = [indexes.pop(n) for n in present]
            probe = _Together([index for _, _, index in members])
            joint.append((max(n for n, _, _ in members), itemgetter(*(position for _, position, _ in members)), probe))
        # The features most rows test go first: they empty the mask soonest.
        self.joint = tuple((get, probe.known, probe) for _, get, probe in sorted(joint, key=lambda p: -p[0]))
        self.probes = tuple((position, index.known, index) for _, position, index in sorted(indexes.values(), key=lambda p: -p[0]))

    def select(self, case: Sequence[object]) -> int:
        """The position of the first row whose conditions all hold, or -1."""
        m = self.everyone
        try:
            for get, known, joint in self.joint:
                values = get(case)
                bits = known.get(values, -1)
                m &= bits if bits >= 0 else joint.learn(values)
                if not m:
                    return -1
            for position, known, index in self.probes:
                value = case[position]
                bits = known.get(value, -1)
                m &= bits if bits >= 0 else index.learn(value)
                if not m:
                    return -1
        except TypeError:  # an unhashable value (a list given where a tuple is made): not remembered
            m = self.everyone
            for get, _, joint in self.joint:
                m &= joint.mask(get(case))
            for position, _, index in self.probes:
                m &= index.mask(case[position])
        return (m & -m).bit_length() - 1 if m else -1

    def value(self, case: Sequence[object], feature: str) -> object:
        return case[self.features[feature][0]]

    def passes(self, post: Row, case: Sequence[object], group: str | None, rc: str) -> bool:
        """Whether every condition of a post-rule holds, over the case and the result so far."""
        value: object
        for c in post.conditions:
            if c.feature == "group" or c.feature == "return_code":
                value = group if c.feature == "group" else rc
                if c.kind == "set":  # the usual test of a post-rule, without the general machinery
                    if (value in c.values) == c.negated:
                        return False
                    continue
                is_list = False
            else:
                value, is_list = case[self.features[c.feature][0]], self.features[c.feature][1]
            if not holds(c, value, is_list, self.codesets)[0]:
                return False
        return True

    def explain(self, row: Row, case: Sequence[object]) -> tuple[bool, tuple[tuple[str, tuple[str, ...]], ...]]:
        """Whether every condition of ``row`` holds, and each condition with the codes that satisfied it."""
        out = []
        for c in row.conditions:
            ok, codes = holds(c, self.value(case, c.feature), self.features[c.feature][1], self.codesets)
            if not ok:
                return False, ()
            out.append((c.text, codes))
        return True, tuple(out)


# ---------------------------------------------------------------------- results


class Result(NamedTuple):
    """The outcome for one episode: the group of one group system, the row that chose it, the return
    code, points and refund, the input problems met, and (when asked) the winning row's conditions
    each with the codes that satisfied it. Immutable (a named tuple: a third of the cost of a frozen
    dataclass, and a year of activity makes millions of them)."""

    system: str
    table: str
    group: str
    name: str
    rule: str
    return_code: str
    points: Decimal
    refund: Decimal | None
    problems: tuple[Problem, ...] = ()
    explanation: tuple[tuple[str, tuple[str, ...]], ...] | None = None

    def as_dict(self) -> dict[str, object]:
        """The result as plain values (refund in whole øre; problems as ``attribute=value: reason``
        joined by ``; ``)."""
        return {"system": self.system, "group": self.group, "name": self.name, "rule": self.rule,
                "return_code": self.return_code, "points": str(self.points),
                "refund": "" if self.refund is None else str(self.refund.quantize(_CENT)), "problems": describe(self.problems)}


#: Builds a Result from a tuple of all its fields: half the cost of the named tuple's keyword ``__new__``.
_new_result = tuple.__new__
_CENT = Decimal("0.01")
_ZERO = Decimal(0)
RESULT_FIELDS = ("system", "group", "name", "rule", "return_code", "points", "refund", "problems")


def describe(problems: Iterable[Problem]) -> str:
    return "; ".join(f"{attr}={raw!r}: {reason}" if attr else reason for attr, raw, reason in problems)


# ---------------------------------------------------------------------- pathways


@dataclass(frozen=True, slots=True)
class PathwayResult:
    """The outcome for one pathway: its group (e.g. a TFG) and the results of its member episodes. When
    the pathway group is financed (points above zero and not flagged ``unfinanced``), its points replace
    the members' points; otherwise the members keep theirs. ``points`` and ``refund`` are what is paid."""

    result: Result
    members: tuple[Result, ...]
    financed: bool
    points: Decimal
    refund: Decimal | None

    def as_dict(self) -> dict[str, object]:
        """The pathway's result as plain values (see :meth:`Result.as_dict`); ``problems`` also holds
        the member episodes' problems, each after ``episode K:`` (K counting members from 1)."""
        out = self.result.as_dict()
        members = [f"episode {k}: {describe(r.problems)}" for k, r in enumerate(self.members, 1) if r.problems]
        if members:
            out["problems"] = "; ".join(p for p in (str(out["problems"]), *members) if p)
        out.update({"financed": "yes" if self.financed else "no", "members": len(self.members),
                    "member_groups": " ".join(r.group for r in self.members),
                    "member_points": str(sum((r.points for r in self.members), Decimal(0))),
                    "paid_points": str(self.points),
                    "paid_refund": "" if self.refund is None else str(self.refund.quantize(_CENT))})
        return out


PATHWAY_FIELDS = (*RESULT_FIELDS, "financed", "members", "member_groups", "member_points", "paid_points", "paid_refund")


class _Grouped(Protocol):
    @property
    def group(self) -> str: ...


def gather(pathway: object, episodes: object, members: Sequence[_Grouped], rules: Mapping[str, str]) -> dict[str, object]:
    """The pathway record: the values given with the pathway, and those gathered from the member
    episodes (``rules``: attribute -> an episode attribute, ``group`` or ``count``)."""
    record: dict[str, object] = dict(pathway) if isinstance(pathway, Mapping) else {}
    eps = [e if isinstance(e, Mapping) else {} for e in episodes] if isinstance(episodes, (list, tuple)) else []
    for name, source in rules.items():
        if source == "count":
            record[name] = len(eps)
        elif source == "group":
            record[name] = [r.group for r in members if r.group]
        else:
            values: list[object] = []
            for e in eps:
                values.extend(to_list(e.get(source), lambda x: x))
            record[name] = values
    return record


def financed(points: Decimal, flags: Sequence[str]) -> bool:
    """Whether a pathway group is financed at pathway level: points above zero, not flagged ``unfinanced``."""
    return points > 0 and "unfinanced" not in flags


def settle(result: Result, members: Sequence[Result], record: GroupRecord | None) -> PathwayResult:
    """Pathway points replace the members' points when the pathway group is financed."""
    if record is not None and financed(record.points, record.flags):
        return PathwayResult(result, tuple(members), True, result.points, result.refund)
    points = sum((r.points for r in members), Decimal(0))
    refunds = [r.refund for r in members if r.refund is not None]
    return PathwayResult(result, tuple(members), False, points, sum(refunds, Decimal(0)) if refunds else None)


@dataclass(frozen=True, slots=True)
class Payment:
    unit_price: Decimal | None
    share_position: int | None
    shares: Mapping[str, Decimal]
    stay_position: int | None
    price_position: int | None = None
    prices: Mapping[str, Decimal] = _dc_field(default_factory=dict)


class Grouper:
    """Groups episodes: ``evaluate`` turns an episode into the case tuple (attributes, then derived
    features) and its problems; each decision table then picks a row."""

    def __init__(self, evaluate: Callable[[Mapping[str, object], list[Problem]], tuple[object, ...]],
                 tables: Sequence[DecisionTable], catalogues: Mapping[str, Mapping[str, GroupRecord]],
                 payment: Payment | None) -> None:
        self.evaluate = evaluate
        self.tables = {t.name: t for t in tables}
        targets = {t.otherwise for t in tables}
        self.default = next((t.name for t in tables if t.name not in targets), tables[0].name)
        self.catalogues = catalogues
        self.payment = payment
        self._catalogue = {t.name: catalogues.get(t.system, {}) for t in tables}
        self._no_refund = payment is None or payment.share_position is None

    def group(self, episode: Mapping[str, object], table: str | None = None, explain: bool = False) -> Result:
        t = self.tables.get(table or self.default)
        if t is None:
            raise KeyError(f"no decision table {table!r}; the tables are {', '.join(self.tables)}")
        problems: list[Problem] = []
        try:
            if episode.__class__ is not dict and not isinstance(episode, Mapping):
                problems.append(("", repr(episode)[:80], f"an episode is a mapping of attribute values, not {type(episode).__name__}"))
                episode = {}
            case = self.evaluate(episode, problems)
            return self._result(t, case, problems, explain)
        except Exception as exc:  # noqa: BLE001 -- totality: a defect must not lose the episode
            problems.append(("", "", f"internal error: {type(exc).__name__}: {exc}"))
            return Result(t.system, t.name, t.fallback or "", self._name(t, t.fallback), "error", t.fallback_rc,
                          Decimal(0), None, tuple(problems))

    def _name(self, t: DecisionTable, group: str | None) -> str:
        record = self.catalogues[t.system].get(group or "")
        return record.name if record else ""

    def _result(self, t: DecisionTable, case: tuple[object, ...], problems: list[Problem], explain: bool) -> Result:
        k = t.select(case)
        if k >= 0:
            group, rule, rc = t.outcomes[k]
        elif t.otherwise is not None:
            return self._result(self.tables[t.otherwise], case, problems, explain)
        else:
            group, rule, rc = t.fallback, "fallback", t.fallback_rc
        for post, on_group, gate in t.post_gates:
            if gate is not None and (group if on_group else rc) not in gate:
                continue
            if t.passes(post, case, group, rc):
                group = post.group or group
                rc = post.rc or rc
        record = self._catalogue[t.name].get(group or "")
        if record is None:
            name, points = "", _ZERO
        else:
            name, points = record.name, record.points if record.perday is None else self.points(record, case)
        return _new_result(Result, (t.system, t.name, group or "", name, rule, rc, points,
                                    None if self._no_refund else self.refund(points, case),
                                    tuple(problems) if problems else (),
                                    (t.explain(t.rows[k], case)[1] if k >= 0 else ()) if explain else None))

    def points(self, record: GroupRecord | None, case: tuple[object, ...]) -> Decimal:
        if record is None:
            return _ZERO
        points = record.points
        pay = self.payment
        if record.perday is not None and record.trim is not None and pay is not None and pay.stay_position is not None:
            stay = case[pay.stay_position]
            if isinstance(stay, int) and stay > record.trim:
                points += record.perday * (stay - record.trim)
        return points

    def refund(self, points: Decimal, case: tuple[object, ...]) -> Decimal | None:
        pay = self.payment
        if pay is None or pay.share_position is None:
            return None
        price = pay.unit_price
        if pay.price_position is not None:
            price = pay.prices.get(str(case[pay.price_position]), price)
        share = pay.shares.get(str(case[pay.share_position]))
        return None if share is None or price is None else points * price * share

    def with_payment(self, unit_price: Decimal | None = None, prices: Mapping[str, Decimal] | None = None,
                     shares: Mapping[str, Decimal] | None = None) -> Grouper:
        """A grouper like this one with the unit price (for every member, or per member) and ISF
        shares overridden: to compute refunds under other payment parameters."""
        pay = self.payment
        if pay is None:
            raise ValueError("these definitions declare no payment parameters")
        new_prices = dict(pay.prices)
        if unit_price is not None:
            new_prices = dict.fromkeys(new_prices, unit_price)
        new_prices.update(prices or {})
        payment = replace(pay, unit_price=unit_price if unit_price is not None else pay.unit_price,
                               prices=new_prices, shares={**pay.shares, **(shares or {})})
        other = copy.copy(self)
        other.payment = payment
        other._no_refund = payment.share_position is None
        return other

    def group_many(self, episodes: Iterable[Mapping[str, object]], table: str | None = None) -> Iterator[Result]:
        """One result per episode, in order, lazily; nothing is dropped."""
        for episode in episodes:
            yield self.group(episode, table)

    def group_arrow(self, batches: Iterable[Any], keep: Sequence[str] = (), table: str | None = None) -> Iterator[Any]:
        """Group Arrow record batches (or tables) into record batches of results, one row per input row.
        ``keep`` names input columns carried over first (for example an episode id). The signature
        fits Spark ``mapInArrow``, Ray ``map_batches`` and ``pyarrow.dataset`` scanners; pyarrow is
        imported on first use only."""
        pa = importlib.import_module("pyarrow")
        for batch in batches:
            rows = batch.to_pylist()
            results = [self.group(row, table) for row in rows]
            columns: dict[str, Any] = {name: batch.column(name) for name in keep}
            for name in RESULT_FIELDS:
                columns[name] = pa.array([_arrow_value(r, name) for r in results], type=_ARROW_TYPES[name](pa))
            yield pa.RecordBatch.from_pydict(columns)

    def arrow_schema(self, keep_fields: Sequence[Any] = ()) -> Any:
        """The schema of ``group_arrow`` output (with the given kept ``pyarrow.field``s first)."""
        pa = importlib.import_module("pyarrow")
        return pa.schema([*keep_fields, *(pa.field(n, _ARROW_TYPES[n](pa)) for n in RESULT_FIELDS)])


_ARROW_TYPES: dict[str, Callable[[Any], Any]] = {
    "system": lambda pa: pa.string(), "group": lambda pa: pa.string(), "name": lambda pa: pa.string(),
    "rule": lambda pa: pa.string(), "return_code": lambda pa: pa.string(), "points": lambda pa: pa.float64(),
    "refund": lambda pa: pa.float64(), "problems": lambda pa: pa.string(),
}


def _arrow_value(r: Result, name: str) -> object:
    if name == "points":
        return float(r.points)
    if name == "refund":
        return None if r.refund is None else float(r.refund)
    if name == "problems":
        return describe(r.problems) or None
    return getattr(r, name)


# ---------------------------------------------------------------------- python -m <package>


#: The field separators ``sniff_delimiter`` chooses among, the first winning a tie.
DELIMITERS = (",", ";", "\t", "|")


def sniff_delimiter(header: str) -> str:
    """The separator of a CSV header line: the one of :data:`DELIMITERS` that occurs most often
    outside quotes (a comma when none does). Norwegian spreadsheets write semicolons."""
    outside = "".join(header.split('"')[::2])
    counts = [outside.count(d) for d in DELIMITERS]
    return DELIMITERS[counts.index(max(counts))] if max(counts) else ","


def csv_reader(source: TextIO, delimiter: str = "auto") -> tuple[Any, str]:
    """A ``csv.reader`` over a text file, and the separator it uses: ``delimiter``, or when ``auto``
    the one :func:`sniff_delimiter` finds in the header line."""
    first = source.readline()
    if delimiter == "auto":
        delimiter = sniff_delimiter(first)
    return csv.reader(chain([first], source) if first else source, delimiter=delimiter), delimiter


def csv_main(grouper: Grouper, label: str, argv: Sequence[str] | None = None, attributes: Iterable[str] = ()) -> int:
    """Group CSV (a header row of attribute names) from a file or standard input to standard output:
    every input column, then the result columns. A row with the wrong number of fields is still
    grouped, and flagged in ``problems``. When no column is one of ``attributes``, says so on
    standard error (a wrong separator or file: every row would be grouped as if empty)."""
    import argparse

    parser = argparse.ArgumentParser(description=f"Group episodes with the {label} grouper (CSV in, CSV out).")
    parser.add_argument("input", nargs="?", default="-", help="CSV file with a header row (default: standard input)")
    parser.add_argument("--table", default=None, help=f"decision table (default: {grouper.default})")
    parser.add_argument("--delimiter", default="auto",
                        help="field separator (default: auto, the most frequent of , ; tab | in the header row)")
    parser.add_argument("--encoding", default="utf-8-sig",
                        help="input encoding, e.g. iso-8859-1 (default: UTF-8, with or without a byte-order mark)")
    args = parser.parse_args(argv)
    if args.input == "-":
        source: TextIO = io.TextIOWrapper(sys.stdin.buffer, encoding=args.encoding, newline="")
    else:
        source = open(args.input, encoding=args.encoding, newline="")  # noqa: SIM115
    with source:
        reader, delimiter = csv_reader(source, args.delimiter)
        header = next(reader, None)
        if header is None:
            return 0
        known = set(attributes)
        if known and not known.intersection(header):
            print(f"warning: no column of the header {header!r} (separated by {delimiter!r}) is an attribute of the "
                  f"{label} grouper; every row is grouped as if empty. Attributes: {', '.join(sorted(known))}",
                  file=sys.stderr)
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([*header, *RESULT_FIELDS])
        for n, fields in enumerate(reader, start=2):
            episode: dict[str, object] = dict(zip(header, fields))
            result = grouper.group(episode, args.table)
            extra = _shape_problem(n, len(header), len(fields))
            out = result.as_dict()
            if extra:
                out["problems"] = "; ".join(p for p in (extra, str(out["problems"])) if p)
            writer.writerow([*fields[: len(header)], *([""] * (len(header) - len(fields))), *(out[f] for f in RESULT_FIELDS)])
    return 0


def _shape_problem(line: int, expected: int, found: int) -> str:
    if found == expected:
        return ""
    return f"line {line}: {found} fields where the header has {expected}"
