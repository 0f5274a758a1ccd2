"""Witnesses: for every row the analysis proves can match, one concrete episode that the row takes.

The analysis (:mod:`isfdsl.analysis.analyse`) gives each such row a *region*: a cube of feature values
every point of which the row takes. A seeded search turns the region into an episode: an attribute the
table tests directly gets a value of an allowed class; a derived feature gets a code that gives it an
allowed value — codes found through the code tables (codes whose values are the wanted one or start
with it, then any code the derivation reads) and judged by evaluating the derivations on the code
alone — and codes that put a feature where the region excludes it are removed. Each step is judged on
the episode's real feature values; an episode is returned only when the reference interpreter, run
over the table's rows in order, gives the row (under `unique`: the row matches).

One piece (about 700 lines): the search (``_Search``, most of the module) is one loop of start, repair
and check over one shared state — the episode under construction, the codes already tried, the witnesses
of the rows before — and its helpers read that state; cut into modules, they would pass it around whole.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from isfdsl import interpret
from isfdsl.analysis.analyse import Region, Report, _raw, analyse
from isfdsl.analysis.cubes import Cube, CubeIndex, Space, _fresh, bits, codeset_examples
from isfdsl.ir import model as ir
from isfdsl.runtime.codesyntax import CodePattern

_SYMBOLS = "ZYXWVU0123456789ABCDEFGHIJKLMNOPQRST"

#: Witnesses of the rows before that the search of a row may start from (more than one changes what
#: the later rows' searches learn early, and lost a row of NordDRG 2017).
NEAR = 1
#: Fresh starts per row, and repairs per start, before the search gives up on a row.
STARTS = 16
REPAIRS = 12
#: Codes tried (evaluated alone) per wanted value, lightest (fewest table values) first.
TRIED = 24
#: Codes found per round that put a variable where the region wants it.
HITS = 4
#: More codes of the tables a feature reads, tried when none of the first ones put the variable where
#: the region wants it without moving another variable out.
SPARE = 400


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
    out: list[RowWitness] = []
    for region in report.regions:
        p = region.space.p
        if id(p) not in searches:
            searches[id(p)] = _Search(p)
        search = searches[id(p)]
        near = [w.episode for w in out[-NEAR:] if w.table == region.table and w.episode is not None]
        episode = search.find(region, random.Random(f"{seed}:{region.table}:{region.rule}"), near)
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
        self.syntax = {s: CodePattern(x) for s, x in program.syntaxes.items()}  # linear time, as the groupers
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
        #: Episodes evaluated: the evaluator, the point, and per (table, rule) whether the row takes it.
        self.points: dict[tuple[int, str], tuple[interpret.Evaluator, dict[int, int], dict[tuple[str, str], bool]]] = {}
        # Each derivation's value by the values of the attributes and features it names.
        self.inputs = {d.name: sorted({r.name for r in ir.refs(d.expr) if r.scope in ("attr", "feature")})
                       for d in program.derivations}
        self.memo: dict[tuple[str, tuple[object, ...]], object] = {}
        self.providers: dict[tuple[int, int, int, tuple[tuple[int, int], ...]], _Hits] = {}
        self.holding: dict[tuple[str, tuple[str, ...]], set[object]] = {}
        self.at: dict[int, dict[str, int]] = {}
        self.pools: dict[tuple[str, str], tuple[list[object], list[list[str]]]] = {}
        self.valid: dict[str, dict[object, bool]] = {}
        #: Per region (table, rule): the regions ``within`` found, by the values fixed.
        self.regions: dict[tuple[int, ...], Cube | None] = {}
        #: Per space: the attributes each variable's feature reads.
        self.var_reads: dict[tuple[int, frozenset[str], bool], list[int]] = {}
        self.moves: dict[tuple[int, str, object], dict[int, int]] = {}
        #: The episodes returned (by id, kept alive with their point).
        self.found: dict[int, tuple[dict[str, object], dict[int, int]]] = {}
        #: Per cube index, variable and representative: the indexed cubes that hold it.
        self.holders: dict[tuple[int, int, int], int] = {}
        self.fresh: dict[str, list[str]] = {}

    def _valid(self, attr: str, code: object) -> bool:
        """Whether ``code`` (a pair: each of its codes) is written as the attribute's code system writes
        codes (anything is, for an attribute of no code system or a system without a syntax)."""
        known = self.valid.setdefault(attr, {})
        ok = known.get(code)
        if ok is None:
            syntax = self.syntax.get(self.systems.get(attr, ""))
            codes = code if isinstance(code, tuple) else (code,)
            ok = known[code] = syntax is None or all(
                c is None or isinstance(c, str) and bool(syntax.fullmatch(c)) for c in codes)
        return ok

    # -- evaluating

    def _point(self, space: Space, episode: dict[str, object]) -> tuple[interpret.Evaluator, dict[int, int]]:
        ev, point, _ = self._evaluated(space, episode)
        return ev, point

    def _evaluated(self, space: Space, episode: dict[str, object]
                   ) -> tuple[interpret.Evaluator, dict[int, int], dict[tuple[str, str], bool]]:
        """The episode evaluated, where it lies in the space, and the rows known to take it or not."""
        key = (id(space), repr(sorted(episode.items())))
        found = self.points.get(key)
        if found is None:
            if len(self.points) > 4096:
                self.points.clear()
            values, _ = interpret.normalize(self.p, episode)
            ev = _Remembering(self.p, values, self.inputs, self.memo)
            found = self.points[key] = ev, space.point(ev.feature), {}
        return found

    def _probe(self, space: Space, attr: str, code: object) -> dict[int, int]:
        """Where the code alone (every other attribute empty) puts the table's variables."""
        key = (id(space), attr, code)
        if key not in self.probes:
            value = [code] if self.attrs[attr].type.kind == "list" else code
            self.probes[key] = self._point(space, {attr: value})[1]
        return self.probes[key]

    # -- the search

    def find(self, region: Region, rng: random.Random, near: Sequence[dict[str, object]] = ()
             ) -> dict[str, object] | None:
        """An episode the region's row takes, or None. ``near``: episodes to start from first (the
        witnesses of the rows just before, which share most of the row's conditions): the one that
        lies outside the row's region in the fewest variables (the latest of those) is repaired with
        a random generator of its own, so that the search after it is the same whether or not that
        succeeds."""
        self.regions.clear()
        settled = not region.cubes
        first = region.cube if settled else region.cubes[0]
        if near:
            space = region.space
            start = min(reversed(near), key=lambda e: len(space.admits(first, self._found_point(space, e))))
            found = self._attempt(region, 0, dict(start), first, settled,
                                  random.Random(f"near:{region.table}:{region.rule}"))
            if found is not None:
                return found
        for n in range(STARTS):
            # Even starts aim first at the row's own conditions, then at a region that keeps the
            # values the episode then has for everything else; odd starts at the analysis's region.
            settled = n % 2 == 1 or not region.cubes
            cube = region.cube if settled else region.cubes[n // 2 % len(region.cubes)]
            found = self._attempt(region, n, self._start(region.space, cube, rng), cube, settled, rng)
            if found is not None:
                return found
        # Last, each of the episodes near, repaired one variable at a time, towards the row's own
        # conditions and towards the analysis's region.
        spare = random.Random(f"spare:{region.table}:{region.rule}")
        for episode in reversed(near):
            for settled, cube in ((False, first), (True, region.cube)):
                found = self._attempt(region, 1, dict(episode), cube, settled, spare)
                if found is not None:
                    return found
        return None

    def _found_point(self, space: Space, episode: dict[str, object]) -> dict[int, int]:
        """Where an episode this search returned lies (from when it was found)."""
        known = self.found.get(id(episode))
        return known[1] if known is not None and known[0] is episode else self._point(space, episode)[1]

    def _attempt(self, region: Region, n: int, episode: dict[str, object], cube: Cube, settled: bool,
                 rng: random.Random) -> dict[str, object] | None:
        """Repair ``episode`` towards ``cube`` until the row takes it (the episode, without empty
        values) or the repairs run out (None); start ``n`` of the search."""
        space = region.space
        table = next(t for t in self.p.decisions if t.name == region.table)
        base = self._probe_empty(space)
        tested = {k for c in region.cubes for k in c}
        repaired: dict[int, int] = {}
        for _ in range(REPAIRS):
            ev, point, taken = self._evaluated(space, episode)
            outside = space.admits(cube, point)
            # The region is a guide; the row taking the episode is what counts.
            if any(not space.admits(c, point) for c in region.cubes) \
                    and self._takes_memo(region, table, ev, point, taken):
                found = {k: v for k, v in episode.items() if v not in (None, [], "")}
                self.found[id(found)] = found, point
                return found
            if not outside:
                if settled:
                    break  # an inexact region: an earlier row takes this point
                # Keep the values the episode has for what the row does not test (else only the
                # derived ones: an attribute can be set to anything).
                settled = True
                keep = {k: 1 << v for k, v in point.items() if v >= 0 and k not in tested}
                cube = self._within(region, keep) or self._within(
                    region, {k: m for k, m in keep.items() if space.vars[k].feature not in self.attrs}) or region.cube
                repaired.clear()
                continue
            if any(repaired.get(k, 0) >= 2 for k in outside):
                # Going round in circles: the region asks for values the episode's codes do not
                # give together. Keep the values the episode has, if the row still takes some.
                other = self._within(region, {k: 1 << point[k] for k in outside if point.get(k, -1) >= 0})
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

    def _takes_memo(self, region: Region, table: ir.Table, ev: interpret.Evaluator, point: dict[int, int],
                    taken: dict[tuple[str, str], bool]) -> bool:
        key = (region.table, region.rule)
        known = taken.get(key)
        if known is None:
            known = taken[key] = self._takes(region, table, ev, point)
        return known

    def _within(self, region: Region, fixed: Cube) -> Cube | None:
        """``region.within(fixed)``, remembered for the row being searched."""
        key = tuple(itertools.chain.from_iterable(fixed.items()))
        if key not in self.regions:
            self.regions[key] = region.within(fixed)
        return self.regions[key]

    def _takes(self, region: Region, table: ir.Table, ev: interpret.Evaluator, point: dict[int, int]) -> bool:
        """:func:`takes`, trying only the earlier rows whose cubes hold the episode's point (every
        earlier row when the point does not say where an element of a list lies)."""
        index = region.index
        if index is None or not self._placed(region.space, ev):
            return takes(self.p, table, region.rule, ev.feature)
        full = region.space.fulls
        cand = (1 << region.before) - 1
        for k, v in point.items():
            if v >= 0 and full[k] != 1 << v:
                cand &= self._holding(index, k, v)
                if not cand:
                    break
        rows = sorted({index.owner[n] for n in bits(cand)})
        positions = self.at.get(id(table))
        if positions is None:
            positions = self.at[id(table)] = {row.id: n for n, row in enumerate(table.rows)}
        at = positions[region.rule]
        for n in [*rows, at]:
            if interpret.try_row(self.p, table.rows[n], ev.feature).matched:
                return n == at
        return False

    def _holding(self, index: CubeIndex, k: int, v: int) -> int:
        """The cubes of ``index`` that allow representative ``v`` of variable ``k``, as a bit set."""
        key = (id(index), k, v)
        found = self.holders.get(key)
        if found is None:
            found = self.holders[key] = index.all & ~index.constrained[k] | index.allow[k].get(v, 0)
        return found

    def _placed(self, space: Space, ev: interpret.Evaluator) -> bool:
        """Whether every element of the episode's list features lies in a class of the space (or in
        none a row names), so that its point says which rows can take it."""
        for name in space.classes:
            items = ev.feature(name)
            of = space._classes_of[name]
            for x in items if isinstance(items, list) else []:
                sig = space._signature(name, x, True)
                if sig not in of and any(sig):
                    return False
        return True

    def _moves(self, space: Space, attr: str, code: object, point: dict[int, int]) -> dict[int, int]:
        """Where the code alone puts the variables it puts elsewhere than the empty episode does."""
        key = (id(space), attr, code)
        moves = self.moves.get(key)
        if moves is None:
            # Only the variables whose features are the attribute or read it can move.
            base = self._probe_empty(space)
            moves = self.moves[key] = {j: v for j in self._readers(space, {attr}, itself=True)
                                       if (v := point[j]) != base[j]}
        return moves

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
            episode[name] = [*items, _raw(self._written(space, name, var.element, True))] if cube[k] & 0b10 else items
            return
        allowed = [r for i, r in enumerate(var.reps) if cube[k] >> i & 1]
        present = [r for r in allowed if r is not None]
        present = [r for r in present if self._valid(name, r)] or present
        episode[name] = _raw(self._written(space, name, rng.choice(present or allowed), False))

    def _written(self, space: Space, name: str, value: object, element: bool) -> object:
        """``value`` or, when it is not written as the attribute's code system writes codes (the
        analysis's "any other code" ``~other``), a valid code the table's conditions cannot tell from it."""
        if value is None or self._valid(name, value):
            return value
        want = space._signature(name, value, element)
        return next((c for c in self._fresh(name) if space._signature(name, c, element) == want), value)

    def _fresh(self, attr: str) -> list[str]:
        """Valid codes of the attribute's code system that no code table or code list holds: the
        analysis's fresh codes that are valid, then known codes with their first character changed (and
        one more character), or their last."""
        system = self.systems.get(attr)
        if system is None:
            return []
        if system not in self.fresh:
            known = {c for t in self.p.tables.values() if t.key_system == system for c in t.rows}
            for cs in self.p.codesets.values():
                if cs.system == system:
                    known |= cs.codes
            tried = [*_fresh([]), *sorted(c for c in known if isinstance(c, str))[::97][:20]]
            made = [*_fresh([]), *(x + c[1:] + tail for c in tried for x in _SYMBOLS for tail in ("", "9")),
                    *(c[:-1] + x for c in tried for x in _SYMBOLS)]
            self.fresh[system] = [c for c in dict.fromkeys(made) if c not in known and self._valid(attr, c)][:120]
        return self.fresh[system]

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
        empty = base.get(k, -1) >= 0 and mask >> base[k] & 1
        # Empty would do: first take out the list elements that alone move the variable out of the
        # region (a major OR procedure when the row wants none), keeping the rest of each list.
        if empty and self._remove(space, k, mask, [a for a in sources if self.attrs[a].type.kind == "list"], episode):
            return
        providers = [] if var.is_class and mask == 0b01 else self._providers(space, cube, k, sources, rng)
        clean = [p for p, bad in providers if not bad]
        # No code puts it there without moving another variable out: take out the codes that move it out.
        if not clean and empty and (self._remove(space, k, mask, sources, episode) or not providers):
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
        elif self.attrs[attr].type.kind == "pair" and episode.get(attr) is not None and not isinstance(code, tuple):
            # A pair has two fields: the new code beside the one it has may keep what that one gives
            # (a principal diagnosis's category comes from its second field, its properties from both).
            old = episode[attr]
            old = old[0] if isinstance(old, tuple) else old
            best: tuple[int, object] | None = None
            for option in (code, (code, old), (old, code)):
                _, point = self._point(space, {**episode, attr: option})
                outside = len(space.admits(cube, point))
                if best is None or outside < best[0]:
                    best = (outside, option)
            assert best is not None
            episode[attr] = best[1]
        else:
            episode[attr] = code

    def _remove(self, space: Space, k: int, mask: int, sources: list[str], episode: dict[str, object]) -> bool:
        """Take out of the episode the codes of ``sources`` that alone put variable ``k`` outside ``mask``
        (False: there were none)."""
        removed = False
        for attr in sources:
            for code in _as_list(episode.get(attr)) if attr in self.systems else []:
                got = self._probe(space, attr, code).get(k, -1)
                if got < 0 or not mask >> got & 1:
                    _remove(episode, attr, code)
                    removed = True
        return removed

    def _providers(self, space: Space, cube: dict[int, int], k: int, sources: list[str],
                   rng: random.Random) -> list[tuple[tuple[str, object], int]]:
        """Codes (attribute, code) that alone put variable ``k`` inside the region, each with the
        number of other variables it moves out of the region, fewest first. Candidates are tried
        (evaluated) in order until some move no other variable out, or a few have been found."""
        # Other variables of the region that a plain attribute read here also decides: a code for it
        # should give their values too (a principal diagnosis with this property *and* that MDC).
        plain = {a for a in sources if self.attrs[a].type.kind != "list"}
        readers = self._readers(space, plain)
        full = space.fulls
        also = tuple(sorted((j, m) for j in readers if j != k and (m := cube.get(j)) is not None and m != full[j]
                            and not (m == 0b01 and space.vars[j].is_class)))
        key = (id(space), k, cube[k], also)
        hits = self.providers.get(key)
        if hits is None:
            var = space.vars[k]
            others = [_wanted(space, j, m) for j, m in also]
            # Lists first (a code added keeps what the episode has), the attributes' candidates interleaved.
            per: list[list[tuple[str, object]]] = []
            spare: list[Iterator[tuple[str, object]]] = []
            for a in sorted(sources, key=lambda a: self.attrs[a].type.kind != "list"):
                first, rest = self._candidates(a, var.feature, _wanted(space, k, cube[k]), others if a in plain else [], rng)
                per.append([(a, c) for c in first])
                spare.append(self._judged(a, rest))
            todo = [x for row in itertools.zip_longest(*per) for x in row if x is not None]
            hits = self.providers[key] = _Hits(todo, (x for row in itertools.zip_longest(*spare) for x in row if x is not None))
        scored: list[tuple[tuple[int, int], str, object]] = []
        clean = False  # some code moves no other variable out
        while True:
            for attr, code, moves in hits.found[len(scored):]:
                moved = [j for j in moves if j in cube]
                bad = sum(1 for j in moved if moves[j] < 0 or not cube[j] >> moves[j] & 1)
                scored.append(((bad, len(moved)), attr, code))
                clean = clean or not bad
            if clean or not self._more(space, k, cube[k], hits):
                break
        ranked = sorted(range(len(scored)), key=lambda n: scored[n][0])
        return [((scored[n][1], scored[n][2]), scored[n][0][0]) for n in ranked]

    def _readers(self, space: Space, attrs: set[str], itself: bool = False) -> list[int]:
        """The variables of the space whose features read one of ``attrs`` (with ``itself``: or are one)."""
        key = (id(space), frozenset(attrs), itself)
        found = self.var_reads.get(key)
        if found is None:
            found = self.var_reads[key] = [j for j, v in enumerate(space.vars)
                                           if not attrs.isdisjoint(self.reads.get(v.feature, ()))
                                           or itself and v.feature in attrs]
        return found

    def _judged(self, attr: str, codes: list[object]) -> Iterator[tuple[str, object]]:
        """The valid codes of ``codes``, each judged only when it is asked for."""
        return ((attr, c) for c in codes if self._valid(attr, c))

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
        while len(hits.found) < found + HITS:
            if not hits.todo:
                hits.todo = list(itertools.islice(hits.spare, TRIED))[::-1]
                if not hits.todo:
                    break
            attr, code = hits.todo.pop()
            point = self._probe(space, attr, code)
            if point.get(k, -1) >= 0 and mask >> point[k] & 1:
                hits.found.append((attr, _raw_code(code) if attr in self.systems else _raw(code),
                                   self._moves(space, attr, code, point)))
        return len(hits.found) > found

    def _candidates(self, attr: str, feature: str, wanted: list[object], also: list[list[object]],
                    rng: random.Random) -> tuple[list[object], list[object]]:
        """Codes of the attribute's system worth trying for the wanted values: first those whose table
        values also give the values ``also`` lists (as many of them as some code does), then codes
        whose table values are one of the wanted ones or start with one, the wanted values
        themselves, and a sample of the codes the feature's derivation reads; then, to try when none of
        those puts the variable where it should be without moving another out, more of those codes
        (not yet judged valid)."""
        if attr not in self.systems:
            return _domain(self.attrs[attr]), []
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
        pool, examples = self._pool(feature, system)
        for codes in examples:
            out += codes[:1] + rng.sample(codes, min(len(codes), 2))
        # A window of the pool (shuffled once) at a random place: a sample for one random number.
        at = rng.randrange(len(pool)) if pool else 0
        drawn = pool[at:at + SPARE + TRIED] + pool[:max(0, at + SPARE + TRIED - len(pool))][:at]
        out += drawn[:TRIED]
        out += self._fresh(attr)  # codes no table holds, as the analysis's "anything else"
        seen: set[object] = set()

        def fit(codes: list[object]) -> list[object]:
            return [c for c in codes if (pair or not isinstance(c, tuple)) and self._valid(attr, c)
                    and not (c in seen or seen.add(c))]  # type: ignore[func-returns-value]

        return fit(out), drawn[TRIED:]

    def _pool(self, feature: str, system: str) -> tuple[list[object], list[list[str]]]:
        """The keys of the code tables of ``system`` the feature's derivation reads (in an order shuffled
        once), and the examples of each code list of it that the derivation reads."""
        key = (feature, system)
        if key not in self.pools:
            pool: list[object] = []
            examples = []
            for name in sorted(self.reads.get(feature, ())):
                if name in self.p.tables and self.p.tables[name].key_system == system:
                    pool += list(self.p.tables[name].rows)
                elif name in self.p.codesets and self.p.codesets[name].system == system:
                    examples.append(codeset_examples(self.p.codesets[name]))
            random.Random(f"{feature}:{system}").shuffle(pool)
            self.pools[key] = pool, examples
        return self.pools[key]


def _wanted(space: Space, k: int, mask: int) -> list[object]:
    """The values variable ``k`` should have: its element (a list class), else its allowed representatives."""
    var = space.vars[k]
    return [var.element] if var.is_class else [r for i, r in enumerate(var.reps) if mask >> i & 1 and r is not None]


class _Remembering(interpret.Evaluator):
    """The interpreter's evaluator, taking a derivation's value from ``memo`` when an earlier episode had
    the same values of the attributes and features it names (derivations are functions of those alone;
    a code added seldom changes what a costly derivation reads, a complication's level say)."""

    def __init__(self, program: ir.Program, values: dict[str, object], inputs: dict[str, list[str]],
                 memo: dict[tuple[str, tuple[object, ...]], object]) -> None:
        self.p = program
        self.values = values
        self.features = {}
        if len(memo) > 200_000:
            memo.clear()
        for d in program.derivations:
            key = (d.name, tuple(_frozen(self.features[a] if a in self.features else values.get(a))
                                 for a in inputs[d.name]))
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
    spare: Iterator[tuple[str, object]] = field(default_factory=lambda: iter(()))
    #: (attribute, code, where the code alone puts the variables it moves from the empty episode's place)
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
