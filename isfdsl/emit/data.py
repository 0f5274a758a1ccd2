"""Emit: the data file of a generated package module (``_model.data`` beside ``_model.py``) — its code
tables and the rows of its large decision tables, as text the runtime loads at C speed
(:func:`isfdsl.runtime.read_data`), with or without bytecode: a NordDRG year's tables as Python
literals took seconds and hundreds of MiB to compile on an import that could not write bytecode.

The format: UTF-8 text, one entry per line (a rebuild is byte-identical, and a diff between two
builds names the codes that changed). The first two lines are comments. A line starting with a tab
opens a section (a key is never empty nor starts with a tab; a table that could hold one is written
as one JSON line instead):

* ``<TAB>plain NAME TYPE`` — every key of table NAME with plain rows, in table order, and the value of
  its first plain row: ``KEY<TAB>VALUE``. TYPE is the values' type (``text``, ``int``, ``decimal``);
* ``<TAB>more NAME N`` — keys whose plain rows have N different values (N > 1):
  ``KEY<TAB>VALUE 1<TAB>…<TAB>VALUE N``, each value once, in order (a section per N, so that each
  is read at C speed too);
* ``<TAB>listed NAME`` — keys whose plain rows repeat a value: ``KEY<TAB>VALUE…``, every row's value;
* ``<TAB>rows NAME`` — every row, in order, of each key that has combination rows:
  ``KEY<TAB>SECOND<TAB>VALUE`` (SECOND empty for a plain row);
* ``<TAB>json NAME TYPE`` — a table whose keys or values hold a tab or a line break, or an empty key:
  one line of JSON, ``{"plain": [[KEY, [VALUE…]]…], "rows": [[KEY, [[SECOND, VALUE]…]]…]}``;
* ``<TAB>decision NAME rows`` and ``<TAB>decision NAME post`` — one runtime row per line as JSON (a
  rule with ``or``: one per alternative, each with the rule's id):
  ``[id, group, return code, source, title, [[feature, kind, negated, values, ref, lo, hi, lo_open,
  hi_open, text]…]]``. A Decimal is written as a number with a fraction or an exponent (``5`` as
  ``5E+0``), read back with ``parse_float=Decimal``; integers stay integers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

from isfdsl.ir import model as ir

#: A decision table of more rows than this is loaded from the data file (its rows listed in words as
#: comments in the module); a smaller one is written in the module, a ``Row`` per row.
INLINE_ROWS = 300


def in_data(table: ir.Table) -> bool:
    """Whether a decision table's rows go to the data file."""
    return len(table.rows) > INLINE_ROWS


def has_data(program: ir.Program) -> bool:
    """Whether a program's module has a data file: it has code tables or a large decision table."""
    return bool(program.tables) or any(in_data(t) for t in program.decisions)


def data_text(program: ir.Program, header: str, source: Callable[[str], str]) -> str:
    """The data file of ``program``'s module. ``header`` is its first line (the generated-code
    mark); ``source`` turns a row's source location into the one the package shows."""
    lines = [header, "# Data of the module beside this file, read by its _runtime.read_data; see isfdsl/emit/data.py."]
    for t in program.tables.values():
        lines += _table(t)
    for d in program.decisions:
        if in_data(d):
            for part, rows in (("rows", d.rows), ("post", d.post)):
                lines.append(f"\tdecision {d.name} {part}")
                lines += [_json(row) for r in rows for row in _rows(r, source)]
    return "\n".join(lines) + "\n"


def _type(t: ir.CodeTable) -> str:
    return t.value_type.kind if t.value_type.kind in ("int", "decimal") else "text"


def _table(t: ir.CodeTable) -> list[str]:
    texts = [k for k in t.rows] + [str(x) for rs in t.rows.values() for row in rs for x in row if x is not None]
    if any(not k for k in t.rows) or any("\t" in x or "\n" in x for x in texts):
        plain = [[k, [v for s, v in rs if s is None]] for k, rs in t.rows.items() if any(s is None for s, _ in rs)]
        rows = [[k, [[s, v] for s, v in rs]] for k, rs in t.rows.items() if any(s is not None for s, _ in rs)]
        return [f"\tjson {t.name} {_type(t)}", _json({"plain": plain, "rows": rows})]
    lines = [f"\tplain {t.name} {_type(t)}"]
    more: dict[int, list[str]] = {}
    listed: list[str] = []
    combined: list[str] = []
    for key, rs in t.rows.items():
        values = [str(v) for s, v in rs if s is None]
        unique = list(dict.fromkeys(values))
        if values:
            lines.append(f"{key}\t{values[0]}")
        if len(unique) > 1:
            more.setdefault(len(unique), []).append("\t".join([key, *unique]))
        if len(unique) < len(values):
            listed.append("\t".join([key, *values]))
        if any(s is not None for s, _ in rs):
            combined += [f"{key}\t{s or ''}\t{v}" for s, v in rs]
    for n, keys in sorted(more.items()):
        lines += [f"\tmore {t.name} {n}", *keys]
    if listed:
        lines += [f"\tlisted {t.name}", *listed]
    if combined:
        lines += [f"\trows {t.name}", *combined]
    return lines


def _rows(r: ir.Row, source: Callable[[str], str]) -> list[list[object]]:
    """The runtime rows of a rule: one per alternative of a rule with ``or``, each with the rule's id
    (as the module writes them: :meth:`isfdsl.emit.python._Context.row`)."""
    return [[r.id, r.group, r.rc, source(r.source), r.title, [list(c) for c in alternative]]
            for alternative in r.alternatives]


def _json(value: object) -> str:
    if isinstance(value, Decimal):
        text = str(value)
        return text if any(ch in text for ch in ".Ee") else f"{text}E+0"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_json(x) for x in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(_json(str(k)) + ":" + _json(v) for k, v in value.items()) + "}"
    if value is None or isinstance(value, (bool, int, str)):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"no JSON for {type(value).__name__}")
