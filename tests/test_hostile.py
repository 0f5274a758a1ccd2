"""Hostile definitions (issue 18, items 7-11 and 13): names that try to run code in the generated
package, paths that lead out of the definitions folder, numbers and nesting beyond the limits, code
syntax patterns that backtrack, and line separators — each a diagnostic or an invalid value, never code
run, a file read, a crash or a hang."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from isfdsl import interpret, limits
from isfdsl.commands.cli import main
from isfdsl.commands.pipeline import build, check_paths, load_package
from isfdsl.diagnostics import render_text
from isfdsl.ir.model import lower
from isfdsl.runtime.codesyntax import CodePattern, PatternError

from .conftest import DEFINITIONS

SMALL = '''version ISF 2030 "{label}" valid 2030-01-01 .. 2030-12-31
codesystem ICD10 "{label}" syntax "[A-Z][0-9]{{2}}[0-9A-Z]{{0,4}}" ignore "."
enum Sex "{label}" {{ male = "1" "{label}" female = "2" "{label}" }}
episode {{ sex: Sex "{label}" age: int 0..125 "{label}" pdx: code ICD10 "{label}" }}
codelist odd of ICD10 "{label}" {{ A00 "{label}" }}
derive adult: bool "{label}" = age > 17
catalogue DRG "{label}" {{ 1A "{label}" points 1 2B "{label}" points 2 }}
decision drg "{label}" for DRG policy first fallback 2B rc 8 {{
  rule R1 "{label}" when pdx in odd and adult -> 1A
}}
'''


def _quoted(text: str) -> str:
    """``text`` as the body of an .isf string (the language's escapes for quote, backslash, newline, tab)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")


def _write(folder: Path, text: str, name: str = "p.isf") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def _errors(folder: Path) -> list[tuple[str, int, int]]:
    return sorted((d.code, d.span.line, d.span.col) for d in check_paths([str(folder)]).diags.errors)


# ---------------------------------------------------------------------- 7: names that try to run code

PAYLOAD = 'x""";import os;os.system("touch PWNED");"""'
HOSTILE_NAMES = [PAYLOAD, "x'''; import os; os.system('touch PWNED'); '''", 'ends with a quote"', "back\\slash \\N{x} \\x",
                 "{{ name }} {% if %}", "new\nline\r\u2028\x85\x0c", "æøå ☃ 𝔘", "\\", '"']


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_folder_names_and_labels_build_inert_packages(tmp_path: Path, name: str) -> None:
    """A definitions folder named (and labelled) to break out of a docstring: the package builds,
    imports, groups and runs as ``python -m`` without running anything, and its docstring shows the
    folder's name exactly."""
    label = _quoted(name + " \x00 NUL")
    src = _write(tmp_path / name, SMALL.format(label=label))
    built = build(str(src), tmp_path / "gen" / "pkg")
    assert built.package is not None, built.checked.diags.sorted()
    for f in built.files:
        if f.suffix == ".py":
            compile(f.read_text(encoding="utf-8"), str(f), "exec")
    pkg = load_package(built.package)
    assert name in (pkg.__doc__ or "")
    assert pkg.group({"sex": "1", "age": 40, "pdx": "A00"}).group == "1A"
    assert pkg.VERSION_LABEL == name + " \x00 NUL"
    (tmp_path / "in.csv").write_text("sex,age,pdx\n1,40,A00\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pkg", "in.csv"], cwd=tmp_path, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(tmp_path / "gen")})
    assert done.returncode == 0, done.stderr
    assert ",1A," in done.stdout
    assert not list(tmp_path.rglob("PWNED")) and not Path("PWNED").exists()


@pytest.mark.parametrize("package", [PAYLOAD, "not-an-identifier", "class", "9lives", "ﬁx", "a b"])
def test_a_package_name_must_be_a_python_identifier(tmp_path: Path, package: str) -> None:
    src = _write(tmp_path / "defs", SMALL.format(label="t"))
    with pytest.raises(ValueError, match="cannot name a Python package"):
        build(str(src), tmp_path / "gen" / package)
    assert not (tmp_path / "gen").exists()
    result = CliRunner().invoke(main, ["build", str(src), "-o", str(tmp_path / "gen" / package)])
    assert result.exit_code == 2 and "cannot name a Python package" in result.output


def test_isf_group_compiles_a_folder_of_any_name(tmp_path: Path) -> None:
    src = _write(tmp_path / "isf-2030 (copy)", SMALL.format(label="t"))
    (tmp_path / "in.csv").write_text("sex,age,pdx\n1,40,A00\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["group", str(src), str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    assert ",1A," in (tmp_path / "out.csv").read_text(encoding="utf-8")


# ---------------------------------------------------------------------- 8: paths out of the folder

SECRET = "top secret: the first line of a file outside"


def test_imports_and_data_files_stay_inside_the_definitions_folder(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    (tmp_path / "secret.tsv").write_text(f"key\tvalue\nA00\t{SECRET}\n", encoding="utf-8")
    defs = tmp_path / "defs"
    defs.mkdir()
    (defs / "link.isf").symlink_to(tmp_path / "secret.txt")
    (defs / "zero.tsv").symlink_to("/dev/zero")
    (defs / "common").mkdir()
    (defs / "common" / "lists.isf").write_text("codelist shared of ICD10 { A00 }\n", encoding="utf-8")
    _write(defs, f'''version T 2025 "t"
import "../secret.txt"
import "{tmp_path / 'secret.txt'}"
import "/dev/zero"
import "common/lists.isf"
codesystem ICD10
table outside of ICD10 -> text from "../secret.tsv"
table zero of ICD10 -> text from "zero.tsv"
''')
    checked = check_paths([str(defs)])
    refused = sorted((d.span.file.rsplit("/", 1)[-1], d.span.line) for d in checked.diags.errors if d.code == "ISF106")
    assert refused == [("link.isf", 1), ("p.isf", 2), ("p.isf", 3), ("p.isf", 4), ("p.isf", 7), ("p.isf", 8)]
    assert [d.code for d in checked.diags.errors] == ["ISF106"] * 6
    shown = render_text(checked.diags.sorted(), checked.sources)
    assert SECRET not in shown and all(SECRET not in text for text in checked.sources.values())
    assert any(name.endswith("common/lists.isf") for name in checked.sources)  # inside: read


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    defs = _write(tmp_path / "defs", 'version T 2025 "t"\nimport "pipe.txt"\n')
    os.mkfifo(defs / "pipe.txt")
    done: list[list[tuple[str, int, int]]] = []
    worker = threading.Thread(target=lambda: done.append(_errors(defs)), daemon=True)
    worker.start()
    worker.join(30)
    assert done == [[("ISF106", 2, 1)]]


def test_a_folder_named_as_a_file_is_refused(tmp_path: Path) -> None:
    defs = _write(tmp_path / "defs", 'version T 2025 "t"\nimport ""\nimport "sub"\ntable t of text -> text from "."\n')
    (defs / "sub").mkdir()
    assert _errors(defs) == [("ISF106", 2, 1), ("ISF106", 3, 1), ("ISF106", 4, 1)]


def test_a_file_over_the_size_limit_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    defs = _write(tmp_path / "defs", 'version T 2025 "t"\ncodesystem C\ntable t of C -> text from "big.tsv"\n')
    (defs / "big.tsv").write_text("key\tvalue\n" + "A00\tx\n" * 1000, encoding="utf-8")
    monkeypatch.setattr(limits, "FILE_BYTES", 4096)
    assert _errors(defs) == [("ISF107", 3, 1)]


def test_subfolders_of_a_program_are_not_programs_of_their_own(tmp_path: Path) -> None:
    defs = _write(tmp_path / "defs", SMALL.format(label="t").replace("codelist odd of ICD10 \"t\" { A00 \"t\" }",
                                                                      'import "common/odd.isf"'))
    _write(defs / "common", 'codelist odd of ICD10 { A00 }\n', "odd.isf")
    checked = check_paths([str(tmp_path)])
    assert checked.ok and len(checked.models) == 1


# ---------------------------------------------------------------------- 9: integers beyond the limit


def test_huge_numbers_in_the_source_are_diagnostics(tmp_path: Path) -> None:
    huge = "1" * 5000
    base = SMALL.format(label="t")
    assert _errors(_write(tmp_path / "a", base.replace("0..125", f"0..{huge}"))) == [("ISF107", 4, 36)]
    assert _errors(_write(tmp_path / "b", base.replace("points 1 ", f"points {huge} "))) == [("ISF107", 7, 35)]
    assert _errors(_write(tmp_path / "c", base.replace("age > 17", f"age > {huge}"))) == [("ISF107", 6, 32)]
    tsv = _write(tmp_path / "d", base + 'table t of ICD10 -> int from "t.tsv"\n')
    (tsv / "t.tsv").write_text(f"key\tvalue\nA00\t{huge}\n", encoding="utf-8")
    assert _errors(tsv) == [("ISF107", 2, 1)]


@pytest.mark.parametrize("version", ["isf2024", "isf2025"])
def test_huge_integers_in_an_episode_are_invalid_values(tmp_path: Path, version: str) -> None:
    """``age=10**5000`` used to give group '' and rule 'error' (an episode in no group) and made the
    interpreter raise: now it is an invalid value, named, in both."""
    built = build(str(DEFINITIONS / version), tmp_path / version)
    assert built.package is not None
    pkg = load_package(built.package)
    program = lower(check_paths([str(DEFINITIONS / version)]).models[0])
    base = {"sex": "2", "age": 70, "care_level": "3", "pdx": "H35.3"}
    for attribute, value in [("age", 10 ** 5000), ("age", "1" * 5000), ("age", -10 ** 40), ("los", 10 ** 5000),
                             ("pdx", 10 ** 5000), ("sex", 10 ** 5000), ("procedures", [10 ** 5000]), ("los", "9" * 4400)]:
        episode = {**base, attribute: value}
        compiled, oracle = pkg.group(episode), interpret.group(program, episode)
        assert compiled.group and compiled.rule != "error", (attribute, compiled)
        assert (compiled.group, compiled.rule, compiled.return_code) == (oracle.group, oracle.rule, oracle.return_code)
        assert [p[0] for p in compiled.problems] == [attribute] == [p[0] for p in oracle.problems]
        assert compiled.problems == tuple(oracle.problems)


# ---------------------------------------------------------------------- 10: nesting beyond the limit


@pytest.mark.parametrize("expr", [" or ".join(["age > 17"] * 248), " or ".join(["age > 17"] * 240),
                                  "not " * 700 + "adult", "[" * 1000 + "age" + "]" * 1000,
                                  "coalesce(" * 500 + "age" + ", 1)" * 500])
def test_deep_nesting_is_a_diagnostic(tmp_path: Path, expr: str) -> None:
    text = SMALL.format(label="t") + f"derive deep: bool = {expr}\n"
    [(code, line, col)] = _errors(_write(tmp_path / "d", text))
    assert (code, line) == ("ISF107", 11) and col >= 21  # where the nesting passes the limit


def test_long_sums_are_a_diagnostic_not_an_emitter_crash(tmp_path: Path) -> None:
    text = SMALL.format(label="t") + "derive total: int = " + " + ".join(["age"] * 199) + "\n"
    assert _errors(_write(tmp_path / "d", text)) == [("ISF107", 11, 21)]


DEEPEST = {  # how each kind of nesting is written n levels deep
    "or": lambda n: " or ".join(["age > 17"] * n),
    "and": lambda n: " and ".join(["age > 1"] * n),
    "not": lambda n: "not " * n + "age > 1",
    "if": lambda n: "if age > 1 then " * n + "age > 17" + " else false" * n,
    "compare": lambda n: "(" * n + "(age > 1)" + " == true)" * n,
    "sum": lambda n: "(" + " + ".join(["age"] * n) + ") > 3",
    "coalesce": lambda n: "coalesce(" * n + "age" + ", 1)" * n + " > 3",
    "prefix": lambda n: "starts_with(" + "prefix(" * n + "text(age)" + ", 3)" * n + ', "1")',
    "any": lambda n: "any(x0 in [age] where " + "".join(f"any(x{k + 1} in [x{k}] where " for k in range(n))
                     + f"x{n} > 1" + ")" * (n + 1),
    "comprehension": lambda n: "count(" + "[x for x in " * n + "[age]" + " where x > 1]" * n + ") > 0",
}


@pytest.mark.parametrize("kind", sorted(DEEPEST))
def test_the_deepest_nesting_accepted_builds_and_agrees_with_the_interpreter(tmp_path: Path, kind: str) -> None:
    """The nesting limit is where every stage still works: the deepest expression of each kind that
    passes the checker compiles into a package Python imports, and it groups as the interpreter does."""
    text = ""
    for n in range(limits.NESTING - 20, limits.NESTING + 5):
        candidate = SMALL.format(label="t").replace("age > 17", DEEPEST[kind](n))
        if _errors(_write(tmp_path / f"n{n}", candidate)):
            break
        text = candidate
    assert text and n < limits.NESTING + 4  # some depth passes, and the limit stops the rest
    src = _write(tmp_path / "deepest", text)
    built = build(str(src), tmp_path / "gen" / "deepest")
    assert built.package is not None
    pkg = load_package(built.package)
    program = lower(check_paths([str(src)]).models[0])
    for episode in ({"sex": "1", "age": 30, "pdx": "A00"}, {"sex": "1", "age": 3, "pdx": "A00"}, {}):
        compiled, oracle = pkg.group(episode), interpret.group(program, episode)
        assert (compiled.group, compiled.rule) == (oracle.group, oracle.rule)


def test_a_json_line_nested_too_deeply_is_one_flagged_row(tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"age": 5}\n' + "[" * 100_000 + "]" * 100_000 + '\n{"age": ' + "1" * 5000 + '}\n{"age": 7}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["group", str(DEFINITIONS / "isf2025"), str(src), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["row"] for r in rows] == [1, 2, 3, 4]
    assert "row 2: not valid JSON: nested too deeply" in rows[1]["problems"]
    # an integer of thousands of digits is read (not "not valid JSON"), an invalid age, shown cut
    assert rows[2]["problems"] == f"age='{'1' * 100}… <5,000 characters>': an integer of more than 28 digits"


# ---------------------------------------------------------------------- 11: code syntax patterns


def test_a_backtracking_pattern_checks_in_linear_time(tmp_path: Path) -> None:
    """`(A|AA)+B` against a 41-character code took 30.7 s (exponential backtracking); a code of 5,000
    characters now takes milliseconds."""
    text = SMALL.format(label="t").replace("[A-Z][0-9]{2}[0-9A-Z]{0,4}", "(A|AA)+B").replace(
        '{ A00 "t" }', "{ " + "A" * 5000 + " }").replace("ignore \".\"", "")
    started = time.perf_counter()
    errors = _errors(_write(tmp_path / "d", text))
    assert time.perf_counter() - started < 10
    assert errors == [("ISF205", 5, 29)]


@pytest.mark.parametrize("pattern", ["a{99999999999}", "a{101}", "((a{100}){100})", "(?=a)", "^A$", "(" * 200 + ")" * 200])
def test_patterns_beyond_the_limits_are_a_diagnostic(tmp_path: Path, pattern: str) -> None:
    text = SMALL.format(label="t").replace("[A-Z][0-9]{2}[0-9A-Z]{0,4}", _quoted(pattern))
    assert _errors(_write(tmp_path / "d", text)) == [("ISF209", 2, 1)]


_ATOMS = st.sampled_from(["A", "B", "0", ".", "[A-B]", "[^A]", "\\d", "\\w", "[0-9A]", "\\."])


@st.composite
def _patterns(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        atom = draw(_ATOMS) if depth > 2 or draw(st.booleans()) else "(" + draw(_patterns(depth + 1)) + ")"
        parts.append(atom + draw(st.sampled_from(["", "", "*", "+", "?", "{2}", "{0,2}", "{1,}", "{,2}", "*?"])))
    alternative = "|" + draw(_patterns(depth + 1)) if depth < 2 and draw(st.booleans()) else ""
    return "".join(parts) + alternative


@given(_patterns(), st.lists(st.text("AB0.9_ \n", max_size=7), min_size=1, max_size=8))
def test_code_patterns_match_as_python_regular_expressions_do(pattern: str, codes: list[str]) -> None:
    compiled, reference = CodePattern(pattern), re.compile(pattern)
    for code in codes:
        assert compiled.fullmatch(code) == (reference.fullmatch(code) is not None), (pattern, code)
        assert compiled.prefix_match(code) == (reference.match(code) is not None), (pattern, code)


def test_bundled_code_syntaxes_are_accepted() -> None:
    for version in ("isf2024", "isf2025"):
        for text in (DEFINITIONS / version).glob("*.isf"):
            for pattern in re.findall(r'syntax "([^"]*)"', text.read_text(encoding="utf-8")):
                CodePattern(pattern)
    with pytest.raises(PatternError):
        CodePattern("a{99999999999}")


# ---------------------------------------------------------------------- 13: lines


@pytest.mark.parametrize("separator", ["\x0c", "\x85", "\u2028", "\u2029", "\x0b", "\x1c", "\r"])
def test_line_separators_inside_a_line_do_not_move_the_line_shown(tmp_path: Path, separator: str) -> None:
    text = f'version T 2025 "t" # one{separator}two{separator}three\ncodesystem C\nepisode {{ x: code C }}\nderive y: int = nope\n'
    checked = check_paths([str(_write(tmp_path / "d", text))])
    [diag] = [d for d in checked.diags.items if d.code == "ISF201"]
    assert (diag.span.line, diag.span.col) == (4, 17)
    shown = render_text([diag], checked.sources).splitlines()
    assert shown[1] == "    4 | derive y: int = nope" and shown[2].index("^") == len("    4 | derive y: int = ")


def test_data_file_rows_are_numbered_as_the_renderer_shows_them(tmp_path: Path) -> None:
    defs = _write(tmp_path / "d", 'version T 2025 "t"\ncodesystem C\ntable t of C -> int from "t.tsv"\n')
    (defs / "t.tsv").write_text("key\tvalue\nA\t1\x0c2\x85\nB\tx\n", encoding="utf-8")
    checked = check_paths([str(defs)])
    assert [(d.code, d.span.line) for d in checked.diags.errors] == [("ISF215", 2), ("ISF215", 3)]
    assert render_text(checked.diags.errors[1:], checked.sources).splitlines()[1] == "    3 | B x"
