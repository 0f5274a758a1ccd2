"""Witnesses: for every row the analysis proves can match, one concrete episode that the row takes.

The analysis (:mod:`isfdsl.analysis.analyse`) gives each such row a *region*: a cube of feature values
every point of which the row takes. A seeded search turns the region into an episode: an attribute the
table tests directly gets a value of an allowed class; a derived feature gets a code that gives it an
allowed value — codes found through the code tables (codes whose values are the wanted one or start
with it, then any code the derivation reads) and judged by evaluating the derivations on the code
alone — and codes that put a feature where the region excludes it are removed. Each step is judged on
the episode's real feature values; an episode is returned only when the reference interpreter, run
over the table's rows in order, gives the row (under `unique`: the row matches).
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from isfdsl import interpret
from isfdsl.analysis.analyse import Region, Report, _raw, analyse
from isfdsl.analysis.cubes import Space, _fresh, codeset_examples
from isfdsl.ir import model as ir
from isfdsl.runtime.codesyntax import CodePattern

#: Fresh starts per row, and repairs per start, before the search gives up on a row.
STARTS = 16
REPAIRS = 12
#: Codes tried (evaluated alone) per wanted value, lightest (fewest table values) first.
TRIED = 24
#: Codes found per round that put a variable where the region wants it.
HITS = 4
#: How many codes that no table or list holds are tried (see ``_Search._fresh``), and the first
#: characters the search puts before a known code's others to make one.
FRESH = 3
_FIRSTS = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210"


@dataclass(frozen=True, slots=True)
class RowWitness:
    """A row the analysis proves can match, its region's feature values and a concrete episode the row
    takes (None when the search found none). ``pathway``: the table is a pathway table and the episode
    a pathway record."""

    table: str
    rule: str
    features: dict[str, object]
    episode: dict[str, object] | None
    pathway: bool = False


def row_witnesses(program: ir.Program, report: Report | None = None, seed: int = 0) -> list[RowWitness]:
    """One witness per row that can match, of every decision table of ``program`` (pathway tables
    too), in table order. ``report``: an analysis of the program already made (else one is made)."""
    report = report if report is not None else analyse(program, episodes=False)
    searches: dict[int, _Search] = {}
    out = []
    for region in report.regions:
        p = region.space.p
        if id(p) not in searches:
            searches[id(p)] = _Search(p)
        search = searches[id(p)]
        episode = search.find(region, random.Random(f"{seed}:{region.table}:{region.rule}"))
        if episode is None and region.exact and region.cubes:
            # The analysis's quick search settles on the first part of the row it finds that no earlier
            # row meets; the exact search (`within` of everything) may name a part episodes reach.
            exact = region.within({})
            if exact is not None and exact != region.cube:
                region = dataclasses.replace(region, cube=exact)
                episode = search.find(region, random.Random(f"{seed}:{region.table}:{region.rule}:exact"))
        out.append(RowWitness(region.table, region.rule, region.features(), episode, p.role == "pathway"))
    return out


def takes(program: ir.Program, table: ir.Table, rule: str, feature: Callable[[str], object]) -> bool:
    """Whether ``rule`` is the row of ``table`` that takes the episode (``feature``: its features) —
    the first row that matches, or under `unique` a row that matches."""
    for row in table.rows:
        if table.policy == "unique" and row.id != rule:
            continue
        if interpret.try_row(program, row, feature).matched:
            return row.id == rule
    return False


class _Search:
    """The search for one program, with what it learns about codes kept across rows."""

    def __init__(self, program: ir.Program) -> None:
        self.p = program
        self.attrs = {a.name: a for a in program.attributes}
        self.systems = {a.name: ty.ref for a in program.attributes
                        if (ty := a.type.elem or a.type).kind in ("code", "pair") and ty.ref}
        self.reads = _reads(program)
        # Per code system: table value -> codes with that value, lightest first; the values sorted.
        weight: dict[object, int] = {}
        by_value: dict[str, dict[object, list[object]]] = {}
        for t in program.tables.values():
            if t.key_system is None:
                continue
            index = by_value.setdefault(t.key_system, {})
            for key, rows in t.rows.items():
                for second, value in rows:
                    code: object = key if second is None else (second, key)
                    weight[code] = weight.get(code, 0) + 1
                    index.setdefault(value, []).append(code)
        self.weight = weight
        self.by_value = {s: {v: sorted(set(cs), key=lambda c: (weight[c], repr(c))) for v, cs in index.items()}
                         for s, index in by_value.items()}
        self.texts = {s: sorted(v for v in index if isinstance(v, str)) for s, index in self.by_value.items()}
        self.probes: dict[tuple[int, str, object], dict[int, int]] = {}
        self.points: dict[tuple[int, str], tuple[interpret.Evaluator, dict[int, int]]] = {}
        # Each derivation's value by the values of the attributes it reads (a repair changes one).
        self.inputs = {d.name: sorted(a for a in self.reads[d.name] if a in self.attrs) for d in program.derivations}
        self.memo: dict[tuple[str, tuple[object, ...]], object] = {}
        self.providers: dict[tuple[int, int, int, tuple[tuple[int, int], ...]], _Hits] = {}
        self.holding: dict[tuple[str, tuple[str, ...]], set[object]] = {}
        self.syntaxes: dict[str, Callable[[str], bool]] = {}
        self.fresh: dict[str, list[object]] = {}

    # -- evaluating

    def _point(self, space: Space, episode: dict[str, object]) -> tuple[interpret.Evaluator, dict[int, int]]:
        key = (id(space), repr(sorted(episode.items())))
        if key not in self.points:
            if len(self.points) > 4096:
                self.points.clear()
            values, _ = interpret.normalize(self.p, episode)
            ev = _Remembering(self.p, values, self.inputs, self.memo)
            self.points[key] = ev, space.point(ev.feature)
        return self.points[key]

    def _probe(self, space: Space, attr: str, code: object) -> dict[int, int]:
        """Where the code alone (every other attribute empty) puts the table's variables."""
        key = (id(space), attr, code)
        if key not in self.probes:
            value = [code] if self.attrs[attr].type.kind == "list" else code
            self.probes[key] = self._point(space, {attr: value})[1]
        return self.probes[key]

    # -- the search

    def find(self, region: Region, rng: random.Random) -> dict[str, object] | None:
        space, cube = region.space, region.cube
        table = next(t for t in self.p.decisions if t.name == region.table)
        base = self._probe_empty(space)
        tested = {k for c in region.cubes for k in c}
        for n in range(STARTS):
            # Even starts aim first at the row's own conditions, then at a region that keeps the
            # values the episode then has for everything else; odd starts at the analysis's region.
            settled = n % 2 == 1 or not region.cubes
            cube = region.cube if settled else region.cubes[n // 2 % len(region.cubes)]
            episode = self._start(space, cube, rng)
            repaired: dict[int, int] = {}
            for _ in range(REPAIRS):
                ev, point = self._point(space, episode)
                outside = space.admits(cube, point)
                # The region is a guide; the row taking the episode is what counts.
                if any(not space.admits(c, point) for c in region.cubes) \
                        and takes(self.p, table, region.rule, ev.feature):
                    return {k: v for k, v in episode.items() if v not in (None, [], "")}
                if not outside:
                    if settled:
                        break  # an inexact region: an earlier row takes this point
                    # Keep the values the episode has for what the row does not test (else only the
                    # derived ones: an attribute can be set to anything).
                    settled = True
                    keep = {k: 1 << v for k, v in point.items() if v >= 0 and k not in tested}
                    cube = region.within(keep) or region.within(
                        {k: m for k, m in keep.items() if space.vars[k].feature not in self.attrs}) or region.cube
                    repaired.clear()
                    continue
                if any(repaired.get(k, 0) >= 2 for k in outside):
                    # Going round in circles: the region asks for values the episode's codes do not
                    # give together. Keep the values the episode has, if the row still takes some.
                    other = region.within({k: 1 << point[k] for k in outside if point.get(k, -1) >= 0})
                    if other is not None:
                        cube, settled = other, True
                        repaired.clear()
                        continue
                if n:  # one repair, then evaluate: slower, but every step is judged
                    k = rng.choice(outside)
                    repaired[k] = repaired.get(k, 0) + 1
                    self._repair(space, cube, k, episode, base, rng)
                    continue
                # The first start repairs every variable outside the region before evaluating again
                # (fast when the codes do not interfere), changing each plain (not list) attribute
                # once: a second change would undo the first.
                rng.shuffle(outside)
                fixed: dict[str, object] = {}
                for k in outside:
                    before = dict(episode)
                    self._repair(space, cube, k, episode, base, rng)
                    changed = [a for a in self.attrs if self.attrs[a].type.kind != "list" and episode.get(a) != before.get(a)]
                    if any(a in fixed for a in changed):
                        episode.clear()
                        episode.update(before)
                        continue
                    fixed.update((a, True) for a in changed)
                    repaired[k] = repaired.get(k, 0) + 1
        return None

    def _probe_empty(self, space: Space) -> dict[int, int]:
        key = (id(space), "", None)
        if key not in self.probes:
            self.probes[key] = self._point(space, {})[1]
        return self.probes[key]

    def _start(self, space: Space, cube: dict[int, int], rng: random.Random) -> dict[str, object]:
        """The attributes the table tests directly, each with a value of an allowed class."""
        episode: dict[str, object] = {}
        for k, var in enumerate(space.vars):
            if var.feature in self.attrs and k in cube:
                self._set_attribute(space, cube, k, episode, rng)
        return episode

    def _set_attribute(self, space: Space, cube: dict[int, int], k: int, episode: dict[str, object],
                       rng: random.Random) -> None:
        var = space.vars[k]
        name = var.feature
        if var.is_class:
            items = [x for x in _as_list(episode.get(name)) if not _same_class(space, name, x, var.element)]
            episode[name] = [*items, _raw(var.element)] if cube[k] & 0b10 else items
            return
        allowed = [r for i, r in enumerate(var.reps) if cube[k] >> i & 1]
        present = [r for r in allowed if r is not None]
        episode[name] = _raw(rng.choice(present or allowed))

    def _repair(self, space: Space, cube: dict[int, int], k: int, episode: dict[str, object],
                base: dict[int, int], rng: random.Random) -> None:
        """Move the episode's variable ``k`` into the region: set the attribute, remove the codes that
        put it outside, or add a code that puts it inside."""
        var = space.vars[k]
        if var.feature in self.attrs:
            self._set_attribute(space, cube, k, episode, rng)
            return
        mask = cube[k]
        sources = sorted(a for a in self.reads.get(var.feature, ()) if a in self.attrs)
        providers = [] if var.is_class and mask == 0b01 else self._providers(space, cube, k, sources, rng)
        clean = [p for p, bad in providers if not bad]
        if not clean and base.get(k, -1) >= 0 and mask >> base[k] & 1:
            # Empty would do: take out the codes that move the variable out of the region.
            removed = False
            for attr in sources:
                for code in _as_list(episode.get(attr)) if attr in self.systems else []:
                    got = self._probe(space, attr, code).get(k, -1)
                    if got < 0 or not mask >> got & 1:
                        _remove(episode, attr, code)
                        removed = True
            if removed or not providers:
                return
        if not providers:
            return
        # Adding a code to a list keeps what the episode has; replacing a set value may not.
        pick = sorted(clean or [p for p, _ in providers],
                      key=lambda p: self.attrs[p[0]].type.kind != "list" and episode.get(p[0]) is not None)
        attr, code = pick[min(int(rng.expovariate(0.5)), len(pick) - 1)]
        if self.attrs[attr].type.kind == "list":
            have = _as_list(episode.get(attr))
            if code not in have:
                episode[attr] = [*have, code]
        else:
            episode[attr] = code

    def _providers(self, space: Space, cube: dict[int, int], k: int, sources: list[str],
                   rng: random.Random) -> list[tuple[tuple[str, object], int]]:
        """Codes (attribute, code) that alone put variable ``k`` inside the region, each with the
        number of other variables it moves out of the region, fewest first. Candidates are tried
        (evaluated) in order until some move no other variable out, or a few have been found."""
        # Other variables of the region that a plain attribute read here also decides: a code for it
        # should give their values too (a principal diagnosis with this property *and* that MDC).
        plain = {a for a in sources if self.attrs[a].type.kind != "list"}
        also = tuple(sorted((j, m) for j, m in cube.items() if j != k and m != space.vars[j].full
                            and plain & self.reads.get(space.vars[j].feature, set())
                            and not (space.vars[j].is_class and m == 0b01)))
        key = (id(space), k, cube[k], also)
        hits = self.providers.get(key)
        if hits is None:
            var = space.vars[k]
            others = [_wanted(space, j, m) for j, m in also]
            # Lists first (a code added keeps what the episode has), the attributes' candidates interleaved.
            per = [[(a, c) for c in self._candidates(a, var.feature, _wanted(space, k, cube[k]),
                                                     others if a in plain else [], rng)]
                   for a in sorted(sources, key=lambda a: self.attrs[a].type.kind != "list")]
            todo = [x for row in itertools.zip_longest(*per) for x in row if x is not None]
            hits = self.providers[key] = _Hits(todo)
        base = self._probe_empty(space)
        scored: list[tuple[tuple[int, int], str, object]] = []
        while True:
            for attr, code, point in hits.found[len(scored):]:
                moved = [j for j in cube if point.get(j) != base.get(j)]
                bad = sum(1 for j in moved if point.get(j, -1) < 0 or not cube[j] >> point[j] & 1)
                scored.append(((bad, len(moved)), attr, code))
            if any(rank[0] == 0 for rank, _, _ in scored) or not self._more(space, k, cube[k], hits):
                break
        ranked = sorted(range(len(scored)), key=lambda n: scored[n][0])
        return [((scored[n][1], scored[n][2]), scored[n][0][0]) for n in ranked]

    def _with_values(self, system: str, wanted: list[object]) -> set[object]:
        """Codes whose table values include one of ``wanted`` or one starting with a wanted text."""
        key = (system, tuple(repr(v) for v in wanted))
        if key not in self.holding:
            index = self.by_value.get(system, {})
            texts = self.texts.get(system, [])
            found: set[object] = set()
            for v in wanted:
                found.update(index.get(v, ()))
                if isinstance(v, str) and v:
                    for text in texts[bisect.bisect_left(texts, v):bisect.bisect_left(texts, v + "\U0010ffff")]:
                        found.update(index[text])
            self.holding[key] = found
        return self.holding[key]

    def _more(self, space: Space, k: int, mask: int, hits: _Hits) -> bool:
        """Evaluate candidates until a few more put variable ``k`` inside ``mask``; False when none is left."""
        found = len(hits.found)
        while hits.todo and len(hits.found) < found + HITS:
            attr, code = hits.todo.pop()
            point = self._probe(space, attr, code)
            if point.get(k, -1) >= 0 and mask >> point[k] & 1:
                hits.found.append((attr, _raw_code(code) if attr in self.systems else _raw(code), point))
        return len(hits.found) > found

    def _candidates(self, attr: str, feature: str, wanted: list[object], also: list[list[object]],
                    rng: random.Random) -> list[object]:
        """Codes of the attribute's system worth trying for the wanted values: first those whose table
        values also give the values ``also`` lists (as many of them as some code does), then codes
        whose table values are one of the wanted ones or start with one, the wanted values
        themselves, and a sample of the codes the feature's derivation reads."""
        if attr not in self.systems:
            return _domain(self.attrs[attr])
        system = self.systems[attr]
        pair = (self.attrs[attr].type.elem or self.attrs[attr].type).kind == "pair"
        index = self.by_value.get(system, {})
        texts = self.texts.get(system, [])
        out: list[object] = []
        if also:
            both = self._with_values(system, wanted)
            for other in also:
                narrower = both & self._with_values(system, other)
                if narrower:
                    both = narrower
            out += sorted(both, key=lambda c: (self.weight.get(c, 0), repr(c)))[:TRIED]
        for v in wanted:
            out += index.get(v, [])[:TRIED]
            if isinstance(v, str) and v:
                start = bisect.bisect_left(texts, v)
                stop = bisect.bisect_left(texts, v + "\U0010ffff")
                step = max(1, (stop - start) // TRIED)
                for text in texts[start:stop:step]:
                    out += index[text][:2]
                out.append(v)
        pool: list[object] = []
        for name in sorted(self.reads.get(feature, ())):
            if name in self.p.tables and self.p.tables[name].key_system == system:
                pool += list(self.p.tables[name].rows)
            elif name in self.p.codesets and self.p.codesets[name].system == system:
                examples = codeset_examples(self.p.codesets[name])
                out += examples[:1] + rng.sample(examples, min(len(examples), 2))
        out += rng.sample(pool, min(len(pool), TRIED))
        out += self._fresh(system)  # codes no table or list holds, as the analysis's "anything else"
        valid = self._valid(system)
        seen: set[object] = set()
        return [c for c in out if (pair or not isinstance(c, tuple)) and (not isinstance(c, str) or valid(c))
                and not (c in seen or seen.add(c))]  # type: ignore[func-returns-value]

    def _valid(self, system: str) -> Callable[[str], bool]:
        """Whether a code is valid in ``system`` by its syntax: an episode's invalid code counts as
        missing, so a candidate such as a code list's prefix `O8` (ICD-10 wants three characters) or
        the analysis's `~other` would witness nothing."""
        if system not in self.syntaxes:
            syntax = next((a.syntax for a in self.p.attributes
                           if (a.type.elem or a.type).ref == system and a.syntax is not None), None)
            self.syntaxes[system] = CodePattern(syntax).fullmatch if syntax is not None else (lambda code: True)
        return self.syntaxes[system]

    def _fresh(self, system: str) -> list[object]:
        """A few codes valid in ``system`` that no code table or code list holds (the analysis's
        "anything else" class): the analysis's own values where valid (:func:`cubes._fresh`), else
        codes one first character away from the system's known codes."""
        if system not in self.fresh:
            valid = self._valid(system)
            lists = [cs for cs in self.p.codesets.values() if cs.system == system]
            keys = {k for t in self.p.tables.values() if t.key_system == system for k in t.rows}
            known = sorted({*keys, *(c for cs in lists for c in (*cs.codes, *cs.prefixes, *(x for r in cs.ranges for x in r)))})

            def outside(code: str) -> bool:
                return valid(code) and code not in keys and not any(interpret.in_codeset(cs, code) for cs in lists)

            found: list[object] = [c for c in _fresh([]) if outside(c)]
            for seed in known[::max(1, len(known) // 64)]:
                if len(found) >= FRESH:
                    break
                found += [c for first in _FIRSTS if (c := first + seed[1:]) not in found and outside(c)][:1]
            self.fresh[system] = found[:FRESH]
        return self.fresh[system]


def _wanted(space: Space, k: int, mask: int) -> list[object]:
    """The values variable ``k`` should have: its element (a list class), else its allowed representatives."""
    var = space.vars[k]
    return [var.element] if var.is_class else [r for i, r in enumerate(var.reps) if mask >> i & 1 and r is not None]


class _Remembering(interpret.Evaluator):
    """The interpreter's evaluator, taking a derivation's value from ``memo`` when an earlier episode had
    the same values of the attributes it reads (derivations are functions of those alone)."""

    def __init__(self, program: ir.Program, values: dict[str, object], inputs: dict[str, list[str]],
                 memo: dict[tuple[str, tuple[object, ...]], object]) -> None:
        self.p = program
        self.values = values
        self.features = {}
        if len(memo) > 200_000:
            memo.clear()
        for d in program.derivations:
            key = (d.name, tuple(_frozen(values.get(a)) for a in inputs[d.name]))
            if key not in memo:
                memo[key] = self.eval(d.expr, {})
            self.features[d.name] = memo[key]


def _frozen(v: object) -> object:
    return tuple(v) if isinstance(v, list) else v


@dataclass(slots=True)
class _Hits:
    """Candidate codes for one variable and allowed set: those not yet evaluated (the next last) and
    those found to put the variable inside, with where each puts every variable."""

    todo: list[tuple[str, object]]
    found: list[tuple[str, object, dict[int, int]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.todo.reverse()


def _reads(program: ir.Program) -> dict[str, set[str]]:
    """Per derivation, the attributes, code tables and code lists it reads (transitively)."""
    direct: dict[str, set[str]] = {}
    for d in program.derivations:
        direct[d.name] = {r.name for r in ir.refs(d.expr) if r.scope in ("attr", "feature", "table", "codelist")}
    out: dict[str, set[str]] = {}

    def close(name: str) -> set[str]:
        if name not in out:
            out[name] = set()
            found = set(direct.get(name, ()))
            for x in list(found):
                if x in direct:
                    found |= close(x)
            out[name] = found
        return out[name]

    for name in direct:
        close(name)
    return out


def _domain(a: ir.Attribute) -> list[object]:
    """Values of a plain attribute to try: every member or truth value, an integer's bounds."""
    t = a.type.elem or a.type
    if t.kind == "enum":
        return sorted(a.members.values(), key=str)
    if t.kind == "bool":
        return [True, False]
    if t.kind == "int":
        return [*sorted({x for x in (t.lo, t.hi, 0, 1) if x is not None})]
    return []


def _as_list(v: object) -> list[object]:
    return list(v) if isinstance(v, list) else [] if v is None else [v]


def _remove(episode: dict[str, object], attr: str, code: object) -> None:
    v = episode.get(attr)
    if isinstance(v, list):
        episode[attr] = [x for x in v if x != code]
    else:
        episode.pop(attr, None)


def _same_class(space: Space, name: str, a: object, b: object) -> bool:
    return space._signature(name, a, True) == space._signature(name, b, True)


def _raw_code(code: object) -> object:
    return code if isinstance(code, tuple) else str(code)
