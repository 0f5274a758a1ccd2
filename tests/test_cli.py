"""The `isf` command line as users run it: exit codes, text and JSON diagnostics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import DEFINITIONS, ROOT


def isf(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "isfdsl", *args], capture_output=True, text=True, cwd=cwd, check=False)


def test_bundled_definitions_check_clean() -> None:
    proc = isf("check", str(DEFINITIONS))
    assert proc.returncode == 0, proc.stderr
    assert "0 errors" in proc.stderr


def test_a_typo_exits_1_and_points_at_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "defs"
    bad.mkdir()
    for src in (DEFINITIONS / "isf2025").glob("*.isf"):
        (bad / src.name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    drg = bad / "drg.isf"
    lines = drg.read_text(encoding="utf-8").splitlines()
    row = next(i for i, line in enumerate(lines) if "anti_vegf_given -> 802U" in line)
    lines[row] = lines[row].replace("anti_vegf_given", "anti_vegf_givn")
    drg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = isf("check", str(bad), cwd=tmp_path)
    assert proc.returncode == 1
    col = lines[row].index("anti_vegf_givn") + 1
    assert f"defs/drg.isf:{row + 1}:{col}: error[ISF201]: unknown feature `anti_vegf_givn`" in proc.stderr
    assert "did you mean `anti_vegf_given`?" in proc.stderr
    caret_line = proc.stderr.splitlines()[proc.stderr.splitlines().index(next(
        x for x in proc.stderr.splitlines() if x.strip().startswith(f"{row + 1} |"))) + 1]
    assert caret_line.index("^") == len(f"{row + 1:>5} | ") + col - 1


def test_json_format_for_editors(tmp_path: Path) -> None:
    src = tmp_path / "x.isf"
    src.write_text('version T 2025 "t"\nepisode { age: int 0..10 default 11 }\n')
    proc = isf("check", "--format", "json", str(src))
    assert proc.returncode == 1
    [diag] = json.loads(proc.stdout)
    assert diag["code"] == "ISF215" and diag["line"] == 2 and diag["severity"] == "error"


def test_usage_errors_exit_2() -> None:
    assert isf("check").returncode == 2
    assert isf("check", "no/such/path").returncode == 2
    assert isf("frobnicate").returncode == 2


def test_warnings_alone_exit_0(tmp_path: Path) -> None:
    src = tmp_path / "w.isf"
    src.write_text('version T 2025 "t"\ncodesystem C\ncodelist never of C { A1 }\n')
    proc = isf("check", str(src))
    assert proc.returncode == 0 and "warning[ISF250]" in proc.stderr
