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
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from isfdsl.analysis.migration import CENT, Tally, budget_neutral
from isfdsl.commands import compare
from isfdsl.commands.cli import main
from isfdsl.commands.group import grouping
from isfdsl.commands.pipeline import load_package
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
                                       "--episodes", "csv", "--keep", "id", "--by", "sector", "--no-progress"])
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
    # The refund at f is f × the new refund, summed exactly and rounded once.
    refund = sum(Decimal(r["new_refund"]) for r in rows)
    assert abs(refund - Decimal(str(cells["Refund (NOK)"][1]))) < Decimal("0.01") * len(rows)


def test_the_walkthrough_quotes_a_fresh_run(seeds: Path) -> None:
    """docs/what-changes.md quotes the flows table and the factor of the same command: every such line
    is still in a fresh run's page."""
    doc = (ROOT / "docs" / "what-changes.md").read_text(encoding="utf-8")
    md = (seeds / "index.md").read_text(encoding="utf-8")
    quoted = [x for x in doc.splitlines() if x.startswith(("| DRG ", "| STG ", "f = ", "Σ new points"))]
    assert len(quoted) == 10
    assert [x for x in quoted if x not in md] == []
    assert "| refund (NOK) | 1,068,759.85 | 857,508.38 | -211,251.46 |" in doc
    assert "| Refund (NOK) | 1,068,759.85 | 857,508.38 | -211,251.46 |" in md


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
                episodes="csv", jobs=2, console=Console(file=io.StringIO()))
    for name in ("index.md", "index.html", "episodes.csv", "charts/flows.svg", "charts/mdc.svg", "compare.xlsx"):
        assert (again / name).read_bytes() == (seeds / name).read_bytes(), name


def test_payment_overrides_apply_per_side(tmp_path: Path) -> None:
    """The same version on both sides with another unit price on the new side: nobody moves, the points
    balance (factor 1), and only the new refund follows the new price."""
    done = compare.run(str(ROOT / "generated" / "isf2025"), str(ROOT / "generated" / "isf2025"), str(EXAMPLES), tmp_path / "D",
                       by=["sector"], episodes="none", new_payment=({"somatic": Decimal(60000)}, {}),
                       console=Console(file=io.StringIO()))
    t = done.tally
    assert all(a == b for (a, b) in t.cells) and t.factor() == 1
    somatic = t.by["sector"]["S"]
    assert somatic.new_refund == somatic.new_points * 60000 * Decimal("0.30")
    assert somatic.old_refund == somatic.old_points * 56155 * Decimal("0.30")
    assert t.by["sector"]["P"].old_refund == t.by["sector"]["P"].new_refund
    assert not (tmp_path / "D" / "episodes.parquet").exists()
    md = (tmp_path / "D" / "index.md").read_text(encoding="utf-8")
    assert "Payment after (2025 model (after the final ISF rules 2025)) overridden: unit price somatic = 60000." in md


def test_unknown_by_column_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["compare", str(DEFS / "isf2024"), str(DEFS / "isf2025"), str(EXAMPLES),
                                       "-o", str(tmp_path / "D"), "--by", "hospital"])
    assert result.exit_code == 2 and "no column 'hospital'" in result.output


# ---------------------------------------------------------------------- the aggregates add up


def _tally(old: ModuleType, new: ModuleType, eps: list[dict[str, object]], by: tuple[str, ...] = ()) -> Tally:
    chunk = [(n, e, []) for n, e in enumerate(eps, 1)]
    return compare.compare_chunk(chunk, grouping(old), grouping(new), [], by, rows=False)[0]  # type: ignore[arg-type]


@given(st.lists(episodes(PROGRAM), max_size=25), st.integers(0, 25))
def test_the_matrix_adds_up(eps: list[dict[str, object]], cut: int) -> None:
    t = _tally(OLD, NEW, eps, ("sector",))
    olds, news = [OLD.group(e) for e in eps], [NEW.group(e) for e in eps]
    assert sum(f.count for f in t.cells.values()) == t.rows == len(eps)
    total = t.total()
    assert total.old_points == sum((r.points for r in olds), Decimal(0))
    assert total.new_points == sum((r.points for r in news), Decimal(0))
    assert total.new_refund == sum((r.refund or Decimal(0) for r in news), Decimal(0))
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
    assert f is not None and f.as_tuple().exponent == -10
    assert (new * f).quantize(CENT) == old.quantize(CENT)
    assert budget_neutral(Decimal(5), Decimal(0)) is None


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


def _dated(src: Path, out: Path, header: str = "by admitted", attr: str = 'admitted: date "Innskrivningsdato"') -> Path:
    """A copy of a bundled version whose header names a date attribute that picks it."""
    shutil.copytree(src, out)
    schema = out / "schema.isf"
    text = schema.read_text(encoding="utf-8")
    text = re.sub(r"(valid \d{4}-\d\d-\d\d \.\. \d{4}-\d\d-\d\d)", rf"\1 {header}", text, count=1)
    schema.write_text(text.replace("episode {\n", f"episode {{\n  {attr}\n", 1), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`isf build isf2024 isf2025 -o gen/isf` over dated copies, and each copy built alone."""
    root = tmp_path_factory.mktemp("dated")
    for year in (2024, 2025):
        _dated(DEFS / f"isf{year}", root / f"isf{year}")
        assert CliRunner().invoke(main, ["build", str(root / f"isf{year}"), "-o", str(root / "gen" / f"isf{year}")]).exit_code == 0
    result = CliRunner().invoke(main, ["build", str(root / "isf2024"), str(root / "isf2025"), "-o", str(root / "gen" / "isf")])
    assert result.exit_code == 0, result.output
    return root


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_a_mixed_year_file_is_grouped_by_each_rows_version(dated: Path) -> None:
    rows = _read(EXAMPLES)
    dates = ["2024-06-30", "2025-01-01", "2024-12-31", "2025-12-31"]
    undated = {3: "", 9: "2023-12-31", 17: "31.12.2024", 22: "2026-01-01"}
    for n, r in enumerate(rows, 1):
        r["admitted"] = undated.get(n, dates[n % len(dates)])
    mixed = dated / "mixed.csv"
    with mixed.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    for name in ("isf", "isf2024", "isf2025"):
        result = CliRunner().invoke(main, ["group", str(dated / "gen" / name), str(mixed), "-o", str(dated / f"{name}.csv"),
                                           "--no-progress"])
        assert result.exit_code == 0, result.output
    both, old, new = (_read(dated / f"{n}.csv") for n in ("isf", "isf2024", "isf2025"))
    assert len(both) == len(rows) == 28
    fields = ("system", "group", "rule", "return_code", "points", "refund", "problems")
    for n, (b, o, w) in enumerate(zip(both, old, new, strict=True), 1):
        if n in undated:
            assert (b["group"], b["rule"], b["version"], b["points"]) == ("470", "undated", "", "0.000"), b
            assert b["problems"].startswith(f"admitted={undated[n]!r}: "), b["problems"]
            assert "no version can be chosen" in b["problems"] or "outside the validity of every version" in b["problems"]
            continue
        own = o if rows[n - 1]["admitted"].startswith("2024") else w
        assert {f: b[f] for f in fields} == {f: own[f] for f in fields}, n
        assert b["version"].startswith(rows[n - 1]["admitted"][:4]), b["version"]
    assert {b["version"][:4] for b in both} == {"2024", "2025", ""}


def test_the_package_of_several_versions(dated: Path, tmp_path: Path) -> None:
    """Standard library only, typed, the same bytes on every build; `isf compare` takes it as a side."""
    isf = load_package(dated / "gen" / "isf")
    assert [v[0][:4] for v in isf.VERSIONS] == ["2024", "2025"] and isf.DATED_BY == "admitted"
    assert (isf.VALID_FROM, isf.VALID_TO) == ("2024-01-01", "2025-12-31")
    episode = {"sex": "1", "age": 81, "care_level": "3", "pdx": "H35.3", "procedures": ["CKD05"], "drugs": ["L01FG01"]}
    import datetime

    assert isf.group({**episode, "admitted": datetime.date(2024, 5, 1)}).group == "802P"
    assert isf.group({**episode, "admitted": "2025-05-01"}).group == "802U"
    assert isf.version_of({**episode, "admitted": "2025-05-01"}).startswith("2025")
    assert isf.with_payment(Decimal(1000)).group({**episode, "admitted": "2025-05-01"}).refund == Decimal("0.1") * 1000 * Decimal("0.30")
    again = tmp_path / "isf"
    assert CliRunner().invoke(main, ["build", str(dated / "isf2024"), str(dated / "isf2025"), "-o", str(again)]).exit_code == 0
    built = sorted(p.relative_to(dated / "gen" / "isf") for p in (dated / "gen" / "isf").rglob("*") if p.is_file())
    assert built == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert all((again / p).read_bytes() == (dated / "gen" / "isf" / p).read_bytes() for p in built)
    done = compare.run(str(dated / "gen" / "isf2025"), str(dated / "gen" / "isf"), str(EXAMPLES), tmp_path / "D",
                       episodes="none", console=Console(file=io.StringIO()))
    # No example row carries a date: under the package of several versions every one is undated.
    assert done.tally.rows == 28 and {b for _, b in done.tally.cells} == {("DRG", "470")} and done.tally.new_unpaid == 28


def test_the_package_of_several_versions_names_unknown_keys_and_groups_arrow(dated: Path) -> None:
    """A key no version has is named (issue 18, item 15); an attribute of any version is not; the
    Arrow entry groups each row by its version (it lacked the points' decimals and raised)."""
    isf = load_package(dated / "gen" / "isf")
    episode = {"pdx": "H35.3", "age": 70, "procedures": ["CKD05"], "drugs": ["L01FG01"], "admitted": "2025-05-01"}
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
    folder = _dated(DEFS / "isf2025", tmp_path / "isf2025", header, attr)
    result = CliRunner().invoke(main, ["check", str(folder), "--no-analyse"])
    assert result.exit_code == 1 and message in result.output, result.output


def test_versions_that_a_date_cannot_tell_apart_are_refused(tmp_path: Path) -> None:
    a = _dated(DEFS / "isf2025", tmp_path / "a")
    b = _dated(DEFS / "isf2025", tmp_path / "b")
    result = CliRunner().invoke(main, ["build", str(a), str(b), "-o", str(tmp_path / "gen")])
    assert result.exit_code == 2 and "overlaps" in result.output
    result = CliRunner().invoke(main, ["build", str(DEFS / "isf2024"), str(a), "-o", str(tmp_path / "gen")])
    assert result.exit_code == 2 and "no date attribute picks the version" in result.output
    assert not (tmp_path / "gen").exists()
