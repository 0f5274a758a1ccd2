"""IR: the checked program lowered to a syntax-free form — typed expression graph for derivations,
decision tables as ordered rows of per-feature constraints, catalogues as records, payment parameters.

A row's atoms (:class:`Constraint`) and a catalogue's groups (:class:`GroupRecord`) are the runtime's
contract types, defined once in :mod:`isfdsl.runtime.contract` (the lowest layer) and imported here.

Codes are normalised here once (ignored characters removed, upper case), so that the interpreter and
the emitters compare normalised codes only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal, cast, get_args

from isfdsl.check.checker import POST_FEATURES, Model, normalize_code
from isfdsl.runtime.contract import Constraint, GroupRecord  # the contract types: one definition, in the runtime
from isfdsl.syntax import ast
from isfdsl.syntax.format import format_cond, format_expr
from isfdsl.types import BOOL, Type

# ---------------------------------------------------------------------- kinds and operations
# Closed sets of words as ``Literal`` types: mypy checks every construction and every ``==`` against
# them, and the tables keyed by them (the interpreter's ``OPERATIONS``, the emitter's ``WRITERS``) are
# tested complete against ``get_args``.

#: What a :class:`Ref` names.
Scope = Literal["attr", "feature", "local", "codelist", "table"]
#: What an :class:`Apply` applies: an operator, ``if``, ``list``, ``field`` (see ``Apply.field``) or a
#: built-in function (:mod:`isfdsl.check.builtins`).
Op = Literal["and", "or", "not", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "present", "absent", "+",
             "if", "list", "field",
             "lookup", "combo", "first", "coalesce", "text", "prefix", "substr", "char", "starts_with",
             "replace_prefix", "count", "max", "min", "union", "intersect", "minus", "codes", "entries"]
OPS: frozenset[str] = frozenset(get_args(Op))
#: The component ``x.NAME`` of a pair (``first``, ``second``) or a table row (``key``, ``value``).
FieldName = Literal["first", "second", "key", "value"]
#: What a :class:`Loop` does.
LoopKind = Literal["any", "all", "none", "find", "map"]
#: What a program's episode is: an episode, or a pathway record (:meth:`Program.pathway_program`).
Role = Literal["episode", "pathway"]


def as_op(name: str) -> Op:
    """``name`` (an operator or built-in the checker accepted) as an :data:`Op`."""
    assert name in OPS, name
    return cast(Op, name)


# ---------------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Const:
    type: Type
    value: object


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference: ``scope`` is ``attr``, ``feature`` (a derivation), ``local``, ``codelist`` or ``table``."""

    type: Type
    scope: Scope
    name: str


@dataclass(frozen=True, slots=True)
class Apply:
    """An operator or built-in: ``op`` is a built-in name, ``and``/``or``/``not``, a comparison,
    ``in``/``not in``, ``+``, ``present``/``absent``, ``if``, ``list``, or ``field`` (the component
    ``field`` of its one argument)."""

    type: Type
    op: Op
    args: tuple[Expr, ...]
    field: FieldName | None = None


@dataclass(frozen=True, slots=True)
class Loop:
    """``any``/``all``/``none``/``find``/``map`` over ``source`` binding ``var``; ``body`` is the mapped
    expression of ``map`` (else None) and ``cond`` the filter or predicate (None: always true)."""

    type: Type
    kind: LoopKind
    var: str
    source: Expr
    cond: Expr | None
    body: Expr | None


Expr = Const | Ref | Apply | Loop

def refs(e: Expr) -> Iterator[Ref]:
    """Every reference in an expression (attributes, features, locals, code lists, tables)."""
    if isinstance(e, Ref):
        yield e
    elif isinstance(e, Apply):
        for a in e.args:
            yield from refs(a)
    elif isinstance(e, Loop):
        for sub in (e.source, e.cond, e.body):
            if sub is not None:
                yield from refs(sub)


# ---------------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    type: Type
    label: str | None
    default: object
    #: For enumerations: input value (and member name) -> member name.
    members: dict[str, str] = field(default_factory=dict)
    #: For codes: characters removed before comparison, and whether letters are upper-cased.
    ignore: str = ""
    upper: bool = True
    #: For enumerations: member name -> its label (for documentation).
    labels: dict[str, str] = field(default_factory=dict)
    #: For codes: the code system's ``syntax`` pattern (a regular expression a code must match in full
    #: once normalised), or None where the system declares none.
    syntax: str | None = None


@dataclass(frozen=True, slots=True)
class CodeSet:
    """A code list as exact codes, prefixes and (lo, hi) ranges over normalised codes."""

    name: str
    system: str
    title: str | None
    codes: frozenset[str]
    prefixes: tuple[str, ...]
    ranges: tuple[tuple[str, str], ...]
    #: Each entry as written, with its kind, its normalised bounds and its ``file:line:col``.
    entries: tuple[Entry, ...] = ()


@dataclass(frozen=True, slots=True)
class Entry:
    kind: ast.EntryKind
    text: str
    lo: str
    hi: str
    where: str
    description: str | None = None

    @property
    def shown(self) -> str:
        """The entry as a person writes it: ``H35.3``, ``H25*``, ``C81-C88``."""
        return {"prefix": f"{self.lo}*", "range": f"{self.lo}-{self.hi}"}.get(self.kind, self.text)


@dataclass(frozen=True, slots=True)
class CodeTable:
    """key -> ordered rows (second or None, value); ``None`` second marks a plain row."""

    name: str
    key_system: str | None
    value_type: Type
    rows: dict[str, tuple[tuple[str | None, object], ...]]
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Derivation:
    name: str
    type: Type
    title: str | None
    expr: Expr
    #: The defining expression as written (formatted), for documentation.
    text: str = ""


@dataclass(frozen=True, slots=True)
class Row:
    """A rule of a decision table, with its conditions in disjunctive normal form: the row takes an
    episode when every constraint of one of its ``alternatives`` holds. A rule without ``or`` has one
    alternative (an empty one when it has no conditions: always); in a rule with ``or``, ``and`` is
    multiplied out over ``or`` (at most ``MAX_ALTERNATIVES``). Either way it is one row: one id, one
    result, one position — the analysis treats it as the union of its alternatives, and the generated
    table gives each alternative a runtime row carrying the rule's id (its bit-set index tests
    conjunctions only)."""

    id: str
    title: str | None
    alternatives: tuple[tuple[Constraint, ...], ...]
    group: str | None
    rc: str | None
    source: str
    col: int = 1

    @property
    def where(self) -> str:
        return f"{self.source}:{self.col}"

    @property
    def constraints(self) -> tuple[Constraint, ...]:
        """Every constraint the row tests, in any alternative: what the row *uses* (features, code lists).
        To decide whether the row holds, read ``alternatives``."""
        return tuple(c for alt in self.alternatives for c in alt)

    @property
    def text(self) -> str:
        """The conditions as written, canonically: alternatives joined by ``or``, each by ``and`` (which
        binds tighter); empty for a row without conditions."""
        return " or ".join(" and ".join(c.text for c in alt) for alt in self.alternatives if alt)


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    title: str | None
    catalogue: str
    policy: ast.Policy
    rows: tuple[Row, ...]
    fallback: str | None
    fallback_rc: str | None
    post: tuple[Row, ...]
    #: The table whose result stands when no row matches (instead of ``fallback``).
    otherwise: str | None = None
    #: What the rows test: ``episode`` or ``pathway``.
    over: ast.Over = "episode"


@dataclass(frozen=True, slots=True)
class Payment:
    unit_price: Decimal | None
    share_attr: str | None
    shares: dict[str, Decimal]
    stay_attr: str | None
    price_attr: str | None = None
    prices: dict[str, Decimal] = field(default_factory=dict)
    #: Where each number comes from: "unit_price", "share:MEMBER", "price:MEMBER" -> a source, or
    #: None for a number marked `illustrative`.
    provenance: dict[str, str | None] = field(default_factory=dict)

    def origin(self, key: str) -> str | None:
        """Where a number comes from: its source, ``illustrative``, or None when the definitions say nothing."""
        if key not in self.provenance:
            return None
        return self.provenance[key] or "illustrative"

    def parameters(self) -> Iterator[tuple[str, str, Decimal, str | None]]:
        """Every number as (kind, member, value, origin): kind ``unit_price`` (member empty), ``price``
        (a unit price per member of ``price_attr``) or ``share`` (per member of ``share_attr``)."""
        if self.unit_price is not None:
            yield "unit_price", "", self.unit_price, self.origin("unit_price")
        for m, v in self.prices.items():
            yield "price", m, v, self.origin(f"price:{m}")
        for m, v in self.shares.items():
            yield "share", m, v, self.origin(f"share:{m}")


@dataclass(frozen=True, slots=True)
class Pathway:
    """The pathway schema and its decision tables. ``gather`` maps a pathway attribute to what it is
    gathered from: an episode attribute's name, ``group`` (the members' groups) or ``count``."""

    title: str | None
    attributes: tuple[Attribute, ...]
    gather: dict[str, str]
    decisions: tuple[Table, ...]


@dataclass(frozen=True, slots=True)
class Program:
    """Everything a grouper needs, with no syntax left."""

    system: str
    year: int
    label: str
    valid_from: str | None
    valid_to: str | None
    attributes: tuple[Attribute, ...]
    codesets: dict[str, CodeSet]
    tables: dict[str, CodeTable]
    derivations: tuple[Derivation, ...]
    catalogues: dict[str, dict[str, GroupRecord]]
    decisions: tuple[Table, ...]
    payment: Payment | None
    #: Code system name -> its syntax pattern (a regular expression), where it declares one.
    syntaxes: dict[str, str] = field(default_factory=dict)
    #: Catalogue name -> its title; code system name -> its title (for documentation).
    catalogue_titles: dict[str, str] = field(default_factory=dict)
    system_titles: dict[str, str] = field(default_factory=dict)
    #: The pathway schema and the tables over pathways (not in ``decisions``), if declared.
    pathway: Pathway | None = None
    #: ``episode``, or ``pathway`` for the program :meth:`pathway_program` makes.
    role: Role = "episode"
    #: The episode attribute (a date) that picks this version among several (``valid … by ATTR``).
    dated_by: str | None = None
    #: The language the version declares for its user guide's own words (``language nb``), if any.
    language: str | None = None

    def pathway_program(self) -> Program | None:
        """The pathway tables as a program of their own, whose "episode" is a pathway record (its
        attributes the pathway attributes, no derivations): what the interpreter, the analyses and
        the emitter see for pathways. Payment keeps only the attributes the pathway has."""
        pw = self.pathway
        if pw is None or not pw.decisions:
            return None
        names = {a.name for a in pw.attributes}
        pay = self.payment
        if pay is not None:
            pay = replace(pay, share_attr=pay.share_attr if pay.share_attr in names else None,
                          price_attr=pay.price_attr if pay.price_attr in names else None,
                          stay_attr=pay.stay_attr if pay.stay_attr in names else None)
        # Only the code lists its rows test (it has no derivations, so no code tables).
        used = {c.ref for t in pw.decisions for r in (*t.rows, *t.post) for c in r.constraints if c.ref}
        return replace(self, attributes=pw.attributes, derivations=(), decisions=pw.decisions, payment=pay, pathway=None,
                       role="pathway", codesets={n: cs for n, cs in self.codesets.items() if n in used}, tables={})

    @property
    def entry(self) -> Table:
        """The table an episode is grouped by unless another is asked for: the first declared table
        that no other table names in `otherwise`."""
        targets = {t.otherwise for t in self.decisions}
        return next((t for t in self.decisions if t.name not in targets), self.decisions[0])


def supports(program: Program) -> dict[str, frozenset[str]]:
    """The *support* of every attribute (itself) and derived feature: the attributes its value
    depends on, directly or through other features (derivations are declared in dependency order)."""
    support = {a.name: frozenset((a.name,)) for a in program.attributes}
    for d in program.derivations:
        found: set[str] = set()
        for r in refs(d.expr):
            if r.scope in ("attr", "feature"):
                found |= support.get(r.name, frozenset())
        support[d.name] = frozenset(found)
    return support


# ---------------------------------------------------------------------- lowering


def lower(model: Model) -> Program:
    """Lower a checked model (with no errors) to the IR."""
    return _Lowerer(model).program()


class _Lowerer:
    def __init__(self, model: Model) -> None:
        self.m = model
        self.over: ast.Over = "episode"

    def norm(self, system: str | None, code: str) -> str:
        return normalize_code(self.m.codesystems.get(system or ""), code)

    def program(self) -> Program:
        v = self.m.version
        assert v is not None
        return Program(
            system=v.system, year=v.year, label=v.label, valid_from=v.valid_from, valid_to=v.valid_to, dated_by=v.dated_by,
            language=v.language,
            attributes=tuple(self.attribute(a) for a in self.m.attrs.values()),
            codesets={n: self.codeset(c) for n, c in self.m.codelists.items()},
            tables={n: self.table(t) for n, t in self.m.tables.items()},
            derivations=tuple(self.derivation(self.m.derives[n]) for n in self.m.derive_order),
            catalogues={n: {g.code: self.group(g) for g in c.groups} for n, c in self.m.catalogues.items()},
            decisions=tuple(self.decision(d) for d in self.m.decisions.values() if d.over == "episode"),
            payment=self.payment(self.m.payment) if self.m.payment else None,
            syntaxes={n: cs.syntax for n, cs in self.m.codesystems.items() if cs.syntax},
            catalogue_titles={n: c.title for n, c in self.m.catalogues.items() if c.title},
            system_titles={n: cs.title for n, cs in self.m.codesystems.items() if cs.title},
            pathway=self.pathway(),
        )

    def pathway(self) -> Pathway | None:
        pw = self.m.pathway
        if pw is None:
            return None
        attrs = tuple(self.attribute(ast.Attr(a.span, a.name, a.type, a.label, a.default), self.m.pathway_types[a.name])
                      for a in pw.attrs)
        self.over = "pathway"
        try:
            tables = tuple(self.decision(d) for d in self.m.decisions.values() if d.over == "pathway")
        finally:
            self.over = "episode"
        return Pathway(pw.title, attrs, {a.name: a.members for a in pw.attrs if a.members}, tables)

    def attribute(self, a: ast.Attr, t: Type | None = None) -> Attribute:
        t = t or self.m.attr_types[a.name]
        members: dict[str, str] = {}
        labels: dict[str, str] = {}
        elem = t.elem if t.kind == "list" and t.elem else t
        if elem.kind == "enum":
            for mem in self.m.enums[elem.ref or ""].members:
                members[mem.value] = mem.name
                labels[mem.name] = mem.label or mem.name
                members.setdefault(mem.name, mem.name)
        system = self.m.codesystems[elem.ref or ""] if elem.kind in ("code", "pair") else None
        default = self.literal(a.default, t) if a.default is not None else None
        return Attribute(a.name, t, a.label, default, members, system.ignore if system else "",
                         not (system and system.case_sensitive), labels, system.syntax if system else None)

    def literal(self, lit: ast.Literal, t: Type) -> object:
        if lit.kind == "number":
            return int(lit.value) if t.kind == "int" else Decimal(lit.value)
        if lit.kind == "bool":
            return lit.value == "true"
        if t.kind == "code":
            return self.norm(t.ref, lit.value)
        return lit.value

    def codeset(self, c: ast.CodeList) -> CodeSet:
        codes, prefixes, ranges, entries = set(), [], [], []
        for e in c.entries:
            lo = self.norm(c.system, e.lo)
            entries.append(Entry(e.kind, e.text, lo, self.norm(c.system, e.hi) if e.hi else lo, str(e.span), e.description))
            if e.kind == "code":
                codes.add(self.norm(c.system, e.lo))
            elif e.kind == "prefix":
                prefixes.append(self.norm(c.system, e.lo))
            else:
                ranges.append((self.norm(c.system, e.lo), self.norm(c.system, e.hi or "")))
        return CodeSet(c.name, c.system, c.title, frozenset(codes), tuple(sorted(set(prefixes))), tuple(sorted(set(ranges))),
                       tuple(entries))

    def table(self, t: ast.Table) -> CodeTable:
        vt = self.m.table_types[t.name]
        rows: dict[str, list[tuple[str | None, object]]] = {}
        for r in t.rows:
            key = self.norm(t.key_system, r.key) if t.key_system else r.key
            second = (self.norm(t.key_system, r.second) if t.key_system else r.second) if r.second else None
            # A combination row (a & b) is filed under b, the code it completes, as in the official tables.
            file_key, marker = (second, key) if second is not None else (key, None)
            for value in r.values:
                rows.setdefault(file_key, []).append((marker, self.value(value, vt)))
        return CodeTable(t.name, t.key_system, vt, {k: tuple(v) for k, v in rows.items()}, t.title)

    def value(self, text: str, t: Type) -> object:
        if t.kind == "int":
            return int(text)
        if t.kind == "decimal":
            return Decimal(text)
        if t.kind == "code":
            return self.norm(t.ref, text)
        return text

    def derivation(self, d: ast.Derive) -> Derivation:
        return Derivation(d.name, self.m.derive_types[d.name], d.title, self.expr(d.expr, set()), format_expr(d.expr))

    def expr(self, e: ast.Expr, local: set[str]) -> Expr:
        t = self.m.expr_types[e]
        if isinstance(e, ast.Literal):
            if e.kind == "absent":
                return Const(t, None)
            if e.kind == "bool":
                return Const(t, e.value == "true")
            if e.kind == "number":
                return Const(t, int(e.value) if t.kind == "int" else Decimal(e.value))
            return Const(t, self.norm(t.ref, e.value) if t.kind == "code" else e.value)
        if isinstance(e, ast.Name):
            if e.name in local:
                return Ref(t, "local", e.name)
            if e.name in self.m.attrs:
                return Ref(t, "attr", e.name)
            if e.name in self.m.derives:
                return Ref(t, "feature", e.name)
            if e.name in self.m.codelists:
                return Ref(t, "codelist", e.name)
            if e.name in self.m.tables:
                return Ref(t, "table", e.name)
            if t.kind == "code":
                return Const(t, self.norm(t.ref, e.name))  # a code written bare
            return Const(t, e.name)  # an enumeration member
        if isinstance(e, ast.Field):
            return Apply(t, "field", (self.expr(e.operand, local),), cast(FieldName, e.name))
        if isinstance(e, ast.Unary):
            return Apply(t, e.op, (self.expr(e.operand, local),))
        if isinstance(e, ast.If):
            return Apply(t, "if", (self.expr(e.cond, local), self.expr(e.then, local), self.expr(e.other, local)))
        if isinstance(e, ast.Classify):
            return self.classify(e, t, local)
        if isinstance(e, ast.Binary):
            return Apply(t, e.op, (self.expr(e.left, local), self.expr(e.right, local)))
        if isinstance(e, ast.ListExpr):
            return Apply(t, "list", tuple(self.expr(x, local) for x in e.items))
        if isinstance(e, ast.Call):
            return Apply(t, as_op(e.func), tuple(self.expr(x, local) for x in e.args))
        inner = local | {e.var}
        source = self.expr(e.source, local)
        cond = self.expr(e.cond, inner) if e.cond is not None else None
        if isinstance(e, ast.Comprehension):
            return Loop(t, "map", e.var, source, cond, self.expr(e.expr, inner))
        return Loop(t, e.kind, e.var, source, cond, None)

    def classify(self, e: ast.Classify, t: Type, local: set[str]) -> Expr:
        """``classify`` as the ``if`` chain it means: ``if x in L1 then v1 else if x in L2 … else other``
        (no IR operation of its own: the interpreter, the emitter and the analysis read it as written)."""
        subject = self.expr(e.subject, local)
        out = self.expr(e.other, local)
        for arm in reversed(e.arms):
            listed = Ref(Type("codelist", self.m.codelists[arm.codelist].system), "codelist", arm.codelist)
            test = Apply(BOOL, "in", (subject, listed))
            out = Apply(t, "if", (test, self.expr(arm.value, local), out))
        return out

    def group(self, g: ast.Group) -> GroupRecord:
        return GroupRecord(g.code, g.name, Decimal(g.points or "0"), g.trim,
                           Decimal(g.perday) if g.perday is not None else None, g.parent, g.flags)

    def decision(self, d: ast.Decision) -> Table:
        return Table(d.name, d.title, d.catalogue, d.policy, tuple(self.row(r, False) for r in d.rules),
                     d.fallback, d.fallback_rc, tuple(self.row(r, True) for r in d.post), d.otherwise, d.over)

    def row(self, r: ast.Rule, post: bool) -> Row:
        alternatives = tuple(tuple(self.constraint(c, post, format_cond(c)) for c in alt) for alt in _dnf(r.when))
        return Row(r.id, r.title, alternatives, r.group, r.rc, f"{r.span.file}:{r.span.line}", r.span.col)

    def constraint(self, c: ast.Cond, post: bool, text: str) -> Constraint:
        t = self.m.feature_type(c.feature, self.over) or POST_FEATURES[c.feature]
        neg = c.op in ("not in", "lacks", "absent", "false", "!=")
        if c.op in ("present", "absent"):
            return Constraint(c.feature, "present", neg, text=text)
        if c.op in ("true", "false"):
            return Constraint(c.feature, "bool", False, (c.op == "true",), text=text)
        if c.op in ("has", "lacks"):
            assert c.value is not None and t.elem is not None
            if c.value.kind == "name" and c.value.text in self.m.codelists:
                return Constraint(c.feature, "has", neg, ref=c.value.text, text=text)
            return Constraint(c.feature, "has", neg, (self.cond_value(c.value, t.elem),), text=text)
        if c.op in ("in", "not in"):
            assert c.values is not None
            vs = c.values
            if vs.name is not None:
                return Constraint(c.feature, "codelist", neg, ref=vs.name, text=text)
            if vs.lo is not None:
                return Constraint(c.feature, "interval", neg, lo=Decimal(vs.lo), hi=Decimal(vs.hi or vs.lo), text=text)
            return Constraint(c.feature, "set", neg, tuple(self.cond_value(v, t) for v in vs.values), text=text)
        assert c.value is not None
        value = self.cond_value(c.value, t)
        if c.op in ("==", "!="):
            if t.kind == "bool":
                return Constraint(c.feature, "bool", False, (value if c.op == "==" else not value,), text=text)
            return Constraint(c.feature, "set", neg, (value,), text=text)
        n = Decimal(str(value))
        strict = c.op in ("<", ">")
        if t.kind == "int" and strict and n == n.to_integral_value():
            # Integer features use closed bounds: `< 5` is `..4`, `> 5` is `6..`.
            n, strict = (n - 1 if c.op == "<" else n + 1), False
        if c.op in ("<", "<="):
            return Constraint(c.feature, "interval", False, hi=n, hi_open=strict, text=text)
        return Constraint(c.feature, "interval", False, lo=n, lo_open=strict, text=text)

    def cond_value(self, v: ast.Value, t: Type) -> object:
        """A value of a condition as the feature's type reads it (a bare or quoted value of a code or text
        feature is the code or text itself)."""
        if t.kind == "code":
            return self.norm(t.ref, v.text)
        if t.kind == "text":
            return v.text
        if v.kind == "number":
            return int(v.text) if t.kind == "int" and "." not in v.text else Decimal(v.text)
        if v.kind == "name" and t.kind == "bool":
            return v.text == "true"
        return v.text

    def payment(self, p: ast.Payment) -> Payment:
        provenance: dict[str, str | None] = {}
        if p.unit_price_provenance is not None:
            provenance["unit_price"] = p.unit_price_provenance.source
        for kind, items in (("share", p.shares), ("price", p.prices)):
            for s in items:
                if s.provenance is not None:
                    provenance[f"{kind}:{s.member}"] = s.provenance.source
        return Payment(Decimal(p.unit_price) if p.unit_price else None, p.share_attr,
                       {s.member: Decimal(s.value) for s in p.shares}, p.stay_attr, p.price_attr,
                       {s.member: Decimal(s.value) for s in p.prices}, provenance)


def _dnf(c: ast.Condition | None) -> list[list[ast.Cond]]:
    """A rule's condition as alternatives of atoms: ``and`` multiplied out over ``or``, in source order
    (the checker bounds how many there are)."""
    if c is None:
        return [[]]
    if isinstance(c, ast.Cond):
        return [[c]]
    if isinstance(c, ast.AnyOf):
        return [alt for item in c.items for alt in _dnf(item)]
    out: list[list[ast.Cond]] = [[]]
    for item in c.items:
        out = [a + b for a in out for b in _dnf(item)]
    return out
