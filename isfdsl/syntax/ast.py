"""AST: frozen, typed syntax nodes with source spans; nothing downstream of the parser sees Lark trees."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal as Lit

from isfdsl.diagnostics import Span

# The closed sets of words the grammar allows in a node's ``kind``/``op`` fields, as ``Literal`` types:
# mypy checks every construction and every ``==`` against them (the parser's tokens are these words).
ScalarName = Lit["decimal", "text", "bool", "date"]
LiteralKind = Lit["string", "number", "bool", "absent", "name", "code"]
QuantKind = Lit["any", "all", "none", "find"]
BinaryOp = Lit["and", "or", "+", "==", "!=", "<", "<=", ">", ">=", "in", "not in"]
UnaryOp = Lit["not", "present", "absent"]
EntryKind = Lit["code", "range", "prefix"]
ValueKind = Lit["string", "number", "name", "code"]
CondOp = Lit["==", "!=", "<", "<=", ">", ">=", "in", "not in", "has", "lacks", "present", "absent", "true", "false"]
Policy = Lit["first", "unique"]
Over = Lit["episode", "pathway"]

# --------------------------------------------------------------------------- types


@dataclass(frozen=True, slots=True)
class IntType:
    """``int`` with an optional inclusive range ``lo..hi`` (``hi`` None: unbounded above)."""

    span: Span
    lo: int | None = None
    hi: int | None = None


@dataclass(frozen=True, slots=True)
class ScalarType:
    """One of ``decimal``, ``text``, ``bool``, ``date`` (``name``)."""

    span: Span
    name: ScalarName


@dataclass(frozen=True, slots=True)
class CodeType:
    """``code S`` (one code of system ``system``) or, with ``pair`` set, ``pair S``: an ordered
    (first, second) pair such as a dagger/asterisk diagnosis."""

    span: Span
    system: str
    pair: bool = False


@dataclass(frozen=True, slots=True)
class ListType:
    """``list T``: an ordered list of ``element`` values."""

    span: Span
    element: TypeExpr


@dataclass(frozen=True, slots=True)
class NamedType:
    """A type named by a declaration: an enumeration."""

    span: Span
    name: str


TypeExpr = IntType | ScalarType | CodeType | ListType | NamedType

# --------------------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Name:
    """A reference to an attribute, derived attribute, table, code list, enum member or local."""

    span: Span
    name: str


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant: ``kind`` is ``string``, ``number``, ``bool``, ``absent``, ``name`` (an enumeration
    member, as a default) or ``code`` (a code written bare that is no name, such as ``O80.1`` or
    ``802U``); ``value`` its text."""

    span: Span
    kind: LiteralKind
    value: str


@dataclass(frozen=True, slots=True)
class Call:
    """A call of a built-in function ``func`` (the closed set in :mod:`isfdsl.check.builtins`)."""

    span: Span
    func: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Quant:
    """``any|all|none|find(var in source where cond)``."""

    span: Span
    kind: QuantKind
    var: str
    source: Expr
    cond: Expr


@dataclass(frozen=True, slots=True)
class ListExpr:
    """A list literal ``[a, b]`` or, with ``braces``, a set literal ``{a, b}`` (the same value: a set is
    what ``in`` tests against; ``[a, b]`` there is the deprecated spelling)."""

    span: Span
    items: tuple[Expr, ...]
    braces: bool = False


@dataclass(frozen=True, slots=True)
class Comprehension:
    """``[expr for var in source where cond]`` (``cond`` optional): map and filter over a list."""

    span: Span
    expr: Expr
    var: str
    source: Expr
    cond: Expr | None


@dataclass(frozen=True, slots=True)
class If:
    """``if cond then a else b``."""

    span: Span
    cond: Expr
    then: Expr
    other: Expr


@dataclass(frozen=True, slots=True)
class ClassifyArm:
    """``LIST -> value`` in a ``classify``: the value for a code in the code list ``codelist``."""

    span: Span
    codelist: str
    value: Expr


@dataclass(frozen=True, slots=True)
class Classify:
    """``classify subject by { LIST -> value … } else other``: the value of the first arm whose code list
    holds the code ``subject``, else ``other`` (total by construction; lowered to an ``if`` chain)."""

    span: Span
    subject: Expr
    arms: tuple[ClassifyArm, ...]
    other: Expr


@dataclass(frozen=True, slots=True)
class Binary:
    """A binary operator: ``and``, ``or``, ``+``, a comparison, ``in`` or ``not in``."""

    span: Span
    op: BinaryOp
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Unary:
    """``not x`` (``op`` = ``not``), ``x is present`` (``present``) or ``x is absent`` (``absent``)."""

    span: Span
    op: UnaryOp
    operand: Expr


@dataclass(frozen=True, slots=True)
class Field:
    """``x.name``: a component of a pair (``first``, ``second``) or of a table row (``key``, ``value``)."""

    span: Span
    operand: Expr
    name: str


Expr = Name | Literal | Call | Quant | ListExpr | Comprehension | If | Classify | Binary | Unary | Field

# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True)
class Version:
    """The version header: ``version SYSTEM YEAR "LABEL" valid FROM .. TO by ATTR language LANG``; ``dated_by``
    names the episode attribute (a date) that picks this version when several are built into one package;
    ``language`` the language of the user guide's own words (``nb`` or ``en``), when declared."""

    span: Span
    system: str
    year: int
    label: str
    valid_from: str | None = None
    valid_to: str | None = None
    dated_by: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Import:
    """``import "path"``, relative to the importing file."""

    span: Span
    path: str


@dataclass(frozen=True, slots=True)
class CodeSystem:
    """A code system; ``syntax`` is a regular expression every code must match after characters in
    ``ignore`` are removed and letters upper-cased (unless ``case_sensitive``)."""

    span: Span
    name: str
    title: str | None = None
    syntax: str | None = None
    ignore: str = ""
    case_sensitive: bool = False


@dataclass(frozen=True, slots=True)
class EnumMember:
    span: Span
    name: str
    value: str
    label: str | None = None


@dataclass(frozen=True, slots=True)
class EnumDecl:
    """An enumeration: members with the input value that selects them and a label."""

    span: Span
    name: str
    title: str | None
    members: tuple[EnumMember, ...]


@dataclass(frozen=True, slots=True)
class Attr:
    """An episode attribute: name, type, label and an optional default used when it is missing."""

    span: Span
    name: str
    type: TypeExpr
    label: str | None = None
    default: Literal | None = None


@dataclass(frozen=True, slots=True)
class Episode:
    """The episode schema: the attributes a grouper reads."""

    span: Span
    attrs: tuple[Attr, ...]


@dataclass(frozen=True, slots=True)
class PathwayAttr:
    """A pathway attribute: given with the pathway (``members`` None) or gathered from the member
    episodes: ``members`` is an episode attribute's name, ``group`` (their groups) or ``count``."""

    span: Span
    name: str
    type: TypeExpr
    label: str | None = None
    default: Literal | None = None
    members: str | None = None


@dataclass(frozen=True, slots=True)
class Pathway:
    """The pathway schema: what a pathway decision table (``over pathway``) reads."""

    span: Span
    title: str | None
    attrs: tuple[PathwayAttr, ...]


@dataclass(frozen=True, slots=True)
class CodeEntry:
    """One code-list entry: ``kind`` is ``code``, ``range`` (``lo``-``hi``) or ``prefix`` (``lo*``)."""

    span: Span
    kind: EntryKind
    lo: str
    hi: str | None = None
    description: str | None = None

    @property
    def text(self) -> str:
        return {"code": self.lo, "prefix": f"{self.lo}*", "range": f"{self.lo}-{self.hi}"}[self.kind]


@dataclass(frozen=True, slots=True)
class CodeList:
    """A named list of codes of one code system."""

    span: Span
    name: str
    system: str
    title: str | None
    entries: tuple[CodeEntry, ...]


@dataclass(frozen=True, slots=True)
class TableRow:
    """A code-table row: ``key`` (or the combination ``key & second``) maps to ``values``."""

    span: Span
    key: str
    second: str | None
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A code table (code property): key of code system ``key_system`` (None: text keys) to values
    of ``value_type``; many-to-many, rows inline or in a TSV ``source`` file."""

    span: Span
    name: str
    key_system: str | None
    value_type: TypeExpr
    title: str | None
    rows: tuple[TableRow, ...] = ()
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Derive:
    """A derived attribute: ``derive name: type "title" = expr``."""

    span: Span
    name: str
    type: TypeExpr
    title: str | None
    expr: Expr


@dataclass(frozen=True, slots=True)
class Group:
    """A catalogue entry: code, name, points, trim point (days), per-day points, parent, flags."""

    span: Span
    code: str
    name: str
    points: str | None = None
    trim: int | None = None
    perday: str | None = None
    parent: str | None = None
    flags: tuple[str, ...] = ()
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Catalogue:
    """A group catalogue (one group system such as DRG, STG or TFG)."""

    span: Span
    name: str
    title: str | None
    groups: tuple[Group, ...]


@dataclass(frozen=True, slots=True)
class Value:
    """A value in a rule condition: ``kind`` is ``string`` (quoted), ``number``, ``name`` or ``code`` (a
    bare code that is no name: ``O80.1``, ``802U``, or a pattern ``H35*``, ``C81-C88``). A bare value
    means what the feature's type says: a code, an enumeration member, a code list (after ``has``), text."""

    span: Span
    kind: ValueKind
    text: str


@dataclass(frozen=True, slots=True)
class ValueSet:
    """The right side of ``in``: a set literal (``values``), a named code list or enumeration
    (``name``), or an integer interval ``lo..hi``."""

    span: Span
    values: tuple[Value, ...] = ()
    name: str | None = None
    lo: str | None = None
    hi: str | None = None


@dataclass(frozen=True, slots=True)
class Cond:
    """One atom of a rule condition over one feature. ``op`` is a comparison (``==`` …), ``in``,
    ``not in``, ``has``, ``lacks``, ``present``, ``absent``, ``true`` or ``false``."""

    span: Span
    feature: str
    op: CondOp
    value: Value | None = None
    values: ValueSet | None = None


@dataclass(frozen=True, slots=True)
class AllOf:
    """Conditions joined by ``and`` (``items``: two or more)."""

    span: Span
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Conditions joined by ``or`` (``items``: two or more)."""

    span: Span
    items: tuple[Condition, ...]


#: A rule's condition: one atom, or atoms joined by ``and`` and ``or`` (``and`` binds tighter).
Condition = Cond | AllOf | AnyOf


def atoms(c: Condition | None) -> tuple[Cond, ...]:
    """Every atom of a condition, in source order."""
    if c is None:
        return ()
    if isinstance(c, Cond):
        return (c,)
    return tuple(a for item in c.items for a in atoms(item))


@dataclass(frozen=True, slots=True)
class Rule:
    """A decision-table row: stable ``id``, its condition ``when`` (None: always), and the outputs.
    A rule with ``or`` is still one rule: one id, one result."""

    span: Span
    id: str
    title: str | None
    when: Condition | None
    group: str | None
    rc: str | None = None
    out_span: Span | None = field(default=None, compare=False)

    @property
    def conds(self) -> tuple[Cond, ...]:
        """Every atom of the condition, in source order."""
        return atoms(self.when)


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision table over catalogue ``catalogue`` with hit policy ``first`` or ``unique``."""

    span: Span
    name: str
    title: str | None
    catalogue: str
    policy: Policy
    rules: tuple[Rule, ...]
    fallback: str | None = None
    fallback_rc: str | None = None
    post: tuple[Rule, ...] = ()
    #: The table whose result stands when no row matches (instead of a fallback group).
    otherwise: str | None = None
    #: ``episode`` or ``pathway``: what the table's rows test.
    over: Over = "episode"


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a number comes from: a public ``source``, or ``illustrative`` (not confirmed)."""

    span: Span
    source: str | None = None

    @property
    def illustrative(self) -> bool:
        return self.source is None


@dataclass(frozen=True, slots=True)
class Share:
    span: Span
    member: str
    value: str
    provenance: Provenance | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    """Payment parameters: unit price, ISF share by the members of an enumerated attribute, and
    the attribute holding the length of stay used with trim points."""

    span: Span
    title: str | None
    unit_price: str | None = None
    unit_price_provenance: Provenance | None = None
    share_attr: str | None = None
    shares: tuple[Share, ...] = ()
    stay_attr: str | None = None
    #: Unit prices per member of an enumerated attribute (instead of, or refining, one unit price).
    price_attr: str | None = None
    prices: tuple[Share, ...] = ()


Decl = (
    Version | Import | CodeSystem | EnumDecl | Episode | Pathway | CodeList | Table | Derive | Catalogue
    | Decision | Payment
)


@dataclass(frozen=True, slots=True)
class Comment:
    span: Span
    text: str


@dataclass(frozen=True, slots=True)
class Module:
    """One parsed ``.isf`` file: its declarations in order and its comments."""

    path: str
    items: tuple[Decl, ...]
    comments: tuple[Comment, ...] = field(default=())
