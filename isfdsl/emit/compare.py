"""Emit: a comparison of two versions on one file of episodes (``isf compare``) as a page in HTML and
Markdown (through the document model of :mod:`isfdsl.emit.docs`), charts as static SVG drawn here at
build time (no script, no network), and a workbook with a sheet per table (:mod:`isfdsl.emit.excel`).
Numbers are Decimal throughout and rounded once, when shown (:mod:`isfdsl.analysis.migration`)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from isfdsl.analysis.migration import CENT, FACTOR, POINTS, Comparison, Flow, Key, Side, Sums, Tally, budget_neutral, label, shown
from isfdsl.emit import docs, excel

#: Largest |change| rows drawn in a bar chart (the tables hold them all).
BARS = 30
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def write(c: Comparison, out: Path, top: int = 12) -> list[Path]:
    """Write index.html, index.md, the charts under ``charts/`` and compare.xlsx into ``out``."""
    page, charts = build(c, top)
    # The page's words are English (isf compare has no --lang yet): the frame around them says so too.
    site = docs.Site(out.name or "compare", f"{c.old.label} → {c.new.label}",
                     f"{c.old.validity} → {c.new.validity}", f"{c.old.source} and {c.new.source} on {c.input}", lang="en",
                     search=None)
    files: dict[str, str | bytes] = {**docs.render_pages([page], site), **docs.static_files()}
    files.update(charts)
    written = docs.write_docs(files, out)
    excel.write_workbook(out / "compare.xlsx", sheets(c), page.title)
    return [*written, out / "compare.xlsx"]


def _n(value: Decimal, places: Decimal = CENT) -> str:
    return f"{value.quantize(places):,f}"


def _d(value: Decimal, places: Decimal = CENT) -> str:
    """A change, with its sign."""
    return f"{value.quantize(places):+,f}"


def _pair_row(a: Sums, b: Sums) -> list[str]:
    return [f"{a.count:,}", f"{b.count:,}", _n(a.points, POINTS), _n(b.points, POINTS), _d(b.points - a.points, POINTS),
            _n(a.refund), _n(b.refund), _d(b.refund - a.refund)]


PAIR_HEADER = ["Episodes before", "Episodes after", "Points before", "Points after", "Change in points",
               "Refund before (NOK)", "Refund after (NOK)", "Change in refund (NOK)"]


def build(c: Comparison, top: int = 12) -> tuple[docs.Page, dict[str, str | bytes]]:
    """The page and the charts (path -> SVG text)."""
    t, old, new = c.tally, c.old, c.new
    total, moved = t.total(), t.moved()
    factor = t.factor()
    page = docs.Page("index", f"{old.label} → {new.label}: what changes for these episodes")
    charts: dict[str, str | bytes] = {}
    page.p(f"{total.count:,} episodes from ", docs.code(c.input), f" grouped by {old.title} (", docs.code(old.source),
           f", {old.validity}) and by {new.title} (", docs.code(new.source), f", {new.validity}). "
           f"{moved.count:,} of them ({_percent(moved.count, total.count)}) change group.")
    for side, when in ((old, "before"), (new, "after")):
        if side.overridden:
            page.p(f"Payment {when} ({side.label}) overridden: {side.overridden}.")
    if c.episodes:
        page.p("Each episode with both results side by side: ", docs.code(c.episodes),
               " (the column row numbers the input's rows from 1; the examples below refer to it).")
    page.h(2, "Totals", "totals")
    rows = [["Episodes", f"{total.count:,}", f"{total.count:,}", ""],
            ["Points", _n(total.old_points, POINTS), _n(total.new_points, POINTS), _d(total.new_points - total.old_points, POINTS)],
            ["Refund (NOK)", _n(total.old_refund), _n(total.new_refund), _d(total.new_refund - total.old_refund)]]
    if factor is not None:
        rows += [["Points, new × f", _n(total.old_points, POINTS), _n(total.new_points * factor, POINTS),
                  _d(total.new_points * factor - total.old_points, POINTS)],
                 ["Refund at f (NOK)", _n(total.old_refund), _n(total.new_refund * factor),
                  _d(total.new_refund * factor - total.old_refund)]]
    page.grid(["", f"Before: {old.label}", f"After: {new.label}", "Change"], rows)
    unpaid = [f"{n:,} episodes have no refund under {s.label} (no unit price or ISF share for their sector); "
              "they count as 0 NOK." for n, s in ((t.old_unpaid, old), (t.new_unpaid, new)) if n]
    for note in unpaid:
        page.p(note)
    page.h(2, "The budget-neutral factor", "factor")
    page.p("Changes are implemented budget-neutrally: the new version's points are scaled so that the same "
           "activity gives the same total. On these episodes the scale is")
    page.blocks.append(docs.Pre(formula(total, factor)))
    page.p("Refund is points × unit price × ISF share per episode, so the refund at f is f × the new refund; it differs "
           "from the old refund where unit prices or shares changed between the versions.")
    page.h(2, "Group systems", "systems")
    page.grid(["Group system", *PAIR_HEADER], [[s, *_pair_row(a, b)] for s, (a, b) in t.per_system().items()])
    page.h(2, "Flows between groups", "flows")
    page.p(f"The migration matrix: for each old group and new group, the episodes that went from one to the other. "
           f"The chart draws the {top} largest moves; the table lists every cell, moves first, each with an example "
           "row.")
    charts["charts/flows.svg"] = flow_chart(t, top)
    page.blocks.append(docs.Figure("charts/flows", f"The {top} largest flows between groups, by episodes"))
    page.grid(["Before", "After", "Episodes", "Points before", "Points after", "Change in points", "Refund before (NOK)",
               "Refund after (NOK)", "Change in refund (NOK)", "Example row"],
              [[label(a), label(b), f"{f.count:,}", _n(f.old_points, POINTS), _n(f.new_points, POINTS),
                _d(f.new_points - f.old_points, POINTS), _n(f.old_refund), _n(f.new_refund), _d(f.new_refund - f.old_refund),
                str(f.example)] for a, b, f in t.flows()])
    page.h(2, "Groups", "groups")
    page.grid(["Group", "Name", *PAIR_HEADER],
              [[label(k), t.new_names.get(k) or t.old_names.get(k) or "", *_pair_row(a, b)] for k, (a, b) in t.per_group().items()])
    page.h(2, "Major diagnostic categories", "mdc")
    if not old.parents or not new.parents:
        page.p("The MDC of a group is its parent in the definitions' catalogue; a generated package does not carry it, "
               "so the groups of " + " and ".join(s.label for s in (old, new) if not s.parents) + " count as without an MDC.")
    mdcs = t.per_parent(old.parents, new.parents)
    charts["charts/mdc.svg"] = change_chart([(f"MDC {m}" if m else "no MDC", a, b) for m, (a, b) in mdcs.items()])
    page.blocks.append(docs.Figure("charts/mdc", "Change in points and refund per MDC"))
    page.grid(["MDC", *PAIR_HEADER], [[m or "(none)", *_pair_row(a, b)] for m, (a, b) in mdcs.items()])
    for n, column in enumerate(t.columns, 1):
        per = t.by.get(column, {})
        page.h(2, f"By {column}", f"by-{n}")
        path = f"charts/by-{n}.svg"
        charts[path] = change_chart([(v or "(blank)", f.old, f.new) for v, f in sorted(per.items())])
        page.blocks.append(docs.Figure(path.removesuffix(".svg"), f"Change in points and refund per value of {column}"))
        page.grid([column, *PAIR_HEADER, "Budget-neutral factor"],
                  [[v or "(blank)", *_pair_row(f.old, f.new), _factor(f)] for v, f in sorted(per.items())])
    page.h(2, "Versions", "versions")
    page.grid(["", "Before", "After"],
              [["Version", old.label, new.label], ["Definitions", old.source, new.source],
               ["Validity", old.validity, new.validity],
               ["Payment overrides", old.overridden or "none", new.overridden or "none"]])
    return page, charts


def formula(total: Flow, factor: Decimal | None) -> str:
    """The budget-neutral factor with its formula and numbers."""
    if factor is None:
        return "f = Σ old points / Σ new points is undefined: the new points total 0."
    return (f"f = Σ old points / Σ new points = {shown(total.old_points, POINTS)} / {shown(total.new_points, POINTS)}"
            f" = {factor}  (rounded to {FACTOR.as_tuple().exponent * -1} decimals)\n"
            f"Σ new points × f = {shown(total.new_points * factor, CENT)}  (Σ old points = {shown(total.old_points, CENT)})\n"
            f"refund at f = f × Σ new refund = {factor} × {shown(total.new_refund)} = {shown(total.new_refund * factor)} NOK"
            f" (old: {shown(total.old_refund)} NOK, change {_d(total.new_refund * factor - total.old_refund)} NOK)")


def _factor(f: Flow) -> str:
    value = budget_neutral(f.old_points, f.new_points)
    return "—" if value is None else str(value)


def _percent(n: int, of: int) -> str:
    return f"{100 * n / of:.1f} %" if of else "0 %"


# ---------------------------------------------------------------------- the workbook


def sheets(c: Comparison) -> list[excel.Sheet]:
    """A sheet per table: totals with the factor, group systems, the migration matrix, groups, MDCs,
    each ``--by`` column, and the versions."""
    t, old, new = c.tally, c.old, c.new
    total = t.total()
    factor = t.factor()
    pair = ["Episodes before", "Episodes after", "Points before", "Points after", "Refund before (NOK)", "Refund after (NOK)"]

    def cells(a: Sums, b: Sums) -> list[excel.Cell]:
        return [a.count, b.count, a.points.quantize(POINTS), b.points.quantize(POINTS), a.refund.quantize(CENT),
                b.refund.quantize(CENT)]

    out: list[excel.Sheet] = []
    totals: list[list[excel.Cell]] = [["Episodes", total.count, total.count],
                                      ["Points", total.old_points.quantize(POINTS), total.new_points.quantize(POINTS)],
                                      ["Refund (NOK)", total.old_refund.quantize(CENT), total.new_refund.quantize(CENT)],
                                      ["Episodes that change group", None, t.moved().count]]
    if factor is not None:
        totals += [["Budget-neutral factor f = Σ old points / Σ new points", None, factor],
                   ["Points, new × f", total.old_points.quantize(POINTS), (total.new_points * factor).quantize(POINTS)],
                   ["Refund at f (NOK)", total.old_refund.quantize(CENT), (total.new_refund * factor).quantize(CENT)]]
    out.append(("Totals", ["", f"Before: {old.label}", f"After: {new.label}"], totals))
    out.append(("Group systems", ["Group system", *pair], [[s, *cells(a, b)] for s, (a, b) in t.per_system().items()]))
    out.append(("Migration matrix", ["System before", "Group before", "System after", "Group after", "Episodes",
                                     "Points before", "Points after", "Refund before (NOK)", "Refund after (NOK)", "Example row"],
                [[a[0], a[1], b[0], b[1], f.count, f.old_points.quantize(POINTS), f.new_points.quantize(POINTS),
                  f.old_refund.quantize(CENT), f.new_refund.quantize(CENT), f.example] for a, b, f in t.flows()]))
    out.append(("Groups", ["Group system", "Group", "Name", *pair],
                [[k[0], k[1], t.new_names.get(k) or t.old_names.get(k) or "", *cells(a, b)] for k, (a, b) in t.per_group().items()]))
    out.append(("MDC", ["MDC", *pair], [[m, *cells(a, b)] for m, (a, b) in t.per_parent(old.parents, new.parents).items()]))
    for column in t.columns:
        out.append((f"By {column}", [column, *pair], [[v, *cells(f.old, f.new)] for v, f in sorted(t.by.get(column, {}).items())]))
    out.append(("Versions", ["", "Before", "After"], _versions(old, new)))
    return out


def _versions(old: Side, new: Side) -> list[list[excel.Cell]]:
    return [["Version", old.label, new.label], ["Definitions", old.source, new.source],
            ["Validity", old.validity, new.validity], ["Payment overrides", old.overridden, new.overridden]]


# ---------------------------------------------------------------------- charts (SVG)


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'font-family="system-ui, sans-serif" font-size="12">\n<title>{escape(title)}</title>\n'
            + "\n".join(body) + "\n</svg>\n")


def _f(x: float) -> str:
    return f"{x:.1f}"


def flow_chart(t: Tally, top: int) -> str:
    """The ``top`` largest moves (old group ≠ new group) as ribbons from the old groups on the left to
    the new groups on the right, each as wide as its episodes."""
    moves = [(a, b, f) for a, b, f in t.flows() if a != b][:top]
    width = 760
    if not moves:
        return _svg(width, 40, "Flows between groups", ['<text x="10" y="24">No episode changes group.</text>'])
    lefts: dict[Key, int] = {}
    rights: dict[Key, int] = {}
    for a, b, f in moves:
        lefts[a] = lefts.get(a, 0) + f.count
        rights[b] = rights.get(b, 0) + f.count
    gap, pad = 8, 24
    height = max(160, 22 * max(len(lefts), len(rights)) + 2 * pad)
    shown_total = sum(f.count for _, _, f in moves)
    scale = (height - 2 * pad - gap * (max(len(lefts), len(rights)) - 1)) / shown_total
    x1, x2, bar = 200.0, 560.0, 10.0

    def place(nodes: dict[Key, int]) -> dict[Key, float]:
        y, out = float(pad), {}
        for key in sorted(nodes, key=lambda k: (-nodes[k], label(k))):
            out[key] = y
            y += max(nodes[key] * scale, 2.0) + gap
        return out

    ly, ry = place(lefts), place(rights)
    colour = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(ly)}
    body = []
    lcur, rcur = dict(ly), dict(ry)
    for a, b, f in moves:
        h = max(f.count * scale, 1.0)
        ya, yb = lcur[a], rcur[b]
        lcur[a] += h
        rcur[b] += h
        xa, xb, mid = x1 + bar, x2, (x1 + bar + x2) / 2
        tip = (f"{label(a)} → {label(b)}: {f.count:,} episodes, points {_d(f.new_points - f.old_points, POINTS)}, "
               f"refund {_d(f.new_refund - f.old_refund)} NOK")
        body.append(f'<path d="M{_f(xa)},{_f(ya)} C{_f(mid)},{_f(ya)} {_f(mid)},{_f(yb)} {_f(xb)},{_f(yb)} '
                    f'L{_f(xb)},{_f(yb + h)} C{_f(mid)},{_f(yb + h)} {_f(mid)},{_f(ya + h)} {_f(xa)},{_f(ya + h)} Z" '
                    f'fill="{colour[a]}" fill-opacity="0.45"><title>{escape(tip)}</title></path>')
    for nodes, ys, x, anchor, dx in ((lefts, ly, x1, "end", -6.0), (rights, ry, x2, "start", bar + 6)):
        for key, y in ys.items():
            h = max(nodes[key] * scale, 2.0)
            fill = colour[key] if nodes is lefts else "#555"
            body.append(f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(bar)}" height="{_f(h)}" fill="{fill}"/>')
            body.append(f'<text x="{_f(x + dx)}" y="{_f(y + h / 2 + 4)}" text-anchor="{anchor}">'
                        f'{escape(label(key))} ({nodes[key]:,})</text>')
    body.append(f'<text x="{_f(x1)}" y="14" text-anchor="middle" font-weight="bold">before</text>')
    body.append(f'<text x="{_f(x2 + bar / 2)}" y="14" text-anchor="middle" font-weight="bold">after</text>')
    return _svg(width, int(height), "The largest flows between groups", body)


def change_chart(items: Sequence[tuple[str, Sums, Sums]]) -> str:
    """Two panels of horizontal bars from a zero line: the change in points and the change in refund
    for each item (the :data:`BARS` largest changes in refund, in the items' order)."""
    rows = [(name, b.points - a.points, b.refund - a.refund) for name, a, b in items]
    if len(rows) > BARS:
        keep = set(sorted(range(len(rows)), key=lambda i: (-abs(rows[i][2]), i))[:BARS])
        rows = [r for i, r in enumerate(rows) if i in keep]
    width, label_w, panel, row_h, top = 760, 150, 290, 20, 30
    if not rows:
        return _svg(width, 40, "No changes", ['<text x="10" y="24">Nothing to show.</text>'])
    height = top + row_h * len(rows) + 10
    body = []
    for p, (title, places, unit) in enumerate((("change in points", POINTS, ""), ("change in refund (NOK)", CENT, " NOK"))):
        x0 = label_w + p * (panel + 10)
        values = [r[1] if p == 0 else r[2] for r in rows]
        most = max((abs(v) for v in values), default=Decimal(0)) or Decimal(1)
        zero = x0 + panel / 2
        half = panel / 2 - 50
        body.append(f'<text x="{_f(zero)}" y="14" text-anchor="middle" font-weight="bold">{escape(title)}</text>')
        body.append(f'<line x1="{_f(zero)}" y1="{top - 6}" x2="{_f(zero)}" y2="{height - 6}" stroke="#888"/>')
        for i, v in enumerate(values):
            y = top + i * row_h
            w = float(abs(v) / most) * half
            x = zero if v >= 0 else zero - w
            fill = "#2b7bb9" if v >= 0 else "#c0392b"
            text = f"{rows[i][0]}: {_d(v, places)}{unit}"
            body.append(f'<rect x="{_f(x)}" y="{y}" width="{_f(w)}" height="{row_h - 6}" fill="{fill}">'
                        f'<title>{escape(text)}</title></rect>')
            tx, anchor = (zero + w + 3, "start") if v >= 0 else (zero - w - 3, "end")
            body.append(f'<text x="{_f(tx)}" y="{y + row_h - 10}" text-anchor="{anchor}" font-size="10">'
                        f'{escape(_d(v, places))}</text>')
    for i, (name, _, _) in enumerate(rows):
        y = top + i * row_h + row_h - 10
        body.append(f'<text x="{label_w - 6}" y="{y}" text-anchor="end">{escape(name[:24])}</text>')
    return _svg(width, height, "Change in points and refund", body)
