"""Reverse index: for every code a program mentions, the rows and groups it can lead to.

A code *leads to* a row when, put alone into an attribute of its code system (the only principal
diagnosis, the only procedure, ...; every other field empty), at least one of the row's positive
conditions (not `not in`, `lacks`, `!=`, `is absent`) on features that depend on that attribute turns
from false to true, and none of its conditions on such features is false (for a rule with ``or``: of
the conditions of one of its alternatives). It is a
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
    """An evaluator that computes only the features asked for (and what they need). The features named
    in ``same`` take their values from ``base`` (an evaluation they do not differ from); the costly
    ones (with a loop) are remembered in ``memo`` under the values of their inputs."""

    def __init__(self, program: ir.Program, values: dict[str, object], exprs: dict[str, ir.Expr],
                 memo: _Memo, base: _Lazy | None = None, same: frozenset[str] = frozenset()) -> None:
        self.p = program
        self.values = values
        self.exprs = exprs
        self.features = _Features(self, memo, base, same)

    def feature(self, name: str) -> object:
        return self.features.get(name) if name in self.exprs else self.values.get(name)


class _Memo:
    """The values of a program's costly derivations (those with a loop) by the values of their inputs:
    a derivation's value depends only on the attributes and features it names."""

    def __init__(self, program: ir.Program) -> None:
        self.inputs = {d.name: tuple(sorted({r.name for r in ir.refs(d.expr) if r.scope in ("attr", "feature")}))
                       for d in program.derivations if _loops(d.expr)}
        self.values: dict[tuple[object, ...], object] = {}


def _loops(e: ir.Expr) -> bool:
    if isinstance(e, ir.Loop):
        return True
    return isinstance(e, ir.Apply) and any(_loops(a) for a in e.args)


class _Features(dict[str, object]):
    def __init__(self, ev: _Lazy, memo: _Memo, base: _Lazy | None, same: frozenset[str]) -> None:
        super().__init__()
        self.ev = ev
        self.memo = memo
        self.base = base
        self.same = same

    def get(self, name: str, default: object = None) -> object:
        if name not in self:
            expr = self.ev.exprs.get(name)
            if expr is None:
                return default
            if self.base is not None and name in self.same:
                self[name] = self.base.features.get(name)
            elif name in self.memo.inputs:
                key = (name, *(_hashable(self.ev.feature(n)) for n in self.memo.inputs[name]))
                if key in self.memo.values:
                    self[name] = self.memo.values[key]
                else:
                    self[name] = self.memo.values[key] = self.ev.eval(expr, {})
            else:
                self[name] = self.ev.eval(expr, {})
        return self[name]


# ---------------------------------------------------------------------- the index


@dataclass(slots=True)
class _Atom:
    """One distinct condition over one feature, and the rows that use it: (table, row, which alternative
    of the row) — a rule with ``or`` leads where one of its alternatives does."""

    c: Constraint
    rows: list[tuple[ir.Table, ir.Row, int]] = field(default_factory=list)


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
    memo = _Memo(program)
    for attr, mine in _plan(program, index.systems):
        finder = _Finder(program, attr, mine, memo)
        for use in index.systems[finder.system].values():
            use.leads.extend(finder.leads(probe(use)))
            if progress is not None:
                progress(1)
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
            for k, alternative in enumerate(row.alternatives):
                for c in alternative:
                    atoms.setdefault(_key(c), _Atom(c)).rows.append((table, row, k))
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


def leads_of(program: ir.Program, attribute: str, codes: list[str]) -> dict[str, list[Lead]]:
    """The rows each code leads to through one attribute, as :func:`build` finds them (codes as tried:
    see :func:`probe`), in no particular order."""
    for attr, mine in _plan(program, {_system(a): None for a in program.attributes}):
        if attr.name == attribute:
            finder = _Finder(program, attr, mine, _Memo(program))
            return {code: finder.leads(code) for code in codes}
    return {code: [] for code in codes}


def _system(attr: ir.Attribute) -> str:
    return (attr.type.elem.ref if attr.type.kind == "list" and attr.type.elem else attr.type.ref) or ""


class _Finder:
    """The rows codes lead to through one attribute. They depend only on the values a code gives the
    features the rows test: codes that give the same values share the answer."""

    def __init__(self, program: ir.Program, attr: ir.Attribute, mine: list[_Atom], memo: _Memo) -> None:
        self.p = program
        self.attr = attr
        self.system = _system(attr)
        self.memo = memo
        self.exprs = {d.name: d.expr for d in program.derivations}
        self.empty, _ = interpret.normalize(program, {})
        self.base = _Lazy(program, dict(self.empty), self.exprs, memo)
        # Features that do not depend on the attribute keep the values they have in the empty episode.
        deps = ir.supports(program)
        self.same = frozenset(n for n in self.exprs if attr.name not in deps.get(n, frozenset()))
        self.atoms = _Atoms(program, mine, self.base)
        self.features = sorted({a.c.feature for a in mine})
        self.cache: dict[tuple[object, ...], list[Lead]] = {}

    def leads(self, code: str) -> list[Lead]:
        """The rows ``code`` leads to alone in the attribute (none when it is not a valid value)."""
        values = dict(self.empty)
        attr = self.attr
        try:
            values[attr.name] = interpret.convert(attr, attr.type, [code] if attr.type.kind == "list" else code, checked=False)
        except ValueError:
            return []
        ev = _Lazy(self.p, values, self.exprs, self.memo, self.base, self.same)
        got = {f: ev.feature(f) for f in self.features}
        signature = tuple(_hashable(v) for v in got.values())
        if signature not in self.cache:
            self.cache[signature] = self.atoms.leads(attr.name, got)
        return self.cache[signature]


def _hashable(v: object) -> object:
    return tuple(_hashable(x) for x in v) if isinstance(v, list) else v


class _Atoms:
    """The conditions that depend on one attribute, numbered, with their rows (one unit per alternative
    of a rule with `or`), as bit sets: which of them hold for given feature values, and which rows then
    hold in full."""

    def __init__(self, program: ir.Program, mine: list[_Atom], base: _Lazy) -> None:
        self.p = program
        self.mine = mine
        by_feature: dict[str, list[int]] = {}
        for i, a in enumerate(mine):
            by_feature.setdefault(a.c.feature, []).append(i)
        self.by_feature = by_feature
        #: Atoms that do not hold in the empty episode and are not negated: those a code can turn true.
        self.turnable = 0
        for i, a in enumerate(mine):
            if not a.c.negated and not interpret.holds(program, a.c, base.feature(a.c.feature))[0]:
                self.turnable |= 1 << i
        #: Rows (table, row) in order of first use, and for each atom the bit set of the rows that use it.
        # A rule with `or` has one such unit per alternative: it leads where one alternative does.
        number: dict[tuple[int, int], int] = {}
        self.rows: list[tuple[ir.Table, ir.Row]] = []
        self.atom_rows: list[int] = []
        for a in mine:
            rows = 0
            for table, row, k in a.rows:
                n = number.get((id(row), k))
                if n is None:
                    n = number[id(row), k] = len(self.rows)
                    self.rows.append((table, row))
                rows |= 1 << n
            self.atom_rows.append(rows)
        # Conditions that test values (`in (...)`, `has (...)`) by value: value -> the atoms it makes hold.
        self.by_value: dict[str, dict[object, int]] = {}
        self.tested: dict[str, int] = {}
        for f, idx in by_feature.items():
            for i in idx:
                c = mine[i].c
                if c.kind in ("set", "has") and c.ref is None:
                    self.tested[f] = self.tested.get(f, 0) | 1 << i
                    atoms = self.by_value.setdefault(f, {})
                    for v in c.values:
                        atoms[v] = atoms.get(v, 0) | 1 << i
        self.memo: dict[tuple[str, object], tuple[int, int]] = {}

    def rows_for(self, feature: str, value: object) -> tuple[int, int]:
        """For ``value`` of ``feature``, as bit sets of rows: those that an atom over the feature turns
        true, and those that an atom over the feature rules out."""
        key = (feature, _hashable(value))
        got = self.memo.get(key)
        if got is None:
            held = self.holding(feature, value)
            turned = failed = 0
            for i in self.by_feature[feature]:
                if held >> i & 1:
                    if self.turnable >> i & 1:
                        turned |= self.atom_rows[i]
                else:
                    failed |= self.atom_rows[i]
            got = self.memo[key] = (turned, failed)
        return got

    def holding(self, feature: str, value: object) -> int:
        """The atoms over ``feature`` that hold for ``value``, as a bit set."""
        out = 0
        tested = self.tested.get(feature, 0)
        by_value = self.by_value.get(feature, {})
        if tested:
            # As interpret.holds: `has` looks at the elements of a list (nothing else has any), `in` at
            # a value that is there.
            many = isinstance(value, list)
            hit = 0
            for x in value if isinstance(value, list) else [value]:
                if not isinstance(x, list):
                    hit |= by_value.get(x, 0)
            for i in self.by_feature[feature]:
                if tested >> i & 1:
                    c = self.mine[i].c
                    if c.kind == "has":
                        out |= (bool(many and hit >> i & 1) != c.negated) << i
                    elif many:
                        out |= interpret.holds(self.p, c, value)[0] << i
                    elif value is not None:
                        out |= (bool(hit >> i & 1) != c.negated) << i
        for i in self.by_feature[feature]:
            if not tested >> i & 1:
                out |= interpret.holds(self.p, self.mine[i].c, value)[0] << i
        return out

    def leads(self, attr: str, got: dict[str, object]) -> list[Lead]:
        """The rows whose atoms all hold for the feature values ``got`` and one of which a code turned."""
        rows = failed = 0
        for f, v in got.items():
            turned, out = self.rows_for(f, v)
            rows |= turned
            failed |= out
        rows &= ~failed
        leads, led = [], set()
        while rows:
            low = rows & -rows
            rows ^= low
            table, row = self.rows[low.bit_length() - 1]
            if id(row) not in led:  # one lead per rule, whichever of its alternatives holds
                led.add(id(row))
                leads.append(Lead(attr, table.name, row.id, row.group))
        return leads
