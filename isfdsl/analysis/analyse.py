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

One piece (about 640 lines): the findings (``Finding``, ``Region``, ``Report``), the sweep of each table
(``_TableAnalysis``) and the search for an episode that shows a finding belong to the one promise above
— a finding is reported only with the region it holds in and, where one exists, an episode checked by
the interpreter. The domains and the set algebra are :mod:`isfdsl.analysis.cubes`, the witnesses of the
rows :mod:`isfdsl.analysis.witnesses`.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import overload

from isfdsl import interpret
from isfdsl.analysis import coupling
from isfdsl.analysis.cubes import (
    GAVE_UP,
    Cube,
    CubeIndex,
    Possible,
    Space,
    Top,
    Values,
    bits,
    codeset_examples,
    display_order,
    intersects,
    meet_of,
    uncovered,
)
from isfdsl.diagnostics import CODES, Collector, Severity, Span
from isfdsl.ir import model as ir
from isfdsl.runtime.contract import Constraint

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


@dataclass(frozen=True, slots=True)
class Region:
    """Where a row of a table takes episodes: a cube of the table's space every point of which the row
    takes (the first row to match; under `unique`, the one row that matches). ``exact`` is False when
    the search for such a cube gave up (ISF455): the cube is then the row's own, earlier rows may take
    parts of it."""

    table: str
    rule: str
    space: Space
    cube: Cube
    exact: bool = True
    #: The row's cubes and the earlier rows' (the first ``before`` cubes of ``index``), for :meth:`within`.
    cubes: tuple[Cube, ...] = field(default=(), repr=False, compare=False)
    index: CubeIndex | None = field(default=None, repr=False, compare=False)
    before: int = 0
    #: Feature values the code tables never give together (:mod:`isfdsl.analysis.coupling`).
    never: coupling.Never | None = field(default=None, repr=False, compare=False)

    def features(self) -> dict[str, object]:
        """One feature assignment inside the region."""
        return self.space.assignment(self.cube)

    def within(self, fixed: Cube) -> Cube | None:
        """Another region of the row inside ``fixed`` (variable -> allowed representatives), or None
        when the row takes no episode there (or the search gave up). Derived features are not
        independent (a diagnosis that gives a category also gives its MDC): when an episode cannot
        reach the region, this finds one where the values it does reach are allowed."""
        for cube in self.cubes:
            part = meet_of(cube, fixed)
            if part is None:
                continue
            full = self.space.fulls
            numbers = 0 if self.index is None else self.index.meeting_bits(part, full) & ((1 << self.before) - 1)
            others = [] if self.index is None else [  # `unique`: the row's own cubes
                self.index.cubes[k] for k in bits(numbers)]
            if self.never:
                others += self.never.among(part, others) if self.index is None else \
                    self.never.among_indexed(part, self.index, numbers)
            elif self.index is None:
                return part
            found = uncovered(part, others, full)
            if found is not None and found is not GAVE_UP:
                return found
        return None


@dataclass(slots=True)
class Report:
    """Everything the analysis found, and how much of the tables the analysis covered."""

    findings: list[Finding] = field(default_factory=list)
    rows: int = 0
    tables: int = 0
    #: Per table: name, policy, rows, rows that can match, seconds spent.
    summary: list[tuple[str, str, int, int, float]] = field(default_factory=list)
    #: For every row that can match, where it takes episodes (in table order).
    regions: list[Region] = field(default_factory=list)

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
        #: Feature values the code tables never give together (see :mod:`isfdsl.analysis.coupling`):
        #: every search for a part of a row that no earlier row takes avoids them too.
        self.never = coupling.Never(self.space, coupling.impossible_cubes(program, self.space))

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
        index = CubeIndex(len(self.space.vars))
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
            if len(row.alternatives) > 1:
                self._impossible_alternatives(row)
            if unique:
                self._overlaps(n, row, cubes, index)
                self.report.regions.append(self._unique_region(row, cubes))
                reachable = True
            else:
                reachable = self._shadow(row, cubes, index)
                if reachable and len(row.alternatives) > 1:
                    self._shadowed_alternatives(row, index)
            self._mark_lists(row, reachable, used_lists)
            matching += reachable
            if reachable and row.group:
                produced.add(row.group)
            for cube in cubes:
                index.add(cube, n)
        if not t.fallback and not t.otherwise:
            self._gaps(index)
        return matching

    def _unique_region(self, row: ir.Row, cubes: list[Cube]) -> Region:
        region = Region(self.t.name, row.id, self.space, cubes[0], cubes=tuple(cubes), never=self.never)
        return Region(self.t.name, row.id, self.space, region.within({}) or cubes[0], cubes=tuple(cubes),
                      never=self.never) if self.never else region

    def _mark_lists(self, row: ir.Row, reachable: bool, used: dict[str, bool]) -> None:
        for c in row.constraints:
            if c.ref is not None:
                used[c.ref] = used.get(c.ref, False) or reachable

    def _impossible_alternatives(self, row: ir.Row) -> None:
        """Alternatives of a rule with ``or`` that can never hold, while others can."""
        for alternative in row.alternatives:
            cubes, culprit = self.space.conjunction_cubes(alternative)
            if cubes:
                continue
            text = " and ".join(c.text for c in alternative)
            alone = self.space.conjunction_cubes((culprit,))[0] if culprit is not None else [{}]
            why = f"`{culprit.text}` can never hold" if culprit is not None and not alone \
                else "its conditions contradict each other"
            self.add("ISF452", row, f"rule {row.id}: the alternative `{text}` can never match ({why}); "
                     "the rule matches only by its other alternatives")

    def _impossible(self, row: ir.Row, culprit: Constraint | None) -> None:
        if len(row.alternatives) > 1:
            self.add("ISF452", row, f"rule {row.id}: none of its {len(row.alternatives)} alternatives can ever hold "
                     f"(`{row.text}`), so the rule can never match")
            return
        alone, _ = self.space.conjunction_cubes((culprit,)) if culprit is not None else ([{}], None)
        if culprit is not None and not alone:
            shown = _domain_text(self.space.possible.of(culprit.feature))
            self.add("ISF452", row, f"row {row.id}: the condition `{culprit.text}` can never hold, so the row "
                     "can never match", notes=(f"`{culprit.feature}` can only be {shown}",) if shown else ())
        else:
            conds = " and ".join(f"`{c.text}`" for c in row.constraints)
            self.add("ISF452", row, f"row {row.id}: its conditions contradict each other ({conds}), so the "
                     "row can never match")

    def _shadow(self, row: ir.Row, cubes: list[Cube], index: CubeIndex) -> bool:
        for cube in cubes:
            part = index.escape(cube, self.full)
            if part is not None and self.never:
                # No earlier row meets the part; some of it may be values the code tables never give.
                found = uncovered(part, self.never.among(part), self.full)
                part = found if found is not GAVE_UP else None
            if part is not None:  # the quick search found episodes only this row takes
                self.report.regions.append(Region(self.t.name, row.id, self.space, part, True, tuple(cubes), index,
                                                  len(index.cubes), self.never))
                return True
            others = [index.cubes[k] for k in index.meeting(cube, self.full)]
            found = uncovered(cube, others + self.never.among(cube, others), self.full)
            if found is None:
                continue
            if found is GAVE_UP:
                self.add("ISF455", row, f"row {row.id}: too many cases to decide whether earlier rows shadow it; "
                         "the analysis assumes it can match")
            self.report.regions.append(Region(self.t.name, row.id, self.space, cube if found is GAVE_UP else found,
                                              found is not GAVE_UP, tuple(cubes), index, len(index.cubes), self.never))
            return True
        kept = self._minimal(cubes, index)
        names = [self.t.rows[i].id for i in kept]
        notes = self.never.notes(cubes, [index.cubes[k] for k in range(len(index.cubes)) if index.owner[k] in kept]
                                 ) if self.never else ()
        if not names:
            conds = " and ".join(f"`{c.text}`" for c in row.constraints)
            self.add("ISF452", row, f"row {row.id}: the code tables never give its conditions together ({conds}), "
                     "so the row can never match", notes=notes)
            return False
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        self.add("ISF451", row, f"row {row.id} can never match: earlier rows take every episode it would "
                 f"take ({shown})", rows=tuple(names), notes=notes)
        return False

    def _shadowed_alternatives(self, row: ir.Row, index: CubeIndex) -> None:
        """Alternatives of a rule with ``or`` that earlier rows take entirely (its other alternatives
        still match: a dead part of the rule, not a dead rule). Its own alternatives are not in the index."""
        for alternative in row.alternatives:
            cubes, _ = self.space.conjunction_cubes(alternative)
            if not cubes or any(uncovered(cube, self._others(cube, index), self.full, 2000) is not None for cube in cubes):
                continue  # impossible (reported), or some episode reaches it (or the analysis gave up: assume so)
            names = [self.t.rows[i].id for i in self._minimal(cubes, index)]
            shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
            text = " and ".join(c.text for c in alternative)
            self.add("ISF451", row, f"rule {row.id}: the alternative `{text}` never decides: earlier rows take "
                     f"every episode it would take ({shown})", rows=tuple(names))

    def _others(self, cube: Cube, index: CubeIndex) -> list[Cube]:
        """The earlier cubes that meet ``cube``, and the values the code tables never give together there."""
        others = [index.cubes[k] for k in index.meeting(cube, self.full)]
        return others + self.never.among(cube, others)

    def _minimal(self, cubes: list[Cube], index: CubeIndex) -> list[int]:
        """Earlier rows that alone still cover the row (with the values the code tables never give
        together): one row when one does, else a greedy reduction; none when those values alone do."""
        meeting = sorted({k for cube in cubes for k in index.meeting(cube, self.full)})
        owners = sorted({index.owner[k] for k in meeting})

        def covered(kept: set[int], budget: int = 2000) -> bool:
            for cube in cubes:
                others = [index.cubes[k] for k in meeting if index.owner[k] in kept]
                if uncovered(cube, others + self.never.among(cube, others), self.full, budget) is not None:
                    return False
            return True

        if self.never and covered(set(), 5000):
            return []
        for owner in owners:
            if covered({owner}, 5000):
                return [owner]

        keep = set(owners)
        for size in (64, 8, 1):
            for start in range(len(owners) - size, -size, -size):
                block = set(owners[max(0, start):start + size]) & keep
                if block and covered(keep - block):
                    keep -= block
        return sorted(keep)

    def _overlaps(self, n: int, row: ir.Row, cubes: list[Cube], index: CubeIndex) -> None:
        seen: set[int] = set()
        for cube in cubes:
            for k in index.meeting(cube, self.full):
                other = index.owner[k]
                if other in seen or not intersects(cube, index.cubes[k]):
                    continue
                meet = meet_of(cube, index.cubes[k])
                assert meet is not None
                if self.never and uncovered(meet, self.never.among(meet), self.full, 2000) is None:
                    continue  # only where the code tables never give the values together
                seen.add(other)
                first = self.t.rows[other]
                witness = self.space.assignment(meet)
                episode = self._episode(witness, functools.partial(_both, first.id, row.id)) if self.episodes else None
                self.add("ISF401", row, f"rows {first.id} and {row.id} of the `unique` table `{self.t.name}` both "
                         "match some episodes", rows=(first.id, row.id), witness=witness, episode=episode,
                         notes=() if episode or not self.episodes else ("no concrete episode found for this feature assignment",))

    def _gaps(self, index: CubeIndex) -> None:
        found = uncovered({}, index.cubes + self.never.among({}, index.cubes), self.full)
        if found is None or found is GAVE_UP:
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
        trace = _Trace(self.p, self.t.rows, ev.feature)
        if not shows(trace):
            return None
        return {n: ev.feature(n) for n in (*self.space.scalar, *self.space.classes)}


class _Trace(Sequence[interpret.Step]):
    """The interpreter's steps through a table's rows for one episode, each row tried when first looked
    at (a predicate that stops at the first match tries only the rows up to it)."""

    def __init__(self, program: ir.Program, rows: Sequence[ir.Row], feature: Callable[[str], object]) -> None:
        self.p = program
        self.rows = rows
        self.feature = feature
        self.steps: list[interpret.Step] = []

    def _upto(self, n: int) -> None:
        while len(self.steps) < n:
            self.steps.append(interpret.try_row(self.p, self.rows[len(self.steps)], self.feature))

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, i: int) -> interpret.Step: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[interpret.Step]: ...

    def __getitem__(self, i: int | slice) -> interpret.Step | Sequence[interpret.Step]:
        if isinstance(i, int) and 0 <= i < len(self.rows):
            self._upto(i + 1)
        else:
            self._upto(len(self.rows))
        return self.steps[i]

    def __iter__(self) -> Iterator[interpret.Step]:
        for n in range(len(self.rows)):
            self._upto(n + 1)
            yield self.steps[n]


#: The analyses :func:`find_episode` set up last, by program and table (setting one up for a large table
#: takes a while, and callers ask many times about the same table).
_FINDERS: list[tuple[ir.Program, str, _TableAnalysis]] = []


def find_episode(program: ir.Program, table: str, start: dict[str, object],
                 shows: Callable[[Sequence[interpret.Step]], bool], attempts: int = 200) -> dict[str, object] | None:
    """A concrete episode, starting from the attribute values ``start``, whose trace through the rows of
    ``table`` satisfies ``shows`` (a bounded, seeded random search; None when none is found)."""
    finder = next((f for p, name, f in _FINDERS if p is program and name == table), None)
    if finder is None:
        t = next(x for x in program.decisions if x.name == table)
        finder = _TableAnalysis(program, t, Possible(program), Report(), True, None)
        _FINDERS.insert(0, (program, table, finder))
        del _FINDERS[4:]
    return finder._episode(dict(start), shows, attempts)


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
    if isinstance(v, Top):
        return ""
    shown = sorted(v, key=display_order)
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
