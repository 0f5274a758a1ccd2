"""``isf compare``: the seeds' changes between the bundled 2024 and 2025 definitions show as flows with
hand-counted episodes; the aggregates add up (a property over generated episodes); a version compared
with itself is the identity; the official NordDRG 2016 → 2017 flows agree with grouping each side
alone; the pages pass the link check and open in a browser without console errors."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import ModuleType

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from isfdsl.analysis.migration import CENT, POINTS, Tally, budget_neutral, factor_places, rounded
from isfdsl.commands import compare
from isfdsl.commands.cli import main
from isfdsl.commands.group import grouping
from isfdsl.commands.pipeline import load_package
from isfdsl.runtime.contract import round_refund
from isfdsl.testing import episodes, load, random_episodes

from .conftest import ROOT
from .linkcheck import check_links

DEFS = ROOT / "definitions"
EXAMPLES = ROOT / "examples" / "isf2025-episodes.csv"
OLD, NEW = load_package(ROOT / "generated" / "isf2024"), load_package(ROOT / "generated" / "isf2025")
PROGRAM = load(str(DEFS / "isf2025"))


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`isf compare definitions/isf2024 definitions/isf2025 examples/isf2025-episodes.csv -o D`."""
    out = tmp_path_factory.mktemp("compare") / "D"
    result = CliRunner().invoke(main, ["compare", str(DEFS / "isf2024"), str(DEFS / "isf2025"), str(EXAMPLES), "-o", str(out),
                                       "--episodes", "csv", "--keep", "id", "--by", "sector", "--no-progress", "--lang", "en"])
    assert result.exit_code == 0, result.output
    return out


def _matrix(folder: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """(old group, new group) -> (episodes, example row), read from the workbook."""
    book = openpyxl.load_workbook(folder / "compare.xlsx", read_only=True)
    rows = list(book["Migration matrix"].iter_rows(values_only=True))
    assert rows[0][:5] == ("System before", "Group before", "System after", "Group after", "Episodes")
    return {(f"{r[0]} {r[1]}", f"{r[2]} {r[3]}"): (int(r[4]), int(r[9])) for r in rows[1:]}  # type: ignore[arg-type]


def test_the_seeds_changes_show_as_flows(seeds: Path) -> None:
    matrix = _matrix(seeds)
    # Hand count over examples/isf2025-episodes.csv: row 2 (bevacizumab for AMD) leaves 802P for 802U;
    # row 12 (IPL) leaves the light-therapy STG HS08 for DRG 810O; rows 27 and 28 (contact types 26 and
    # 40, invalid in 2024 so a physical consultation 901A) become indirect contacts 901I.
    assert matrix[("DRG 802P", "DRG 802U")] == (1, 2)
    assert matrix[("STG HS08", "DRG 810O")] == (1, 12)
    assert matrix[("DRG 901A", "DRG 901I")] == (2, 27)
    assert matrix[("DRG 901V", "DRG 901A")] == (1, 19)  # 2025 drops the video group
    assert sum(n for n, _ in matrix.values()) == 28
    moved = sum(n for (a, b), (n, _) in matrix.items() if a != b)
    assert moved == 9  # 2, 11, 12, 14, 15, 16, 19, 27, 28
    md = (seeds / "index.md").read_text(encoding="utf-8")
    assert "| DRG 802P | DRG 802U | 1 |" in md and "9 of them (32.1 %) change group" in md


def test_the_budget_neutral_factor_balances_to_the_cent(seeds: Path) -> None:
    with (seeds / "episodes.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["row"] for r in rows] == [str(n) for n in range(1, 29)] and rows[1]["id"] == "2"
    old = sum(Decimal(r["old_points"]) for r in rows)
    new = sum(Decimal(r["new_points"]) for r in rows)
    md = (seeds / "index.md").read_text(encoding="utf-8")
    shown = re.search(r"f = Σ old points / Σ new points = ([\d.]+) / ([\d.]+) = ([\d.]+)", md)
    assert shown is not None, md
    assert (Decimal(shown[1]), Decimal(shown[2])) == (old, new)
    factor = Decimal(shown[3])
    assert factor != 1 and (new * factor).quantize(CENT) == old.quantize(CENT)
    sheet = openpyxl.load_workbook(seeds / "compare.xlsx", read_only=True)["Totals"]
    cells = {r[0]: r[1:] for r in sheet.iter_rows(values_only=True)}
    assert Decimal(str(cells["Budget-neutral factor f = Σ old points / Σ new points"][1])) == factor
    # Refunds count as paid (each episode's rounded half up to the øre): the totals are the sums of the
    # per-episode file's columns, to the øre, and the refund at f is f × that, rounded once.
    refunds = [sum(Decimal(r[f"{side}_refund"] or 0) for r in rows) for side in ("old", "new")]
    assert [Decimal(str(x)) for x in cells["Refund (NOK)"]] == refunds
    assert Decimal(str(cells["Refund at f (NOK)"][1])) == (refunds[1] * factor).quantize(CENT, rounding=ROUND_HALF_UP)


def test_the_walkthrough_quotes_a_fresh_run(seeds: Path) -> None:
    """docs/what-changes.md quotes the flows table and the factor of the same command: every such line
    is still in a fresh run's page."""
    doc = (ROOT / "docs" / "what-changes.md").read_text(encoding="utf-8")
    md = (seeds / "index.md").read_text(encoding="utf-8")
    quoted = [x for x in doc.splitlines() if x.startswith(("| DRG ", "| STG ", "f = ", "Σ new points"))]
    assert len(quoted) == 10
    assert [x for x in quoted if x not in md] == []
    assert "| refund (NOK) | 1,068,759.86 | 857,508.42 | -211,251.44 |" in doc
    assert "| Refund (NOK) | 1,068,759.86 | 857,508.42 | -211,251.44 |" in md


def test_pages_pass_the_link_check(seeds: Path) -> None:
    checked, problems = check_links(seeds)
    assert checked >= 8 and not problems, problems
    for chart in ("flows", "mdc", "by-1"):
        svg = (seeds / "charts" / f"{chart}.svg").read_text(encoding="utf-8")
        assert svg.startswith("<svg ") and "<script" not in svg and "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert "DRG 802P → DRG 802U" in (seeds / "charts" / "flows.svg").read_text(encoding="utf-8")


def test_the_output_is_the_same_on_every_run(seeds: Path, tmp_path: Path) -> None:
    """Byte-identical pages, charts and workbook (and the same with two worker processes)."""
    again = tmp_path / "D"
    compare.run(str(DEFS / "isf2024"), str(DEFS / "isf2025"), str(EXAMPLES), again, by=["sector"], keep=["id"],
                episodes="csv", jobs=2, console=Console(file=io.StringIO()), lang="en")
    for name in ("index.md", "index.html", "episodes.csv", "charts/flows.svg", "charts/mdc.svg", "compare.xlsx"):
        assert (again / name).read_bytes() == (seeds / name).read_bytes(), name


def test_the_page_names_the_versions_once_and_says_what_its_chart_shows(seeds: Path) -> None:
    """A new user's reading of the page: the title and heading give the short names (they held the two long
    labels, the title twice), the labels stand once beside them; a group never breaks inside ("DRG 901A"); the
    flow chart's caption gives the number of moves it draws (8, not "the 12 largest"); the MDC chart and table
    say "no MDC" alike; the validity row does not repeat "valid"."""
    html = (seeds / "index.html").read_text(encoding="utf-8")
    title = re.search(r"<title>([^<]*)</title>", html)
    assert title and title.group(1) == "ISF 2024 → ISF 2025: what changes for these episodes", title
    assert "<h1>ISF 2024 → ISF 2025: what changes for these episodes</h1>" in html
    label_2024 = "ISF-modellen 2024 (etter regelverk for ISF 2024)"
    assert html.count(label_2024) == 2, html.count(label_2024)  # the header's subtitle and the versions table
    assert '<td class="nowrap">DRG 901A</td>' in html and "<td>DRG 901A</td>" not in html
    assert "td.nowrap { white-space: nowrap; }" in (seeds / "style.css").read_text(encoding="utf-8")
    moves = sum(1 for (a, b) in _matrix(seeds) if a != b)
    assert moves == 8 and "The 8 largest flows between groups" in html and "12 largest" not in html
    mdc_chart = (seeds / "charts" / "mdc.svg").read_text(encoding="utf-8")
    assert ">no MDC<" in mdc_chart and "<td>no MDC</td>" in html and "(none)" not in html
    assert "<tr><td>Validity</td><td>2024-01-01 to 2024-12-31</td><td>2025-01-01 to 2025-12-31</td></tr>" in html


def _sheet(folder: Path, name: str) -> list[tuple[object, ...]]:
    return list(openpyxl.load_workbook(folder / "compare.xlsx", read_only=True)[name].iter_rows(values_only=True))


def test_packages_give_the_mdc_totals_of_their_definitions(seeds: Path, tmp_path: Path) -> None:
    """Comparing the two generated packages gives the per-MDC totals of comparing the two definitions
    folders (each group's MDC read from the package's ``CATALOGUES``; every group used to count as
    without an MDC)."""
    for year in (2024, 2025):
        result = CliRunner().invoke(main, ["build", str(DEFS / f"isf{year}"), "-o", str(tmp_path / f"isf{year}")])
        assert result.exit_code == 0, result.output
    done = compare.run(str(tmp_path / "isf2024"), str(tmp_path / "isf2025"), str(EXAMPLES), tmp_path / "D", by=["sector"],
                       keep=["id"], episodes="csv", console=Console(file=io.StringIO()), lang="en")
    folders = _sheet(seeds, "MDC")
    assert _sheet(tmp_path / "D", "MDC") == folders
    mdcs = {r[0] for r in folders[1:]}
    assert {"02", "08", "09", "14", "17"} <= mdcs and "no MDC" in mdcs, mdcs
    assert "carried their catalogues" not in (tmp_path / "D" / "index.md").read_text(encoding="utf-8")
    assert done.old.parents[("DRG", "802P")] == "02" and done.new.parents[("DRG", "810O")] == "09"
    # the contract: the package names each group's parent, written out one group per line
    pkg = load_package(tmp_path / "isf2025")
    assert "CATALOGUES" in pkg.__all__ and pkg.CATALOGUES["DRG"]["802U"].parent == "02"
    model = (tmp_path / "isf2025" / "_model.py").read_text(encoding="utf-8")
    assert "    '802U': GroupRecord(code='802U', name=" in model and ", parent='02', " in model


def test_payment_overrides_apply_per_side(tmp_path: Path) -> None:
    """The same version on both sides with another unit price on the new side: nobody moves, the points
    balance (factor 1), and only the new refund follows the new price."""
    done = compare.run(str(ROOT / "generated" / "isf2025"), str(ROOT / "generated" / "isf2025"), str(EXAMPLES), tmp_path / "D",
                       by=["sector"], episodes="none", new_payment=({"somatic": Decimal(60000)}, {}),
                       console=Console(file=io.StringIO()), lang="en")
    t = done.tally
    assert all(a == b for (a, b) in t.cells) and t.factor() == 1
    somatic = t.by["sector"]["S"]
    with EXAMPLES.open(encoding="utf-8", newline="") as f:
        eps = [e for e in csv.DictReader(f) if e["sector"] == "S"]
    # each episode's refund as paid: points × price × share, rounded half up to the øre
    assert somatic.new_refund == sum(((NEW.group(e).points * 60000 * Decimal("0.30")).quantize(CENT, ROUND_HALF_UP) for e in eps),
                                     Decimal(0))
    assert somatic.old_refund == sum(((NEW.group(e).points * 56155 * Decimal("0.30")).quantize(CENT, ROUND_HALF_UP) for e in eps),
                                     Decimal(0))
    assert t.by["sector"]["P"].old_refund == t.by["sector"]["P"].new_refund
    assert not (tmp_path / "D" / "episodes.parquet").exists()
    md = (tmp_path / "D" / "index.md").read_text(encoding="utf-8")
    # grouped by thousands as every amount of the page (it read "60000" beside "1,068,759.86")
    assert "Payment after (ISF-modellen 2025 (etter endelig regelverk for ISF 2025)) overridden: unit price somatic = 60,000." in md


def test_unknown_by_column_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["compare", str(DEFS / "isf2024"), str(DEFS / "isf2025"), str(EXAMPLES),
                                       "-o", str(tmp_path / "D"), "--by", "hospital"])
    assert result.exit_code == 2 and "no column 'hospital'" in result.output


# ---------------------------------------------------------------------- the aggregates add up


def _tally(old: ModuleType, new: ModuleType, eps: list[dict[str, object]], by: tuple[str, ...] = ()) -> Tally:
    chunk = [(n, e, []) for n, e in enumerate(eps, 1)]
    return compare.compare_chunk(chunk, grouping(old), grouping(new), [], by)[0]  # type: ignore[arg-type]


@given(st.lists(episodes(PROGRAM), max_size=25), st.integers(0, 25))
def test_the_matrix_adds_up(eps: list[dict[str, object]], cut: int) -> None:
    t = _tally(OLD, NEW, eps, ("sector",))
    olds, news = [OLD.group(e) for e in eps], [NEW.group(e) for e in eps]
    assert sum(f.count for f in t.cells.values()) == t.rows == len(eps)
    total = t.total()
    assert total.old_points == sum((r.points for r in olds), Decimal(0))
    assert total.new_points == sum((r.points for r in news), Decimal(0))
    # refunds as paid: each rounded half up to the øre, as isf group writes it
    assert total.new_refund == sum((round_refund(r.refund) for r in news if r.refund is not None), Decimal(0))
    assert total.old_refund == sum((round_refund(r.refund) for r in olds if r.refund is not None), Decimal(0))
    assert Counter({k: f.count for k, f in t.cells.items()}) == Counter(((a.system, a.group), (b.system, b.group))
                                                                       for a, b in zip(olds, news, strict=True))
    for table in (t.per_group(), t.per_system(), t.per_parent({}, {})):
        assert sum(a.count for a, _ in table.values()) == sum(b.count for _, b in table.values()) == len(eps)
        assert sum((a.points for a, _ in table.values()), Decimal(0)) == total.old_points
        assert sum((b.points for _, b in table.values()), Decimal(0)) == total.new_points
    assert sum(f.count for f in t.by.get("sector", {}).values()) == len(eps)
    # Chunks merged (the worker processes' path) give the same tally as one pass.
    merged = _tally(OLD, NEW, eps[:cut], ("sector",))
    rest = _tally(OLD, NEW, eps[cut:], ("sector",))
    for cell in rest.cells.values():  # rows of the second part are numbered after the first
        cell.example += len(eps[:cut])
    for per in rest.by.values():
        for flow in per.values():
            flow.example += len(eps[:cut])
    merged.merge(rest)
    assert merged == t


@given(st.lists(episodes(PROGRAM), max_size=25))
def test_a_version_compared_with_itself_is_the_identity(eps: list[dict[str, object]]) -> None:
    t = _tally(NEW, NEW, eps)
    assert all(a == b for a, b in t.cells)
    assert t.moved().count == 0
    total = t.total()
    assert t.factor() == (1 if total.new_points else None)


def test_the_factor_is_rounded_so_that_it_still_balances() -> None:
    old, new = Decimal("12345678.901"), Decimal("12222222.223")
    f = budget_neutral(old, new)
    assert f is not None and f.as_tuple().exponent == -12  # an eight-digit total: 8 + 4 decimals
    assert rounded(new * f, POINTS) == old
    assert budget_neutral(Decimal("51.230"), Decimal("50.990")) == Decimal("1.0047068053")
    # a half rounds up, whatever the decimal context says (half to even would give ...0)
    assert budget_neutral(Decimal("1.00000000005"), Decimal(1)) == Decimal("1.0000000001")
    assert budget_neutral(Decimal(5), Decimal(0)) is None


@given(st.decimals(min_value=0, max_value=10**10, places=3, allow_nan=False, allow_infinity=False),
       st.decimals(min_value=Decimal("0.001"), max_value=10**10, places=3, allow_nan=False, allow_infinity=False))
def test_the_factor_balances_the_totals_exactly(old: Decimal, new: Decimal) -> None:
    """Points have three decimals: whatever the two totals (up to ten billion points), the new total
    times the factor as shown is within a twentieth of a thousandth of the old total, so rounded to the
    thousandth it is the old total. (Rounding both to the hundredth need not agree: 2.715 → 2.72, but
    2.71499999… → 2.71.)"""
    f = budget_neutral(old, new)
    assert f is not None and -f.as_tuple().exponent == factor_places(new) >= 10  # type: ignore[operator]
    assert abs(new * f - old) < Decimal("0.00005")
    assert rounded(new * f, POINTS) == old


def test_memory_grows_with_groups_not_episodes() -> None:
    """A tally of the examples repeated 50 times has the cells of the examples alone."""
    with EXAMPLES.open(encoding="utf-8", newline="") as f:
        rows: list[dict[str, object]] = list(csv.DictReader(f))
    once, many = _tally(OLD, NEW, rows), _tally(OLD, NEW, rows * 50)
    assert once.cells.keys() == many.cells.keys() and many.rows == 50 * once.rows


# ---------------------------------------------------------------------- NordDRG 2016 → 2017


@pytest.mark.official
def test_norddrg_2016_to_2017(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """Synthetic episodes through the official 2016 and 2017 tables (imported and compiled into a
    temporary folder, shared with tests/test_norddrg.py): the flows are those of grouping each side
    alone."""
    from .test_norddrg import SHARED, _year

    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent")
    tmp = tmp_path_factory.getbasetemp()
    old, new = _year(2016, tmp), _year(2017, tmp)
    eps = random_episodes(old.program, 300, 2017)
    path = tmp_path / "episodes.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in eps), encoding="utf-8")
    folders = [str(Path(str(y.package.__file__)).parent) for y in (old, new)]
    done = compare.run(folders[0], folders[1], str(path), tmp_path / "D", episodes="csv", console=Console(file=io.StringIO()))
    expected = Counter(((a.system, a.group), (b.system, b.group))
                       for a, b in ((old.package.group(e), new.package.group(e)) for e in eps))
    assert {k: f.count for k, f in done.tally.cells.items()} == dict(expected)
    assert len({a for a, _ in expected}) > 20  # the episodes reach many groups
    total = done.tally.total()
    assert total.old_points == sum((old.package.group(e).points for e in eps), Decimal(0))
    _, problems = check_links(tmp_path / "D")
    assert not problems, problems[:5]


# ---------------------------------------------------------------------- in a browser


def test_pages_open_in_a_browser(seeds: Path) -> None:
    exe = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if exe is None:
        pytest.skip("no chromium on this machine (.ci/run installs Debian's `chromium`)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed (needed to drive chromium)")
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=["--headless", "--no-sandbox", "--disable-gpu",
                                                                "--disable-dev-shm-usage"])
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
        page.goto((seeds / "index.html").resolve().as_uri())
        sizes = page.eval_on_selector_all("figure img", "els => els.map(e => [e.complete, e.naturalWidth])")
        assert len(sizes) == 3 and all(done and width > 0 for done, width in sizes), sizes
        assert page.query_selector("#q") is None  # a comparison has no index to search: no search box
        browser.close()
    assert not errors, errors[:5]


# ---------------------------------------------------------------------- several versions by date


def _variant(src: Path, out: Path, header: str = "by admitted", attr: str = 'admitted: date "Innskrivningsdato"') -> Path:
    """A copy of a bundled version whose header says ``header`` instead of ``by discharge_date`` (the
    bundled versions' own date attribute), with ``attr`` added to its episode."""
    shutil.copytree(src, out)
    schema = out / "schema.isf"
    text = schema.read_text(encoding="utf-8")
    assert " by discharge_date " in text
    text = text.replace(" by discharge_date ", f" {header} " if header else " ", 1)
    schema.write_text(text.replace("episode {\n", f"episode {{\n  {attr}\n", 1) if attr else text, encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`isf build definitions/isf2024 definitions/isf2025 -o gen/isf` on the bundled definitions (each
    declares `by discharge_date`), and each version built alone."""
    root = tmp_path_factory.mktemp("dated")
    for year in (2024, 2025):
        assert CliRunner().invoke(main, ["build", str(DEFS / f"isf{year}"), "-o", str(root / "gen" / f"isf{year}")]).exit_code == 0
    result = CliRunner().invoke(main, ["build", str(DEFS / "isf2024"), str(DEFS / "isf2025"), "-o", str(root / "gen" / "isf")])
    assert result.exit_code == 0, result.output
    return root


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_a_mixed_year_file_is_grouped_by_each_rows_version(dated: Path) -> None:
    rows = _read(EXAMPLES)
    # ISO dates and dates as Norwegian spreadsheets write them (31.12.2024: day, month, four-digit year)
    dates = ["2024-06-30", "01.01.2025", "31.12.2024", "2025-12-31", "1.2.2024"]
    undated = {3: "", 9: "2023-12-31", 17: "31.02.2024", 22: "2026-01-01", 25: "2024-12-31T10:00"}
    for n, r in enumerate(rows, 1):
        r["discharge_date"] = undated.get(n, dates[n % len(dates)])
    mixed = dated / "mixed.csv"
    with mixed.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    for name in ("isf", "isf2024", "isf2025"):
        result = CliRunner().invoke(main, ["group", str(dated / "gen" / name), str(mixed), "-o", str(dated / f"{name}.csv"),
                                           "--no-progress"])
        assert result.exit_code == 0, result.output
        # the summary names a package of several versions by its years, as isf compare does, not by its newest
        assert f"isf group: {'ISF 2024–2025' if name == 'isf' else 'ISF ' + name[3:]} (" in result.output, result.output
    both, old, new = (_read(dated / f"{n}.csv") for n in ("isf", "isf2024", "isf2025"))
    assert len(both) == len(rows) == 28
    fields = ("system", "group", "rule", "return_code", "points", "refund", "problems")
    for n, (b, o, w) in enumerate(zip(both, old, new, strict=True), 1):
        if n in undated:
            assert (b["group"], b["rule"], b["version"], b["points"]) == ("470", "undated", "", "0.000"), b
            assert b["problems"].startswith(f"discharge_date={undated[n]!r}: "), b["problems"]
            assert "no version can be chosen" in b["problems"] or "outside the validity of every version" in b["problems"]
            continue
        year = rows[n - 1]["discharge_date"][-4:] if "." in rows[n - 1]["discharge_date"] else rows[n - 1]["discharge_date"][:4]
        own = o if year == "2024" else w
        assert {f: b[f] for f in fields} == {f: own[f] for f in fields}, n
        assert b["version"].startswith("ISF-modellen " + year), b["version"]
    assert {b["version"][:17] for b in both} == {"ISF-modellen 2024", "ISF-modellen 2025", ""}


def test_the_walkthrough_quotes_the_mixed_year_file_as_grouped(dated: Path, tmp_path: Path) -> None:
    """docs/what-changes.md groups examples/episodes-2024-2025.csv with the package of both bundled
    versions: its table is a fresh run's rows, and the problems it quotes are the run's."""
    doc = (ROOT / "docs" / "what-changes.md").read_text(encoding="utf-8")
    assert "isf build definitions/isf2024 definitions/isf2025 -o generated/isf\n" in doc
    assert "isf group generated/isf examples/episodes-2024-2025.csv -o grouped-2024-2025.csv\n" in doc
    start = doc.index("| id | discharge_date | group | rule | points | version |\n| --- |")
    quoted = doc[start:doc.index("\n\n", start)].splitlines()[2:]
    out = tmp_path / "grouped.csv"
    result = CliRunner().invoke(main, ["group", str(dated / "gen" / "isf"), str(ROOT / "examples" / "episodes-2024-2025.csv"),
                                       "-o", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    rows = _read(out)
    fresh = [f"| {r['id']} | {r['discharge_date']} | {r['group']} | {r['rule']} | {r['points']} | {r['version'][:17]} |"
             .replace("|  |", "| |") for r in rows]
    assert quoted == fresh
    # both years, both ways of writing a date, and undated rows
    assert {r["version"][:17] for r in rows} == {"ISF-modellen 2024", "ISF-modellen 2025", ""}
    assert any("." in r["discharge_date"] and r["version"] for r in rows) and any(not r["discharge_date"] for r in rows)
    for r in rows:
        if not r["version"]:
            assert f"`{r['problems']}`" in doc, r["problems"]


def test_the_package_of_several_versions(dated: Path, tmp_path: Path) -> None:
    """Standard library only, typed, the same bytes on every build; `isf compare` takes it as a side."""
    isf = load_package(dated / "gen" / "isf")
    assert [v[0][:17] for v in isf.VERSIONS] == ["ISF-modellen 2024", "ISF-modellen 2025"] and isf.DATED_BY == "discharge_date"
    assert (isf.VALID_FROM, isf.VALID_TO) == ("2024-01-01", "2025-12-31")
    episode = {"sex": "1", "age": 81, "care_level": "3", "pdx": "H35.3", "procedures": ["CKD05"], "drugs": ["L01FG01"]}
    import datetime

    assert isf.group({**episode, "discharge_date": datetime.date(2024, 5, 1)}).group == "802P"
    assert isf.group({**episode, "discharge_date": "2025-05-01"}).group == "802U"
    assert isf.version_of({**episode, "discharge_date": "2025-05-01"}).startswith("ISF-modellen 2025")
    assert isf.with_payment(Decimal(1000)).group({**episode, "discharge_date": "2025-05-01"}).refund == Decimal("0.1") * 1000 * Decimal("0.30")
    again = tmp_path / "isf"
    assert CliRunner().invoke(main, ["build", str(DEFS / "isf2024"), str(DEFS / "isf2025"), "-o", str(again)]).exit_code == 0
    built = sorted(p.relative_to(dated / "gen" / "isf") for p in (dated / "gen" / "isf").rglob("*") if p.is_file())
    assert built == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert all((again / p).read_bytes() == (dated / "gen" / "isf" / p).read_bytes() for p in built)
    done = compare.run(str(dated / "gen" / "isf2025"), str(dated / "gen" / "isf"), str(EXAMPLES), tmp_path / "D",
                       episodes="none", console=Console(file=io.StringIO()))
    # No example row carries a date: under the package of several versions every one is undated.
    assert done.tally.rows == 28 and {b for _, b in done.tally.cells} == {("DRG", "470")} and done.tally.new_unpaid == 28


def _mixed(path: Path, n: int = 28) -> list[dict[str, str]]:
    """``n`` example episodes dated in turn in 2024 and 2025, one of each 13 undated, written to ``path``."""
    rows = _read(EXAMPLES)
    dates = ["2024-06-30", "2025-03-01", "2024-12-31", "2025-12-31", "2024-01-01"]
    out = [{**rows[k % len(rows)], "discharge_date": "" if k % 13 == 5 else dates[k % len(dates)]} for k in range(n)]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(out[0]))
        w.writeheader()
        w.writerows(out)
    return out


def test_compare_names_the_version_of_each_row_of_a_package_of_several(dated: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A side that is a package of several versions gets a column naming the version that grouped each
    row (``old_version`` / ``new_version``, as ``isf group`` writes ``version``), in this process and
    in worker processes alike; a side of one version gets none."""
    from isfdsl.commands import parallel

    rows = _mixed(tmp_path / "mixed.csv", 300)
    isf = load_package(dated / "gen" / "isf")
    real = parallel.chunks
    monkeypatch.setattr(parallel, "chunks", lambda records: real(records, 100))  # three chunks: workers for --jobs 2
    pools: list[object] = []
    context = parallel._context
    monkeypatch.setattr(parallel, "_context", lambda start: pools.append(start) or context(start))
    for jobs in (1, 2):
        compare.run(str(dated / "gen" / "isf"), str(dated / "gen" / "isf2025"), str(tmp_path / "mixed.csv"), tmp_path / f"D{jobs}",
                    keep=["discharge_date"], episodes="csv", jobs=jobs, console=Console(file=io.StringIO()))
    out = _read(tmp_path / "D1" / "episodes.csv")
    assert "old_version" in out[0] and "new_version" not in out[0]
    assert list(out[0]).index("old_version") == list(out[0]).index("old_problems") + 1
    assert [r["old_version"] for r in out] == [isf.version_of(r) or "" for r in rows]
    assert {" ".join(sorted(set(re.findall(r"\b20\d\d\b", r["old_version"])))) for r in out} == {"2024", "2025", ""}
    assert len(pools) == 1 and (tmp_path / "D2" / "episodes.csv").read_bytes() == (tmp_path / "D1" / "episodes.csv").read_bytes()
    compare.run(str(dated / "gen" / "isf2024"), str(dated / "gen" / "isf"), str(tmp_path / "mixed.csv"), tmp_path / "P",
                episodes="parquet", jobs=1, console=Console(file=io.StringIO()))
    import pyarrow.parquet as pq

    names = pq.read_schema(tmp_path / "P" / "episodes.parquet").names
    assert "new_version" in names and "old_version" not in names


def test_compare_names_a_package_of_several_versions_by_its_years(dated: Path, tmp_path: Path) -> None:
    """The terminal summary and the page title name a package of several versions "ISF 2024–2025" (not
    "ISF 2025", its newest year); the versions sheet lists each version; its groups keep their MDCs."""
    _mixed(tmp_path / "mixed.csv")
    said = io.StringIO()
    done = compare.run(str(dated / "gen" / "isf2024"), str(dated / "gen" / "isf"), str(tmp_path / "mixed.csv"), tmp_path / "D",
                       episodes="none", jobs=1, console=Console(file=said, width=200), lang="en")
    assert (done.old.title, done.new.title) == ("ISF 2024", "ISF 2024–2025")
    text = said.getvalue()
    assert "→ ISF 2024–2025 on " in text and re.search(r"ISF 2024\s*┃\s*ISF 2024–2025\s*┃", text), text
    html = (tmp_path / "D" / "index.html").read_text(encoding="utf-8")
    assert re.search(r"<title>ISF 2024 → ISF 2024–2025: [^<·]*</title>", html), html[:600]
    versions = {r[0]: r[1:] for r in _sheet(tmp_path / "D", "Versions")}
    assert versions["Version"][1] == " | ".join(v[0] for v in load_package(dated / "gen" / "isf").VERSIONS)
    assert done.new.parents[("DRG", "802U")] == "02" and done.new.parents[("DRG", "810O")] == "09"


def test_the_package_of_several_versions_names_unknown_keys_and_groups_arrow(dated: Path) -> None:
    """A key no version has is named (issue 18, item 15); an attribute of any version is not; the
    Arrow entry groups each row by its version (it lacked the points' decimals and raised)."""
    isf = load_package(dated / "gen" / "isf")
    episode = {"pdx": "H35.3", "age": 70, "procedures": ["CKD05"], "drugs": ["L01FG01"], "discharge_date": "2025-05-01"}
    assert isf.group(episode).problems == ()
    assert isf.group({**episode, "drugz": "x"}).problems == (("drugz", "x", "not an attribute, ignored; did you mean drugs?"),)
    import pyarrow as pa

    row = {k: " ".join(v) if isinstance(v, list) else str(v) for k, v in episode.items()}
    [out] = list(isf.group_arrow([pa.RecordBatch.from_pylist([row])]))
    assert out.column("group").to_pylist() == ["802U"]


@pytest.mark.parametrize(("header", "attr", "message"), [
    ("by admitted", "admitted_on: date", "unknown episode attribute `admitted`"),
    ("by admitted", "admitted: int 0..9", "`admitted` picks the version by date, so it must be of type date"),
])
def test_the_date_attribute_is_checked(tmp_path: Path, header: str, attr: str, message: str) -> None:
    folder = _variant(DEFS / "isf2025", tmp_path / "isf2025", header, attr)
    result = CliRunner().invoke(main, ["check", str(folder), "--no-analyse"])
    assert result.exit_code == 1 and message in result.output, result.output


def test_versions_that_a_date_cannot_tell_apart_are_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(DEFS / "isf2025"), str(DEFS / "isf2025"), "-o", str(tmp_path / "gen")])
    assert result.exit_code == 2 and "overlaps" in result.output
    undated = _variant(DEFS / "isf2024", tmp_path / "undated", header="", attr="")
    result = CliRunner().invoke(main, ["build", str(undated), str(DEFS / "isf2025"), "-o", str(tmp_path / "gen")])
    assert result.exit_code == 2 and "no date attribute picks the version" in result.output
    other = _variant(DEFS / "isf2024", tmp_path / "other")
    result = CliRunner().invoke(main, ["build", str(other), str(DEFS / "isf2025"), "-o", str(tmp_path / "gen")])
    assert result.exit_code == 2 and "different attributes (admitted, discharge_date)" in result.output
    assert not (tmp_path / "gen").exists()


# ---------------------------------------------------------------------- the audit of issue 21


def test_the_pages_are_norwegian_by_default(tmp_path: Path) -> None:
    """Hospital controllers read the pages: bokmål words and numbers unless --lang en (the terminal
    summary stays English, like every message of isf)."""
    out = tmp_path / "D"
    result = CliRunner().invoke(main, ["compare", str(DEFS / "isf2024"), str(DEFS / "isf2025"), str(EXAMPLES), "-o", str(out),
                                       "--episodes", "none", "--by", "sector", "--no-progress"])
    assert result.exit_code == 0, result.output
    md = (out / "index.md").read_text(encoding="utf-8")
    assert "9 av dem (32,1 %) bytter gruppe" in md and "## <a id=\"flows\"></a>Flyt mellom grupper" in md
    assert "| Refusjon (kr) | 1\u00a0068\u00a0759,86 | 857\u00a0508,42 | -211\u00a0251,44 |" in md
    assert "= 51,230 / 50,990 = 1,0047068053" in md
    for english in ("change group", "Refund", "Before", "episodes from", "Budget-neutral"):
        assert english not in md, english
    assert '<html lang="nb"' in (out / "index.html").read_text(encoding="utf-8")
    assert ">før</text>" in (out / "charts" / "flows.svg").read_text(encoding="utf-8")
    assert "endring i refusjon (kr)" in (out / "charts" / "by-1.svg").read_text(encoding="utf-8")
    book = openpyxl.load_workbook(out / "compare.xlsx", read_only=True)
    assert book.sheetnames == ["Totalt", "Gruppesystemer", "Flyttematrise", "Grupper", "MDC", "Etter sector", "Versjoner"]
    by = list(book["Etter sector"].iter_rows(values_only=True))
    assert by[0][-1] == "Budsjettnøytral faktor" and all(r[-1] for r in by[1:])  # the page's factor per value, too


def test_the_per_episode_file_is_what_isf_group_writes(tmp_path: Path) -> None:
    """Each side's points and refund as `isf group` writes them (the one money rule: points with three
    decimals, the refund rounded half up to the øre — 842.325 → 842.33, where half to even gave 842.32),
    money as Arrow decimals in Parquet; the page's totals are the sums of those columns."""
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "D"
    done = compare.run(str(DEFS / "isf2024"), str(DEFS / "isf2025"), str(EXAMPLES), out, episodes="parquet", jobs=1,
                       console=Console(file=io.StringIO()))
    table = pq.read_table(out / "episodes.parquet")
    assert str(table.schema.field("old_points").type) == "decimal128(38, 3)"
    assert str(table.schema.field("new_refund").type) == "decimal128(38, 2)"
    rows = table.to_pylist()
    for side, pkg in (("old", OLD), ("new", NEW)):
        assert CliRunner().invoke(main, ["group", str(Path(str(pkg.__file__)).parent), str(EXAMPLES), "-o",
                                         str(tmp_path / f"{side}.csv"), "--no-progress", "--jobs", "1"]).exit_code == 0
        grouped = _read(tmp_path / f"{side}.csv")
        assert [(r["points"], r["refund"]) for r in grouped] == [(str(r[f"{side}_points"]), str(r[f"{side}_refund"]))
                                                                 for r in rows]
    assert rows[18]["new_refund"] == Decimal("842.33")  # 0.050 × 56,155 × 0.30 = 842.325
    total = done.tally.total()
    assert total.old_refund == sum(r["old_refund"] for r in rows) == Decimal("1068759.86")
    assert total.new_refund == sum(r["new_refund"] for r in rows)
    assert total.new_points == sum(r["new_points"] for r in rows)


def _many(path: Path, n: int) -> Path:
    """``n`` episodes: the examples over and over, with a hospital column."""
    with EXAMPLES.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[*rows[0], "hospital"])
        w.writeheader()
        for k in range(n):
            w.writerow({**rows[k % len(rows)], "hospital": f"HF{k % 7}"})
    return path


def test_worker_processes_give_the_same_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three chunks of rows really go to worker processes (one chunk would be grouped here), and the
    files are byte for byte those of --jobs 1. The default is a worker per processor, as for isf group."""
    from isfdsl.commands import parallel

    src = _many(tmp_path / "in.csv", 2 * parallel.CHUNK + 100)
    pools: list[object] = []
    real = parallel._context
    monkeypatch.setattr(parallel, "_context", lambda start: pools.append(start) or real(start))
    for jobs in (1, 2):
        compare.run(str(DEFS / "isf2024"), str(DEFS / "isf2025"), str(src), tmp_path / f"j{jobs}", by=["hospital"], keep=["id"],
                    episodes="csv", jobs=jobs, console=Console(file=io.StringIO()))
        assert len(pools) == jobs - 1
    for name in ("episodes.csv", "index.md", "index.html", "charts/flows.svg", "charts/by-1.svg", "compare.xlsx"):
        assert (tmp_path / "j1" / name).read_bytes() == (tmp_path / "j2" / name).read_bytes(), name
    jobs_option = next(p for p in main.commands["compare"].params if p.name == "jobs")
    assert jobs_option.default == 0


def test_a_run_that_stops_leaves_the_folder_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk that fills up part-way: the per-episode file of the run before stays whole (it used to
    be replaced by the rows written so far), no temporary file is left, the pages are not rewritten,
    and the message says so (exit 1)."""
    from isfdsl.commands import batch, parallel

    src = _many(tmp_path / "in.csv", 2 * parallel.CHUNK + 100)
    out = tmp_path / "D"
    out.mkdir()
    (out / "episodes.csv").write_text("previous\n", encoding="utf-8")
    (out / "index.md").write_text("previous page\n", encoding="utf-8")
    real = batch.Writer.put
    count = [0]

    def full(self: batch.Writer, part: object) -> None:
        count[0] += 1
        if count[0] == 2:
            raise OSError(28, "No space left on device")
        real(self, part)

    monkeypatch.setattr(batch.Writer, "put", full)
    r = CliRunner().invoke(main, ["compare", str(DEFS / "isf2024"), str(DEFS / "isf2025"), str(src), "-o", str(out),
                                  "--episodes", "csv", "--jobs", "1", "--no-progress"])
    assert r.exit_code == 1 and isinstance(r.exception, SystemExit), r.output
    assert "No space left on device" in r.output and "is unchanged (the previous file is kept)" in r.output
    assert (out / "episodes.csv").read_text(encoding="utf-8") == "previous\n"
    assert (out / "index.md").read_text(encoding="utf-8") == "previous page\n"
    assert sorted(p.name for p in out.iterdir()) == ["episodes.csv", "index.md"]


@pytest.mark.parametrize(("args", "message"), [
    (["--by", "hospital"], "no column 'hospital'"),
    (["--by", ""], "no column ''"),
    (["--by", "row"], "'row': a column the comparison writes itself"),
    (["--keep", "old_group"], "'old_group': a column the comparison writes itself"),
    (["--by", "sector", "--by", "sector"], "--by 'sector' given more than once"),
])
def test_a_by_column_that_cannot_be_is_a_usage_error(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["compare", str(DEFS / "isf2024"), str(DEFS / "isf2025"), str(EXAMPLES),
                                       "-o", str(tmp_path / "D"), *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output, result.output
    assert not (tmp_path / "D").exists()


def test_a_by_key_no_json_line_has_is_named(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    with EXAMPLES.open(encoding="utf-8", newline="") as f:
        src.write_text("".join(json.dumps(r) + "\n" for r in csv.DictReader(f)), encoding="utf-8")
    err = io.StringIO()
    compare.run(str(DEFS / "isf2024"), str(DEFS / "isf2025"), str(src), tmp_path / "D", by=["hospital"], episodes="none",
                console=Console(file=err), lang="en")
    assert "warning: no episode has a value in the column 'hospital' of --by" in err.getvalue()
    assert "No episode has a value in the column hospital" in (tmp_path / "D" / "index.md").read_text(encoding="utf-8")


def test_an_input_without_rows_is_said(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(EXAMPLES.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    err = io.StringIO()
    done = compare.run(str(DEFS / "isf2024"), str(DEFS / "isf2025"), str(src), tmp_path / "D", episodes="none",
                       console=Console(file=err))
    assert done.tally.rows == 0 and "warning: the input holds no rows" in err.getvalue()


def test_the_workbook_shows_points_to_the_thousandth_and_kroner_to_the_ore(tmp_path: Path) -> None:
    """compare.xlsx writes numbers as numbers formatted as the page shows them: points with three decimals,
    kroner with two, thousands grouped (Excel writes the separators of the reader's locale), the factor with
    its places; they were 'General' (0.1 points, 1062281.1 kr), each cell with whatever places its sum had."""
    compare.run(str(DEFS / "isf2024"), str(DEFS / "isf2025"), str(EXAMPLES), tmp_path / "C", episodes="none", jobs=1,
                console=Console(file=io.StringIO()))
    book = openpyxl.load_workbook(tmp_path / "C" / "compare.xlsx")
    totals = {row[0].value: row for row in book.worksheets[0].iter_rows(min_row=2)}
    points, refund, factor = (totals[k] for k in ("Poeng", "Refusjon (kr)", "Budsjettnøytral faktor f = Σ gamle poeng / Σ nye poeng"))
    assert [c.number_format for c in points[1:]] == ["#,##0.000"] * 2
    assert [c.number_format for c in refund[1:]] == ["#,##0.00"] * 2 and refund[1].value == 1068759.86
    assert factor[2].number_format == "#,##0.0000000000"
    matrix = book["Flyttematrise"]
    header = [c.value for c in matrix[1]]
    for row in matrix.iter_rows(min_row=2):
        formats = {h: c.number_format for h, c in zip(header, row, strict=True)}
        assert formats["Poeng før"] == formats["Poeng etter"] == "#,##0.000", formats
        assert formats["Refusjon før (kr)"] == formats["Refusjon etter (kr)"] == "#,##0.00", formats
        assert formats["Episoder"] == "General"
