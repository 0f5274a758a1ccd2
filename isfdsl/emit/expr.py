"""Emit: IR expressions as Python source — literals (sorted, so output is byte-identical under any
hash seed), comments, type annotations, and the expression writer with one writer per operation
(:data:`WRITERS`, :data:`LOOP_WRITERS`). Used by :mod:`isfdsl.emit.python` for the derivations of a
generated package.

One piece (about 610 lines): the writers are a table keyed by every IR operation, checked complete
against the operation type; split across modules, a missing writer would be found at run time rather
than by that one check, and the literal helpers are what every writer calls.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from isfdsl.ir import model as ir
from isfdsl.types import Type

# ---------------------------------------------------------------------- literals and comments


def py(value: object) -> str:
    """A Python literal for ``value``, deterministic under any hash seed (sets are sorted)."""
    if isinstance(value, Decimal):
        text = str(value)
        return f"Decimal({text})" if re.fullmatch(r"-?\d+", text) else f"Decimal({text!r})"
    if isinstance(value, (frozenset, set)):
        items = sorted(value, key=_order)
        return f"frozenset({{{', '.join(py(x) for x in items)}}})" if items else "frozenset()"
    if isinstance(value, tuple):
        if len(value) == 1:
            return f"({py(value[0])},)"
        return f"({', '.join(py(x) for x in value)})"
    if isinstance(value, list):
        return f"[{', '.join(py(x) for x in value)}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py(k)}: {py(v)}" for k, v in value.items()) + "}"
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    raise TypeError(f"no Python literal for {type(value).__name__}")


def py_lines(value: dict[object, object] | tuple[object, ...] | list[object], inline: int = 80) -> str:
    """:func:`py` of a dictionary, tuple or list, but one entry per line (indented four spaces, each
    followed by a comma) when the literal is longer than ``inline`` characters: a long table in a
    generated module reads as a column."""
    text = py(value)
    if len(text) <= inline or not value:
        return text
    if isinstance(value, dict):
        entries, opening, closing = [f"{py(k)}: {py(v)}" for k, v in value.items()], "{", "}"
    else:
        entries = [py(x) for x in value]
        opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
    return opening + "".join(f"\n    {e}," for e in entries) + "\n" + closing


def bare(code: str) -> str:
    """``code`` without parentheses around the whole of it (unless they make a tuple, or hold several
    lines: those need them)."""
    if not (code.startswith("(") and code.endswith(")")) or "\n" in code:
        return code
    depth, quote, k = 0, "", 0
    while k < len(code):
        ch = code[k]
        if quote:
            if ch == "\\":
                k += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0 and k != len(code) - 1:
                return code  # the first parenthesis closes early: `(a) and (b)`
        elif ch == "," and depth == 1:
            return code  # a tuple
        k += 1
    return code[1:-1]


def _order(x: object) -> tuple[str, str]:
    return (type(x).__name__, repr(x))


def wrap(items: list[str], indent: int, width: int = 100) -> str:
    """Items joined by commas, wrapped onto lines of about ``width`` characters."""
    lines, line = [], ""
    for item in items:
        if line and len(line) + len(item) + 2 > width:
            lines.append(line + ",")
            line = item
        else:
            line = f"{line}, {item}" if line else item
    lines.append(line + ("," if lines else ""))
    pad = " " * indent
    return ("\n" + pad).join(lines)


def prose(text: str) -> str:
    """Text from the definitions (or a folder's name) made inert wherever generated Python holds text
    that is not a literal — a ``#`` comment or a docstring: control, separator and surrogate characters
    are escaped (a newline would end a comment), backslashes are doubled (``\\N``, ``\\x`` would be
    escapes in a docstring) and a quote next to another quote or at the end is escaped (so no run of
    quotes can close a docstring). Literals are :func:`py`'s; every other text goes through here."""
    out = []
    for k, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"' and (k + 1 == len(text) or text[k + 1] == '"' or (k and text[k - 1] == '"')):
            out.append('\\"')
        elif ch != " " and unicodedata.category(ch)[0] in "CZ":
            out.append(ch.encode("unicode_escape", "backslashreplace").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


# ---------------------------------------------------------------------- types


def pytype(t: Type, nonnull: bool = False, tables: dict[str, ir.CodeTable] | None = None) -> str:
    """The Python annotation of a value of ``t`` in generated code (lists are tuples, never None)."""
    kind = t.kind
    if kind == "list":
        return f"tuple[{pytype(t.elem or Type('absent'), True, tables)}, ...]"
    base = {"int": "int", "decimal": "int | Decimal", "text": "str", "code": "str", "enum": "str", "date": "str",
            "bool": "bool", "pair": "tuple[str, str | None]"}.get(kind)
    if kind == "row":
        table = (tables or {}).get(t.ref or "")
        value = pytype(table.value_type, True, tables) if table else "object"
        base = f"tuple[str, {value}]"
    if base is None:
        return "None"
    return base if nonnull else f"{base} | None"


# ---------------------------------------------------------------------- expressions

STRICT_BOOL = {"and", "or", "not", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "present", "absent", "starts_with"}
_SIMPLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?|-?\d+|'[^'\\]*'|None|True|False")
_FIELDS = {"first": 0, "key": 0, "second": 1, "value": 1}


@dataclass(slots=True)
class Names:
    """Python names for the program's things."""

    attrs: dict[str, str]
    features: dict[str, str]
    codesets: dict[str, str]
    tables: dict[str, str]


class ExprWriter:
    """Writes an IR expression as one Python expression over the case's local variables."""

    def __init__(self, program: ir.Program, names: Names) -> None:
        self.p = program
        self.names = names
        self.nonnull_features: set[str] = set()
        #: the list features whose elements are each once (see ``distinct``)
        self.distinct_features: set[str] = set()

    def write(self, e: ir.Expr) -> str:
        if isinstance(e, ir.Const):
            return "()" if e.value is None and e.type.kind == "list" else py(e.value)
        if isinstance(e, ir.Ref):
            return self._ref(e)
        if isinstance(e, ir.Loop):
            return LOOP_WRITERS[e.kind](self, e)
        return WRITERS[e.op](self, e)

    def _ref(self, e: ir.Ref) -> str:
        if e.scope == "local":
            return f"l_{e.name}"
        space = {"attr": self.names.attrs, "feature": self.names.features, "codelist": self.names.codesets,
                 "table": self.names.tables}[e.scope]
        return space[e.name]

    # -- facts about an expression
    def nonnull(self, e: ir.Expr) -> bool:
        """Whether ``e`` can never be absent."""
        if e.type.kind == "list":
            return True
        if isinstance(e, ir.Const):
            return e.value is not None
        if isinstance(e, ir.Ref):
            if e.scope == "local" or e.scope in ("codelist", "table"):
                return True
            if e.scope == "feature":
                return e.name in self.nonnull_features
            attr = next(a for a in self.p.attributes if a.name == e.name)
            return attr.default is not None
        if isinstance(e, ir.Loop):
            return e.kind in ("any", "all", "none", "map")
        if e.op in STRICT_BOOL or e.op in ("count",):
            return True
        if e.op == "field" and e.field in ("first", "key"):
            return self.nonnull(e.args[0])
        if e.op == "if":
            return self.nonnull(e.args[1]) and self.nonnull(e.args[2])
        if e.op in ("prefix", "substr"):  # of present text, with constant positions
            return (_is_str(e.args[0]) and self.nonnull(e.args[0])
                    and all(isinstance(a, ir.Const) and isinstance(a.value, int) for a in e.args[1:]))
        return False

    def distinct(self, e: ir.Expr) -> bool:
        """Whether the list ``e`` holds each element once: a look-up (a key's values each once, several
        keys' unioned), a union, intersection or difference, the empty list, or a feature that is one
        of those. ``union``, ``minus`` and loops over such a list then take shortcuts when the other
        lists are empty (nothing to remove repeats from)."""
        if isinstance(e, ir.Const):
            return e.value is None or e.value == ()
        if isinstance(e, ir.Ref):
            return e.scope == "feature" and e.name in self.distinct_features
        if isinstance(e, ir.Apply):
            if e.op in ("lookup", "combo", "union", "intersect", "minus"):
                return e.type.kind == "list"
            if e.op == "if":
                return self.distinct(e.args[1]) and self.distinct(e.args[2])
        return False

    def strict(self, e: ir.Expr) -> bool:
        """Whether ``e`` is exactly True or False."""
        return e.type.kind == "bool" and self.nonnull(e)

    def test(self, e: ir.Expr) -> str:
        """``e`` as a condition: absent counts as false."""
        code = self.write(e)
        return code if self.strict(e) else f"({code} is True)"

    def simple(self, code: str) -> bool:
        return _SIMPLE.fullmatch(code) is not None

    def args(self, e: ir.Apply) -> list[str]:
        return [self.write(a) for a in e.args]

    def arg(self, e: ir.Expr) -> str:
        """``e`` as a call argument or a generator's element (no needless parentheses)."""
        return bare(self.write(e))


def _logic(op: str) -> Callable[[ExprWriter, ir.Apply], str]:
    """A writer of ``and`` or ``or``: a chain of the same operator flat, ``(a or b or c)``, whatever way it
    nests (the operands are strict booleans, so the grouping does not matter)."""
    def write(w: ExprWriter, e: ir.Apply) -> str:
        terms: list[ir.Expr] = []
        stack: list[ir.Expr] = [e]
        while stack:
            x = stack.pop()
            if isinstance(x, ir.Apply) and x.op == op:
                stack.extend(reversed(x.args))
            else:
                terms.append(x)
        return "(" + f" {op} ".join(w.test(t) for t in terms) + ")"
    return write


def _not(w: ExprWriter, e: ir.Apply) -> str:
    inner = e.args[0]
    return f"(not {w.write(inner)})" if w.strict(inner) else f"({w.write(inner)} is not True)"


_HELPERS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


def _compare(w: ExprWriter, e: ir.Apply) -> str:
    a, b = w.args(e)
    if e.op == "==" and (w.nonnull(e.args[0]) or w.nonnull(e.args[1])):
        return f"({a} == {b})"  # an absent side is unequal to a present one
    if w.nonnull(e.args[1]) and w.simple(a) and w.simple(b):
        return f"({a} is not None and {a} {e.op} {b})"
    if w.nonnull(e.args[0]) and w.simple(a) and w.simple(b):
        return f"({b} is not None and {a} {e.op} {b})"
    return f"R.{_HELPERS[e.op]}({bare(a)}, {bare(b)})"


def _membership(w: ExprWriter, e: ir.Apply) -> str:
    a, xs = w.args(e)
    if e.op == "in":
        return f"({a} in {xs})"  # code lists and lists never hold an absent value
    if w.nonnull(e.args[0]):
        return f"({a} not in {xs})"
    return f"({a} is not None and {a} not in {xs})" if w.simple(a) else f"R.not_in({bare(a)}, {bare(xs)})"


def _presence(w: ExprWriter, e: ir.Apply) -> str:
    a = w.write(e.args[0])
    if e.args[0].type.kind == "list":
        return f"(len({a}) {'>' if e.op == 'present' else '=='} 0)"
    return f"({a} {'is not' if e.op == 'present' else 'is'} None)"


def _if(w: ExprWriter, e: ir.Apply) -> str:
    """``if`` as a conditional expression; a chain (``else if …``) as one flat chain, laid out one branch
    per line when it has more than two branches or is long (a chain of code-list tests per MDC)."""
    branches: list[tuple[str, str]] = []
    other: ir.Expr = e
    while isinstance(other, ir.Apply) and other.op == "if":
        cond, then, other = other.args
        branches.append((w.write(then), w.test(cond)))
    last = w.write(other)
    one_line = "(" + " else ".join(f"{then} if {cond}" for then, cond in branches) + f" else {last})"
    if len(branches) <= 2 and len(one_line) <= CHAIN_WIDTH and "\n" not in one_line:
        return one_line
    lines = [f"{'else ' if k else ''}{then} if {cond}" for k, (then, cond) in enumerate(branches)]
    return "(\n" + "".join(f"    {line}\n" for line in [*lines, f"else {last}"]) + ")"


#: The longest conditional chain written on one line.
CHAIN_WIDTH = 100


def _list(w: ExprWriter, e: ir.Apply) -> str:
    items = w.args(e)
    if not items:
        return "()"
    if all(w.nonnull(x) for x in e.args):
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    return f"R.compact(({', '.join(items)},))"


def _field(w: ExprWriter, e: ir.Apply) -> str:
    assert e.field is not None
    i = _FIELDS[e.field]
    v = w.write(e.args[0])
    if w.nonnull(e.args[0]):
        return f"{v}[{i}]"
    return f"({v}[{i}] if {v} is not None else None)" if w.simple(v) else f"R.field({bare(v)}, {i})"


def _lookup(w: ExprWriter, e: ir.Apply) -> str:
    table, key = e.args
    t, k = w.write(table), w.arg(key)
    if not isinstance(table, ir.Ref) or table.scope != "table":
        raise ValueError("a table argument must name a table")
    if e.op == "combo":
        return f"{t}.combo({k})"
    kind = key.type.kind
    if kind == "list":
        elem = key.type.elem.kind if key.type.elem else "absent"
        if elem == "pair":
            return f"{t}.many_pairs({k})"
        return f"{t}.many_texts({k})" if elem in ("code", "text", "enum") else f"{t}.many({k})"
    if kind == "pair":
        return f"{t}.pair({k})"
    if kind in ("code", "text", "enum") and w.nonnull(key):  # a text: the dictionary directly
        return f"{t}.plain.get({k}, ())"
    return f"{t}.get({k})"


def _first(w: ExprWriter, e: ir.Apply) -> str:
    xs = w.write(e.args[0])
    return f"({xs}[0] if {xs} else None)" if w.simple(xs) else f"R.first({bare(xs)})"


def _coalesce(w: ExprWriter, e: ir.Apply) -> str:
    args = [a for a in e.args if not (isinstance(a, ir.Const) and a.value is None)]
    if not args:
        return "()" if e.type.kind == "list" else "None"
    codes = [w.write(a) for a in args]
    for k, a in enumerate(args):
        if w.nonnull(a):  # nothing after a value that is always present is ever used
            codes = codes[: k + 1]
            break
    if len(codes) == 1:
        return codes[0]
    if len(codes) == 2 and w.simple(codes[0]):
        return f"({codes[0]} if {codes[0]} is not None else {codes[1]})"
    return f"R.coalesce({', '.join(bare(c) for c in codes)})"


def _is_str(e: ir.Expr) -> bool:
    return e.type.kind in ("text", "code", "enum")


def _prefix(w: ExprWriter, e: ir.Apply) -> str:
    s, n = w.args(e)
    if _is_str(e.args[0]) and w.simple(s) and isinstance(e.args[1], ir.Const) and isinstance(e.args[1].value, int):
        return f"{s}[:{n}]" if w.nonnull(e.args[0]) else f"({s}[:{n}] if {s} is not None else None)"
    return f"R.substr({bare(s)}, 0, {n})"


def _substr(w: ExprWriter, e: ir.Apply) -> str:
    s, *pos = w.args(e)
    if w.nonnull(e) and w.simple(s):
        return f"{s}[{pos[0]}:{pos[1] if len(pos) > 1 else ''}]"
    return f"R.substr({', '.join(bare(a) for a in (s, *pos))})"


def _char(w: ExprWriter, e: ir.Apply) -> str:
    s, i = w.args(e)
    index = e.args[1]
    if _is_str(e.args[0]) and w.simple(s) and isinstance(index, ir.Const) and isinstance(index.value, int) and index.value >= 0:
        guard = f"len({s}) > {index.value}" if w.nonnull(e.args[0]) else f"{s} is not None and len({s}) > {index.value}"
        return f"({s}[{i}] if {guard} else None)"
    return f"R.char({bare(s)}, {bare(i)})"


def _starts_with(w: ExprWriter, e: ir.Apply) -> str:
    s, p = w.args(e)
    if _is_str(e.args[0]) and w.simple(s) and isinstance(e.args[1], ir.Const) and isinstance(e.args[1].value, str):
        return f"({s} is not None and {s}.startswith({p}))"
    return f"R.starts_with({bare(s)}, {p})"


def _call(helper: str) -> Callable[[ExprWriter, ir.Apply], str]:
    def write(w: ExprWriter, e: ir.Apply) -> str:
        return f"R.{helper}({', '.join(w.arg(a) for a in e.args)})"
    return write


def _union(w: ExprWriter, lists: tuple[ir.Expr, ...]) -> str:
    """The elements of several lists, each once, in order: one dictionary of keys at C speed (a list
    never holds an absent element, so there is none to leave out)."""
    if not lists:
        return "()"
    whole = "tuple(dict.fromkeys(" + _joined(w, lists) + "))"
    first, *rest = [w.arg(a) for a in lists]
    if rest and w.distinct(lists[0]) and all(map(w.simple, rest)):
        # the usual case of a union of properties from several sources: only the first has any
        return f"({first} if not ({' or '.join(rest)}) else {whole})"
    return whole


def _joined(w: ExprWriter, lists: tuple[ir.Expr, ...]) -> str:
    """One tuple of the elements of several lists, in order (``(*a, *b)``)."""
    parts = [code if w.simple(code) else f"({code})" for code in (w.arg(a) for a in lists)]
    return "(" + ", ".join(f"*{code}" for code in parts) + ("," if len(parts) == 1 else "") + ")"


def _extreme(w: ExprWriter, e: ir.Apply) -> str:
    """``max``/``min`` of a list (which never holds an absent element) with a default: the builtin. Of
    a ``union`` the lists are joined without removing repeats first (they do not change the answer)."""
    xs, default = e.args
    if isinstance(xs, ir.Apply) and xs.op == "union" and xs.args:
        items = _joined(w, xs.args)
    else:
        items = w.arg(xs)
    return f"{e.op}({items}, default={w.arg(default)})"


def _minus(w: ExprWriter, e: ir.Apply) -> str:
    """``minus(a, b)``: ``a`` itself when ``b`` is empty and ``a`` holds each element once."""
    a, b = (w.arg(x) for x in e.args)
    if w.distinct(e.args[0]) and w.simple(a) and w.simple(b):
        return f"(R.minus({a}, {b}) if {a} and {b} else {a})"
    return f"R.minus({a}, {b})"


def _replace_prefix(w: ExprWriter, e: ir.Apply) -> str:
    """``replace_prefix`` of a text by constant texts, inline (no call, no conversion to text)."""
    s, old, new = e.args
    code = w.write(s)
    if (_is_str(s) and w.simple(code) and isinstance(old, ir.Const) and isinstance(old.value, str)
            and isinstance(new, ir.Const) and isinstance(new.value, str)):
        test = f"{code}.startswith({py(old.value)})"
        if not w.nonnull(s):
            test = f"{code} is not None and {test}"
        return f"({py(new.value)} + {code}[{len(old.value)}:] if {test} else {code})"
    return _call("replace_prefix")(w, e)


def _codes(w: ExprWriter, e: ir.Apply) -> str:
    helper = "pairs_codes" if e.args[0].type.kind == "list" else "pair_codes"
    return f"R.{helper}({w.arg(e.args[0])})"


#: One writer per operator of :class:`isfdsl.ir.Apply` (the same keys as the interpreter's OPERATIONS).
WRITERS: dict[ir.Op, Callable[[ExprWriter, ir.Apply], str]] = {
    "and": _logic("and"),
    "or": _logic("or"),
    "not": _not,
    "==": _compare, "!=": _compare, "<": _compare, "<=": _compare, ">": _compare, ">=": _compare,
    "in": _membership,
    "not in": _membership,
    "present": _presence,
    "absent": _presence,
    "+": _call("plus"),
    "if": _if,
    "list": _list,
    "field": _field,
    "lookup": _lookup,
    "combo": _lookup,
    "first": _first,
    "coalesce": _coalesce,
    "text": _call("text"),
    "prefix": _prefix,
    "substr": _substr,
    "char": _char,
    "starts_with": _starts_with,
    "replace_prefix": _replace_prefix,
    "count": lambda w, e: f"len({w.write(e.args[0])})",
    "max": _extreme,
    "min": _extreme,
    "union": lambda w, e: _union(w, e.args),
    "intersect": _call("intersect"),
    "minus": lambda w, e: _minus(w, e),
    "codes": _codes,
    "entries": lambda w, e: f"{w.write(e.args[0])}.entries",
}


def _guarded(write: Callable[[ExprWriter, ir.Loop], str], empty: str) -> Callable[[ExprWriter, ir.Loop], str]:
    """A loop writer that skips the loop when its source (a feature or attribute read by name) is
    empty, or its condition requires ``x in L`` (a top-level conjunct; ``L`` a list read by name) and
    ``L`` is empty: no element can pass, the answer is ``empty`` — without making a generator, or
    stepping through the source (a table's entries, say) to find that out."""
    def guarded(w: ExprWriter, e: ir.Loop) -> str:
        code = write(w, e)
        needs = [w.write(c.args[1]) for c in _conjuncts(e.cond) if isinstance(c, ir.Apply) and c.op == "in"
                 and c.args[1].type.kind == "list" and isinstance(c.args[1], ir.Ref) and c.args[1].name != e.var]
        if (e.cond is not None or e.kind == "map") and isinstance(e.source, ir.Ref) and e.source.scope != "local" \
                and e.source.type.kind == "list":
            needs.insert(0, w.write(e.source))  # an empty list of features or attributes: no step at all
        if not needs:
            return code
        return f"({bare(code)} if {' and '.join(dict.fromkeys(needs))} else {empty})"
    return guarded


def _conjuncts(e: ir.Expr | None) -> list[ir.Expr]:
    if isinstance(e, ir.Apply) and e.op == "and":
        return [c for a in e.args for c in _conjuncts(a)]
    return [] if e is None else [e]


def _loop_parts(w: ExprWriter, e: ir.Loop) -> tuple[str, str]:
    """The loop variable and the source; each writer writes the condition once (writing it twice at
    every level would take time exponential in the depth of nested loops)."""
    return f"l_{e.var}", w.write(e.source)


def _where(w: ExprWriter, e: ir.Loop) -> str:
    return f" if {w.test(e.cond)}" if e.cond is not None else ""


def _shared(w: ExprWriter, e: ir.Loop) -> tuple[str, str] | None:
    """For ``any``/``none`` whose test is ``var in xs`` (``xs`` a list that does not read ``var``):
    the source as a set and ``xs``, so that the loop is one set test at C speed (``isdisjoint``)
    rather than a generator stepping through the source. A source looked up in a table by one key
    is the table's remembered set of that key's values (a table of exclusions: hundreds of codes per
    key, against a list of one or two). None when the loop is of another shape."""
    cond = e.cond
    if not (isinstance(cond, ir.Apply) and cond.op == "in"):
        return None
    x, xs = cond.args
    if not (isinstance(x, ir.Ref) and x.scope == "local" and x.name == e.var) or xs.type.kind != "list":
        return None
    if any(r.scope == "local" and r.name == e.var for r in ir.refs(xs)):
        return None
    source = e.source
    if (isinstance(source, ir.Apply) and source.op == "lookup" and isinstance(source.args[0], ir.Ref)
            and source.args[1].type.kind in ("code", "text", "enum")):
        return f"{w.write(source.args[0])}.values({w.arg(source.args[1])})", w.write(xs)
    return f"frozenset({w.arg(source)})", w.write(xs)


def _any(w: ExprWriter, e: ir.Loop) -> str:
    var, src = _loop_parts(w, e)
    if e.cond is None:
        return f"(len({src}) > 0)"
    shared = _shared(w, e)
    if shared is not None:
        return f"(not {shared[0]}.isdisjoint({bare(shared[1])}))"
    return f"any({bare(w.test(e.cond))} for {var} in {src})"


def _all(w: ExprWriter, e: ir.Loop) -> str:
    var, src = _loop_parts(w, e)
    return "True" if e.cond is None else f"all({bare(w.test(e.cond))} for {var} in {src})"


def _none(w: ExprWriter, e: ir.Loop) -> str:
    var, src = _loop_parts(w, e)
    if e.cond is None:
        return f"(len({src}) == 0)"
    shared = _shared(w, e)
    if shared is not None:
        return f"{shared[0]}.isdisjoint({bare(shared[1])})"
    return f"(not any({bare(w.test(e.cond))} for {var} in {src}))"


def _find(w: ExprWriter, e: ir.Loop) -> str:
    var, src = _loop_parts(w, e)
    return f"next(({var} for {var} in {src}{_where(w, e)}), None)"


def _map(w: ExprWriter, e: ir.Loop) -> str:
    var, src = _loop_parts(w, e)
    assert e.body is not None
    body = w.arg(e.body)
    if w.nonnull(e.body):
        return f"tuple({body} for {var} in {src}{_where(w, e)})"
    return f"R.compact({body} for {var} in {src}{_where(w, e)})"


#: One writer per kind of :class:`isfdsl.ir.Loop`.
LOOP_WRITERS: dict[ir.LoopKind, Callable[[ExprWriter, ir.Loop], str]] = {
    "any": _guarded(_any, "False"), "all": _guarded(_all, "True"), "none": _guarded(_none, "True"),
    "find": _guarded(_find, "None"), "map": _guarded(_map, "()"),
}
