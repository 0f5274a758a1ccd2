"""The closed set of built-in functions of the derivation language: names, arity and meaning.

Each entry's type rule lives in :mod:`isfdsl.check.checker`, its evaluation in :mod:`isfdsl.interpret` and its
code generation in :mod:`isfdsl.emit.expr`; tests keep the four tables in step. Every function is
total: an absent argument gives an absent (or empty, or false) result, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Builtin:
    name: str
    min_args: int
    max_args: int | None
    signature: str
    doc: str


BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in (
        Builtin("lookup", 2, 2, "lookup(table, x) -> list V",
                "Values of `table` for `x`: a code, a pair, text, or a list of these. A pair (a, b) "
                "yields the plain rows of a, then the rows of b that are plain or the combination a & b, "
                "in table order; a list yields the union over its elements in order."),
        Builtin("combo", 2, 2, "combo(table, pair) -> list V",
                "Values of the combination rows `first & second` of `table` for the pair only."),
        Builtin("first", 1, 1, "first(list T) -> T", "The first element, or absent for an empty list."),
        Builtin("coalesce", 1, None, "coalesce(T, T, …) -> T", "The first argument that is present."),
        Builtin("text", 1, 1, "text(x) -> text", "A code, enumeration member or number as text."),
        Builtin("prefix", 2, 2, "prefix(s, n) -> text", "The first `n` characters of `s`."),
        Builtin("substr", 2, 3, "substr(s, start, end?) -> text",
                "Characters `start` (from 0) up to `end` (exclusive; the end of `s` if omitted)."),
        Builtin("char", 2, 2, "char(s, i) -> text", "The character at position `i` (from 0), or absent."),
        Builtin("starts_with", 2, 2, "starts_with(s, p) -> bool", "Whether `s` starts with `p`."),
        Builtin("replace_prefix", 3, 3, "replace_prefix(s, old, new) -> text",
                "`s` with a leading `old` replaced by `new`; `s` unchanged otherwise."),
        Builtin("count", 1, 1, "count(list) -> int", "The number of elements."),
        Builtin("max", 2, 2, "max(list N, default N) -> N", "The largest element, or `default` if empty."),
        Builtin("min", 2, 2, "min(list N, default N) -> N", "The smallest element, or `default` if empty."),
        Builtin("union", 1, None, "union(list T, …) -> list T",
                "The elements of every list, each once, in order of first appearance."),
        Builtin("intersect", 2, 2, "intersect(list T, list T) -> list T",
                "The elements of the first list that are also in the second."),
        Builtin("minus", 2, 2, "minus(list T, list T) -> list T",
                "The elements of the first list that are not in the second."),
        Builtin("codes", 1, 1, "codes(pair | list pair) -> list code",
                "The present codes of a pair (first, then second), or of each pair of a list."),
        Builtin("entries", 1, 1, "entries(table) -> list row",
                "Every plain row of `table` as a `row` with fields `key` and `value`, keys in order of "
                "first appearance (combination rows are left out)."),
    )
}
