"""Documentation, change documentation and Excel export: committed output in step with the definitions,
links and anchors, golden Markdown, hostile text inert everywhere, byte-identical workbooks, what
`isf diff` says about the 2025 changes, and a real browser over the site (when chromium is there)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest
from click.testing import CliRunner

from isfdsl.analysis import reverse
from isfdsl.commands import publish
from isfdsl.commands.cli import main
from isfdsl.emit import changes as diffs
from isfdsl.emit import docs as emit_docs
from isfdsl.emit.docs import MANIFEST
from isfdsl.emit.messages import messages
from isfdsl.testing import load

from .conftest import ROOT
from .linkcheck import check_links

DEFS = ROOT / "definitions"
DOCS = ROOT / "generated" / "docs"
GOLDEN = ROOT / "tests" / "golden" / "docs"
HAVE_DOT = shutil.which("dot") is not None


def _build_all(out: Path) -> None:
    """The command of generated/README.md: one site of both versions."""
    r = CliRunner().invoke(main, ["docs", "definitions/isf2024", "definitions/isf2025", "-o", str(out), "--no-progress"])
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
    assert ("[*Hovedtilstand*](../features.md#c-pdx) er i [*AMD og makulaødem*](../lists/amd_macular_oedema.md) "
            "og [*Prosedyrer*](../features.md#c-procedures) inneholder en kode i "
            "[*Intravitreal injeksjon av legemiddel*](../lists/intravitreal_injection.md)") in page
    assert "| Poeng | 0,1 |" in page  # a Norwegian decimal comma
    # The changes box: bevacizumab moved to 802U in 2025, linked to the change documentation.
    assert "> - Kode `L01FG01`: før ingen, nå 802U" in page
    assert "(../../changes-isf2024-isf2025/index.md)" in page
    assert "[`L01FG01`](../codes/ATC.md#c-L01FG01)" in page  # codes that can lead here
    # ... each as the field its rows test, named by its title as the rows' conditions name it (not `drugs`)
    assert "| [`L01FG01`](../codes/ATC.md#c-L01FG01) | ATC | [*Legemidler (ATC)*](../features.md#c-drugs) | " in page
    assert "| [`H35.3`](../codes/ICD10.md#c-H353) | ICD10 | [*Hovedtilstand*](../features.md#c-pdx) | " in page
    assert "| Flagg | `illustrative` |" in page  # a flag is a name of the definitions (code), not a bare English word
    atc = (DOCS / "isf2024" / "codes" / "ATC.md").read_text(encoding="utf-8")
    line = next(x for x in atc.splitlines() if "c-S01LA04" in x)
    assert "102D010" in line and "802U" in line
    program = load(str(DEFS / "isf2024"))
    index = reverse.build(program)
    assert index.get("NCSP", "QXGX20").groups == ["HS08"]  # IPL: the light-therapy STG in 2024
    assert set(index.get("ICD10", "H353").groups) >= {"802U", "802P", "M02"}
    guide = (DOCS / "isf2025" / "guide.md").read_text(encoding="utf-8")
    assert "den første raden der alle vilkårene holder" in guide and "analysen beviser det" in guide
    payment = (DOCS / "isf2025" / "payment.md").read_text(encoding="utf-8")
    # no odd escapes; the attribute by its title, a member by its label (not `sector`, `somatic`, English names)
    assert "| ISF-andel etter Sektor | `Somatikk (somatic)` | 30 % | ISF-andel somatikk 30 %" in payment
    # money grouped by thousands as isf compare writes it (no-break space; it read "56155 kr")
    assert "| Enhetspris etter Sektor | `Psykisk helsevern (phv)` | 3\u00a0800 kr | `illustrative` |" in payment
    assert "| Enhetspris etter Sektor | `Somatikk (somatic)` | 56\u00a0155 kr | `illustrative` |" in payment
    assert "Prop. 1 S (2024–2025)" in payment
    html = (DOCS / "isf2025" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="nb"' in html and "Gruppetabell" in html


def test_isf_diff_lists_the_2025_changes() -> None:
    changes = diffs.compare(load(str(DEFS / "isf2024")), load(str(DEFS / "isf2025")), m=messages("en"))
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
    pay = {diffs.parameter(k, changes.m): (u, v) for k, u, v, _ in changes.payment}
    assert pay["ISF share somatic"] == ("40 %", "30 %") and "ISF share phv" not in pay
    rows = {(r.row, r.kind) for r in changes.rows}
    assert {("190D001", "added"), ("190D005", "removed"), ("S-HS09", "removed"), ("109D001", "added")} <= rows
    values = {(n, kind, v.split(" ")[0]) for n, kind, _, v in changes.features}
    assert {("contact", "value added", "collaboration"), ("contact", "value added", "home_followup")} <= values
    md = (DOCS / "changes-isf2024-isf2025" / "index.md").read_text(encoding="utf-8")
    assert "| ATC | `L01FG01` | ingen | 802U |" in md
    book = openpyxl.load_workbook(DOCS / "changes-isf2024-isf2025" / "changes.xlsx")
    assert {"Grupper", "Rader", "Koder med andre grupper", "Finansiering"} <= set(book.sheetnames)
    english = publish.diff(str(DEFS / "isf2024"), str(DEFS / "isf2025"), None, lang="en")[1].detail
    assert "| ATC | `L01FG01` | none | 802U |" in english and "Codes whose groups changed" in english


def test_diff_of_a_version_with_itself_is_empty(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["diff", str(DEFS / "isf2025"), str(DEFS / "isf2025")])
    assert r.exit_code == 0, r.output
    assert "ingen endringer" in r.output
    r = CliRunner().invoke(main, ["diff", str(DEFS / "isf2025"), str(DEFS / "isf2025"), "--lang", "en"])
    assert "no changes" in r.output
    # Written as a page: no search box, for a change page on its own has no index to search.
    r = CliRunner().invoke(main, ["diff", str(DEFS / "isf2024"), str(DEFS / "isf2025"), "-o", str(tmp_path / "d")])
    assert r.exit_code == 0, r.output
    html = (tmp_path / "d" / "index.html").read_text(encoding="utf-8")
    assert 'id="q"' not in html and "data-search" not in html and not (tmp_path / "d" / "search").exists()


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
    args = [sys.executable, "-m", "isfdsl", "docs", str(DEFS / "isf2025"), "-o", str(out), "--no-progress", "--no-excel",
            "--lang", "en"]
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


@pytest.fixture(scope="module")
def hostile_en(hostile: tuple[Path, Path]) -> Path:
    """The hostile fixture's guide with the guide's own words in English."""
    src, out = hostile
    en = out.parent / "docs-en"
    old = os.getcwd()
    os.chdir(src.parent)
    try:
        publish.docs(src.name, en, diagrams=False, lang="en")
    finally:
        os.chdir(old)
    return en


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_markdown_is_golden(hostile: tuple[Path, Path], hostile_en: Path, lang: str) -> None:
    """The Markdown of the hostile fixture in each language, file by file (ISF_UPDATE_GOLDEN=1 rewrites the
    golden files)."""
    out = hostile[1] if lang == "nb" else hostile_en
    golden = GOLDEN / lang
    have = {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.md"))}
    if os.environ.get("ISF_UPDATE_GOLDEN"):
        shutil.rmtree(golden, ignore_errors=True)
        for rel, text in have.items():
            (golden / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden / rel).write_text(text, encoding="utf-8")
    want = {p.relative_to(golden).as_posix(): p.read_text(encoding="utf-8") for p in sorted(golden.rglob("*.md"))}
    assert sorted(have) == sorted(want)
    for rel, text in want.items():
        assert have[rel] == text, f"{rel} differs from tests/golden/docs/{lang}/{rel} (ISF_UPDATE_GOLDEN=1 to accept)"
    lang_attr = f'<html lang="{lang}"'
    assert all(lang_attr in p.read_text(encoding="utf-8") for p in out.rglob("*.html"))


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
    r = CliRunner().invoke(main, ["export-excel", str(DEFS / "isf2025"), "-o", str(out), "--lang", "en"])
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
    publish.export_excel(str(DEFS / "isf2025"), out)  # the default: bokmål
    book = openpyxl.load_workbook(out)
    assert [c.value for c in book["Logikk drg"][1]][:3] == ["Rekkefølge", "Regel", "Tittel"]
    assert {"Grupper DRG", "Kodelister", "Felt", "Variabler", "Finansiering"} <= set(book.sheetnames)


def test_source_date_epoch_dates_the_footer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735689600")
    page = emit_docs.Page("index", "t")
    site = emit_docs.Site("x", "l", "v", "s")
    assert "den 2025-01-01" in emit_docs.render_pages([page], site)["index.md"]
    assert "on 2025-01-01" in emit_docs.render_pages([page], emit_docs.Site("x", "l", "v", "s", lang="en"))["index.md"]
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert " den " not in emit_docs.render_pages([page], site)["index.md"].splitlines()[-1]


# ---------------------------------------------------------------------- a real browser


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


AXE = ROOT / "tests" / "axe"
#: Pages axe-core checks: one of each kind, in both versions.
AXE_PAGES = ["index.html", "isf2025/index.html", "isf2025/guide.html", "isf2025/groups/DRG-802U.html", "isf2025/tables/stg.html",
             "isf2025/lists/amd_macular_oedema.html", "isf2025/codes/ICD10.html", "isf2025/all-groups.html", "isf2025/features.html",
             "isf2024/payment.html", "isf2024/pathway.html", "changes-isf2024-isf2025/index.html"]


def _axe(tmp_path: Path) -> str | None:
    """axe-core's script (npm ci of tests/axe in a temporary folder), or None without npm."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        return None
    work = tmp_path / "axe"
    shutil.copytree(AXE, work, ignore=shutil.ignore_patterns("node_modules"))
    done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], check=False, cwd=work, capture_output=True,
                          text=True, timeout=300)
    if done.returncode != 0:
        pytest.skip(f"`npm ci` could not install axe-core: {done.stderr.strip()[-300:]}")
    return (work / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")


def _search(page: object, query: str) -> list[str]:
    """The results of a query, each as its text (kind, code or name, description, groups)."""
    page.fill("#q", query)  # type: ignore[attr-defined]
    page.wait_for_function("q => document.getElementById('q-status').textContent !== '' "  # type: ignore[attr-defined]
                           "&& document.getElementById('q').value === q", arg=query)
    page.wait_for_timeout(100)  # type: ignore[attr-defined]
    return page.eval_on_selector_all("#results li", "els => els.map(e => e.textContent)")  # type: ignore[attr-defined,no-any-return]


def test_site_in_a_browser(tmp_path: Path) -> None:
    """Open the committed site of both versions in Debian's chromium: open every page (no console errors, every
    internal link resolves), the version switcher leads to the same group in the other version, the search
    finds codes with and without the dot, words without their Norwegian letters and groups, with their
    descriptions, by keyboard too (and codes of a case-sensitive code system in any case); every page says it is
    in bokmål; the changes boxes; a table sorts; print media keeps of the header only the version's name; the
    English site says it is English; screenshots are saved."""
    exe = _chromium()
    if exe is None:
        pytest.skip("no chromium on this machine (.ci/run installs Debian's `chromium`)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    errors: list[str] = []
    shots = ROOT / ".artifacts" if os.environ.get("CI") else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=["--headless", "--no-sandbox", "--disable-gpu",
                                                                "--disable-dev-shm-usage"])
        page = browser.new_page()
        page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
        # A request cut short by the next page's navigation is no error; any other failed request is.
        page.on("requestfailed", lambda r: errors.append(f"failed: {r.url} {r.failure}") if "ABORTED" not in (r.failure or "")
                else None)
        start = (DOCS / "index.html").resolve().as_uri()
        t0 = time.perf_counter()
        # Walk both versions from the common index: every link of every page opened must name a file that exists;
        # every top-level page is opened, and of each folder (groups/, lists/, codes/, tables/, …) of each
        # version the first PER_FOLDER pages reached (the Python link check covers every link of every page).
        seen: set[str] = set()
        langs: set[str] = set()
        linked: set[str] = set()
        per_folder: dict[str, int] = {}
        todo = [start]
        while todo:
            url = todo.pop(0)
            base = url.split("#")[0]
            if base in seen:
                continue
            seen.add(base)
            folder = str(Path(base).parent)
            if base.count("/") > start.count("/") + 1:
                per_folder[folder] = per_folder.get(folder, 0) + 1
                if per_folder[folder] > 8:
                    continue
            page.goto(base, wait_until="domcontentloaded")
            langs.add(page.evaluate("document.documentElement.lang"))
            for link in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                if link.startswith("file://"):
                    linked.add(link.split("#")[0])
                    if link.split("#")[0].endswith(".html"):
                        todo.append(link)
        missing = sorted(u for u in linked if not Path(unquote(u.removeprefix("file://"))).is_file())
        assert not missing, missing[:5]
        opened = len(seen) - sum(max(0, n - 8) for n in per_folder.values())
        assert len(linked) >= 250 and any("/isf2024/groups/" in u for u in seen) and any("/changes-isf2024-isf2025/" in u for u in seen)
        assert langs == {"nb"}, langs  # the committed site is in bokmål, every page says so
        # The pages without a search index of their own (the site's index, the change documentation) search the
        # newest version, and their results lead into it.
        for rel in ("changes-isf2024-isf2025/index.html", "index.html"):
            page.goto((DOCS / rel).resolve().as_uri())
            hits = _search(page, "H35.3")
            assert hits[0].startswith("kode ICD10H35.3 — Degenerasjon av makula"), (rel, hits)
        page.screenshot(path=str(shots / "docs-index.png"))
        page.click("#results a")
        page.wait_for_url("**/isf2025/codes/ICD10.html#*")
        # The changes box: on a group page and a code page of the later version, what changed from the earlier one.
        for rel, change in (("groups/DRG-802U.html", "L01FG01"), ("codes/ICD10.html", "A15-A19")):
            page.goto((DOCS / "isf2025" / rel).resolve().as_uri())
            box = page.inner_text("aside.box")
            assert box.startswith("Endringer fra ISF-modellen 2024") and change in box, box
            page.goto((DOCS / "isf2024" / rel).resolve().as_uri())
            assert page.query_selector("aside.box") is None
        page.goto((DOCS / "isf2025" / "codes" / "ICD10.html").resolve().as_uri())
        page.screenshot(path=str(shots / "docs-codes.png"))
        # The version switcher: the same group in the other version.
        page.goto((DOCS / "isf2025" / "groups" / "DRG-802U.html").resolve().as_uri())
        page.click("nav.versions a")
        assert page.url.endswith("/isf2024/groups/DRG-802U.html"), page.url
        page.goto((DOCS / "isf2025" / "groups" / "DRG-810O.html").resolve().as_uri())  # new in 2025
        page.click("nav.versions a")
        assert page.url.endswith("/isf2024/index.html"), page.url
        # Search: codes with and without the dot, with their description and groups; words; groups.
        page.goto((DOCS / "isf2025" / "index.html").resolve().as_uri())
        for query in ("H35.3", "H353"):
            hits = _search(page, query)
            first = hits[0]
            assert first.startswith("kode ICD10H35.3 — Degenerasjon av makula") and "802U" in first and "802P" in first, hits
        page.evaluate("window.ISF_SEARCH.systems.ICD10.ignore = ''")  # a code system that keeps no dots (NordDRG's)
        hits = _search(page, "H35.3 ")
        assert hits[0].startswith("kode ICD10H35.3 — Degenerasjon av makula"), hits
        hits = _search(page, "h35")  # a prefix, lower case
        assert any(h.startswith("kode ICD10H35.3") for h in hits), hits
        page.evaluate("window.ISF_SEARCH.systems.ICD10.upper = false")  # case sensitive codes (NordDRG's, I210a): i21 finds I210
        hits = _search(page, "h35.3")
        assert hits and hits[0].startswith("kode ICD10H35.3"), hits
        page.evaluate("window.ISF_SEARCH.systems.ICD10.upper = true")
        hits = _search(page, "makula")
        assert any(h.startswith("gruppe802U — Injeksjon av legemiddel i øyet ved AMD og makulaødem") for h in hits), hits
        hits = _search(page, "makulaodem")  # ø folded
        assert any(h.startswith("gruppe802U") for h in hits), hits
        hits = _search(page, "sektor")  # a word is no code: not "inside S00-T19", as a comparison of letters put it
        assert hits == ["feltsector — Sektor"], hits
        # Codes by the words of their descriptions (folded): they said "ingen treff".
        hits = _search(page, "bevacizumab")
        assert hits[0].startswith("kode ATCL01FG01 — Bevacizumab") and "802U" in hits[0], hits
        hits = _search(page, "degenerasjon")
        assert hits[0].startswith("kode ICD10H35.3 — Degenerasjon av makula") and "802P" in hits[0], hits
        hits = _search(page, "Degenerasjon makula")  # every word of the query begins a word of the description
        assert [h.split(" — ")[0] for h in hits] == ["kode ICD10H35.3"], hits
        hits = _search(page, "makulaodem")
        assert any(h.startswith("kode ICD10H34.8 — Andre retinale karokklusjoner (makulaødem)") for h in hits), hits
        hits = _search(page, "802U")
        assert hits[0].startswith("gruppe802U — Injeksjon av legemiddel"), hits
        page.screenshot(path=str(shots / "docs-search.png"))
        page.press("#q", "ArrowDown")  # keyboard: into the results, then Enter follows the focused one
        assert page.evaluate("document.activeElement.closest('#results') !== null")
        page.keyboard.press("Enter")
        page.wait_for_url("**/groups/DRG-802U.html")
        page.screenshot(path=str(shots / "docs-802U.png"), full_page=True)
        page.goto((DOCS / "isf2025" / "all-groups.html").resolve().as_uri())
        page.click("table.sortable th:nth-child(5) button")  # points, ascending
        points = page.eval_on_selector_all("table.sortable tbody tr td:nth-child(5)", "els => els.map(e => e.textContent)")
        numbers = [float(x.replace(",", ".")) for x in points]
        assert numbers == sorted(numbers) and len(numbers) > 30
        page.emulate_media(media="print")  # the content, under the version's name; no menus, no search
        assert page.eval_on_selector("header nav", "e => getComputedStyle(e).display") == "none"
        assert page.eval_on_selector("header form", "e => getComputedStyle(e).display") == "none"
        assert page.eval_on_selector(".brand", "e => e.getBoundingClientRect().height") > 0
        page.screenshot(path=str(shots / "docs-groups-print.png"), full_page=True)
        page.goto((DOCS / "isf2025" / "groups" / "DRG-802U.html").resolve().as_uri())
        page.screenshot(path=str(shots / "docs-802U-print.png"), full_page=True)
        page.emulate_media(media="screen")
        # The same site in English: every page says so, and the search speaks English.
        english = tmp_path / "en"
        publish.docs([str(DEFS / "isf2024"), str(DEFS / "isf2025")], english, diagrams=False, lang="en")
        for rel in ("index.html", "isf2025/index.html", "isf2025/groups/DRG-802U.html", "changes-isf2024-isf2025/index.html"):
            page.goto((english / rel).resolve().as_uri())
            assert page.evaluate("document.documentElement.lang") == "en", rel
        hits = _search(page, "H353")
        assert hits[0].startswith("code ICD10H35.3 — Degenerasjon av makula") and "can lead to" in hits[0], hits
        page.screenshot(path=str(shots / "docs-search-en.png"))
        browser.close()
    assert not errors, errors[:5]
    print(f"browser: {time.perf_counter() - t0:.1f} s, {opened} pages opened, {len(linked)} link targets, screenshots in {shots}")


def test_guide_is_accessible(tmp_path: Path) -> None:
    """axe-core (npm) in Chromium over a page of each kind, in both versions: no serious or critical violation."""
    exe = _chromium()
    if exe is None:
        pytest.skip("no chromium on this machine (.ci/run installs Debian's `chromium`)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    axe = _axe(tmp_path)
    if axe is None:
        pytest.skip("npm (and node) is missing: axe-core, an npm package, cannot be installed")
    violations: dict[str, list[str]] = {}
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=["--headless", "--no-sandbox", "--disable-gpu",
                                                                "--disable-dev-shm-usage"])
        page = browser.new_page()
        for rel in AXE_PAGES:
            page.goto((DOCS / rel).resolve().as_uri())
            page.add_script_tag(content=axe)
            found = page.evaluate("async () => (await axe.run(document, {preload: false})).violations"
                                  ".map(v => [v.id, v.impact, v.nodes.length])")
            violations[rel] = [f"{i} ({impact}, {n})" for i, impact, n in found if impact in ("serious", "critical")]
        page.set_content('<!DOCTYPE html><html><body><img src="x.png"><a href="#"></a></body></html>')  # the check can fail
        page.add_script_tag(content=axe)
        bad = page.evaluate("async () => (await axe.run(document, {preload: false})).violations.map(v => v.id)")
        browser.close()
    assert {"image-alt", "link-name", "html-has-lang"} <= set(bad), bad
    assert len(violations) == len(AXE_PAGES)
    assert not any(violations.values()), violations


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
                                  "--no-diagrams", "--lang", "en"])
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


def test_code_pages_and_search_scripts_stay_small() -> None:
    """At NordDRG scale (20,000 codes, some leading to dozens of rows), no page of the code index passes its
    budget and no search script passes SHARD_BYTES: both split by one more character where needed."""
    from isfdsl.emit import guide, search

    heavy = [reverse.Lead("pdx", "drg", f"R{k}", f"G{k}") for k in range(40)]
    uses = []
    for n in range(20_000):
        letter = "ABCM"[n % 4]
        c = f"{letter}{n % 100:02d}{n // 100:03d}"
        uses.append(reverse.CodeUse("ICD10", c, c, [f"Beskrivelse av {c} med noen ord"], ["liste"], [],
                                    heavy if letter == "M" else heavy[:2]))
    uses.sort(key=lambda u: u.code)
    parts = guide.split_codes(uses, guide.weight)
    assert sum(len(p) for p in parts.values()) == len(uses)
    assert all(len(p) <= guide.CODES_PER_PAGE and sum(guide.weight(u) for u in p) <= guide.PAGE_BYTES for p in parts.values())
    depth = {x: max(len(k) for k in parts if k.startswith(x)) for x in "AM"}
    assert depth["M"] > depth["A"]  # the codes of M lead to many rows: their pages split further
    index = search.Index(messages("nb"))
    for u in uses:
        index.code("ICD10", u, f"codes/ICD10#{u.code}")
    files = index.files()
    assert max(len(t.encode()) for t in files.values()) <= search.SHARD_BYTES + 100
    assert any(name.startswith("search/words-") for name in files)  # the words of the descriptions, small too
    assert len(files["search/index.js"]) < 10_000


def test_the_words_of_code_descriptions_are_searchable() -> None:
    """A code is found by the words of its description, folded as the search folds words (`degenerasjon` and
    `bevacizumab` found nothing); a word many codes share keeps WORD_CODES of them; a long shard splits."""
    from isfdsl.emit import search

    assert search.fold("Makulaødem Ærø Crème") == "makulaodem aero creme"
    assert search.words("Degenerasjon av makula og bakre pol (AMD)") == ["degenerasjon", "makula", "bakre", "pol", "amd"]
    index = search.Index(messages("nb"))
    index.code("ATC", reverse.CodeUse("ATC", "L01FG01", "L01FG01", ["Bevacizumab"], ["x"], [],
                                      [reverse.Lead("atc", "drg", "r1", "802U")]), "codes/ATC#c-L01FG01")
    for n in range(3 * search.WORD_CODES):  # two words of "u" in 150 long descriptions each: more than a shard holds
        word = "Uspesifisert" if n % 2 else "Ukjent"
        index.code("ICD10", reverse.CodeUse("ICD10", f"R{n:03d}", f"R{n:03d}", [f"{word} tilstand " + "x" * 3000]),
                   f"codes/ICD10#c-R{n:03d}")
    files = index.files()
    script = json.loads(files["search/words-b.js"].split(",", 1)[1].rsplit(");", 1)[0])
    assert script == {"items": [["ATC", "L01FG01", "Bevacizumab", "codes/ATC#c-L01FG01", ["802U"]]], "words": {"bevacizumab": [0]}}
    index_js = json.loads(files["search/index.js"].split("=", 1)[1].rstrip().rstrip(";"))
    assert "b" in index_js["words"] and all(f"search/words-{k}.js" in files for k in index_js["words"])
    u = [k for k in index_js["words"] if k.startswith("u")]
    assert u != ["u"] and all(len(files[f"search/words-{k}.js"].encode()) <= search.SHARD_BYTES for k in u)  # split
    kept = [json.loads(files[f"search/words-{k}.js"].split(",", 1)[1].rsplit(");", 1)[0])["words"].get("uspesifisert")
            for k in u]
    assert [len(x) for x in kept if x] == [search.WORD_CODES]


@pytest.mark.parametrize(("lang", "title", "alt"), [("nb", "Beslutningstabell drg, rader uten MDC", "Beslutningsdiagram for drg, uten MDC"),
                                                    ("en", "Decision table drg, rows without an MDC", "Decision diagram of drg, without an MDC")])
def test_the_part_of_a_large_table_without_an_mdc_is_named_in_the_guides_language(
        monkeypatch: pytest.MonkeyPatch, lang: str, title: str, alt: str) -> None:
    """A table split by MDC (NordDRG's drg: 2,206 rows) puts the rows of groups without an MDC (470, 901A, …) in a
    part of their own; its page, its diagram and its link say so in the guide's language (it read "MDC other")."""
    from isfdsl.emit import guide

    monkeypatch.setattr(guide, "ROWS_PER_PAGE", 10)  # the 2025 drg table (41 rows) split as a large one is
    monkeypatch.setattr(guide, "ROWS_PER_DIAGRAM", 10)
    built = guide.guide(load(str(DEFS / "isf2025")), "isf2025", "definitions/isf2025", messages(lang), diagrams=False)
    pages = {p.path: p for p in built.pages}
    part = pages["tables/drg-other"]
    assert part.title == title
    figures = [b for b in part.blocks if isinstance(b, emit_docs.Figure)]
    assert [f.alt for f in figures] == [alt]
    parts = next(b for b in pages["tables/drg"].blocks if isinstance(b, emit_docs.Grid))
    shown = [tok.text for row in parts.rows for tok in row[0]]
    assert "other" not in shown and messages(lang)("home.no_mdc") in shown


def test_the_guide_speaks_the_language_its_definitions_declare(tmp_path: Path) -> None:
    """`language en` in the version header makes English the default of isf docs, isf diff and isf export-excel;
    --lang still decides; a site of several versions speaks the newest's; no declaration gives bokmål."""
    declared = {}
    for name in ("isf2024", "isf2025"):
        shutil.copytree(DEFS / name, tmp_path / name)
    for name, declare in (("isf2025", " language en"), ("isf2024", "")):  # 2024 declares no language
        schema = tmp_path / name / "schema.isf"
        text = schema.read_text(encoding="utf-8")
        header = next(line for line in text.splitlines() if line.startswith("version "))
        assert header.endswith(" language nb"), header  # as the bundled definitions declare
        schema.write_text(text.replace(header, header.removesuffix(" language nb") + declare), encoding="utf-8")

    def lang(*args: str) -> str:
        out = tmp_path / f"out{len(declared)}"
        r = CliRunner().invoke(main, ["docs", *args, "-o", str(out), "--no-progress", "--no-diagrams", "--no-excel"])
        assert r.exit_code == 0, r.output
        found = re.search(r'<html lang="(\w+)"', (out / "index.html").read_text(encoding="utf-8"))
        declared[args] = found.group(1) if found else ""
        return declared[args]

    new, old = str(tmp_path / "isf2025"), str(tmp_path / "isf2024")
    assert lang(new) == "en" and lang(old) == "nb"
    assert lang(new, "--lang", "nb") == "nb" and lang(old, "--lang", "en") == "en"
    assert lang(old, new) == "en"  # the newest declares English
    r = CliRunner().invoke(main, ["diff", old, new])
    assert r.exit_code == 0 and "Changes from" in r.output, r.output
    book = tmp_path / "t.xlsx"
    assert CliRunner().invoke(main, ["export-excel", new, "-o", str(book)]).exit_code == 0
    assert "Groups DRG" in openpyxl.load_workbook(book).sheetnames
