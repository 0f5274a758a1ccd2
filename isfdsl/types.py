"""Types of the .isf language, shared by the checker, the IR and the emitters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

#: The kinds of type (see :class:`Type`); a ``Literal``, so that mypy checks every comparison with one.
TypeKind = Literal["int", "decimal", "text", "bool", "date", "code", "pair", "enum", "list", "row", "absent",
                   "codelist", "table"]
TYPE_KINDS: frozenset[str] = frozenset(get_args(TypeKind))

#: The languages of the user guide's own words, which a version header may declare (``language nb``); the
#: first is the default of a version that declares none.
LANGUAGES = ("nb", "en")


@dataclass(frozen=True, slots=True)
class Type:
    """A checked type. ``kind`` is one of ``int decimal text bool date code pair enum list row
    absent codelist table``; ``ref`` names the code system, enumeration or table; ``elem`` is a list's
    element type; ``lo``/``hi`` bound an integer."""

    kind: TypeKind
    ref: str | None = None
    elem: Type | None = None
    lo: int | None = None
    hi: int | None = None

    def __str__(self) -> str:
        if self.kind == "list":
            return f"list {self.elem}"
        if self.kind in ("code", "pair", "codelist", "table", "row"):
            return f"{self.kind} {self.ref}"
        if self.kind == "enum":
            return str(self.ref)
        if self.kind == "int" and (self.lo is not None or self.hi is not None):
            return f"int {'' if self.lo is None else self.lo}..{'' if self.hi is None else self.hi}"
        return self.kind

    def plain(self) -> Type:
        """The type without integer bounds (for compatibility tests)."""
        if self.kind == "int":
            return INT
        if self.kind == "list" and self.elem is not None:
            return Type("list", elem=self.elem.plain())
        return self


INT = Type("int")
DECIMAL = Type("decimal")
TEXT = Type("text")
BOOL = Type("bool")
DATE = Type("date")
ABSENT = Type("absent")
NUMERIC = ("int", "decimal")
STRINGLIKE = ("text", "code", "enum")


def list_of(t: Type) -> Type:
    return Type("list", elem=t)


def compatible(a: Type, b: Type) -> bool:
    """Whether values of ``a`` and ``b`` can be compared or mixed (``absent`` fits every type)."""
    if a.kind == "absent" or b.kind == "absent":
        return True
    if a.kind in NUMERIC and b.kind in NUMERIC:
        return True
    if a.kind == "list" and b.kind == "list":
        assert a.elem is not None and b.elem is not None
        return compatible(a.elem, b.elem)
    return a.plain() == b.plain()


def unify(a: Type, b: Type) -> Type:
    """The common type of two compatible types (decimal over int, the non-absent side)."""
    if a.kind == "absent":
        return b
    if b.kind == "absent":
        return a
    if a.kind in NUMERIC and b.kind in NUMERIC:
        return DECIMAL if "decimal" in (a.kind, b.kind) else INT
    if a.kind == "list" and b.kind == "list":
        assert a.elem is not None and b.elem is not None
        return list_of(unify(a.elem, b.elem))
    return a.plain()
