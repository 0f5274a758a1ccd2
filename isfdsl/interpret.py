"""Interpret: a small reference interpreter over the IR, obviously correct rather than fast. It is the
oracle every compiled grouper is tested against, and it explains its answers.

Its results are the runtime's contract types (:class:`isfdsl.runtime.contract.Result`,
:class:`~isfdsl.runtime.contract.PathwayResult`); everything else — input conversion, the values shown in
problems, code lists and tables, expressions, rows, points and refund — it computes itself, sharing no
code path with the runtime. The one exception is the matcher of a code system's `syntax`
(:class:`isfdsl.runtime.codesyntax.CodePattern`), which the checker uses too: Python's :mod:`re` would
mean the same but could backtrack for ages on a pattern the checker accepts (``(A|AA)+B``), and
``isf explain`` runs on any episode. That matcher has its own oracle, :mod:`re` itself
(tests/test_hostile.py draws patterns and codes and compares the two).

Absent values: a function of an absent value is absent, empty or false; a comparison or membership test
with an absent value is false; lists never hold absent elements; a boolean that is absent counts as false.

One piece (about 650 lines), in the order an episode passes through it — input, code lists and tables,
expressions, decision tables, pathways, entry points: an oracle is read whole against the language
reference (docs/language.md), and it is simplest to audit when nothing of it is elsewhere.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from isfdsl import limits
from isfdsl.ir import model as ir
from isfdsl.runtime.codesyntax import CodePattern
from isfdsl.runtime.contract import Constraint, GroupRecord, PathwayResult, Problem, Result
from isfdsl.types import Type


@dataclass(frozen=True, slots=True)
class Step:
    """One row tried: whether it matched, the first condition that failed, and the codes that
    satisfied its code-list conditions; ``table`` is the decision table it belongs to (filled in by
    ``run_table``: a trace can pass from one table to the next)."""

    rule: str
    matched: bool
    failed: str | None = None
    witnesses: tuple[tuple[str, tuple[str, ...]], ...] = ()
    table: str = ""


class Traced(NamedTuple):
    """An episode's result and the trace of how it was reached: every row tried, in order (across
    tables when one table's result passes to its ``otherwise`` table), then the post-rules."""

    result: Result
    trace: tuple[Step, ...]


# ---------------------------------------------------------------------- input
# The oracle's own conversion, written plainly from the language reference (docs/language.md, "Input
# values"): it shares no code with the runtime's converters, so that the differential tests catch a
# converter bug. The reasons are the contract's wording (they reach ``Result.problems``).

_TRUE = ("1", "true", "yes", "j", "ja")
_FALSE = ("0", "false", "no", "n", "nei")


def normalize(program: ir.Program, episode: Mapping[str, object]) -> tuple[dict[str, object], list[Problem]]:
    """The typed value of every attribute (its default when missing or invalid; an empty list for a
    list) and the problems found: (attribute, raw value, reason), then (key, value, reason) for each
    key of the episode that is no attribute."""
    values: dict[str, object] = {}
    problems: list[Problem] = []
    for attr in program.attributes:
        raw = episode.get(attr.name)
        value: object = None
        if attr.type.kind == "list" and not _missing(raw):
            # An invalid item is left out, named in the problems; the list keeps its valid items.
            assert attr.type.elem is not None
            items: list[object] = []
            for item in _items(raw):
                try:
                    converted = convert(attr, attr.type.elem, item)
                except ValueError as exc:
                    problems.append((attr.name, _shown(item), str(exc)))
                    continue
                if converted is not None:
                    items.append(converted)
            value = items
        elif not _missing(raw):
            try:
                value = convert(attr, attr.type, raw)
            except ValueError as exc:
                problems.append((attr.name, _shown(raw), str(exc)))
        if value is None:
            value = [] if attr.type.kind == "list" else attr.default
        values[attr.name] = value
    # Every other key is ignored, and named (with the closest attribute, when one is close).
    names = [a.name for a in program.attributes]
    for key, raw in episode.items():
        if key not in names:
            name = _shown(key)
            close = difflib.get_close_matches(name, names, n=1)
            problems.append((name, _shown(raw), "not an attribute, ignored" + (f"; did you mean {close[0]}?" if close else "")))
    return values, problems


def _missing(raw: object) -> bool:
    """None, empty text and an empty list count as missing."""
    return raw is None or raw == "" or (isinstance(raw, (list, tuple)) and len(raw) == 0)


_TOO_LONG = f"an integer of more than {limits.DIGITS} digits"


def _shown(raw: object) -> str:
    """``raw`` as a problem shows it: its text, cut after :data:`limits.SHOWN` characters with the
    length given; an integer too long to be a value (or a value holding one Python cannot even turn
    into text) is described instead."""
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) >= 10 ** limits.DIGITS:
        return f"<{_TOO_LONG}>"
    try:
        text = str(raw)
    except ValueError:  # e.g. a list holding an integer of more than 4,300 digits
        return f"<a value holding {_TOO_LONG}>"
    if len(text) <= limits.SHOWN:
        return text
    return text[: limits.SHOWN] + f"… <{len(text):,} characters>"


def _input_text(raw: object) -> str:
    """``raw`` as text; an integer of more than :data:`limits.DIGITS` digits is no valid value of any type."""
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) >= 10 ** limits.DIGITS:
        raise ValueError(_TOO_LONG)
    return str(raw)


def convert(attr: ir.Attribute, t: Type, raw: object, checked: bool = True) -> object:
    """One raw input value as a value of type ``t`` (raises ValueError with the reason; a list with
    an invalid item too: :func:`normalize` leaves such an item out instead). With ``checked`` false,
    codes need not match their code system's syntax (the reverse index tries a prefix's stem)."""
    kind = t.kind
    if kind == "list":
        assert t.elem is not None
        elem = t.elem
        converted = [convert(attr, elem, item, checked) for item in _items(raw)]
        return [v for v in converted if v is not None]
    if kind == "int":
        if isinstance(raw, bool):
            raise ValueError("not an integer")
        if isinstance(raw, int):
            n = raw
            if abs(n) >= 10 ** limits.DIGITS:
                raise ValueError(_TOO_LONG)
        else:
            text = _input_text(raw).strip()
            body = text[1:] if text[:1] in ("+", "-") else text
            if body == "" or any(ch not in "0123456789" for ch in body):  # int() takes any Unicode digit
                raise ValueError("not an integer")
            if len(body.lstrip("0")) > limits.DIGITS:  # never given to int(): past 4,300 digits it raises
                raise ValueError(_TOO_LONG)
            n = int(text)
        if (t.lo is not None and n < t.lo) or (t.hi is not None and n > t.hi):
            raise ValueError(f"outside {t}")
        return n
    if kind == "decimal":
        if isinstance(raw, bool):
            raise ValueError("not a number")
        text = _input_text(raw).strip()
        if any(ord(ch) > 127 or ch == "_" for ch in text):  # Decimal() takes any Unicode digit, and `1_000`
            raise ValueError("not a number")
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise ValueError("not a number") from None
        if not d.is_finite():
            raise ValueError("not a finite number")
        return d
    if kind == "bool":
        word = _input_text(raw).strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ValueError("not a boolean")
    if kind == "date":
        return _date(raw)
    if kind == "enum":
        name = _input_text(raw).strip()
        if name not in attr.members:
            raise ValueError(f"not a value of {t.ref or ''}")
        return attr.members[name]
    system = (t.ref or "") if checked else None
    if kind == "code":
        return _code(attr, raw, system)
    if kind == "pair":
        first, second = _halves(raw)
        code = _code(attr, first, system)
        return None if code is None else (code, _code(attr, second, system))
    return _input_text(raw)


def _date(raw: object) -> str:
    """A date as ISO text: a date or datetime (its day), or text ``YYYY-MM-DD`` or ``DD.MM.YYYY`` (day
    and month of one or two digits after dots); raises ValueError for anything else and for days the
    calendar lacks. Written apart from the runtime's ``to_date`` on purpose (this is the oracle)."""
    if isinstance(raw, dt.date):
        return (raw.date() if isinstance(raw, dt.datetime) else raw).isoformat()
    text = "" if isinstance(raw, bool) else _input_text(raw).strip()
    parts = text.split("-")
    if len(parts) == 3 and [len(x) for x in parts] == [4, 2, 2]:
        year, month, day = parts
    else:
        parts = text.split(".")
        if len(parts) != 3 or not (1 <= len(parts[0]) <= 2 and 1 <= len(parts[1]) <= 2 and len(parts[2]) == 4):
            raise ValueError("not a date (YYYY-MM-DD or DD.MM.YYYY)")
        day, month, year = parts
    if not all(ch in "0123456789" for ch in year + month + day):  # int() takes any Unicode digit
        raise ValueError("not a date (YYYY-MM-DD or DD.MM.YYYY)")
    try:
        return dt.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        raise ValueError("not a day of the calendar") from None


def _items(raw: object) -> list[object]:
    """The items of a list value: a sequence's elements, or text split at commas, semicolons and white
    space, or the one value; empty items left out."""
    if isinstance(raw, str):
        items: list[object] = list(re.split(r"[\s,;]+", raw))
    elif isinstance(raw, (list, tuple)):
        items = list(raw)
    else:
        items = [raw]
    return [x for x in items if not _missing(x)]


def _code(attr: ir.Attribute, raw: object, system: str | None) -> str | None:
    """A code without the code system's ignored characters and outer white space, in upper case
    unless the system is case sensitive; None when nothing is left. Unless ``system`` is None, it
    must then match the system's syntax in full (ValueError otherwise)."""
    if raw is None:
        return None
    text = "".join(ch for ch in _input_text(raw) if ch not in attr.ignore).strip()
    if attr.upper:
        text = text.upper()
    if not text:
        return None
    if system is not None and attr.syntax is not None and not _pattern(attr.syntax).fullmatch(text):
        raise ValueError(f"not a valid {system} code")
    return text


@functools.lru_cache(maxsize=64)
def _pattern(syntax: str) -> CodePattern:
    """A code system's syntax, compiled once: matched in linear time (``re`` could backtrack for ages)."""
    return CodePattern(syntax)


def _halves(raw: object) -> tuple[object, object]:
    """The two codes of a pair given as ``"A|B"`` (or ``"A&B"``), a sequence, a mapping or one code."""
    if isinstance(raw, str):
        sep = "|" if "|" in raw else "&"
        first, _, second = raw.partition(sep)
        return first, (second if sep in raw else None)
    if isinstance(raw, Mapping):
        return raw.get("first"), raw.get("second")
    if isinstance(raw, (list, tuple)):
        return (raw[0] if raw else None), (raw[1] if len(raw) > 1 else None)
    return raw, None


# ---------------------------------------------------------------------- code sets and tables


def in_codeset(cs: ir.CodeSet, code: object) -> bool:
    """Whether a normalised code belongs to a code list."""
    if not isinstance(code, str):
        return False
    if code in cs.codes or any(code.startswith(p) for p in cs.prefixes):
        return True
    return any(code[: len(lo)] >= lo and code[: len(hi)] <= hi for lo, hi in cs.ranges)


def table_values(table: ir.CodeTable, key: object) -> list[object]:
    """Values of a code table for a code, text, a pair or a list of these (see the language docs)."""
    out: list[object] = []
    if isinstance(key, list):
        for item in key:
            out.extend(table_values(table, item))
    elif isinstance(key, tuple):
        a, b = key
        out.extend(v for second, v in table.rows.get(a, ()) if second is None)
        if b is not None:
            out.extend(v for second, v in table.rows.get(b, ()) if second is None or second == a)
    elif key is not None:
        out.extend(v for second, v in table.rows.get(str(key), ()) if second is None)
    return _dedup(out)


def combo_values(table: ir.CodeTable, key: object) -> list[object]:
    if not isinstance(key, tuple) or key[1] is None:
        return []
    a, b = key
    return _dedup([v for second, v in table.rows.get(b, ()) if second == a])


def _dedup(xs: Iterable[object]) -> list[object]:
    seen: set[object] = set()
    out = []
    for x in xs:
        if x is not None and x not in seen:
            seen.add(x)
            out.append(x)
    return out


# ---------------------------------------------------------------------- expressions


class Evaluator:
    """Evaluates IR expressions over one episode's attribute values and features."""

    def __init__(self, program: ir.Program, values: dict[str, object]) -> None:
        self.p = program
        self.values = values
        self.features: dict[str, object] = {}
        for d in program.derivations:
            self.features[d.name] = self.eval(d.expr, {})

    def feature(self, name: str) -> object:
        """The value of a derived feature or, failing that, of an attribute (what a row tests)."""
        return self.features[name] if name in self.features else self.values.get(name)

    def eval(self, e: ir.Expr, local: dict[str, object]) -> object:
        value = self._eval(e, local)
        return [] if value is None and e.type.kind == "list" else value  # a list is never absent, only empty

    def _eval(self, e: ir.Expr, local: dict[str, object]) -> object:
        if isinstance(e, ir.Const):
            return e.value
        if isinstance(e, ir.Ref):
            if e.scope == "local":
                return local[e.name]
            if e.scope == "attr":
                return self.values.get(e.name)
            if e.scope == "feature":
                return self.features.get(e.name)
            return e.name
        if isinstance(e, ir.Loop):
            return self._loop(e, local)
        return OPERATIONS[e.op](self, e, local)

    def _loop(self, e: ir.Loop, local: dict[str, object]) -> object:
        source = self.eval(e.source, local)
        items = source if isinstance(source, list) else []
        def holds(x: object) -> bool:
            return e.cond is None or self.eval(e.cond, {**local, e.var: x}) is True
        if e.kind == "any":
            return any(holds(x) for x in items)
        if e.kind == "all":
            return all(holds(x) for x in items)
        if e.kind == "none":
            return not any(holds(x) for x in items)
        if e.kind == "find":
            return next((x for x in items if holds(x)), None)
        assert e.body is not None
        return _without_absent(self.eval(e.body, {**local, e.var: x}) for x in items if holds(x))


def _without_absent(xs: Iterable[object]) -> list[object]:
    """Lists never hold absent elements."""
    return [x for x in xs if x is not None]


def _args(ev: Evaluator, e: ir.Apply, local: dict[str, object]) -> list[object]:
    return [ev.eval(a, local) for a in e.args]


def _cmp(fn: Callable[[object, object], bool]) -> Callable[[Evaluator, ir.Apply, dict[str, object]], object]:
    def run(ev: Evaluator, e: ir.Apply, local: dict[str, object]) -> object:
        a, b = _args(ev, e, local)
        return False if a is None or b is None else fn(a, b)
    return run


def _membership(ev: Evaluator, e: ir.Apply, local: dict[str, object]) -> object:
    a = ev.eval(e.args[0], local)
    right = e.args[1]
    if a is None:
        return False
    if isinstance(right, ir.Ref) and right.scope == "codelist":
        hit = in_codeset(ev.p.codesets[right.name], a)
    else:
        xs = ev.eval(right, local)
        hit = isinstance(xs, list) and a in xs
    return hit if e.op == "in" else not hit


def _present(ev: Evaluator, e: ir.Apply, local: dict[str, object]) -> object:
    v = ev.eval(e.args[0], local)
    there = v is not None and v != []
    return there if e.op == "present" else not there


def _plus(ev: Evaluator, e: ir.Apply, local: dict[str, object]) -> object:
    a, b = _args(ev, e, local)
    if a is None or b is None:
        return None
    if isinstance(a, str) or isinstance(b, str):
        return f"{a}{b}"
    return a + b  # type: ignore[operator]


def _field(ev: Evaluator, e: ir.Apply, local: dict[str, object]) -> object:
    v = ev.eval(e.args[0], local)
    if not isinstance(v, tuple) or e.field is None:
        return None
    return v[{"first": 0, "key": 0, "second": 1, "value": 1}[e.field]]


def _text(v: object) -> str | None:
    return None if v is None else str(v)


def _substr(s: object, start: object, end: object = None) -> object:
    text = _text(s)
    if text is None or not isinstance(start, int):
        return None
    return text[start:] if end is None else (text[start:end] if isinstance(end, int) else None)


def _char(s: object, i: object) -> object:
    text = _text(s)
    if text is None or not isinstance(i, int) or not 0 <= i < len(text):
        return None
    return text[i]


def _replace_prefix(s: object, old: object, new: object) -> object:
    text = _text(s)
    if text is None or old is None or new is None:
        return text
    return str(new) + text[len(str(old)):] if text.startswith(str(old)) else text


def _extreme(pick: Callable[[list[object]], object]) -> Callable[[Evaluator, ir.Apply, dict[str, object]], object]:
    def run(ev: Evaluator, e: ir.Apply, local: dict[str, object]) -> object:
        xs, default = _args(ev, e, local)
        items = [x for x in (xs if isinstance(xs, list) else []) if x is not None]
        return pick(items) if items else default
    return run


def _codes(v: object) -> list[object]:
    if isinstance(v, list):
        return _dedup(c for pair in v for c in _codes(pair))
    if isinstance(v, tuple):
        return [c for c in v if c is not None]
    return []


def _starts_with(s: object, prefix: object) -> bool:
    return s is not None and prefix is not None and str(s).startswith(str(prefix))


def _keep(a: list[object], b: list[object], inside: bool) -> list[object]:
    """The elements of ``a`` that are (``inside``) or are not in ``b``, once each."""
    return _dedup(x for x in a if (x in b) == inside)


def _set_operation(inside: bool) -> Callable[[Evaluator, ir.Apply, dict[str, object]], object]:
    """``intersect`` (``inside``) or ``minus`` of two lists."""
    def run(ev: Evaluator, e: ir.Apply, local: dict[str, object]) -> object:
        a, b = _lists(_args(ev, e, local))
        return _keep(a, b, inside)
    return run


def _lists(vals: list[object]) -> list[list[object]]:
    return [v if isinstance(v, list) else [] for v in vals]


OPERATIONS: dict[ir.Op, Callable[[Evaluator, ir.Apply, dict[str, object]], object]] = {
    "and": lambda ev, e, l: ev.eval(e.args[0], l) is True and ev.eval(e.args[1], l) is True,
    "or": lambda ev, e, l: ev.eval(e.args[0], l) is True or ev.eval(e.args[1], l) is True,
    "not": lambda ev, e, l: ev.eval(e.args[0], l) is not True,
    "==": _cmp(lambda a, b: a == b),
    "!=": _cmp(lambda a, b: a != b),
    "<": _cmp(lambda a, b: a < b),  # type: ignore[operator]
    "<=": _cmp(lambda a, b: a <= b),  # type: ignore[operator]
    ">": _cmp(lambda a, b: a > b),  # type: ignore[operator]
    ">=": _cmp(lambda a, b: a >= b),  # type: ignore[operator]
    "in": _membership,
    "not in": _membership,
    "present": _present,
    "absent": _present,
    "+": _plus,
    "if": lambda ev, e, l: ev.eval(e.args[1], l) if ev.eval(e.args[0], l) is True else ev.eval(e.args[2], l),
    "list": lambda ev, e, l: _without_absent(_args(ev, e, l)),
    "field": _field,
    "lookup": lambda ev, e, l: table_values(ev.p.tables[ev.eval(e.args[0], l)], ev.eval(e.args[1], l)),  # type: ignore[index]
    "combo": lambda ev, e, l: combo_values(ev.p.tables[ev.eval(e.args[0], l)], ev.eval(e.args[1], l)),  # type: ignore[index]
    "first": lambda ev, e, l: next(iter(ev.eval(e.args[0], l) or []), None),  # type: ignore[call-overload]
    "coalesce": lambda ev, e, l: next((v for v in _args(ev, e, l) if v is not None), None),
    "text": lambda ev, e, l: _text(ev.eval(e.args[0], l)),
    "prefix": lambda ev, e, l: _substr(ev.eval(e.args[0], l), 0, ev.eval(e.args[1], l)),
    "substr": lambda ev, e, l: _substr(*_args(ev, e, l)),
    "char": lambda ev, e, l: _char(*_args(ev, e, l)),
    "starts_with": lambda ev, e, l: _starts_with(*_args(ev, e, l)),
    "replace_prefix": lambda ev, e, l: _replace_prefix(*_args(ev, e, l)),
    "count": lambda ev, e, l: len(v) if isinstance(v := ev.eval(e.args[0], l), list) else 0,
    "max": _extreme(max),  # type: ignore[arg-type]
    "min": _extreme(min),  # type: ignore[arg-type]
    "union": lambda ev, e, l: _dedup(x for xs in _lists(_args(ev, e, l)) for x in xs),
    "intersect": _set_operation(inside=True),
    "minus": _set_operation(inside=False),
    "codes": lambda ev, e, l: _codes(ev.eval(e.args[0], l)),
    "entries": lambda ev, e, l: [(k, v) for k, rows in ev.p.tables[ev.eval(e.args[0], l)].rows.items()  # type: ignore[index]
                                 for second, v in rows if second is None],
}


# ---------------------------------------------------------------------- decision tables


def holds(program: ir.Program, c: Constraint, value: object) -> tuple[bool, tuple[str, ...]]:
    """Whether constraint ``c`` holds for the feature value, and the codes that satisfied it."""
    if c.kind == "present":
        there = value is not None and value != []
        return there != c.negated, ()
    if c.kind == "bool":
        return (value is True) == c.values[0], ()
    if c.kind == "has":
        items = value if isinstance(value, list) else []
        if c.ref is not None:
            hits = tuple(str(x) for x in items if in_codeset(program.codesets[c.ref], x))
        else:
            hits = tuple(str(x) for x in items if x in c.values)
        return bool(hits) != c.negated, (hits if not c.negated else ())
    if value is None:
        return False, ()
    if c.kind == "set":
        return (value in c.values) != c.negated, ()
    if c.kind == "codelist":
        hit = in_codeset(program.codesets[c.ref or ""], value)
        return hit != c.negated, ((str(value),) if hit and not c.negated else ())
    n = Decimal(str(value))
    ok = True
    if c.lo is not None:
        ok = n > c.lo if c.lo_open else n >= c.lo
    if ok and c.hi is not None:
        ok = n < c.hi if c.hi_open else n <= c.hi
    return ok != c.negated, ()


def try_row(program: ir.Program, row: ir.Row, lookup: Callable[[str], object], table: str = "") -> Step:
    """Whether the row holds — every condition of one of its alternatives — with the codes that satisfied
    the alternative that held or, when none did, the first condition that failed (in the last one tried)."""
    failed: str | None = None
    for alternative in row.alternatives:
        witnesses = []
        for c in alternative:
            ok, codes = holds(program, c, lookup(c.feature))
            if not ok:
                failed = c.text
                break
            if codes:
                witnesses.append((c.text, codes))
        else:
            return Step(row.id, True, None, tuple(witnesses), table)
    return Step(row.id, False, failed, table=table)


def run_table(program: ir.Program, table: ir.Table, ev: Evaluator, problems: list[Problem]) -> Traced:
    """Apply one decision table (and its post-rules) to an evaluated episode."""
    feature = ev.feature
    trace: list[Step] = []
    group, rule, rc = table.fallback, "fallback", table.fallback_rc or "0"
    for row in table.rows:
        step = try_row(program, row, feature, table.name)
        trace.append(step)
        if step.matched:
            # Under `unique` at most one row can match (the analysis proves it), so the first is the one.
            group, rule, rc = row.group, row.id, row.rc or "0"
            break
    else:
        if table.otherwise is not None:
            other = next(t for t in program.decisions if t.name == table.otherwise)
            inner, steps = run_table(program, other, ev, problems)
            return Traced(inner, (*trace, *steps))
    for post in table.post:
        outputs: dict[str, object] = {"group": group, "return_code": rc}

        def lookup(name: str, out: dict[str, object] = outputs) -> object:
            return out[name] if name in out else feature(name)
        step = try_row(program, post, lookup, table.name)
        trace.append(step)
        if step.matched:
            group = post.group or group
            rc = post.rc or rc
    catalogue = program.catalogues[table.catalogue]
    record = catalogue.get(group or "")
    points = _points(program, record, ev.values)
    result = Result(table.catalogue, table.name, group or "", record.name if record else "", rule, rc, points,
                    _refund(program, points, ev.values), tuple(problems))
    return Traced(result, tuple(trace))


def _points(program: ir.Program, record: GroupRecord | None, values: dict[str, object]) -> Decimal:
    if record is None:
        return Decimal(0)
    points = record.points
    stay_attr = program.payment.stay_attr if program.payment else None
    stay = values.get(stay_attr) if stay_attr else None
    if record.perday is not None and record.trim is not None and isinstance(stay, int) and stay > record.trim:
        points += record.perday * (stay - record.trim)
    return points


def _refund(program: ir.Program, points: Decimal, values: dict[str, object]) -> Decimal | None:
    pay = program.payment
    if pay is None or pay.share_attr is None:
        return None
    price = pay.unit_price
    if pay.price_attr is not None:
        price = pay.prices.get(str(values.get(pay.price_attr)), price)
    share = pay.shares.get(str(values.get(pay.share_attr)))
    return None if share is None or price is None else points * price * share


# ---------------------------------------------------------------------- pathways


def gather(program: ir.Program, pathway: object, episodes: object, members: Iterable[Result]) -> dict[str, object]:
    """The pathway record: the values given with the pathway, and those gathered from the member
    episodes as the pathway schema says (an episode attribute's items, ``group``: the members' groups,
    ``count``: how many members)."""
    assert program.pathway is not None
    record: dict[str, object] = dict(pathway) if isinstance(pathway, Mapping) else {}
    given = [e if isinstance(e, Mapping) else {} for e in episodes] if isinstance(episodes, (list, tuple)) else []
    for name, source in program.pathway.gather.items():
        if source == "count":
            record[name] = len(given)
        elif source == "group":
            record[name] = [r.group for r in members if r.group]
        else:
            record[name] = [x for e in given for x in _items(e.get(source))]
    return record


def group_pathway(program: ir.Program, pathway: Mapping[str, object], episodes: list[Mapping[str, object]],
                  table: str | None = None) -> PathwayResult:
    """Group the member episodes, gather the pathway record and group it with a pathway table. The
    pathway's points and refund are paid when its group is financed (points above zero, not flagged
    ``unfinanced``), else the members' sums."""
    view = program.pathway_program()
    if view is None or program.pathway is None:
        raise KeyError("these definitions declare no pathway tables")
    members = tuple(group(program, e) for e in episodes)
    result = group(view, gather(program, pathway, episodes, members), table)
    g = view.catalogues[result.system].get(result.group)
    if g is not None and g.points > 0 and "unfinanced" not in g.flags:
        return PathwayResult(result, members, True, result.points, result.refund)
    refunds = [r.refund for r in members if r.refund is not None]
    return PathwayResult(result, members, False, sum((r.points for r in members), Decimal(0)),
                         sum(refunds, Decimal(0)) if refunds else None)


# ---------------------------------------------------------------------- entry points


def trace(program: ir.Program, episode: Mapping[str, object], table: str | None = None) -> Traced:
    """Group one episode with the named decision table (default: the program's entry table), with
    the trace of the rows tried."""
    values, problems = normalize(program, episode)
    ev = Evaluator(program, values)
    chosen = next((t for t in program.decisions if t.name == table), None) if table else program.entry
    if chosen is None:
        raise KeyError(f"no decision table `{table}`")
    return run_table(program, chosen, ev, problems)


def group(program: ir.Program, episode: Mapping[str, object], table: str | None = None) -> Result:
    """Group one episode with the named decision table (default: the program's entry table)."""
    return trace(program, episode, table).result
