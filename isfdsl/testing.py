"""Test data: Hypothesis strategies for episodes, derived from a program's own declarations.

Attribute domains (integer bounds, enumeration members), codes from the code lists and code tables
of each code system (exact codes, codes under a prefix, range bounds, written with and without the
ignored characters), plus invalid and missing values, so that properties cover the error paths too.
Hypothesis is imported here, so this module is for tests and tools, not for the compiler.
"""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import strategies as st

from . import ir
from .types import Type

#: Values no attribute accepts as anything but text.
JUNK = st.sampled_from(["", " ", "?", "abc", "-1", "1e9", "NaN", "∞", "null", "\x00", "'; DROP TABLE x", "9" * 30])


def codes_of(program: ir.Program, system: str) -> list[str]:
    """The codes a program mentions for a code system, sorted: code lists' codes, prefixes and range
    bounds, and code table keys."""
    found: set[str] = set()
    for cs in program.codesets.values():
        if cs.system == system:
            found |= cs.codes
            found.update(cs.prefixes)
            found.update(x for r in cs.ranges for x in r)
    for t in program.tables.values():
        if t.key_system == system:
            found.update(t.rows)
            found.update(s for rows in t.rows.values() for s, _ in rows if s is not None)
    return sorted(found)


def code_values(program: ir.Program, system: str, ignore: str = "") -> st.SearchStrategy[str]:
    """Codes of ``system`` as a user might write them: known codes, known prefixes extended, the same
    with an ignored character inside or in lower case, and arbitrary code-like text."""
    known = codes_of(program, system)
    pieces: list[st.SearchStrategy[str]] = [st.from_regex(r"[A-Z][0-9A-Z]{1,6}", fullmatch=True)]
    if known:
        base = st.sampled_from(known)
        pieces.append(base)
        pieces.append(st.builds(lambda c, tail: c + tail, base, st.sampled_from(["0", "1", "9", "X", "00"])))
        if ignore:
            pieces.append(base.map(lambda c: c[:3] + ignore[0] + c[3:] if len(c) > 3 else c))
        pieces.append(base.map(str.lower))
    return st.one_of(*pieces)


def attribute_values(program: ir.Program, attr: ir.Attribute, t: Type | None = None) -> st.SearchStrategy[object]:
    """Valid values of an attribute (as text or native values) and some invalid ones."""
    t = t or attr.type
    kind = t.kind
    if kind == "list":
        assert t.elem is not None
        elem = attribute_values(program, attr, t.elem)
        return st.one_of(st.lists(elem, max_size=6),
                         st.lists(elem.map(str), max_size=4).map(" ".join))
    if kind == "int":
        lo = t.lo if t.lo is not None else -1000
        hi = t.hi if t.hi is not None else 100000
        n = st.integers(lo, hi)
        return st.one_of(n, n.map(str), st.integers(hi + 1, hi + 1000), JUNK, st.booleans())
    if kind == "decimal":
        d = st.decimals(-1000, 1000, allow_nan=False, places=3)
        return st.one_of(d, d.map(str), JUNK)
    if kind == "bool":
        return st.one_of(st.booleans(), st.sampled_from(["1", "0", "ja", "nei", "true", "false"]), JUNK)
    if kind == "enum":
        members = sorted(attr.members)
        return st.one_of(st.sampled_from(members), JUNK) if members else JUNK
    if kind in ("code", "pair"):
        code = code_values(program, t.ref or "", attr.ignore)
        if kind == "code":
            return st.one_of(code, code, JUNK)
        return st.one_of(code, st.tuples(code, st.one_of(st.none(), code)),
                         st.builds(lambda a, b: f"{a}|{b}", code, code), st.builds(lambda a, b: f"|{b}", code, code))
    return st.one_of(st.text(max_size=12), JUNK)


def episodes(program: ir.Program) -> st.SearchStrategy[Mapping[str, object]]:
    """Episodes over the program's attributes: each attribute valid, invalid or missing."""
    return st.fixed_dictionaries(
        {},
        optional={a.name: st.one_of(st.none(), attribute_values(program, a)) for a in program.attributes},
    )
