"""Emit: the definition tables (and change documentation) as an ``.xlsx`` workbook with xlsxwriter.

One sheet per table with a frozen, filtered header, in the layout of the published definition tables:
a decision table has one column per feature its rows test. Byte-identical on rebuild: fixed document
properties (creation date from ``SOURCE_DATE_EPOCH``, else 2000-01-01), sorted input. Formula injection
is impossible: every text cell is written with ``write_string`` (never ``write``), so a description
that starts with ``=``, ``+``, ``-`` or ``@`` stays text.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import xlsxwriter  # type: ignore[import-untyped]

from isfdsl import __version__
from isfdsl.emit import describe
from isfdsl.emit.messages import Messages, messages
from isfdsl.files import Replacement
from isfdsl.ir import model as ir

Cell = str | int | Decimal | None
Sheet = tuple[str, list[str], list[list[Cell]]]


def created() -> datetime.datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).replace(tzinfo=None)
    return datetime.datetime(2000, 1, 1)


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unique sheet name (at most 31 characters, none of ``[]:*?/\\``)."""
    base = re.sub(r"[\[\]:*?/\\']", "_", name).strip() or "Sheet"
    base = base[:31]
    candidate, n = base, 1
    while candidate.lower() in taken:
        n += 1
        suffix = f" ({n})"
        candidate = base[: 31 - len(suffix)] + suffix
    taken.add(candidate.lower())
    return candidate


def write_workbook(path: Path, sheets: Sequence[Sheet], title: str) -> None:
    """Write the workbook to ``path`` whole or not at all (a temporary file beside it, renamed when done)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with Replacement(path) as out:
        out.close()  # xlsxwriter writes the temporary file by its name
        assert out.temporary is not None
        _workbook(str(out.temporary), sheets, title)


def _workbook(path: str, sheets: Sequence[Sheet], title: str) -> None:
    wb = xlsxwriter.Workbook(path, {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    wb.set_properties({"title": title, "author": "isfdsl", "comments": f"isfdsl {__version__}", "created": created()})
    bold = wb.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    taken: set[str] = set()
    decimals: dict[int, xlsxwriter.format.Format] = {}  # a Decimal shows the places it has: 0.100 points, 1 684.65 kr

    def places(value: int | Decimal) -> xlsxwriter.format.Format | None:
        exponent = value.as_tuple().exponent if isinstance(value, Decimal) else 0
        if not isinstance(exponent, int) or exponent >= 0:
            return None
        if -exponent not in decimals:
            decimals[-exponent] = wb.add_format({"num_format": "#,##0." + "0" * -exponent})
        return decimals[-exponent]

    for name, header, rows in sheets:
        ws = wb.add_worksheet(sheet_name(name, taken))
        for col, h in enumerate(header):
            ws.write_string(0, col, h, bold)
        widths = [min(max(len(h), 6), 60) for h in header]
        for r, row in enumerate(rows, 1):
            for col, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                    ws.write_number(r, col, float(value), places(value))
                    text = str(value)
                else:
                    text = str(value)
                    ws.write_string(r, col, text, wrap if len(text) > 60 else None)
                widths[col] = min(max(widths[col], len(text)), 60)
        for col, w in enumerate(widths):
            ws.set_column(col, col, w + 2)
        ws.freeze_panes(1, 0)
        if header:
            ws.autofilter(0, 0, max(len(rows), 1), len(header) - 1)
    wb.close()


def definition_sheets(program: ir.Program, m: Messages) -> list[Sheet]:
    """The definition tables of a program as sheets, their names and headers in the language of ``m``."""
    sheets: list[Sheet] = []
    view = program.pathway_program()
    pairs = [(t, program) for t in program.decisions] + ([(t, view) for t in view.decisions] if view else [])
    for t, prog in pairs:
        features: list[str] = []
        for r in t.rows:
            for c in r.constraints:
                if c.feature not in features:
                    features.append(c.feature)
        header = [m("xl.order"), m("xl.rule"), m("col.title"), *(f"{describe.feature_label(prog, f, m)} ({f})" for f in features),
                  m("col.group"), m("xl.group_name"), m("col.rc"), m("xl.in_words"), m("col.source")]
        cat = prog.catalogues.get(t.catalogue, {})
        rows: list[list[Cell]] = []
        for n, r in enumerate(t.rows, 1):
            # A rule with `or`: one line per alternative, each with the rule's order and id.
            for alternative in r.alternatives:
                per = [" and ".join(c.text for c in alternative if c.feature == f) for f in features]
                rec = cat.get(r.group or "")
                words = describe.plain(describe.conjunction(prog, alternative, m) if len(r.alternatives) > 1
                                       else describe.row(prog, r, m))
                rows.append([n, r.id, r.title or "", *per, r.group or "", rec.name if rec else "", r.rc or "0",
                             words + (m("xl.alternative") if len(r.alternatives) > 1 else ""), r.where])
        tail = m("xl.otherwise", name=t.otherwise) if t.otherwise else \
            m("xl.fallback", group=t.fallback, rc=t.fallback_rc or "0") if t.fallback else ""
        if tail:
            rows.append([len(t.rows) + 1, m("xl.no_row"), tail, *([""] * len(features)), t.fallback or "", "", t.fallback_rc or "", "", ""])
        sheets.append((m("xl.logic", name=t.name), header, rows))
    for cat_name, groups in program.catalogues.items():
        sheets.append((m("xl.groups", name=cat_name), [m("col.group"), m("col.name"), m("col.points"), m("xl.trim"),
                                                      m("col.perday"), m("col.mdc"), m("col.flags")],
                       [[g.code, g.name, g.points, g.trim, g.perday, g.parent or "", ", ".join(g.flags)] for g in groups.values()]))
    sheets.append((m("xl.code_lists"), [m("col.list"), m("col.title"), m("col.code_system"), m("col.entry"), m("col.kind"),
                                        m("col.description"), m("col.source")],
                   [[cs.name, cs.title or "", cs.system, e.shown, m.kind(e.kind), e.description or "", e.where]
                    for cs in program.codesets.values() for e in cs.entries]))
    for name, table in program.tables.items():
        sheets.append((m("xl.table", name=name), [m("col.code"), m("col.together"), m("col.value")],
                       [[key, second or "", _cell(v)] for key, values in table.rows.items() for second, v in values]))
    sheets.append((m("xl.fields"), [m("col.field"), m("col.label"), m("col.type"), m("col.default")],
                   [[a.name, a.label or "", str(a.type), "" if a.default is None else str(a.default)] for a in program.attributes]))
    sheets.append((m("xl.features"), [m("col.feature"), m("col.meaning"), m("col.type"), m("col.definition")],
                   [[d.name, d.title or "", str(d.type), d.text] for d in program.derivations]))
    if program.payment is not None:
        pay = program.payment
        labels = {"unit_price": m("payment.unit_price"), "price": m("payment.price", attr=pay.price_attr),
                  "share": m("payment.share", attr=pay.share_attr)}
        sheets.append((m("xl.payment"), [m("col.parameter"), m("col.for"), m("col.value"), m("col.source")],
                       [[labels[kind], member, v, origin or ""] for kind, member, v, origin in pay.parameters()]))
    return sheets


def _cell(v: object) -> Cell:
    if isinstance(v, (int, Decimal)) and not isinstance(v, bool):
        return v
    return str(v)



def export(program: ir.Program, path: Path, m: Messages | None = None) -> int:
    """Write the definition tables of ``program`` (headers in the language of ``m``); the number of sheets."""
    m = m or messages()
    sheets = definition_sheets(program, m)
    write_workbook(path, sheets, m("xl.title", label=program.label))
    return len(sheets)
