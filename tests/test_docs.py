"""Documentation, change documentation and Excel export: committed output in step with the definitions,
links and anchors, golden Markdown, hostile text inert everywhere, byte-identical workbooks, what
`isf diff` says about the 2025 changes, and a real browser over the site (when chromium is there)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from isfdsl.analysis import reverse
from isfdsl.commands import publish
from isfdsl.commands.cli import main
from isfdsl.emit import changes as diffs
from isfdsl.emit import docs as emit_docs
from isfdsl.emit.docs import MANIFEST
from isfdsl.testing import load

from .conftest import ROOT
from .linkcheck import check_links

DEFS = ROOT / "definitions"
DOCS = ROOT / "generated" / "docs"
GOLDEN = ROOT / "tests" / "golden" / "docs"
HAVE_DOT = shutil.which("dot") is not None


def _build_all(out: Path) -> None:
    for v in ("isf2024", "isf2025"):
        r = CliRunner().invoke(main, ["docs", str(DEFS / v), "-o", str(out / v), "--no-progress"])
        assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["diff", str(DEFS / "isf2024"), str(DEFS / "isf2025"), "-o",
                                  str(out / "changes-isf2024-isf2025"), "--no-progress"])
    assert r.exit_code == 0, r.output


def _files(root: Path) -> dict[str, bytes]:
    """The files of a built site (not the build's manifest: which folders a build created depends on
    what was there before it, not on the definitions)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != MANIFEST}


def _committed_drawings() -> Callable[[str], str]:
    """Without Graphviz: a stand-in for `dot` that returns the committed drawing of an unchanged .dot source
    (so that the pages, which link the drawings, are still compared in full)."""
    drawn = {p.read_text(encoding="utf-8"): p.with_suffix(".svg").read_text(encoding="utf-8")
             for p in DOCS.rglob("*.dot") if p.with_suffix(".svg").is_file()}

    def render(dot: str) -> str:
        if dot not in drawn:
            raise RuntimeError("a decision diagram changed and Graphviz `dot` is not installed to draw it")
        return drawn[dot]
    return render


def test_generated_docs_are_in_step_with_definitions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CI's rebuild-and-diff for `generated/docs` (HTML, Markdown, diagrams, workbooks)."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    if not HAVE_DOT:  # said loudly: the diagrams' .dot sources are compared, their drawings are not redrawn
        monkeypatch.setattr(emit_docs, "render_svg", _committed_drawings())
        print("!!! Graphviz `dot` is absent: the .svg diagrams were not redrawn (their .dot sources were compared) !!!")
    out = tmp_path / "docs"
    _build_all(out)
    want, have = _files(out), _files(DOCS)
    stale = sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
    assert not stale, f"generated/docs is stale ({stale[:5]}…): run the commands in generated/README.md"


def test_links_and_anchors_of_the_committed_site() -> None:
    checked, problems = check_links(DOCS)
    assert checked > 5000
    assert not problems, problems[:10]


def test_rows_in_plain_words_and_code_index() -> None:
    page = (DOCS / "isf2025" / "groups" / "DRG-802U.md").read_text(encoding="utf-8")
    assert ("[*Hovedtilstand*](../features.md#c-pdx) is in [*AMD and macular oedema*](../lists/amd_macular_oedema.md) "
            "and [*Prosedyrer*](../features.md#c-procedures) include a code in "
            "[*Intravitreal injeksjon av legemiddel*](../lists/intravitreal_injection.md)") in page
    assert "[`L01FG01`](../codes/ATC.md#c-L01FG01)" in page  # codes that can lead here
    atc = (DOCS / "isf2024" / "codes" / "ATC.md").read_text(encoding="utf-8")
    line = next(x for x in atc.splitlines() if "c-S01LA04" in x)
    assert "102D010" in line and "802U" in line
    program = load(str(DEFS / "isf2024"))
    index = reverse.build(program)
    assert index.get("NCSP", "QXGX20").groups == ["HS08"]  # IPL: the light-therapy STG in 2024
    assert set(index.get("ICD10", "H353").groups) >= {"802U", "802P", "M02"}
    guide = (DOCS / "isf2025" / "guide.md").read_text(encoding="utf-8")
    assert "first row whose conditions all hold" in guide and "the analysis proves it" in guide
    payment = (DOCS / "isf2025" / "payment.md").read_text(encoding="utf-8")
    assert "| ISF share by sector | somatic | 30 % | ISF\\-andel somatikk 30 %" not in payment  # no odd escapes
    assert "illustrative" in payment and "Prop. 1 S (2024–2025)" in payment


def test_isf_diff_lists_the_2025_changes() -> None:
    changes = diffs.compare(load(str(DEFS / "isf2024")), load(str(DEFS / "isf2025")))
    groups = {(g, kind) for _, g, kind, _, _ in changes.groups}
    assert {("810O", "added"), ("901I", "added"), ("901V", "removed"), ("909D", "removed"),
            ("DS03", "added"), ("XS82", "added"), ("XS83", "added")} <= groups
    moves = {m.code: m for m in changes.codes}
    assert moves["L01FG01"].new == ("802U",) and moves["L01FG01"].old == ()
    example = moves["L01FG01"].example
    assert example is not None and "L01FG01" in example["drugs"]  # type: ignore[operator]
    # The sharpest contrast: an outpatient AMD injection with bevacizumab, 802P in 2024, 802U in 2025.
    assert moves["L01FG01"].example_groups == ("802P (102D011)", "802U (102D010)")
    assert example["care_level"] == "outpatient" and example["procedures"] == ["CKD05"]
    assert moves["QXGX20"].old == ("HS08",) and moves["QXGX20"].new == ("810O",)  # IPL from STG to DRG
    assert {"L20*", "L80"} <= set(moves)  # light therapy's indication widened
    pay = {k: (u, v) for k, u, v, _ in changes.payment}
    assert pay["ISF share somatic"] == ("40 %", "30 %") and "ISF share phv" not in pay
    rows = {(r.row, r.kind) for r in changes.rows}
    assert {("190D001", "added"), ("190D005", "removed"), ("S-HS09", "removed"), ("109D001", "added")} <= rows
    values = {(n, kind, v.split(" ")[0]) for n, kind, _, v in changes.features}
    assert {("contact", "value added", "collaboration"), ("contact", "value added", "home_followup")} <= values
    md = (DOCS / "changes-isf2024-isf2025" / "index.md").read_text(encoding="utf-8")
    assert "| ATC | `L01FG01` | none | 802U |" in md
    book = openpyxl.load_workbook(DOCS / "changes-isf2024-isf2025" / "changes.xlsx")
    assert {"Groups", "Rows", "Codes whose groups changed", "Payment"} <= set(book.sheetnames)


def test_diff_of_a_version_with_itself_is_empty(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["diff", str(DEFS / "isf2025"), str(DEFS / "isf2025")])
    assert r.exit_code == 0, r.output
    assert "no changes" in r.output


# ---------------------------------------------------------------------- hostile text and golden Markdown

HOSTILE = '''version ISF 2031 "Guide <script>alert('label')</script> \\"\\"\\"" valid 2031-01-01 .. 2031-12-31
codesystem ICD10 "ICD-10 <img src=x onerror=alert(1)>" syntax "[A-Z][0-9]{2}[0-9A-Z]{0,4}" ignore "."
enum Level "Nivå" { inpatient = "1" "=HYPERLINK(\\"http://evil\\",\\"click\\")" outpatient = "3" "@SUM(1+1)" }
episode {
  level: Level "+cmd|' /C calc'!A0"
  pdx: code ICD10 "-2+3 [x](javascript:alert(1)) | pipe *star* _under_ `tick`"
}
codelist odd of ICD10 "<script>alert('list')</script>" { A00 "=cmd|' /C calc'!A0" B10-B19 "<b>bold</b>\\nnewline" }
catalogue DRG "<svg onload=alert(1)>" {
  1A "<script>alert('group')</script> \\"\\"\\"" points 1 flags illustrative
  2B "# not a heading | nor | a table" points 2
}
decision drg "t <i>x</i>" for DRG policy first fallback 2B rc 8 {
  rule R1 "=1+1 </td></tr></table>" when pdx in odd and level == outpatient -> 1A
}
'''


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("hostile")
    src = root / "hostile"
    src.mkdir()
    (src / "h.isf").write_text(HOSTILE, encoding="utf-8")
    out = root / "docs"
    old = os.getcwd()
    os.chdir(root)
    try:
        # Without diagrams on every machine, so that the golden Markdown does not depend on Graphviz;
        # test_hostile_text_is_inert_in_diagrams draws them.
        r = CliRunner().invoke(main, ["docs", "hostile", "-o", str(out), "--no-progress", "--no-diagrams"])
    finally:
        os.chdir(old)
    assert r.exit_code == 0, r.output
    return src, out


def test_hostile_text_is_inert_in_html(hostile: tuple[Path, Path]) -> None:
    _, out = hostile
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "<img src=x" not in text and "<svg onload" not in text, page
        assert text.count("<script") == 1  # our own search script, nothing else
        assert "</td></tr></table>" not in text.replace("</td></tr>\n</tbody>\n</table>", "")
    group = (out / "groups" / "DRG-1A.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#39;group&#39;)&lt;/script&gt;" in group
    checked, problems = check_links(out)
    assert checked and not problems, problems[:5]


@pytest.mark.skipif(not HAVE_DOT, reason="Graphviz `dot` is not installed (.ci/run installs Debian's `graphviz`)")
def test_hostile_text_is_inert_in_diagrams(hostile: tuple[Path, Path], tmp_path: Path) -> None:
    src, _ = hostile
    out = tmp_path / "site"
    publish.docs(str(src), out, diagrams=True)
    svgs = sorted(out.rglob("*.svg"))
    assert [p.relative_to(out).as_posix() for p in svgs] == ["diagrams/drg.svg"]
    text = svgs[0].read_text(encoding="utf-8")
    assert "<script" not in text and "<svg onload" not in text and "onerror" not in text
    assert '<img src="../diagrams/drg.svg"' in (out / "tables" / "drg.html").read_text(encoding="utf-8")
    checked, problems = check_links(out)
    assert checked and not problems, problems[:5]


def test_docs_without_graphviz_link_no_diagram_they_did_not_draw(tmp_path: Path) -> None:
    """On a machine without Graphviz: `isf docs` says so and writes nothing; with `--no-diagrams` the
    pages link each diagram's .dot source instead of an .svg that does not exist, and the link check passes."""
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}  # nothing on it: this Python is called by its full path
    out = tmp_path / "site"
    args = [sys.executable, "-m", "isfdsl", "docs", str(DEFS / "isf2025"), "-o", str(out), "--no-progress", "--no-excel"]
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600, check=False)
    assert done.returncode == 2 and "Graphviz `dot` is not installed" in done.stderr, done.stderr
    assert not out.exists()
    done = subprocess.run([*args, "--no-diagrams"], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert not list(out.rglob("*.svg")) and (out / "diagrams" / "drg.dot").is_file()
    html = (out / "tables" / "drg.html").read_text(encoding="utf-8")
    assert ".svg" not in html and 'its Graphviz source is <a href="../diagrams/drg.dot">' in html
    md = (out / "tables" / "drg.md").read_text(encoding="utf-8")
    assert ".svg" not in md and "not drawn" in md and "](../diagrams/drg.dot)" in md
    checked, problems = check_links(out)
    assert checked > 1000 and not problems, problems[:10]


def test_hostile_text_is_inert_in_markdown(hostile: tuple[Path, Path]) -> None:
    _, out = hostile
    for page in out.rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text and "<img" not in text and "<svg" not in text, page
        assert not re.search(r"(?<!\\)\]\(javascript:", text)  # only escaped: `\](` is not a link
        width = 0
        for line in text.splitlines():  # every table row keeps its column count: pipes in text are escaped
            cells = len(line.replace("\\|", "").split("|")) - 2 if line.startswith("|") else 0
            width = width or cells
            assert cells in (0, width), line
            width = width if cells else 0


def test_markdown_is_golden(hostile: tuple[Path, Path]) -> None:
    """The Markdown of the hostile fixture, file by file (ISF_UPDATE_GOLDEN=1 rewrites the golden files)."""
    _, out = hostile
    have = {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.md"))}
    if os.environ.get("ISF_UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for rel, text in have.items():
            (GOLDEN / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / rel).write_text(text, encoding="utf-8")
    want = {p.relative_to(GOLDEN).as_posix(): p.read_text(encoding="utf-8") for p in sorted(GOLDEN.rglob("*.md"))}
    assert sorted(have) == sorted(want)
    for rel, text in want.items():
        assert have[rel] == text, f"{rel} differs from tests/golden/docs/{rel} (ISF_UPDATE_GOLDEN=1 to accept)"


def test_hostile_text_is_text_in_excel(hostile: tuple[Path, Path], tmp_path: Path) -> None:
    src, out = hostile
    book = openpyxl.load_workbook(out / "docs-tables.xlsx")
    dangerous = [c for ws in book.worksheets for row in ws.iter_rows() for c in row
                 if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    assert {"=cmd|' /C calc'!A0", "=1+1 </td></tr></table>", "+cmd|' /C calc'!A0"} <= {c.value for c in dangerous}
    assert all(c.data_type == "s" for c in dangerous)  # stored as text, never as a formula
    with zipfile.ZipFile(out / "docs-tables.xlsx") as z:
        assert not any("<f>" in z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    # Byte-identical on rebuild; SOURCE_DATE_EPOCH sets the creation date.
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    publish.export_excel(str(src), a)
    publish.export_excel(str(src), b)
    assert a.read_bytes() == b.read_bytes()
    os.environ["SOURCE_DATE_EPOCH"] = "1735689600"
    try:
        publish.export_excel(str(src), b)
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]
    assert a.read_bytes() != b.read_bytes()
    assert openpyxl.load_workbook(b).properties.created.year == 2025


def test_export_excel_layout(tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    r = CliRunner().invoke(main, ["export-excel", str(DEFS / "isf2025"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    book = openpyxl.load_workbook(out)
    ws = book["Logic drg"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Order", "Rule", "Title"] and "Hovedtilstand (pdx)" in header and "Group" in header
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    rows = {r[1]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["102D010"][header.index("Group")] == "802U"
    assert rows["102D010"][header.index("Hovedtilstand (pdx)")] == "pdx in amd_macular_oedema"
    assert {"Groups DRG", "Groups STG", "Code lists", "Fields", "Features", "Payment"} <= set(book.sheetnames)


def test_source_date_epoch_dates_the_footer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735689600")
    page = emit_docs.Page("index", "t")
    site = emit_docs.Site("x", "l", "v", "s")
    assert "on 2025-01-01" in emit_docs.render_pages([page], site)["index.md"]
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert " on " not in emit_docs.render_pages([page], site)["index.md"].splitlines()[-1]


# ---------------------------------------------------------------------- a real browser


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def test_site_in_a_browser(tmp_path: Path) -> None:
    """Open the committed site in Debian's chromium: follow every internal link, no console errors,
    the search finds a code inside a range, and a screenshot is saved."""
    exe = _chromium()
    if exe is None:
        pytest.skip("no chromium on this machine (.ci/run installs Debian's `chromium`)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    site = DOCS / "isf2025"
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=["--headless", "--no-sandbox", "--disable-gpu",
                                                                "--disable-dev-shm-usage"])
        page = browser.new_page()
        page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
        start = (site / "index.html").resolve().as_uri()
        seen: set[str] = set()
        todo = [start]
        while todo:
            url = todo.pop()
            base = url.split("#")[0]
            if base in seen:
                continue
            seen.add(base)
            response = page.goto(base)
            assert response is None or response.ok, base
            for link in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                if link.startswith("file://") and link.split("#")[0].endswith(".html"):
                    todo.append(link)
        assert len(seen) >= 90
        page.goto(start)
        page.fill("#q", "H35.31")
        page.wait_for_selector("#results a")
        hits = page.eval_on_selector_all("#results a", "els => els.map(e => e.textContent)")
        assert any(h.startswith("H00-H59") for h in hits), hits  # the MDC 02 range holds H35.31
        page.fill("#q", "802U")
        page.wait_for_selector("#results a")
        page.click("#results a")
        assert page.url.endswith("groups/DRG-802U.html")
        shot = ROOT / ".artifacts" / "docs-802U.png" if os.environ.get("CI") else tmp_path / "docs-802U.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        browser.close()
    assert not errors, errors[:5]
    print(f"browser: {len(seen)} pages opened, screenshot {shot}")


def test_hostile_text_is_inert_in_generated_python(hostile: tuple[Path, Path], tmp_path: Path) -> None:
    """The same hostile definition compiles to a package that imports cleanly and reproduces the text."""
    from isfdsl.commands.pipeline import build, load_package

    src, _ = hostile
    out = tmp_path / "hostile_pkg"
    assert build(str(src), out).package is not None
    pkg = load_package(out)
    program = load(str(src))
    assert pkg.VERSION_LABEL == program.label and "<script>" in pkg.VERSION_LABEL
    result = pkg.group({"pdx": "A00", "level": "3"})
    assert result.group == "1A" and result.name == program.catalogues["DRG"]["1A"].name
    assert result.rule == "R1"


def test_docs_removes_only_its_own_stale_files(tmp_path: Path) -> None:
    out = tmp_path / "site"
    emit_docs.write_docs({"groups/DRG-OLD.md": "# old\n\n---\nGenerated by isfdsl 0.0.1 from x\n"}, out)  # an earlier build
    (out / "notes.md").write_text("# my own notes\n", encoding="utf-8")
    (out / "groups" / "LOOKS-OURS.md").write_text("# old\n\n---\nGenerated by isfdsl 0.0.1 from x\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["docs", str(DEFS / "isf2025"), "-o", str(out), "--no-progress", "--no-diagrams", "--no-excel"])
    assert r.exit_code == 0, r.output
    assert (out / "notes.md").read_text(encoding="utf-8") == "# my own notes\n"  # not ours: kept
    assert not (out / "groups" / "DRG-OLD.md").exists()  # the earlier build's and stale: removed
    assert (out / "groups" / "LOOKS-OURS.md").exists()  # looks generated, but no build recorded it: kept
    assert (out / "groups" / "DRG-802U.md").exists()


def test_a_rule_with_or_is_one_row_of_the_guide_and_the_workbook(tmp_path: Path) -> None:
    """The kitchen program's rule R12 (`… or …`): one row of the table page, read "either …; or …", one
    anchor; the reading guide says what such a row means; the workbook gives a line per alternative."""
    out = tmp_path / "docs"
    r = CliRunner().invoke(main, ["docs", str(ROOT / "tests" / "programs" / "kitchen"), "-o", str(out), "--no-progress",
                                  "--no-diagrams"])
    assert r.exit_code == 0, r.output
    table = (out / "tables" / "main.md").read_text(encoding="utf-8")
    [line] = [x for x in table.splitlines() if "`R12`" in x]
    assert "either " in line and "; or " in line and table.count('id="c-R12"') == 1
    assert "A row written with `or` reads “either …; or …”" in (out / "guide.md").read_text(encoding="utf-8")
    sheet = openpyxl.load_workbook(next(out.glob("*.xlsx")))["Logic main"]
    assert [row[1] for row in sheet.iter_rows(values_only=True)].count("R12") == 4  # (late, n < 20), (late, high), …


def test_a_code_leads_to_a_rule_with_or_through_any_of_its_alternatives(tmp_path: Path) -> None:
    """O81 leads to r1 by its second alternative though the first (`pdx == O80.1`) is false for it; Z99
    leads nowhere (r2, its only way, needs O80.1 too)."""
    (tmp_path / "t.isf").write_text(
        'version T 2025 "t"\ncodesystem ICD10 syntax "[A-Z][0-9]{2}[0-9A-Z]{0,4}" ignore "."\n'
        'enum Level { inpatient = "1"  day = "2" }\nepisode { pdx: code ICD10  care: Level }\n'
        'codelist births of ICD10 { O80.1 O81 O82.0 Z99 }\n'
        'catalogue G { A "a"  B "b"  Z "z" }\ndecision d for G policy first fallback Z {\n'
        '  rule r1 when pdx == O80.1 or pdx in {O81, O82.0} and care == inpatient -> A\n'
        '  rule r2 when pdx in births and pdx == O80.1 -> B\n}\n', encoding="utf-8")
    index = reverse.build(load(str(tmp_path)))
    leads = {code: [(lead.row, lead.group) for lead in use.leads] for code, use in index.systems["ICD10"].items()}
    assert leads["O801"] == [("r1", "A"), ("r2", "B")]
    assert leads["O81"] == [("r1", "A")] and leads["O820"] == [("r1", "A")] and leads["Z99"] == []
