"""Every code example in README.md and docs/*.md runs as written.

Each fenced ```python and ```bash block carries a decision in an HTML comment on the line before it
(blank lines between are allowed):

    <!-- example: run -->                          run it (see below)
    <!-- example: run; needs: pyarrow -->          ... skipped, naming it, when a module, program or path is missing
    <!-- example: run; env: PYTHONPATH=generated -->  ... with this variable set (as the text around it says)
    <!-- example: run; replace: "-n 100000" -> "-n 2000" -->  ... with this text replaced, in the test only
    <!-- example: illustrative: REASON -->         not run: REASON says why a test cannot run it

A block is run in a fresh copy of the repository (so that what it writes goes nowhere): ```bash blocks
with `bash -euo pipefail`, with this environment's `python` and `isf` first on PATH; ```python blocks by
this Python, the copy as the working directory (and so on sys.path). A run passes when it exits 0 with
no traceback. In a Python block, a line `expression  # value` claims the value's repr (a `…` in the
claim: the repr starts with what comes before it); every claim is checked. A block without a decision,
or with one the test does not know, fails.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .conftest import ROOT

#: The fence languages whose blocks must carry a decision.
LANGUAGES = {"python": "python", "py": "python", "bash": "bash", "sh": "bash", "shell": "bash", "console": "bash"}
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"^<!--\s*example:\s*(.*?)\s*-->$")
FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)(.*)$")
#: Left out of the copy of the repository a block runs in.
NOT_COPIED = shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", ".mypy_cache", ".ruff_cache", ".pytest_cache",
                                    ".hypothesis", ".artifacts", "build", "dist", ".venv*")


@dataclass
class Block:
    path: Path
    line: int  # of the first line of code (1-based)
    language: str
    code: str
    marker: str | None  # the text after `example:`, or None
    run: bool = False
    reason: str = ""
    needs: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    replace: list[tuple[str, str]] = field(default_factory=list)
    problem: str = ""

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _decide(block: Block) -> None:
    """Read the block's marker into run/reason/needs/env/replace, or set ``problem``."""
    if block.marker is None:
        block.problem = "no decision: put `<!-- example: run -->` or `<!-- example: illustrative: REASON -->` before it"
        return
    if block.marker.startswith("illustrative"):
        block.reason = block.marker.partition(":")[2].strip()
        if not block.reason:
            block.problem = "an illustrative block says why a test cannot run it: `illustrative: REASON`"
        return
    kind, _, rest = block.marker.partition(";")
    if kind.strip() != "run":
        block.problem = f"unknown decision {kind.strip()!r} (run or illustrative)"
        return
    block.run = True
    for clause in filter(None, (c.strip() for c in rest.split(";"))):
        name, _, value = (x.strip() for x in clause.partition(":"))
        if name == "needs" and value:
            block.needs.append(value)
        elif name == "env" and "=" in value:
            key, _, val = value.partition("=")
            block.env[key.strip()] = val.strip()
        elif name == "replace" and (m := re.fullmatch(r'"([^"]*)"\s*->\s*"([^"]*)"', value)):
            if m[1] not in block.code:
                block.problem = f"replace: {m[1]!r} is not in the block"
            block.replace.append((m[1], m[2]))
        else:
            block.problem = f"unknown clause {clause!r} (needs: X; env: NAME=VALUE; replace: \"OLD\" -> \"NEW\")"


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of one Markdown file, with the decision before each (all languages)."""
    out: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    n = 0
    while n < len(lines):
        m = FENCE.match(lines[n].strip())
        if not m:
            n += 1
            continue
        fence, language = m[1], m[2].lower()
        end = next((k for k in range(n + 1, len(lines))
                    if lines[k].strip().startswith(fence[0] * len(fence)) and not lines[k].strip().strip(fence[0])),
                   len(lines))
        before = next((lines[k].strip() for k in range(n - 1, -1, -1) if lines[k].strip()), "")
        marker = MARKER.match(before)
        block = Block(path, n + 2, language, "\n".join(lines[n + 1:end]) + "\n", marker[1] if marker else None)
        out.append(block)
        n = end + 1
    return out


def examples() -> list[Block]:
    found = [b for p in DOCUMENTS for b in blocks(p) if b.language in LANGUAGES]
    for b in found:
        _decide(b)
    return found


EXAMPLES = examples()


def test_every_example_has_a_decision() -> None:
    assert len(EXAMPLES) >= 8
    problems = [f"{b.where}: {b.problem}" for b in EXAMPLES if b.problem]
    assert not problems, "\n".join(problems)


def test_the_block_reader_sees_decisions_and_fences(tmp_path: Path) -> None:
    """The reader itself: a block without a decision, an unknown clause, a longer fence holding ```."""
    doc = tmp_path / "x.md"
    doc.write_text("text\n```bash\nisf check x\n```\n\n<!-- example: run; env: A=1; replace: \"print\" -> \"len\" -->\n\n"
                   "````python\nprint('```')\n````\n<!-- example: run; sometimes -->\n```python\n1\n```\n"
                   "<!-- example: illustrative -->\n```bash\npip install .\n```\n```isf\nderive a: int = 1\n```\n",
                   encoding="utf-8")
    found = blocks(doc)
    for b in found:
        _decide(b)
    assert [(b.language, b.line) for b in found] == [("bash", 3), ("python", 9), ("python", 13), ("bash", 17), ("isf", 20)]
    assert "no decision" in found[0].problem
    assert found[1].run and found[1].env == {"A": "1"} and found[1].replace == [("print", "len")] and not found[1].problem
    assert found[1].code == "print('```')\n"
    assert "unknown clause 'sometimes'" in found[2].problem
    assert "says why" in found[3].problem


def claims(code: str) -> str:
    """The Python block with every `expression  # value` line turned into a check of the value's repr
    (line numbers kept)."""
    comments = {tok.start[0]: tok.string for tok in tokenize.generate_tokens(io.StringIO(code).readline)
                if tok.type == tokenize.COMMENT}
    lines = code.splitlines()
    for stmt in reversed(ast.parse(code).body):
        claim = comments.get(stmt.end_lineno or 0, "")[1:].strip()
        if not isinstance(stmt, ast.Expr) or not re.match(r"[(\[{'\"\d-]|True|False|None", claim):
            continue
        first, last = stmt.lineno - 1, (stmt.end_lineno or stmt.lineno) - 1
        text = "\n".join(lines[first:last + 1])
        start = stmt.col_offset
        end = len("\n".join(lines[first:last])) + (1 if last > first else 0) + (stmt.end_col_offset or 0)
        text = f"{text[:start]}__claim(({text[start:end]}), {claim!r}, {stmt.lineno}){text[end:]}"
        lines[first:last + 1] = text.split("\n")
    return "\n".join(lines) + "\n"


def test_claims_are_checked(tmp_path: Path) -> None:
    code = "x = (1,\n     2)\nx   # (1, 2)\nlen(x)  # 3\nx  # (1, …)\nprint(x)  # prints it\n"
    checked = claims(code)
    assert checked.splitlines()[2:5] == ["__claim((x), '(1, 2)', 3)   # (1, 2)", "__claim((len(x)), '3', 4)  # 3",
                                         "__claim((x), '(1, …)', 5)  # (1, …)"]
    assert checked.splitlines()[5] == "print(x)  # prints it"
    done = _python(checked, "t.md", 0, tmp_path, dict(os.environ))
    assert done.returncode != 0 and "t.md:4: the example says 3, the code gives 2" in done.stderr


#: Runs a block's code as if it were the document: tracebacks and claims name the document's lines.
DRIVER = """
import sys
def __claim(value, claim, line):
    text = repr(value)
    ok = text.startswith(claim.split("…")[0].rstrip()) if "…" in claim else text == claim
    if not ok:
        sys.exit(f"{sys.argv[2]}:{int(sys.argv[3]) + line - 1}: the example says {claim}, the code gives {text}")
    return value
code = open(sys.argv[1], encoding="utf-8").read()
exec(compile("\\n" * (int(sys.argv[3]) - 1) + code, sys.argv[2], "exec"), {"__name__": "__main__", "__claim": __claim})
"""


def _python(code: str, where: str, line: int, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = cwd / ".example.py"
    script.write_text(code, encoding="utf-8")
    return subprocess.run([sys.executable, "-c", DRIVER, str(script), where, str(max(line, 1))], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900, check=False)


def _missing(need: str) -> bool:
    """Whether a block's need is absent: a path (with a /) in the repository, else a module or a
    program on PATH of that name."""
    if "/" in need:
        return not (ROOT / need).exists()
    return importlib.util.find_spec(need) is None and shutil.which(need) is None


#: A block that reads the official tables beside the repository is one of the `official` tests (slow).
RUNS = [pytest.param(b, id=b.where, marks=[pytest.mark.official] if any("shared/" in n for n in b.needs) else [])
        for b in EXAMPLES if b.run]


@pytest.mark.parametrize("block", RUNS)
def test_example_runs_as_written(block: Block, tmp_path: Path) -> None:
    for need in block.needs:
        if _missing(need):
            pytest.skip(f"{block.where} needs {need}, which is not on this machine")
    copy = tmp_path / ROOT.name
    shutil.copytree(ROOT, copy, ignore=NOT_COPIED, symlinks=True)
    if (ROOT.parent / "shared").is_dir():  # the official tables beside the repository, as in the clone
        (tmp_path / "shared").symlink_to(ROOT.parent / "shared")
    code = block.code
    for old, new in block.replace:
        code = code.replace(old, new)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(block.env)
    if LANGUAGES[block.language] == "python":
        done = _python(claims(code), str(block.path.relative_to(ROOT)), block.line, copy, env)
    else:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=copy, env=env, capture_output=True, text=True,
                              timeout=900, check=False)
    shown = f"{block.where}:\n{code}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    assert done.returncode == 0, shown
    assert "Traceback" not in done.stderr, shown
    print(f"{block.where}: ran ({len(done.stdout.splitlines())} lines of output)")
