"""Editor support: the TextMate grammar (tokenized by VS Code's own engine, vscode-textmate with
vscode-oniguruma from npm), the VS Code extension's manifest, and the Pygments lexer the guide uses."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Error, Name, Operator, Text

from isfdsl.syntax.highlight import IsfLexer

from .conftest import DEFINITIONS, ROOT

EDITORS = ROOT / "editors"
GRAMMAR = EDITORS / "vscode" / "syntaxes" / "isf.tmLanguage.json"
SOURCES = sorted([*DEFINITIONS.rglob("*.isf"), *(ROOT / "tests" / "programs").rglob("*.isf")])


def test_vscode_manifest_names_what_exists() -> None:
    manifest = json.loads((EDITORS / "vscode" / "package.json").read_text(encoding="utf-8"))
    [language] = manifest["contributes"]["languages"]
    assert language["id"] == "isf" and language["extensions"] == [".isf"]
    assert (EDITORS / "vscode" / language["configuration"]).is_file()
    [grammar] = manifest["contributes"]["grammars"]
    assert (EDITORS / "vscode" / grammar["path"]).resolve() == GRAMMAR.resolve()
    assert json.loads(GRAMMAR.read_text(encoding="utf-8"))["scopeName"] == grammar["scopeName"] == "source.isf"
    assert (EDITORS / "vscode" / manifest["main"]).is_file()
    assert manifest["contributes"]["configuration"]["properties"]["isf.server.command"]["default"] == ["isf", "lsp"]
    json.loads((EDITORS / "vscode" / "language-configuration.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """editors/textmate-check installed (npm ci from its lock file) in a temporary folder."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.skip(f"`{tool}` (Node.js) is not installed: the TextMate grammar was not tokenized")
    work = tmp_path_factory.mktemp("textmate") / "check"
    shutil.copytree(EDITORS / "textmate-check", work, ignore=shutil.ignore_patterns("node_modules"))
    done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], check=False, cwd=work, capture_output=True,
                          text=True, timeout=300)
    if done.returncode != 0:
        pytest.skip(f"`npm ci` could not install vscode-textmate and vscode-oniguruma: {done.stderr.strip()[-300:]}")
    return work


def _tokenize(tokenizer: Path, files: list[Path]) -> dict[str, object]:
    done = subprocess.run(["node", str(tokenizer / "tokenize.js"), str(GRAMMAR), *map(str, files)],
                          capture_output=True, text=True, timeout=120, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_textmate_grammar_tokenizes_every_bundled_file_without_an_error_scope(tokenizer: Path) -> None:
    result = _tokenize(tokenizer, SOURCES)
    assert result["files"] == len(SOURCES) and int(result["tokens"]) > 5000  # type: ignore[call-overload]
    assert result["problems"] == [], result["problems"]


def test_textmate_grammar_marks_what_is_not_the_language(tokenizer: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.isf"
    bad.write_text('version T 1 "t"\nderive a: int = 1 ? 2\n', encoding="utf-8")
    result = _tokenize(tokenizer, [bad])
    assert [(p["line"], p["column"], p["text"]) for p in result["problems"]] == [(2, 19, "?")]  # type: ignore[attr-defined, index]


def test_pygments_lexer_is_registered_and_reads_every_bundled_file() -> None:
    assert isinstance(get_lexer_by_name("isf"), IsfLexer)
    assert isinstance(get_lexer_for_filename("drg.isf"), IsfLexer)
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        tokens = list(IsfLexer().get_tokens(text))
        assert "".join(v for _, v in tokens) == text if text.endswith("\n") else text + "\n"
        stray = [(t, v) for t, v in tokens if t in Error or (t is Text and v.strip())]
        assert not stray, (path.name, stray[:5])
    assert [v for t, v in IsfLexer().get_tokens("derive a: int = 1 ? 2\n") if t is Text] == ["?"]


def test_pygments_lexer_reads_the_forms_for_people() -> None:
    """`classify`, `or` and bare codes in conditions and sets get the classes the TextMate grammar gives them."""
    text = ('derive mdc: text = classify pdx by { mdc01 -> "01" } else absent\n'
            'rule r when pdx == O80.1 or (groups has 802U and pdx in {H35.3, I10}) -> X\n')
    tokens = [(t, v) for t, v in IsfLexer().get_tokens(text) if v.strip()]
    assert (Operator.Word, "classify") in tokens and (Operator.Word, "or") in tokens
    assert {v for t, v in tokens if t is Name.Constant} == {"O80.1", "802U", "H35.3", "I10"}
    grammar = json.loads(GRAMMAR.read_text(encoding="utf-8"))
    assert any("classify" in p["match"] for p in grammar["repository"]["keyword"]["patterns"])


def test_the_guide_highlights_isf_snippets() -> None:
    guide = (ROOT / "generated" / "docs" / "isf2025" / "guide.html").read_text(encoding="utf-8")
    assert '<pre><code class="language-isf"><span class="nv">pdx</span>' in guide
    assert "```isf\n" in (ROOT / "generated" / "docs" / "isf2025" / "guide.md").read_text(encoding="utf-8")
