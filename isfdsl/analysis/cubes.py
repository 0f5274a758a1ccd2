"""Cubes: the finite domains the analysis works in (see :mod:`isfdsl.analysis.analyse`).

The values a feature can take (``Possible``: computed by evaluating derivations over finite value
sets), the variables of one decision table with their representatives (``Var``, ``Space``: every row
as a union of disjoint cubes), and the set algebra on cubes — meet, subtract, contains and the
bounded search for a part of a cube that other cubes leave uncovered.

One piece (about 650 lines): the space, the cube index and the search share the encoding of a cube
(a variable's allowed representatives as a bit mask), and splitting them would spread that encoding
over modules.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from isfdsl import interpret
from isfdsl.ir import model as ir
from isfdsl.runtime.contract import Constraint
from isfdsl.types import Type

#: Sets larger than this are not enumerated (the value is then "any value of its type").
MAX_VALUES = 5000
#: Search steps for one question "do these rows cover that one?" before the analysis gives up on it and
#: says so (ISF455). The official NordDRG tables need at most 89.
SEARCH_BUDGET = 5000


# ---------------------------------------------------------------------- possible values of features


class Top:
    """Any value of the type (too many to list)."""

    def __repr__(self) -> str:
        return "TOP"


TOP = Top()
Values = frozenset[object] | Top


def _join(*vs: Values) -> Values:
    out: set[object] = set()
    for v in vs:
        if isinstance(v, Top):
            return TOP
        out |= v
        if len(out) > MAX_VALUES:
            return TOP
    return frozenset(out)


def _drop_none(v: Values) -> Values:
    """Lists never hold absent elements."""
    return v if isinstance(v, Top) else v - {None}


class Possible:
    """The values each derivation can produce: for a scalar the set of values (``None`` = absent), for
    a list the set of its possible elements; ``TOP`` when unknown or too many."""

    def __init__(self, program: ir.Program) -> None:
        self.p = program
        self.attrs = {a.name: a for a in program.attributes}
        self.features: dict[str, Values] = {}
        self._ev = interpret.Evaluator.__new__(interpret.Evaluator)
        self._ev.p, self._ev.values, self._ev.features = program, {}, {}
        for d in program.derivations:
            self.features[d.name] = self.expr(d.expr, {})

    def of(self, name: str) -> Values:
        if name in self.features:
            return self.features[name]
        a = self.attrs.get(name)
        if a is None:
            return TOP
        return self.attribute(a)

    def attribute(self, a: ir.Attribute) -> Values:
        t = a.type.elem if a.type.kind == "list" and a.type.elem else a.type
        absent: set[object] = set() if a.type.kind == "list" or a.default is not None else {None}
        if t.kind == "enum":
            return frozenset(set(a.members.values()) | absent)
        if t.kind == "bool":
            return frozenset({True, False} | absent)
        if t.kind == "int" and t.lo is not None and t.hi is not None and t.hi - t.lo < MAX_VALUES:
            return frozenset(set(range(t.lo, t.hi + 1)) | absent)
        return TOP

    def expr(self, e: ir.Expr, local: dict[str, Values]) -> Values:
        if isinstance(e, ir.Const):
            if isinstance(e.value, list):
                return frozenset(e.value)
            return frozenset({e.value})
        if isinstance(e, ir.Ref):
            if e.scope == "local":
                return local[e.name]
            if e.scope in ("attr", "feature"):
                return self.of(e.name)
            return frozenset({e.name})
        if isinstance(e, ir.Loop):
            if e.kind in ("any", "all", "none"):
                return frozenset({True, False})
            source = self.expr(e.source, local)
            if e.kind == "find":
                return source if isinstance(source, Top) else source | {None}
            assert e.body is not None
            if isinstance(source, Top):
                return self.expr(e.body, {**local, e.var: TOP})
            return _drop_none(_join(*(self.expr(e.body, {**local, e.var: frozenset({x})}) for x in source)))
        op = e.op
        if op in ("lookup", "combo", "entries"):
            table = self.p.tables.get(e.args[0].name) if isinstance(e.args[0], ir.Ref) else None
            if table is None:
                return TOP
            if op == "entries":
                items = [(k, v) for k, rows in table.rows.items() for s, v in rows if s is None]
                return frozenset(items) if len(items) <= MAX_VALUES else TOP
            return _join(frozenset(v for rows in table.rows.values() for _, v in rows))
        if op == "if":
            return _join(self.expr(e.args[1], local), self.expr(e.args[2], local))
        if op in ("first",):
            v = self.expr(e.args[0], local)
            return v if isinstance(v, Top) else v | {None}
        if op == "coalesce":
            return _join(*(self.expr(a, local) for a in e.args))
        if op in ("union", "list"):
            return _drop_none(_join(*(self.expr(a, local) for a in e.args)))
        if op in ("intersect", "minus"):
            return self.expr(e.args[0], local)
        if op in ("max", "min"):
            return _join(self.expr(e.args[0], local), self.expr(e.args[1], local))
        if op in ("codes", "count"):
            return TOP
        if e.type.kind == "bool":
            return frozenset({True, False})
        # Any other operator: evaluate it over every combination of its arguments' values.
        args = [self.expr(a, local) for a in e.args]
        if any(isinstance(a, Top) for a in args):
            return TOP
        sets = [sorted(a, key=repr) for a in args if isinstance(a, frozenset)]
        size = 1
        for s in sets:
            size *= len(s)
        if size > MAX_VALUES:
            return TOP
        out = set()
        for combo in itertools.product(*sets):
            out.add(self._ev.eval(ir.Apply(e.type, op, tuple(ir.Const(a.type, v) for a, v in zip(e.args, combo, strict=True))), {}))
        return frozenset(out)


# ---------------------------------------------------------------------- variables and cubes


@dataclass(slots=True)
class Var:
    """One variable of the analysis: a scalar feature (``element`` None; ``reps`` its representatives)
    or one class of elements of a list feature (``reps`` = [False, True]; ``element`` an example)."""

    feature: str
    reps: list[object]
    element: object = None
    is_class: bool = False

    @property
    def full(self) -> int:
        return (1 << len(self.reps)) - 1


Cube = dict[int, int]  # variable index -> mask of allowed representatives (a missing variable: any)


class Space:
    """The variables of one decision table and each row as a union of disjoint cubes."""

    def __init__(self, program: ir.Program, table: ir.Table, possible: Possible) -> None:
        self.p = program
        self.table = table
        self.possible = possible
        self.vars: list[Var] = []
        self.scalar: dict[str, int] = {}
        self.classes: dict[str, list[int]] = {}
        self._cubes: dict[Constraint, list[Cube]] = {}
        # Each distinct condition once, in the order of first use (rows repeat conditions a lot).
        by_feature: dict[str, dict[Constraint, None]] = {}
        for row in table.rows:
            for c in row.constraints:
                by_feature.setdefault(c.feature, {})[c] = None
        self._tests = {name: list(distinct) for name, distinct in by_feature.items()}
        self._signatures: dict[tuple[str, object], tuple[bool, ...]] = {}
        #: Per feature: the signature of a class -> its representative's index (scalar) or variable (list).
        self._classes_of: dict[str, dict[tuple[bool, ...], int]] = {}
        self._zeros: dict[str, dict[int, int]] = {}  # per list feature: each of its classes at 0
        for name, distinct in by_feature.items():
            if self._is_list(name):
                self._list_vars(name, list(distinct))
            else:
                self._scalar_var(name, list(distinct))
        #: Per variable, the mask of all its representatives.
        self.fulls = [v.full for v in self.vars]

    def _type(self, name: str) -> Type:
        for a in self.p.attributes:
            if a.name == name:
                return a.type
        for d in self.p.derivations:
            if d.name == name:
                return d.type
        return Type("text")

    def _is_list(self, name: str) -> bool:
        return self._type(name).kind == "list"

    # -- representatives

    def _candidates(self, t: Type, cs: list[Constraint], possible: Values) -> list[object]:
        """Values that together meet every class the constraints can tell apart."""
        if isinstance(possible, frozenset):
            return sorted(possible, key=display_order)
        out: list[object] = []
        if t.kind in ("int", "decimal"):
            step = Decimal(1) if t.kind == "int" else Decimal("0.5")
            points: set[Decimal] = set()
            for c in cs:
                for b in (c.lo, c.hi):
                    if b is not None:
                        points |= {b - step, b, b + step}
                points |= {Decimal(str(v)) for v in c.values if isinstance(v, (int, Decimal)) and not isinstance(v, bool)}
            lo, hi = t.lo, t.hi
            points |= {Decimal(x) for x in (lo, hi) if x is not None}
            if not points:
                points = {Decimal(0)}
            points |= {min(points) - 1000 * step, max(points) + 1000 * step}
            for n in sorted(points):
                if (lo is None or n >= lo) and (hi is None or n <= hi):
                    out.append(int(n) if t.kind == "int" else n)
        else:
            for c in cs:
                out.extend(v for v in c.values if v is not None)
                if c.ref is not None:
                    out.extend(codeset_examples(self.p.codesets[c.ref]))
            if t.kind == "bool":
                out.extend([True, False])
            out.extend(_fresh(out))
        out.append(None)
        return out

    def _scalar_var(self, name: str, cs: list[Constraint]) -> None:
        t = self._type(name)
        possible = self.possible.of(name)
        reps = _classes(self._candidates(t, cs, possible), lambda v: self._signature(name, v, False))
        self.scalar[name] = len(self.vars)
        self.vars.append(Var(name, reps))
        self._classes_of[name] = {self._signature(name, r, False): k for k, r in enumerate(reps)}

    def _list_vars(self, name: str, cs: list[Constraint]) -> None:
        t = self._type(name)
        elem = t.elem or Type("text")
        possible = self.possible.of(name)
        cands = [x for x in self._candidates(elem, cs, possible) if x is not None]
        named = _Naming(self.p, [c for c in cs if c.kind == "has"])
        reps = _classes(cands, named.by)
        keep_irrelevant = any(c.kind == "present" for c in cs)
        idx = []
        of = self._classes_of[name] = {}
        for x in reps:
            if named.by(x) or keep_irrelevant:
                of[self._signature(name, x, True)] = len(self.vars)
                idx.append(len(self.vars))
                self.vars.append(Var(name, [False, True], x, True))
        self.classes[name] = idx

    # -- rows as cubes

    def constraint_cubes(self, c: Constraint) -> list[Cube]:
        """The constraint as a union of disjoint cubes (computed once per distinct constraint; the
        cubes are shared, so callers must not change them)."""
        cubes = self._cubes.get(c)
        if cubes is None:
            cubes = self._cubes[c] = self._constraint_cubes(c)
        return cubes

    def _constraint_cubes(self, c: Constraint) -> list[Cube]:
        if c.feature in self.scalar:
            i = self.scalar[c.feature]
            mask = 0
            for k, v in enumerate(self.vars[i].reps):
                if interpret.holds(self.p, c, v)[0]:
                    mask |= 1 << k
            return [{i: mask}]
        idx = self.classes.get(c.feature, [])
        if c.kind == "has" and c.ref is None:
            values = set(c.values)
            positive = [i for i in idx if self.vars[i].element in values]
        else:
            positive = [i for i in idx if interpret.holds(self.p, c, [self.vars[i].element])[0] != c.negated]
        if c.kind == "present":
            positive = list(idx)
        if c.negated and c.kind in ("has", "present"):
            return [{i: 0b01 for i in positive}]
        cubes: list[Cube] = []
        for n, i in enumerate(positive):
            cube = {j: 0b01 for j in positive[:n]}
            cube[i] = 0b10
            cubes.append(cube)
        return cubes

    def row_cubes(self, row: ir.Row) -> tuple[list[Cube], Constraint | None]:
        """The row as cubes — the union of its alternatives' cubes (disjoint within an alternative) — and,
        when it is empty, the first condition that made its first alternative so."""
        cubes: list[Cube] = []
        culprit: Constraint | None = None
        for k, alternative in enumerate(row.alternatives):
            mine, why = self.conjunction_cubes(alternative)
            cubes += mine
            culprit = why if k == 0 else culprit
        return cubes, (culprit if not cubes else None)

    def conjunction_cubes(self, constraints: tuple[Constraint, ...]) -> tuple[list[Cube], Constraint | None]:
        """A conjunction of constraints as disjoint cubes, and (when it is empty) the first condition that
        made it so."""
        cubes: list[Cube] = [{}]
        for c in constraints:
            parts = self.constraint_cubes(c)
            if not parts or all(any(m == 0 for m in p.values()) for p in parts):
                return [], c
            merged = []
            for a in cubes:
                for b in parts:
                    m = meet_of(a, b)
                    if m is not None:
                        merged.append(m)
            cubes = merged
            if not cubes:
                return [], c
        return cubes, None

    # -- concrete values

    def _signature(self, name: str, value: object, element: bool) -> tuple[bool, ...]:
        """What the table's conditions on ``name`` say of a value (of an element of the list, with ``element``)."""
        key = (name, value)
        sig = self._signatures.get(key)
        if sig is None:
            if element:
                sig = tuple(interpret.holds(self.p, c, [value])[0] for c in self._tests[name] if c.kind == "has")
            else:
                sig = tuple(interpret.holds(self.p, c, value)[0] for c in self._tests[name])
            self._signatures[key] = sig
        return sig

    def point(self, feature: Callable[[str], object]) -> dict[int, int]:
        """Where concrete feature values (``feature``: name -> value) lie: per variable the index of the
        representative of their class (-1 when no representative shares it), for a list class 1 when the
        list holds an element of that class, else 0."""
        out: dict[int, int] = {}
        for name, i in self.scalar.items():
            out[i] = self._classes_of[name].get(self._signature(name, feature(name), False), -1)
        for name, idx in self.classes.items():
            items = feature(name)
            of = self._classes_of[name]
            zeros = self._zeros.get(name)
            if zeros is None:
                zeros = self._zeros[name] = dict.fromkeys(idx, 0)
            out.update(zeros)
            for x in items if isinstance(items, list) else []:
                i = of.get(self._signature(name, x, True), -1)
                if i >= 0:
                    out[i] = 1
        return out

    def admits(self, cube: Cube, point: Mapping[int, int]) -> list[int]:
        """The variables where ``point`` lies outside ``cube`` (none: the point is inside)."""
        return [k for k, m in cube.items() if point.get(k, -1) < 0 or not m >> point[k] & 1]

    # -- witnesses

    def assignment(self, cube: Cube) -> dict[str, object]:
        """One concrete feature assignment inside the cube (every tested feature)."""
        out: dict[str, object] = {}
        for name, i in self.scalar.items():
            mask = cube.get(i, self.vars[i].full)
            reps = self.vars[i].reps
            k = _pick(mask, reps)
            out[name] = reps[k]
        for name, idx in self.classes.items():
            items = [self.vars[i].element for i in idx if cube.get(i, 0b11) == 0b10]
            out[name] = items
        return out


class _Naming:
    """Which of some `has` conditions name an element (hold for a list of it alone, read without their
    `not`): the conditions with listed values through an index by value, the others one by one."""

    def __init__(self, program: ir.Program, has: list[Constraint]) -> None:
        self.p = program
        self.index: dict[object, list[int]] = {}
        self.others: list[tuple[int, Constraint]] = []
        for j, c in enumerate(has):
            if c.ref is None:
                for v in c.values:
                    if j not in self.index.setdefault(v, []):
                        self.index[v].append(j)
            else:
                self.others.append((j, c))

    def by(self, x: object) -> tuple[int, ...]:
        """The numbers of the conditions that name ``x``, in order."""
        hits = list(self.index.get(x, ()))
        hits += (j for j, c in self.others if interpret.holds(self.p, c, [x])[0] != c.negated)
        return tuple(sorted(hits))


def display_order(v: object) -> tuple[int, str]:
    """A sort key for values of any type: absent first, then by their text."""
    return (0 if v is None else 1, repr(v))


def _pick(mask: int, reps: Sequence[object]) -> int:
    """The representative to show: prefer a present value, the lowest allowed otherwise."""
    allowed = [k for k in range(len(reps)) if mask >> k & 1]
    present = [k for k in allowed if reps[k] is not None]
    return (present or allowed)[0]


def _classes(candidates: Iterable[object], signature: object) -> list[object]:
    seen: dict[object, object] = {}
    for v in candidates:
        s = signature(v)  # type: ignore[operator]
        if s not in seen:
            seen[s] = v
    return list(seen.values())


def codeset_examples(cs: ir.CodeSet) -> list[str]:
    """Codes a code list holds: its codes (sorted), then each prefix and range with codes inside."""
    out = sorted(cs.codes)
    for p in cs.prefixes:
        out += [p, p + "0", p + "99"]
    for lo, hi in cs.ranges:
        out += [lo, hi, lo + "0", hi + "9"]
    return out


def _fresh(seen: Sequence[object]) -> list[str]:
    """Values no condition names (one of them lands in the "anything else" class)."""
    return [x for x in ("Z999", "~other", "00000") if x not in seen]


def meet_of(a: Cube, b: Cube) -> Cube | None:
    out = dict(a)
    for k, m in b.items():
        m2 = out.get(k)
        m = m if m2 is None else m & m2
        if m == 0:
            return None
        out[k] = m
    return out


def _subtract(a: Cube, b: Cube, full: Sequence[int]) -> list[Cube]:
    """``a`` minus ``b`` as disjoint cubes."""
    out: list[Cube] = []
    cur = dict(a)
    for k, mb in b.items():
        ma = cur.get(k, full[k])
        rest = ma & ~mb
        if rest:
            piece = dict(cur)
            piece[k] = rest
            out.append(piece)
        inter = ma & mb
        if not inter:
            return [a]
        cur[k] = inter
    return out


#: What ``uncovered`` gives when its budget of search steps runs out before an answer.
GAVE_UP: Cube = {-1: 0}


def uncovered(cube: Cube, others: Sequence[Cube], full: Sequence[int], budget: int = SEARCH_BUDGET) -> Cube | None:
    """A point of ``cube`` (as a cube of single values where it matters) that no cube of ``others``
    covers, or None when they cover all of it; ``GAVE_UP`` when the budget of search steps runs out.

    This is satisfiability: every other cube is a clause "some variable lies outside its set". The
    search is DPLL: unit propagation, then a branch on one variable of an open clause."""
    clauses = _clauses(cube, others, full)
    if clauses is None:
        return None
    steps = [budget]

    def solve(masks: Cube, active: list[tuple[tuple[int, int], ...]]) -> Cube | None:
        steps[0] -= 1
        if steps[0] < 0:
            return GAVE_UP
        changed = True
        while changed:
            changed = False
            still = []
            for clause in active:
                free: tuple[int, int] | None = None
                nfree = 0
                done = False
                for k, m in clause:
                    cur = masks.get(k, full[k])
                    if not cur & m:
                        done = True
                        break
                    if cur & ~m:
                        nfree += 1
                        free = (k, m)
                if done:
                    continue
                if nfree == 0:
                    return None
                if nfree == 1:
                    assert free is not None
                    k, m = free
                    masks[k] = masks.get(k, full[k]) & ~m
                    changed = True
                    continue
                still.append(clause)
            active = still
        if not active:
            return masks
        for k, m in active[0]:
            cur = masks.get(k, full[k])
            if cur & ~m:
                break
        for part in (cur & ~m, cur & m):
            branch = dict(masks)
            branch[k] = part
            found = solve(branch, active)
            if found is not None:
                return found
        return None

    return solve(dict(cube), clauses)


def _clauses(cube: Cube, others: Sequence[Cube], full: Sequence[int]) -> list[tuple[tuple[int, int], ...]] | None:
    """The other cubes as clauses over the cube: a clause keeps only the variables where the cube has
    values outside the other cube (the only ways out of it), a cube that misses this one is left out,
    a repeated clause is kept once. None when one of them holds the whole cube."""
    out: list[tuple[tuple[int, int], ...]] = []
    seen: set[tuple[tuple[int, int], ...]] = set()
    for o in others:
        way_out = []
        for k, m in o.items():
            cur = cube.get(k, full[k])
            inside = cur & m
            if not inside:
                break
            if inside != cur:
                way_out.append((k, inside))
        else:
            if not way_out:
                return None
            clause = tuple(way_out)
            if clause not in seen:
                seen.add(clause)
                out.append(clause)
    return out


def bits(n: int) -> Iterator[int]:
    """The positions of the bits set in ``n``, lowest first."""
    while n:
        low = n & -n
        yield low.bit_length() - 1
        n ^= low


def intersects(a: Cube, b: Cube) -> bool:
    if len(b) < len(a):
        a, b = b, a
    for k, m in a.items():
        m2 = b.get(k)
        if m2 is not None and not m & m2:
            return False
    return True


class CubeIndex:
    """Earlier cubes by variable and representative, to find the cubes that can meet a new one."""

    def __init__(self, nvars: int) -> None:
        self.allow: list[dict[int, int]] = [{} for _ in range(nvars)]
        self.constrained = [0] * nvars
        self.all = 0
        self.cubes: list[Cube] = []
        self.owner: list[int] = []

    def add(self, cube: Cube, owner: int) -> None:
        n = len(self.cubes)
        bit = 1 << n
        self.cubes.append(cube)
        self.owner.append(owner)
        self.all |= bit
        for k, m in cube.items():
            self.constrained[k] |= bit
            slots = self.allow[k]
            while m:
                low = m & -m
                r = low.bit_length() - 1
                slots[r] = slots.get(r, 0) | bit
                m ^= low

    def meeting(self, cube: Cube, full: Sequence[int]) -> Iterator[int]:
        return bits(self._meeting(cube, full))

    def meeting_bits(self, cube: Cube, full: Sequence[int]) -> int:
        """The cubes that can meet ``cube``, as a bit set over their numbers."""
        return self._meeting(cube, full)

    def _meeting(self, cube: Cube, full: Sequence[int]) -> int:
        """The cubes that can meet ``cube``, as a bit set over their numbers."""
        cand = self.all
        for k, m in cube.items():
            if m == full[k]:
                continue
            hit = self.all & ~self.constrained[k]
            slots = self.allow[k]
            while m:
                low = m & -m
                hit |= slots.get(low.bit_length() - 1, 0)
                m ^= low
            cand &= hit
            if not cand:
                return 0
        return cand

    def escapes(self, cube: Cube, full: Sequence[int]) -> bool:
        """Whether :meth:`escape` finds a point (True is certain; False only means not found)."""
        return self.escape(cube, full) is not None

    def escape(self, cube: Cube, full: Sequence[int]) -> Cube | None:
        """A part of ``cube`` that no indexed cube meets, found by a quick greedy search (None only
        means not found: :func:`uncovered` then decides). The cubes covering the point chosen so far are
        a bit set; each variable, the most constrained first, takes the representative that leaves the
        fewest of them. The part is ``cube`` with the chosen variables fixed to their representatives."""
        cover = self._meeting(cube, full)
        weight = [(c & cover).bit_count() for c in self.constrained]
        order = [k for k in sorted(range(len(weight)), key=weight.__getitem__, reverse=True) if weight[k]]
        chosen: dict[int, int] = {}
        for k in order:
            if not cover:
                return {**cube, **chosen}
            here = cover & self.constrained[k]
            if not here:
                continue
            rest = cover & ~here
            slots = self.allow[k]
            m = cube.get(k, full[k])
            best, pick = cover, m & -m
            while m:
                low = m & -m
                left = rest | here & slots.get(low.bit_length() - 1, 0)
                if not left:
                    chosen[k] = low
                    return {**cube, **chosen}
                if left.bit_count() < best.bit_count():
                    best, pick = left, low
                m ^= low
            chosen[k] = pick
            cover = best
        return None if cover else {**cube, **chosen}
