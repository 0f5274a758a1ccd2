"""The analysis cache (isfdsl/analysis/cache.py): `isf check` and `isf build` analyse an unchanged program
once, a changed one again; a key that does not depend on the hash seed; entries read as hostile input;
the folder trimmed past its limit; and `isf lsp` serving the same entries."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from isfdsl.analysis import analyse as analyse_module
from isfdsl.analysis import cache
from isfdsl.analysis.analyse import Report
from isfdsl.commands.cli import main
from isfdsl.commands.pipeline import check_paths
from isfdsl.ir.model import Program, lower

from .test_analyse import GAP, NO_MDC_ROW, _seed
from .test_lsp import started


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[Program]:
    """The programs the analysis really ran on (through the cache or not)."""
    seen: list[Program] = []
    real = cache.analyse

    def counting(program: Program, *args: object, **kw: bool) -> Report:
        seen.append(program)
        return real(program, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(cache, "analyse", counting)
    monkeypatch.setattr(analyse_module, "analyse", counting)
    return seen


def _entries() -> list[Path]:
    return sorted(cache.cache_folder().glob("*.json"))


def _check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", *args])
    return result.exit_code, result.output


def _gap(tmp_path: Path) -> Path:
    """The bundled definitions with a seeded gap: an ISF402 error with a witness episode in its notes."""
    return _seed(tmp_path, *GAP, "drg.isf", NO_MDC_ROW)


def test_a_second_check_reuses_the_analysis(tmp_path: Path, calls: list[Program]) -> None:
    folder = _gap(tmp_path)
    first = _check(str(folder))
    assert len(calls) == 1 and len(_entries()) == 1
    assert first[0] == 1 and "ISF402" in first[1] and "witness (episode)" in first[1]
    second = _check(str(folder))
    assert len(calls) == 1, "the unchanged program was analysed again"
    assert second == first  # the same diagnostics, witness notes and all, from the cache
    # --no-cache analyses and writes nothing; --no-analyse does not analyse at all
    assert _check(str(folder), "--no-cache") == first and len(calls) == 2 and len(_entries()) == 1
    code, out = _check(str(folder), "--no-analyse")
    assert len(calls) == 2 and code == 0 and "ISF402" not in out


def test_a_changed_table_is_analysed_again(tmp_path: Path, calls: list[Program]) -> None:
    folder = _gap(tmp_path)
    before = _check(str(folder))
    assert len(calls) == 1
    drg = folder / "drg.isf"
    text = drg.read_text(encoding="utf-8")
    # A comment after the last line moves no row: the program the analysis reads is the same.
    drg.write_text(text + "# a note that changes nothing the analysis reads\n", encoding="utf-8")
    assert _check(str(folder)) == before and len(calls) == 1
    # The fallback back: a different table, analysed again, and the gap is gone.
    drg.write_text(text.replace(GAP[1], GAP[0], 1), encoding="utf-8")
    code, out = _check(str(folder))
    assert len(calls) == 2 and code == 0 and "ISF402" not in out
    assert len(_entries()) == 2
    # A code table the rows depend on, changed: analysed again.
    codes = next(p for p in sorted(folder.glob("*.isf")) if "codelist" in p.read_text(encoding="utf-8"))
    codes.write_text(codes.read_text(encoding="utf-8").replace("codelist ", "codelist  ", 1), encoding="utf-8")
    _check(str(folder))
    assert len(calls) == 2  # spacing only: the same program
    lines = codes.read_text(encoding="utf-8").splitlines(keepends=True)
    codes.write_text("# moved down a line\n" + "".join(lines), encoding="utf-8")  # every position in it moves
    _check(str(folder))
    assert len(calls) == 3


def test_build_uses_the_same_cache(tmp_path: Path, calls: list[Program]) -> None:
    folder = _seed(tmp_path, "", "")
    for n in range(2):
        result = CliRunner().invoke(main, ["build", str(folder), "-o", str(tmp_path / f"out{n}" / "isf2025")])
        assert result.exit_code == 0, result.output
    assert len(calls) == 1
    assert (tmp_path / "out1" / "isf2025" / "__init__.py").read_bytes() == \
        (tmp_path / "out0" / "isf2025" / "__init__.py").read_bytes()
    result = CliRunner().invoke(main, ["build", str(folder), "-o", str(tmp_path / "out2" / "isf2025"), "--no-cache"])
    assert result.exit_code == 0 and len(calls) == 2


def _hostile(entry: Path) -> Iterator[bytes | None]:
    """Damaged and foreign versions of a good entry (None: a folder in its place)."""
    good = entry.read_bytes()
    body = json.loads(good)
    yield b""
    yield good[: len(good) // 2]
    yield b"\xff\xfe not utf-8 \x00"
    yield b"[" * 100_000 + b"]" * 100_000
    yield json.dumps([body]).encode()
    yield b"x" * (cache.ENTRY_BYTES + 10)
    for change in ({"format": cache.FORMAT + 1}, {"isfdsl": "0.0.0"}, {"key": "0" * 64}, {"rows": -1},
                   {"rows": True}, {"summary": [["t", "first", 1]]}, {"findings": {"code": "ISF402"}},
                   {"findings": [{**body["findings"][0], "code": "ISF999"}]},
                   {"findings": [{**body["findings"][0], "rows": "470"}]},
                   {"findings": [{**body["findings"][0], "extra": 1}]},
                   {"findings": [{**body["findings"][0], "witness": [1, 2]}]},
                   {"findings": [{**body["findings"][0], "message": None}]}):
        yield json.dumps({**body, **change}).encode()
    yield None


def test_a_damaged_or_foreign_entry_is_ignored_and_replaced(tmp_path: Path, calls: list[Program]) -> None:
    folder = _gap(tmp_path)
    want = _check(str(folder))
    [entry] = _entries()
    good = entry.read_bytes()
    for n, bad in enumerate(_hostile(entry), 2):
        if bad is None:
            entry.unlink()
            entry.mkdir()
        else:
            entry.write_bytes(bad)
        assert _check(str(folder)) == want, n
        assert len(calls) == n, f"entry {n}: a bad entry was believed"
        if bad is None:
            entry.rmdir()
        else:
            again = json.loads(entry.read_bytes())  # a good entry again (the timings in its summary aside)
            assert again["findings"] == json.loads(good)["findings"] and again["key"] == entry.stem, n


def test_an_unusable_folder_leaves_the_commands_working(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         calls: list[Program]) -> None:
    folder = _gap(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(cache.ENV, str(blocker))
    want = _check(str(folder))
    assert want[0] == 1 and "ISF402" in want[1]
    assert _check(str(folder)) == want and len(calls) == 2


def test_the_key_is_the_same_in_every_process_and_says_what_was_asked() -> None:
    probe = ("import sys; from isfdsl.commands.pipeline import check_paths; from isfdsl.ir.model import lower; "
             "from isfdsl.analysis.cache import program_key; "
             "print(program_key(lower(check_paths([sys.argv[1]]).models[0]), False))")
    folder = Path(__file__).resolve().parent.parent / "definitions" / "isf2025"
    keys = {subprocess.run([sys.executable, "-c", probe, str(folder)], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2", "3")}
    assert len(keys) == 1
    program = lower(check_paths([str(folder)]).models[0])
    assert keys == {cache.program_key(program, False)} != {cache.program_key(program, True)}


def test_the_folder_is_trimmed_least_recently_used_first(tmp_path: Path) -> None:
    store = cache.AnalysisCache(tmp_path / "c", limit=600)
    report = Report(rows=1, tables=1, summary=[("t", "first", 1, 1, 0.5)])
    keys = [f"{n:064x}" for n in range(8)]
    foreign = tmp_path / "c" / "notes.txt"
    for n, key in enumerate(keys):
        assert store.save(key, report)
        os.utime(store.path(key), (1000 + n, 1000 + n))
        if n == 0:
            foreign.write_text("x" * 5000, encoding="utf-8")  # not an entry: never counted, never removed
    size = store.path(keys[-1]).stat().st_size
    kept = [k for k in keys if store.path(k).exists()]
    assert kept == keys[-len(kept):] and len(kept) == 600 // size == 3
    assert foreign.exists()
    os.utime(store.path(kept[0]), (5000, 5000))  # used recently: kept at the next trim
    store.save("f" * 64, report)
    assert store.path(kept[0]).exists() and not store.path(kept[1]).exists()
    loaded = store.load(keys[-1])
    assert loaded is not None and loaded.summary == report.summary and loaded.findings == []


def test_the_language_server_serves_the_cached_analysis(tmp_path: Path) -> None:
    """`isf lsp` analyses on open and reads and writes the entries `isf build` does: a (forged but well
    formed) entry's message is what the editor is shown, and an entry the server wrote is one the build reads."""
    async def go() -> None:
        async with started(tmp_path / "first") as s:
            GAP_TEXT = (s.root / "drg.isf").read_text(encoding="utf-8")
            (s.root / "drg.isf").write_text(GAP_TEXT.replace(*GAP, 1).replace(NO_MDC_ROW[0], "", 1), encoding="utf-8")
            uri = s.open("drg.isf")
            await s.until(lambda: any(d.code == "ISF402" for d in s.diagnostics.get(uri, [])), timeout=120)
        [entry] = _entries()
        body = json.loads(entry.read_bytes())
        assert [f["code"] for f in body["findings"]] == ["ISF402"]
        # `isf build` reads the entry the server wrote: the same key (no witness episodes)
        result = CliRunner().invoke(main, ["build", str(s.root), "-o", str(tmp_path / "out" / "isf2025")])
        assert "ISF402" in result.output and len(_entries()) == 1
        body["findings"][0]["message"] = "the cached finding"
        entry.write_text(json.dumps(body), encoding="utf-8")
        async with started(tmp_path / "first") as t:  # the same folder again, in a new server
            uri = t.open("drg.isf")
            await t.until(lambda: any(d.code == "ISF402" for d in t.diagnostics.get(uri, [])), timeout=120)
            [d] = [d for d in t.diagnostics[uri] if d.code == "ISF402"]
            assert d.message.startswith("the cached finding")
    asyncio.run(go())

