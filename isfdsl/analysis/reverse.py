"""Reverse index: for every code a program mentions, the rows and groups it can lead to.

A code *leads to* a row when, put alone into an attribute of its code system (the only principal
diagnosis, the only procedure, ...; every other field empty), at least one of the row's positive
conditions (not `not in`, `lacks`, `!=`, `is absent`) on features that depend on that attribute turns
from false to true, and none of its conditions on such features is false. It is a
statement about the code, not about whole episodes: the row may need other fields too ("and care level
outpatient"), and a row that earlier rows shadow is still listed (``isf verify`` reports those).

Codes are those of the code lists (exact codes, prefixes and ranges, each as written; a prefix or a
range is tried with its first code) and the keys of code tables. Computed over the IR with the
interpreter's own evaluation, so the index means what the grouper does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from isfdsl import interpret
from isfdsl.ir import model as ir
from isfdsl.runtime.contract import Constraint


@dataclass(frozen=True, slots=True)
class Lead:
    """A code leads to ``row`` of ``table`` (group ``group``) through ``attribute``."""

    attribute: str
    table: str
    row: str
    group: str | None


@dataclass(slots=True)
class CodeUse:
    system: str
    code: str
    #: How it is written where it is declared ("H25*", "C81-C88", "H35.3") and its descriptions.
    shown: str
    titles: list[str] = field(default_factory=list)
    #: Code lists and code tables that hold it.
    lists: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)

    @property
    def groups(self) -> list[str]:
        return sorted({lead.group for lead in self.leads if lead.group})


@dataclass(slots=True)
class ReverseIndex:
    #: system -> code -> use, codes sorted.
    systems: dict[str, dict[str, CodeUse]] = field(default_factory=dict)

    def get(self, system: str, code: str) -> CodeUse | None:
        return self.systems.get(system, {}).get(code)

    def unused(self, system: str) -> list[CodeUse]:
        """Codes that never affect grouping: mentioned, but leading to no row."""
        return [u for u in self.systems.get(system, {}).values() if not u.leads]

    def __iter__(self) -> Iterator[CodeUse]:
        for codes in self.systems.values():
            yield from codes.values()

    def __len__(self) -> int:
        return sum(len(c) for c in self.systems.values())


# ---------------------------------------------------------------------- dependencies


def uses(program: ir.Program) -> dict[str, frozenset[str]]:
    """For every derivation, the code lists and code tables it reads (transitively)."""
    out: dict[str, frozenset[str]] = {}
    for d in program.derivations:
        found: set[str] = set()
        for r in ir.refs(d.expr):
            if r.scope in ("codelist", "table"):
                found.add(r.name)
            elif r.scope == "feature":
                found |= out.get(r.name, frozenset())
        out[d.name] = frozenset(found)
    return out


class _Lazy(interpret.Evaluator):
    """An evaluator that computes only the features asked for (and what they need)."""

    def __init__(self, program: ir.Program, values: dict[str, object], exprs: dict[str, ir.Expr]) -> None:
        self.p = program
        self.values = values
        self.exprs = exprs
        self.features = _Features(self)

    def feature(self, name: str) -> object:
        return self.features.get(name) if name in self.exprs else self.values.get(name)


class _Features(dict[str, object]):
    def __init__(self, ev: _Lazy) -> None:
        super().__init__()
        self.ev = ev

    def get(self, name: str, default: object = None) -> object:
        if name not in self:
            expr = self.ev.exprs.get(name)
            if expr is None:
                return default
            self[name] = self.ev.eval(expr, {})
        return self[name]


# ---------------------------------------------------------------------- the index


@dataclass(slots=True)
class _Atom:
    """One distinct condition over one feature, and the rows (table, row) that use it."""

    c: Constraint
    rows: list[tuple[ir.Table, ir.Row]] = field(default_factory=list)


def _key(c: Constraint) -> tuple[object, ...]:
    return (c.feature, c.kind, c.negated, c.values, c.ref, c.lo, c.hi, c.lo_open, c.hi_open)


def _codes(program: ir.Program) -> dict[str, dict[str, CodeUse]]:
    systems: dict[str, dict[str, CodeUse]] = {}
    for cs in program.codesets.values():
        codes = systems.setdefault(cs.system, {})
        for e in cs.entries:
            shown = e.shown
            code = e.lo if e.kind == "code" else shown
            use = codes.setdefault(code, CodeUse(cs.system, code, shown))
            if e.description and e.description not in use.titles:
                use.titles.append(e.description)
            if cs.name not in use.lists:
                use.lists.append(cs.name)
    for t in program.tables.values():
        if t.key_system is None:
            continue
        codes = systems.setdefault(t.key_system, {})
        for key in t.rows:
            use = codes.setdefault(key, CodeUse(t.key_system, key, key))
            if t.name not in use.tables:
                use.tables.append(t.name)
    return {s: dict(sorted(c.items())) for s, c in sorted(systems.items())}


def probe(use: CodeUse) -> str:
    """The code to try for an entry: the code itself, a prefix's stem or a range's first code."""
    if use.shown.endswith("*"):
        return use.shown[:-1]
    if "-" in use.shown and use.code == use.shown:
        return use.shown.split("-", 1)[0]
    return use.code


def known(*programs: ir.Program) -> dict[str, dict[str, str]]:
    """The codes the programs mention: system -> code -> the code as written (the later program's way
    of writing it where two differ)."""
    out: dict[str, dict[str, str]] = {}
    for program in programs:
        for s, codes in _codes(program).items():
            out.setdefault(s, {}).update((c, u.shown) for c, u in codes.items())
    return out


def build(program: ir.Program, progress: Callable[[int], None] | None = None,
          also: dict[str, dict[str, str]] | None = None) -> ReverseIndex:
    """The reverse index of a program; ``progress`` is called with the number of codes done. ``also``
    adds codes the program does not mention (system -> code -> as written), e.g. another version's."""
    systems = _codes(program)
    for system, codes in (also or {}).items():
        have = systems.setdefault(system, {})
        for c, shown in codes.items():
            have.setdefault(c, CodeUse(system, c, shown))
    index = ReverseIndex({s: dict(sorted(c.items())) for s, c in sorted(systems.items())})
    exprs = {d.name: d.expr for d in program.derivations}
    empty, _ = interpret.normalize(program, {})
    for attr, mine in _plan(program, index.systems):
        _index_attribute(program, index, attr, mine, empty, exprs, progress)
    order = {(t.name, r.id): (i, j) for i, t in enumerate(program.decisions) for j, r in enumerate(t.rows)}
    for use in index:
        use.leads.sort(key=lambda lead: (order[lead.table, lead.row], lead.attribute))
    return index


def _plan(program: ir.Program, systems: Mapping[str, object]) -> list[tuple[ir.Attribute, list[_Atom]]]:
    """The code attributes to index, each with the distinct conditions that depend on it."""
    deps = ir.supports(program)
    atoms: dict[tuple[object, ...], _Atom] = {}
    for table in program.decisions:
        for row in table.rows:
            for c in row.constraints:
                atoms.setdefault(_key(c), _Atom(c)).rows.append((table, row))
    by_attr: dict[str, list[_Atom]] = {}
    for atom in atoms.values():
        for a in deps.get(atom.c.feature, ()):
            by_attr.setdefault(a, []).append(atom)
    out = []
    for attr in program.attributes:
        t = attr.type.elem if attr.type.kind == "list" and attr.type.elem else attr.type
        if t.kind in ("code", "pair") and t.ref in systems and by_attr.get(attr.name):
            out.append((attr, by_attr[attr.name]))
    return out


def work(program: ir.Program, also: dict[str, dict[str, str]] | None = None) -> int:
    """How many steps :func:`build` reports to ``progress``."""
    systems = {s: set(c) for s, c in known(program).items()}
    for s, c in (also or {}).items():
        systems.setdefault(s, set()).update(c)
    return sum(len(systems[(a.type.elem or a.type).ref or ""]) for a, _ in _plan(program, systems))


def _index_attribute(program: ir.Program, index: ReverseIndex, attr: ir.Attribute, mine: list[_Atom],
                     empty: dict[str, object], exprs: dict[str, ir.Expr], progress: Callable[[int], None] | None) -> None:
    base = _Lazy(program, dict(empty), exprs)
    before = {id(a): interpret.holds(program, a.c, base.feature(a.c.feature))[0] for a in mine}
    # Atoms that can turn true, found by value where they test values, the rest tried one by one.
    by_value: dict[tuple[str, object], list[_Atom]] = {}
    others: list[_Atom] = []
    for a in mine:
        if before[id(a)]:
            continue
        if a.c.kind in ("set", "has") and not a.c.negated and a.c.ref is None:
            for v in a.c.values:
                by_value.setdefault((a.c.feature, v), []).append(a)
        else:
            others.append(a)
    features = sorted({a.c.feature for a in mine})
    row_atoms: dict[int, list[_Atom]] = {}
    for a in mine:
        for _, row in a.rows:
            row_atoms.setdefault(id(row), [])
            if a not in row_atoms[id(row)]:
                row_atoms[id(row)].append(a)
    system = attr.type.elem.ref if attr.type.kind == "list" and attr.type.elem else attr.type.ref
    # The rows a code leads to depend only on the values it gives the features: codes that give the
    # same values share the answer.
    cache: dict[tuple[object, ...], list[Lead]] = {}
    for use in index.systems[system or ""].values():
        values = dict(empty)
        try:
            values[attr.name] = interpret.convert(attr, attr.type, [probe(use)] if attr.type.kind == "list" else probe(use))
        except ValueError:
            continue
        ev = _Lazy(program, values, exprs)
        got = {f: ev.feature(f) for f in features}
        signature = tuple(tuple(v) if isinstance(v, list) else v for v in got.values())
        if signature not in cache:
            cache[signature] = _leads(program, attr.name, got, by_value, others, row_atoms)
        use.leads.extend(cache[signature])
        if progress is not None:
            progress(1)


def _leads(program: ir.Program, attr: str, got: dict[str, object], by_value: dict[tuple[str, object], list[_Atom]],
           others: list[_Atom], row_atoms: dict[int, list[_Atom]]) -> list[Lead]:
    seen: dict[int, bool] = {}

    def ok(a: _Atom) -> bool:
        if id(a) not in seen:
            seen[id(a)] = interpret.holds(program, a.c, got[a.c.feature])[0]
        return seen[id(a)]

    turned: list[_Atom] = []
    for f, v in got.items():
        for item in (v if isinstance(v, list) else [v]):
            turned.extend(by_value.get((f, item), ()))
    turned.extend(a for a in others if not a.c.negated and ok(a))
    done: set[int] = set()
    out = []
    for a in turned:
        if not ok(a):
            continue
        for table, row in a.rows:
            if id(row) not in done:
                done.add(id(row))
                if all(ok(b) for b in row_atoms[id(row)]):
                    out.append(Lead(attr, table.name, row.id, row.group))
    return out
