"""Analyse: exact checks of the decision tables over the declared feature domains.

Every feature a table tests gets a finite domain of *representatives*: one concrete value per class of
values that the table's conditions cannot tell apart (integer intervals cut at every bound a condition
names, enumeration members, the codes, prefixes and range bounds of code lists, the values a derivation
can produce, and one value no condition mentions). A list feature gets one yes/no variable per class of
elements ("the list holds an element of this class"). A row is then a union of *cubes* — one set of
allowed representatives per variable — and shadowing, overlaps and gaps are exact set algebra on cubes.

Derived features are treated as independent of each other, with the values their expressions can
produce (computed here by evaluating the expression over finite value sets). So a row reported
unreachable is unreachable for every episode; an overlap or gap comes with a feature assignment, and the
analysis then searches for a concrete episode that really shows it, checked with the reference
interpreter, and says so when it finds none.
"""

from __future__ import annotations

import functools
import itertools
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from . import interpret, ir
from .diagnostics import CODES, Collector, Severity, Span
from .types import Type

#: Sets larger than this are not enumerated (the value is then "any value of its type").
MAX_VALUES = 5000
#: Search steps for one question "do these rows cover that one?" before the analysis gives up on it and
#: says so (ISF455). The official NordDRG tables need at most 89.
SEARCH_BUDGET = 5000


# ---------------------------------------------------------------------- findings


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of the analysis, with a feature assignment and, where found, an episode showing it."""

    code: str
    table: str
    rule: str | None
    where: str
    message: str
    rows: tuple[str, ...] = ()
    witness: Mapping[str, object] | None = None
    episode: Mapping[str, object] | None = None
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "table": self.table, "rule": self.rule, "where": self.where,
                "message": self.message, "rows": list(self.rows),
                "witness": _jsonable(self.witness), "episode": _jsonable(self.episode), "notes": list(self.notes)}


@dataclass(slots=True)
class Report:
    """Everything the analysis found, and how much of the tables the analysis covered."""

    findings: list[Finding] = field(default_factory=list)
    rows: int = 0
    tables: int = 0
    #: Per table: name, policy, rows, rows that can match, seconds spent.
    summary: list[tuple[str, str, int, int, float]] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if CODES[f.code][0] is Severity.ERROR]

    def report_into(self, diags: Collector) -> None:
        for f in self.findings:
            diags.report(f.code, span_of(f.where), f.message, *f.notes, *witness_notes(f))


def span_of(where: str) -> Span:
    file, _, rest = where.rpartition(":")
    if file and ":" in file and rest.isdigit():
        file2, _, line = file.rpartition(":")
        if line.isdigit():
            return Span(file2, int(line), int(rest))
    if file and rest.isdigit():
        return Span(file, int(rest), 1)
    return Span(where, 1, 1)


def witness_notes(f: Finding) -> list[str]:
    """The witness of a finding as notes: its feature values and, where found, the episode."""
    notes = []
    if f.witness is not None:
        notes.append("witness (features): " + _show(f.witness))
    if f.episode is not None:
        notes.append("witness (episode): " + _show(f.episode))
    return notes


def _show(values: Mapping[str, object]) -> str:
    return ", ".join(f"{k}={_jsonable(v)!r}" for k, v in values.items()) or "(any episode)"


def _jsonable(v: object) -> object:
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


# ---------------------------------------------------------------------- possible values of features


class _Top:
    """Any value of the type (too many to list)."""

    def __repr__(self) -> str:
        return "TOP"


TOP = _Top()
Values = frozenset[object] | _Top


def _join(*vs: Values) -> Values:
    out: set[object] = set()
    for v in vs:
        if isinstance(v, _Top):
            return TOP
        out |= v
        if len(out) > MAX_VALUES:
            return TOP
    return frozenset(out)


def _drop_none(v: Values) -> Values:
    """Lists never hold absent elements."""
    return v if isinstance(v, _Top) else v - {None}


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
                return source if isinstance(source, _Top) else source | {None}
            assert e.body is not None
            if isinstance(source, _Top):
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
            return v if isinstance(v, _Top) else v | {None}
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
        if any(isinstance(a, _Top) for a in args):
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
        by_feature: dict[str, list[ir.Constraint]] = {}
        for row in table.rows:
            for c in row.constraints:
                by_feature.setdefault(c.feature, []).append(c)
        for name, cs in by_feature.items():
            if self._is_list(name):
                self._list_vars(name, cs)
            else:
                self._scalar_var(name, cs)

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

    def _candidates(self, t: Type, cs: list[ir.Constraint], possible: Values) -> list[object]:
        """Values that together meet every class the constraints can tell apart."""
        if isinstance(possible, frozenset):
            return sorted(possible, key=_order)
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

    def _scalar_var(self, name: str, cs: list[ir.Constraint]) -> None:
        t = self._type(name)
        possible = self.possible.of(name)
        reps = _classes(self._candidates(t, cs, possible), lambda v: tuple(interpret.holds(self.p, c, v)[0] for c in cs))
        self.scalar[name] = len(self.vars)
        self.vars.append(Var(name, reps))

    def _list_vars(self, name: str, cs: list[ir.Constraint]) -> None:
        t = self._type(name)
        elem = t.elem or Type("text")
        possible = self.possible.of(name)
        cands = [x for x in self._candidates(elem, cs, possible) if x is not None]
        has = [c for c in cs if c.kind == "has"]
        reps = _classes(cands, lambda x: tuple(interpret.holds(self.p, c, [x])[0] for c in has))
        keep_irrelevant = any(c.kind == "present" for c in cs)
        idx = []
        for x in reps:
            relevant = any(interpret.holds(self.p, c, [x])[0] != c.negated for c in has)
            if relevant or keep_irrelevant:
                idx.append(len(self.vars))
                self.vars.append(Var(name, [False, True], x, True))
        self.classes[name] = idx

    # -- rows as cubes

    def constraint_cubes(self, c: ir.Constraint) -> list[Cube]:
        """The constraint as a union of disjoint cubes."""
        if c.feature in self.scalar:
            i = self.scalar[c.feature]
            mask = 0
            for k, v in enumerate(self.vars[i].reps):
                if interpret.holds(self.p, c, v)[0]:
                    mask |= 1 << k
            return [{i: mask}]
        idx = self.classes.get(c.feature, [])
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

    def row_cubes(self, row: ir.Row) -> tuple[list[Cube], ir.Constraint | None]:
        """The row as disjoint cubes, and (when it is empty) the first condition that made it so."""
        cubes: list[Cube] = [{}]
        for c in row.constraints:
            parts = self.constraint_cubes(c)
            if not parts or all(any(m == 0 for m in p.values()) for p in parts):
                return [], c
            merged = []
            for a in cubes:
                for b in parts:
                    m = _meet(a, b)
                    if m is not None:
                        merged.append(m)
            cubes = merged
            if not cubes:
                return [], c
        return cubes, None

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


def _order(v: object) -> tuple[int, str]:
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


def _meet(a: Cube, b: Cube) -> Cube | None:
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


def _contains(outer: Cube, inner: Cube, full: Sequence[int]) -> bool:
    return all(not inner.get(k, full[k]) & ~m for k, m in outer.items())


_GAVE_UP: Cube = {-1: 0}


def _uncovered(cube: Cube, others: Sequence[Cube], full: Sequence[int], budget: int = SEARCH_BUDGET) -> Cube | None:
    """A point of ``cube`` (as a cube of single values where it matters) that no cube of ``others``
    covers, or None when they cover all of it; ``_GAVE_UP`` when the budget of search steps runs out.

    This is satisfiability: every other cube is a clause "some variable lies outside its set". The
    search is DPLL: unit propagation, then a branch on one variable of an open clause."""
    if any(_contains(o, cube, full) for o in others):
        return None
    clauses = [tuple(o.items()) for o in others]
    steps = [budget]

    def solve(masks: Cube, active: list[tuple[tuple[int, int], ...]]) -> Cube | None:
        steps[0] -= 1
        if steps[0] < 0:
            return _GAVE_UP
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


def _intersects(a: Cube, b: Cube) -> bool:
    if len(b) < len(a):
        a, b = b, a
    for k, m in a.items():
        m2 = b.get(k)
        if m2 is not None and not m & m2:
            return False
    return True


class _Index:
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
                return
        while cand:
            low = cand & -cand
            yield low.bit_length() - 1
            cand ^= low


# ---------------------------------------------------------------------- the analyses


def analyse(program: ir.Program, tables: Sequence[str] | None = None, episodes: bool = True,
            progress: Callable[[int], None] | None = None) -> Report:
    """Analyse every decision table (or the named ones) of a program; ``episodes`` searches for concrete
    witness episodes; ``progress`` is called with the number of rows done after each row."""
    report = Report()
    possible = Possible(program)
    reachable_groups: dict[str, set[str]] = {}
    row_groups: dict[str, dict[str, list[ir.Row]]] = {}
    used_lists: dict[str, bool] = {}
    for table in program.decisions:
        if tables is not None and table.name not in tables:
            continue
        report.tables += 1
        report.rows += len(table.rows)
        started = time.perf_counter()
        reachable = _TableAnalysis(program, table, possible, report, episodes, progress).run(
            reachable_groups, row_groups, used_lists)
        report.summary.append((table.name, table.policy, len(table.rows), reachable, time.perf_counter() - started))
    view = program.pathway_program()
    if view is not None:  # the pathway tables, over the pathway record
        for table in view.decisions:
            if tables is not None and table.name not in tables:
                continue
            report.tables += 1
            report.rows += len(table.rows)
            started = time.perf_counter()
            reachable = _TableAnalysis(view, table, Possible(view), report, episodes, progress).run(
                reachable_groups, row_groups, used_lists)
            report.summary.append((table.name, table.policy, len(table.rows), reachable, time.perf_counter() - started))
    _unreachable_groups(reachable_groups, row_groups, report)
    _codelist_entries(program, used_lists, report)
    report.findings.sort(key=lambda f: (span_of(f.where).file, span_of(f.where).line, span_of(f.where).col, f.code))
    return report


class _TableAnalysis:
    def __init__(self, program: ir.Program, table: ir.Table, possible: Possible, report: Report, episodes: bool,
                 progress: Callable[[int], None] | None) -> None:
        self.progress = progress
        self.p = program
        self.t = table
        self.space = Space(program, table, possible)
        self.report = report
        self.episodes = episodes
        self.full = [v.full for v in self.space.vars]

    def add(self, code: str, row: ir.Row | None, message: str, **kw: object) -> None:
        where = row.where if row is not None else (self.t.rows[0].where if self.t.rows else "")
        self.report.findings.append(Finding(code, self.t.name, row.id if row else None, where, message, **kw))  # type: ignore[arg-type]

    def run(self, reachable_groups: dict[str, set[str]], row_groups: dict[str, dict[str, list[ir.Row]]],
            used_lists: dict[str, bool]) -> int:
        """Analyse the table; the number of rows that can match."""
        t = self.t
        matching = 0
        produced = reachable_groups.setdefault(t.catalogue, set())
        by_group = row_groups.setdefault(t.catalogue, {})
        if t.fallback:
            produced.add(t.fallback)
        produced.update(r.group for r in t.post if r.group)
        index = _Index(len(self.space.vars))
        unique = t.policy == "unique"
        for n, row in enumerate(t.rows):
            if self.progress is not None:
                self.progress(1)
            if row.group:
                by_group.setdefault(row.group, []).append(row)
            cubes, culprit = self.space.row_cubes(row)
            if not cubes:
                self._impossible(row, culprit)
                self._mark_lists(row, False, used_lists)
                continue
            if unique:
                self._overlaps(n, row, cubes, index)
                reachable = True
            else:
                reachable = self._shadow(row, cubes, index)
            self._mark_lists(row, reachable, used_lists)
            matching += reachable
            if reachable and row.group:
                produced.add(row.group)
            for cube in cubes:
                index.add(cube, n)
        if not t.fallback and not t.otherwise:
            self._gaps(index)
        return matching

    def _mark_lists(self, row: ir.Row, reachable: bool, used: dict[str, bool]) -> None:
        for c in row.constraints:
            if c.ref is not None:
                used[c.ref] = used.get(c.ref, False) or reachable

    def _impossible(self, row: ir.Row, culprit: ir.Constraint | None) -> None:
        alone, _ = self.space.row_cubes(ir.Row(row.id, None, (culprit,), None, None, row.source, row.col)) \
            if culprit is not None else ([{}], None)
        if culprit is not None and not alone:
            shown = _domain_text(self.space.possible.of(culprit.feature))
            self.add("ISF452", row, f"row {row.id}: the condition `{culprit.text}` can never hold, so the row "
                     "can never match", notes=(f"`{culprit.feature}` can only be {shown}",) if shown else ())
        else:
            conds = " and ".join(f"`{c.text}`" for c in row.constraints)
            self.add("ISF452", row, f"row {row.id}: its conditions contradict each other ({conds}), so the "
                     "row can never match")

    def _shadow(self, row: ir.Row, cubes: list[Cube], index: _Index) -> bool:
        for cube in cubes:
            others = [index.cubes[k] for k in index.meeting(cube, self.full)]
            found = _uncovered(cube, others, self.full)
            if found is None:
                continue
            if found is _GAVE_UP:
                self.add("ISF455", row, f"row {row.id}: too many cases to decide whether earlier rows shadow it; "
                         "the analysis assumes it can match")
            return True
        names = [self.t.rows[i].id for i in self._minimal(cubes, index)]
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        self.add("ISF451", row, f"row {row.id} can never match: earlier rows take every episode it would "
                 f"take ({shown})", rows=tuple(names))
        return False

    def _minimal(self, cubes: list[Cube], index: _Index) -> list[int]:
        """Earlier rows that alone still cover the row: one row when one does, else a greedy reduction."""
        meeting = sorted({k for cube in cubes for k in index.meeting(cube, self.full)})
        owners = sorted({index.owner[k] for k in meeting})
        for owner in owners:
            mine = [index.cubes[k] for k in meeting if index.owner[k] == owner]
            if all(_uncovered(cube, mine, self.full) is None for cube in cubes):
                return [owner]

        def covered(kept: set[int]) -> bool:
            others = [index.cubes[k] for k in meeting if index.owner[k] in kept]
            return all(_uncovered(cube, others, self.full, 2000) is None for cube in cubes)

        keep = set(owners)
        for size in (64, 8, 1):
            for start in range(len(owners) - size, -size, -size):
                block = set(owners[max(0, start):start + size]) & keep
                if block and covered(keep - block):
                    keep -= block
        return sorted(keep)

    def _overlaps(self, n: int, row: ir.Row, cubes: list[Cube], index: _Index) -> None:
        seen: set[int] = set()
        for cube in cubes:
            for k in index.meeting(cube, self.full):
                other = index.owner[k]
                if other in seen or not _intersects(cube, index.cubes[k]):
                    continue
                seen.add(other)
                meet = _meet(cube, index.cubes[k])
                assert meet is not None
                first = self.t.rows[other]
                witness = self.space.assignment(meet)
                episode = self._episode(witness, functools.partial(_both, first.id, row.id)) if self.episodes else None
                self.add("ISF401", row, f"rows {first.id} and {row.id} of the `unique` table `{self.t.name}` both "
                         "match some episodes", rows=(first.id, row.id), witness=witness, episode=episode,
                         notes=() if episode or not self.episodes else ("no concrete episode found for this feature assignment",))

    def _gaps(self, index: _Index) -> None:
        found = _uncovered({}, index.cubes, self.full)
        if found is None or found is _GAVE_UP:
            return
        witness = self.space.assignment(found)
        episode = self._episode(witness, lambda tr: not any(s.matched for s in tr)) if self.episodes else None
        self.add("ISF402", None, f"the table `{self.t.name}` has no fallback and some episodes match none of its "
                 "rows", witness=witness, episode=episode,
                 notes=("declare `fallback GROUP` or add a row for them",
                        "" if episode or not self.episodes else "no concrete episode found for this feature assignment"))

    # -- concrete episodes

    def _episode(self, witness: dict[str, object], shows: Callable[[Sequence[interpret.Step]], bool],
                 attempts: int | None = None) -> dict[str, object] | None:
        """A concrete episode that shows the problem (``shows`` judges the interpreter's trace of the
        table's rows). It starts from the witness's attribute values and then samples: codes that lead
        to the witness's derived values, the representatives of each attribute, anything valid. When
        one is found, ``witness`` is updated in place to that episode's feature values."""
        attrs = {a.name: a for a in self.p.attributes}
        base = {n: _raw(v) for n, v in witness.items() if n in attrs}
        rng = random.Random(self.t.name)
        pools = _pools(self.p, witness)
        reps = {v.feature: v.reps for v in self.space.vars if not v.is_class and v.feature in attrs}
        derived = any(n not in attrs for n in witness)
        for attempt in range(attempts or (600 if derived else 200)):
            episode = dict(base)
            if attempt:
                for a in self.p.attributes:
                    if a.name not in base or rng.random() < 0.5:
                        if a.name in reps and rng.random() < 0.5:
                            episode[a.name] = _raw(rng.choice(reps[a.name]))
                        else:
                            episode[a.name] = _sample(rng, a, pools)
            features = self._shows(episode, shows)
            if features is not None:
                witness.clear()
                witness.update(features)
                return {k: v for k, v in episode.items() if v not in (None, [], "")}
        return None

    def _shows(self, episode: dict[str, object], shows: Callable[[Sequence[interpret.Step]], bool]) -> dict[str, object] | None:
        values, _ = interpret.normalize(self.p, episode)
        ev = interpret.Evaluator(self.p, values)
        trace = [interpret.try_row(self.p, row, ev.feature) for row in self.t.rows]
        if not shows(trace):
            return None
        return {n: ev.feature(n) for n in (*self.space.scalar, *self.space.classes)}


def find_episode(program: ir.Program, table: str, start: dict[str, object],
                 shows: Callable[[Sequence[interpret.Step]], bool], attempts: int = 200) -> dict[str, object] | None:
    """A concrete episode, starting from the attribute values ``start``, whose trace through the rows of
    ``table`` satisfies ``shows`` (a bounded, seeded random search; None when none is found)."""
    t = next(x for x in program.decisions if x.name == table)
    return _TableAnalysis(program, t, Possible(program), Report(), True, None)._episode(dict(start), shows, attempts)


def first_match(rule: str) -> Callable[[Sequence[interpret.Step]], bool]:
    """A trace predicate: ``rule`` is the first row that matches."""
    def shows(trace: Sequence[interpret.Step]) -> bool:
        return next((s.rule for s in trace if s.matched), None) == rule
    return shows


def _both(a: str, b: str, trace: Sequence[interpret.Step]) -> bool:
    return _matched(trace, a) and _matched(trace, b)


def _matched(trace: Sequence[interpret.Step], rule: str) -> bool:
    return any(s.rule == rule and s.matched for s in trace)


def _raw(v: object) -> object:
    if isinstance(v, list):
        return [str(x) for x in v]
    if isinstance(v, bool) or v is None:
        return v
    return v if isinstance(v, int) else str(v)


def _pools(program: ir.Program, witness: Mapping[str, object]) -> dict[str, list[str]]:
    """Codes per code system that lead to the witness's values (table keys with those values, code-list
    codes), to steer the search for a concrete episode."""
    wanted: set[object] = set()
    for v in witness.values():
        if isinstance(v, list):
            wanted.update(v)
        elif v is not None and not isinstance(v, bool):
            wanted.add(v)
    pools: dict[str, set[str]] = {}
    for t in program.tables.values():
        if t.key_system is None:
            continue
        keys = [k for k, rows in t.rows.items() if any(val in wanted for _, val in rows)]
        pools.setdefault(t.key_system, set()).update(keys[:200])
    for cs in program.codesets.values():
        pool = pools.setdefault(cs.system, set())
        pool.update(codeset_examples(cs)[:200])
        # Codes just outside each range: the gaps between ranges are where lists usually leave codes out.
        pool.update(x for lo, hi in cs.ranges for x in (_step(lo, -1), _step(hi, 1)) if x)
    return {k: sorted(v) for k, v in pools.items()}


def _step(code: str, by: int) -> str | None:
    """The code with its last digit moved by ``by`` (None when it is not a digit or would leave 0-9)."""
    if not code or not code[-1].isdigit() or not 0 <= int(code[-1]) + by <= 9:
        return None
    return code[:-1] + str(int(code[-1]) + by)


def _sample(rng: random.Random, a: ir.Attribute, pools: Mapping[str, list[str]]) -> object:
    t = a.type.elem if a.type.kind == "list" and a.type.elem else a.type

    def one() -> object:
        if t.kind == "enum":
            return rng.choice(sorted(a.members.values()))
        if t.kind == "int":
            lo = t.lo if t.lo is not None else 0
            hi = t.hi if t.hi is not None else 100
            return rng.randint(lo, hi)
        if t.kind == "bool":
            return rng.random() < 0.5
        if t.kind in ("code", "pair"):
            pool = pools.get(t.ref or "", [])
            return rng.choice(pool) if pool else None
        return None

    if a.type.kind == "list":
        return [x for x in (one() for _ in range(rng.randint(0, 3))) if x is not None]
    return one() if rng.random() < 0.9 else None


def _domain_text(v: Values) -> str:
    if isinstance(v, _Top):
        return ""
    shown = sorted(v, key=_order)
    text = ", ".join("absent" if x is None else repr(x) for x in shown[:12])
    return f"one of {text}" + (f" (and {len(shown) - 12} more)" if len(shown) > 12 else "")


def _unreachable_groups(produced: dict[str, set[str]], rows: dict[str, dict[str, list[ir.Row]]],
                        report: Report) -> None:
    for catalogue, by_group in rows.items():
        for group, group_rows in by_group.items():
            if group not in produced.get(catalogue, set()):
                first = group_rows[0]
                report.findings.append(Finding(
                    "ISF453", "", first.id, first.where,
                    f"group {group} of `{catalogue}` is never produced: every row leading to it can never match",
                    rows=tuple(r.id for r in group_rows)))


def _codelist_entries(program: ir.Program, used: dict[str, bool], report: Report) -> None:
    for name, reachable in used.items():
        cs = program.codesets.get(name)
        if cs is None:
            continue
        if not reachable:
            for e in cs.entries[:1]:
                report.findings.append(Finding("ISF454", "", None, e.where,
                                               f"no rule can reach the code list `{name}`: every row that uses it can never match"))
            continue
        for e in cs.entries:
            cover = _covered_by(cs, e)
            if cover is not None:
                report.findings.append(Finding("ISF454", "", None, e.where,
                                               f"entry {e.text} of `{name}` can never decide anything: {cover.text} already covers it"))


def _covered_by(cs: ir.CodeSet, e: ir.Entry) -> ir.Entry | None:
    for o in cs.entries:
        if o is e or (o.kind, o.lo, o.hi) == (e.kind, e.lo, e.hi) and cs.entries.index(o) > cs.entries.index(e):
            continue
        if o.kind == "prefix" and e.lo.startswith(o.lo) and (e.kind != "range" or e.hi.startswith(o.lo)) \
                and (o.lo != e.lo or e.kind != "prefix"):
            return o
        if o.kind == "range" and e.kind == "code" and o.lo <= e.lo <= o.hi:
            return o
        if (o.kind, o.lo, o.hi) == (e.kind, e.lo, e.hi):
            return o
    return None
