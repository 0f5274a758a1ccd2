"""Reading a package's data file (``_model.data`` beside ``_model.py``; the format is written and
described by ``isfdsl/emit/data.py``): its code tables and the rows of its large decision tables. Text
split at C speed loads in a fraction of the time Python literals take to compile when a process
cannot write bytecode, and in a fraction of the memory."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

from isfdsl.runtime.codes import CodeTable, _unique
from isfdsl.runtime.contract import Constraint, ConstraintKind, Row


class Data(NamedTuple):
    """What a package module reads from its data file: code tables by name, and the rows and
    post-rules of its large decision tables by table name."""

    tables: dict[str, CodeTable[Any]]
    rows: dict[str, tuple[Row, ...]]
    post: dict[str, tuple[Row, ...]]


#: How a data file's values of each type are read.
_READ_VALUE: dict[str, Callable[[str], Any]] = {"text": str, "int": int, "decimal": Decimal}


def read_data(spec: Any, name: str) -> Data:
    """The data file ``name`` beside the module ``spec`` describes, read through the module's loader
    (so that a package imported from a zip file finds it too). The bulk — every key with the values
    of its plain rows, a section per number of values — becomes a table's dictionary at C speed
    (split, slice, zip); only keys whose rows repeat a value, combination rows and decision rows are
    read line by line."""
    text = spec.loader.get_data(os.path.join(os.path.dirname(spec.origin), name)).decode("utf-8")
    data = Data({}, {}, {})
    parts: dict[str, dict[str, Any]] = {}
    for section in text.split("\n\t")[1:]:
        head, _, body = section.partition("\n")
        kind, what, *rest = head.split(" ")
        lines = body.split("\n")
        if lines[-1] == "":
            lines.pop()
        if kind == "decision":
            rows = tuple(Row(r[0], r[1], r[2], tuple(_constraint(*c) for c in r[5]), r[3], r[4])
                         for r in json.loads("[" + ",".join(lines) + "]", parse_float=Decimal))
            (data.rows if rest == ["rows"] else data.post)[what] = rows
            continue
        part = parts.setdefault(what, {"plain": {}, "listed": {}, "combined": {}})
        if kind in ("plain", "more"):
            if kind == "plain":
                part["convert"] = _READ_VALUE[rest[0]]
            convert, n = part["convert"], 1 if kind == "plain" else int(rest[0])
            cells = "\t".join(lines).split("\t")
            columns = [cells[j::n + 1] if convert is str else map(convert, cells[j::n + 1]) for j in range(1, n + 1)]
            part["plain"].update(zip(cells[0::n + 1], zip(*columns)))  # keys already there keep their place
        elif kind == "listed":
            for line in lines:
                key, *values = line.split("\t")
                part["listed"][key] = list(map(part["convert"], values))
        elif kind == "rows":
            for line in lines:
                key, second, value = line.split("\t")
                part["combined"].setdefault(key, []).append((second or None, part["convert"](value)))
        else:  # json: a table whose keys or values a line of text cannot hold
            written = json.loads(lines[0], parse_float=Decimal)
            part["plain"] = {k: _unique(vs) for k, vs in written["plain"] if vs}
            part["listed"] = {k: vs for k, vs in written["plain"] if len(set(vs)) < len(vs)}
            part["combined"] = {k: [(s, v) for s, v in rs] for k, rs in written["rows"]}
    for what, part in parts.items():
        table: CodeTable[Any] = CodeTable.__new__(CodeTable)
        table.setup(what, part["plain"], part["listed"], {k: tuple(rs) for k, rs in part["combined"].items()})
        data.tables[what] = table
    return data


def _constraint(feature: str, kind: ConstraintKind, negated: bool, values: list[object], ref: str | None,
                lo: Decimal | None, hi: Decimal | None, lo_open: bool, hi_open: bool, text: str) -> Constraint:
    """A condition as the data file holds it (the fields of ``Constraint``; values a list)."""
    return Constraint(feature, kind, negated, tuple(values), ref, lo, hi, lo_open, hi_open, text)
