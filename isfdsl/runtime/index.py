"""Decision tables: whether a condition holds (:func:`holds`), and the bit-set index that picks a
table's first matching row — one mask of rows per feature value, the masks ANDed, the lowest bit
winning."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from isfdsl.runtime.codes import CodeSet
from isfdsl.runtime.contract import C, Row
from isfdsl.runtime.convert import CACHE_LIMIT, COMBINATION_LIMIT, remember, small


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
    are remembered per element, packed into one integer — column k's rows shifted by k times the
    table's width, the rows a negated atom rules out above them all — so that a list's elements are
    ORed at C speed, one operation per element however many columns there are."""

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
        #: bits per column in a packed contribution, and the mask of one column's bits
        self.width = everyone.bit_length()
        self.full = (1 << self.width) - 1
        #: (column k's free rows, its shift) for every column
        self.shifts = tuple((free, k * self.width) for k, free in enumerate(self.column_free))
        self.negated_shift = len(self.columns) * self.width
        self.cache: dict[object, int] = {}

    def _bits(self, split: tuple[dict[object, int], list[tuple[int, str]]], x: object) -> int:
        literal, refs = split
        m = literal.get(x, 0)
        for bit, ref in refs:
            if x in self.codesets[ref]:
                m |= bit
        return m

    def contribution(self, x: object) -> int:
        """What element ``x`` gives each column and the negated atoms, packed (see the class)."""
        hit = self.cache.get(x)
        if hit is None:
            hit = self._bits(self.split_negated, x) << self.negated_shift
            for (_, shift), split in zip(self.shifts, self.split):
                hit |= self._bits(split, x) << shift
            if len(self.cache) < CACHE_LIMIT and small(x):
                self.cache[x] = hit
        return hit

    def mask(self, value: object) -> int:
        items: Sequence[object] = value if isinstance(value, (list, tuple)) else ()
        if not items:
            return self.when_empty
        get = self.cache.get
        packed = 0
        for x in items:
            hit = get(x)
            packed |= self.contribution(x) if hit is None else hit
        m = self.when_filled & ~(packed >> self.negated_shift)
        full = self.full
        for free, shift in self.shifts:
            m &= free | (packed >> shift) & full
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

    def fresh(self, values: Sequence[object]) -> int:
        """The mask of a combination, each value's mask from (or learnt into) its member's memory, the
        combination itself not remembered; 0 as soon as no row is left."""
        m = -1
        for index, value in zip(self.members, values):
            bits = index.known.get(value, -1)
            m &= bits if bits >= 0 else index.learn(value)
            if not m:
                return 0
        return m


class DecisionTable:
    """A compiled decision table: rows in order, dispatched through one bit-set index per feature.

    ``features`` maps each feature a row tests to (its position in the evaluated case, whether it is a
    list). Row k is bit k; the rows that can match are the AND of the masks of every feature, and the
    first of them is the lowest set bit. ``together`` names groups of features looked up as one (see
    ``_Together``).

    ``cell`` — (position, slot, features) — is given when the generated ``evaluate`` remembers the
    derived features together (``DERIVED``): the case then holds, at ``position``, a list that DERIVED
    keeps with those features' values, one slot per decision table of the module. ``features`` are
    the tested features that are functions of DERIVED's key; the AND of their masks is computed on the
    first case with that key and kept in the slot, so a case whose key was seen before pays one list
    index for them instead of building and hashing their values.
    """

    def __init__(self, name: str, system: str, policy: str, rows: Sequence[Row], fallback: str | None,
                 fallback_rc: str | None, post: Sequence[Row], features: Mapping[str, tuple[int, bool]],
                 codesets: Mapping[str, CodeSet], otherwise: str | None = None,
                 together: Sequence[Sequence[str]] = (),
                 cell: tuple[int, int, Sequence[str]] | None = None) -> None:
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
        # feature -> (row bit, the row's conditions on it), for the rows that test it: one pass over the rows
        by_feature: dict[str, list[tuple[int, tuple[C, ...]]]] = {}
        for k, row in enumerate(self.rows):
            bit = 1 << k
            for c in row.conditions:
                tested = by_feature.setdefault(c.feature, [])
                if tested and tested[-1][0] == bit:
                    tested[-1] = (bit, (*tested[-1][1], c))
                else:
                    tested.append((bit, (c,)))
        for feature, (position, is_list) in features.items():
            tested = by_feature.get(feature, [])
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
            # lists last: the values of the others are known at once, and may leave no row to probe lists for
            members = sorted((indexes.pop(n) for n in present), key=lambda p: isinstance(p[2], _ListIndex))
            probe = _Together([index for _, _, index in members])
            positions = frozenset(position for _, position, _ in members)
            joint.append((max(n for n, _, _ in members), itemgetter(*(position for _, position, _ in members)), probe, positions))
        # The features most rows test go first: they empty the mask soonest.
        joint.sort(key=lambda p: -p[0])
        probes = sorted(indexes.values(), key=lambda p: -p[0])
        #: (position of the cell in the case, slot), or None; see the class's docstring
        self.cell: tuple[int, int] | None = None
        fixed: tuple[tuple[Any, ...], tuple[Any, ...]] = ((), ())
        if cell is not None:
            position, slot, names = cell
            cached = {features[n][0] for n in names if n in features}
            fixed = (tuple((get, probe.known, probe) for _, get, probe, positions in joint if positions <= cached),
                     tuple((at, index.known, index) for _, at, index in probes if at in cached))
            joint = [p for p in joint if not p[3] <= cached]
            probes = [p for p in probes if p[1] not in cached]
            self.cell = (position, slot)
        #: the probes whose mask the cell keeps: (joint probes, single probes) as below
        self.fixed = fixed
        self.joint = tuple((get, probe.known, probe) for _, get, probe, _ in joint)
        self.probes = tuple((position, index.known, index) for _, position, index in probes)
        #: every probe, for a case whose values cannot be remembered (see ``select``)
        self.all_joint = fixed[0] + self.joint
        self.all_probes = fixed[1] + self.probes

    def select(self, case: Sequence[object]) -> int:
        """The position of the first row whose conditions all hold, or -1."""
        m = self.everyone
        try:
            if self.cell is not None:
                at, slot = self.cell
                cell: Any = case[at]
                bits = cell[slot]
                if bits is None:
                    bits = cell[slot] = self._fixed(case)
                m = bits
                if not m:
                    return -1
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
            for get, _, joint in self.all_joint:
                m &= joint.mask(get(case))
            for position, _, index in self.all_probes:
                m &= index.mask(case[position])
        return (m & -m).bit_length() - 1 if m else -1

    def _fixed(self, case: Sequence[object]) -> int:
        """The mask the probes the cell keeps allow (each value remembered in its probe's memory, as
        ``select`` does): 0 as soon as no row is left. The combinations of features probed as one are
        not remembered here: the cell keeps their mask per DERIVED key, and a year's first pass seldom
        meets a combination again under another key (one in eight on NordDRG 2015: remembering it cost
        more than it saved)."""
        m = self.everyone
        joint, probes = self.fixed
        for get, _, probe in joint:
            m &= probe.fresh(get(case))
            if not m:
                return 0
        for position, known, index in probes:
            value = case[position]
            bits = known.get(value, -1)
            m &= bits if bits >= 0 else index.learn(value)
            if not m:
                return 0
        return m

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
