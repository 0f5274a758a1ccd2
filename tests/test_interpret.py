"""The reference interpreter: hand-checked cases on the bundled definitions, the built-in table
complete, and totality (any input gives exactly one result, never an exception)."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isfdsl.check.builtins import BUILTINS
from isfdsl.commands.pipeline import check_paths
from isfdsl.interpret import OPERATIONS, group, trace
from isfdsl.ir.model import Program, lower

from .conftest import DEFINITIONS, ROOT


@pytest.fixture(scope="module")
def isf2025() -> Program:
    result = check_paths([str(DEFINITIONS / "isf2025")])
    assert result.ok
    return lower(result.models[0])


AMD = {"sex": "2", "age": "78", "care_level": "3", "pdx": "H35.3", "procedures": ["CKD05"]}


@pytest.mark.parametrize(("episode", "expected"), [
    ({**AMD, "drugs": ["L01FG01"]}, ("802U", "102D010", "0")),
    ({**AMD, "drugs": ["S01LA05"]}, ("802U", "102D010", "0")),
    (AMD, ("802P", "102D011", "0")),  # an injection with no anti-VEGF drug recorded
    ({"sex": "1", "age": "70", "care_level": "2", "pdx": "H25.1", "procedures": "CJE20"}, ("39O", "102D001", "0")),
    ({"sex": "1", "age": "70", "care_level": "3", "pdx": "M16"}, ("901A", "190D003", "0")),
    ({"sex": "1", "age": "70", "care_level": "1", "pdx": "M16"}, ("M08", "408D999", "0")),
    ({"sex": "1", "age": "70", "care_level": "1", "pdx": "W19"}, ("470", "000D003", "8")),
    ({"age": "40"}, ("470", "000D001", "1")),
    ({"pdx": "M16", "age": "not a number"}, ("470", "000D002", "6")),
])
def test_hand_checked_episodes(isf2025: Program, episode: dict[str, object], expected: tuple[str, str, str]) -> None:
    r = group(isf2025, episode)
    assert (r.group, r.rule, r.return_code) == expected


def test_refund_is_points_times_unit_price_times_share(isf2025: Program) -> None:
    r = group(isf2025, {**AMD, "drugs": ["L01FG01"], "sector": "S"})
    assert r.points == Decimal("0.1") and r.refund == Decimal("0.1") * 56155 * Decimal("0.30")


def test_invalid_values_are_reported_not_raised(isf2025: Program) -> None:
    r = group(isf2025, {"sex": "7", "age": "-3", "pdx": "M16"})
    assert {p[0] for p in r.problems} == {"sex", "age"}


def test_trace_names_the_codes_that_satisfied_the_winning_row(isf2025: Program) -> None:
    _, steps = trace(isf2025, {**AMD, "drugs": ["L01FG01"]})
    winner = next(s for s in steps if s.matched)
    assert dict(winner.witnesses)["procedures has intravitreal_injection"] == ("CKD05",)
    # The entry table is `stg` (otherwise `drg`): its rows are tried first, then the DRG rows.
    assert steps[0].failed == "self_administered"
    assert any(s.failed == "pdx is absent" for s in steps)


def test_every_builtin_and_operator_has_an_evaluation() -> None:
    assert set(BUILTINS) <= set(OPERATIONS)


RAW = st.one_of(st.none(), st.text(max_size=6), st.integers(-5, 5000), st.sampled_from(["1", "2", "3", "9", "S", "P"]),
                st.lists(st.sampled_from(["CKD05", "CJE20", "L01FG01", "H35.3", "", "x"]), max_size=4))


@given(st.dictionaries(st.sampled_from(["sex", "age", "care_level", "sector", "contact", "los", "pdx", "sdx",
                                        "procedures", "drugs", "unknown"]), RAW))
def test_any_episode_gets_exactly_one_catalogued_group(isf2025: Program, episode: dict[str, object]) -> None:
    r, steps = trace(isf2025, episode)
    assert r.group in isf2025.catalogues["DRG"]
    assert sum(1 for s in steps if s.matched and not s.rule.startswith("P")) <= 1


def test_explain_command_prints_the_trace(tmp_path: Path) -> None:
    ep = tmp_path / "ep.json"
    ep.write_text(json.dumps({**AMD, "drugs": ["L01FG01"]}))
    proc = subprocess.run([sys.executable, "-m", "isfdsl", "explain", str(DEFINITIONS / "isf2025"), str(ep)],
                          capture_output=True, text=True, cwd=ROOT, check=False, env={"COLUMNS": "200", "PATH": ""})
    assert proc.returncode == 0, proc.stderr
    assert "802U" in proc.stdout and "102D010" in proc.stdout and "CKD05" in proc.stdout
    assert "pdx is absent" in proc.stdout
    # The trace passes from the entry table `stg` to `drg`: each row says which table it is in.
    assert "decision tables `stg` → `drg`" in proc.stdout
    rows = [line.split("│")[1:3] for line in proc.stdout.splitlines() if "S-DS03" in line or "000D001" in line]
    assert [[cell.strip() for cell in r] for r in rows] == [["stg", "S-DS03"], ["drg", "000D001"]]


def test_the_oracle_converts_input_on_its_own(isf2025: Program, monkeypatch: pytest.MonkeyPatch) -> None:
    """The interpreter is the oracle for the runtime's converters: breaking every function of the runtime
    but the contract and the code syntax matcher must not change what it reads from an episode, nor
    its result. The functions' code is replaced, so a name imported from the runtime breaks as well."""
    import inspect

    from isfdsl import interpret
    from isfdsl.runtime import codes, convert, data, grouper, index, io, operations, pathway

    episode = {"sex": " 2 ", "age": "78", "care_level": 3, "pdx": "h35.3", "sdx": "E11.9; I10",
               "procedures": ["CKD05", "", None], "drugs": "S01LA05", "los": "x" * 300, "sector": "S",
               "ages": 10 ** 40}

    def oracle() -> tuple[object, ...]:
        return (interpret.normalize(isf2025, episode), interpret.trace(isf2025, episode),
                interpret.group_pathway(isf2025, {"id": "p"}, [episode, {"pdx": "M16"}]))

    want = oracle()

    def broken(*args: object, **kwargs: object) -> object:
        raise AssertionError("the oracle called the runtime")

    count = 0
    for module in (codes, convert, data, grouper, index, io, operations, pathway):
        for owner in (module, *(c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == module.__name__)):
            for f in vars(owner).values():
                f = f.__func__ if isinstance(f, (staticmethod, classmethod)) else f
                if inspect.isfunction(f) and f.__module__ == module.__name__ and not f.__code__.co_freevars:
                    monkeypatch.setattr(f, "__code__", broken.__code__)
                    count += 1
    assert count > 50 and convert.shown.__code__ is broken.__code__
    assert oracle() == want
    values, problems = interpret.normalize(isf2025, episode)
    assert values["pdx"] == "H353" and values["age"] == 78
    assert problems == [("los", "x" * 100 + "… <300 characters>", "not an integer"),
                        ("ages", "<an integer of more than 28 digits>", "not an attribute, ignored; did you mean age?")]


def test_the_oracle_imports_from_the_runtime_only_the_contract_and_the_code_syntax() -> None:
    """The static half of the test above: no import of ``isfdsl.interpret`` reaches another runtime module."""
    import ast

    tree = ast.parse((ROOT / "isfdsl" / "interpret.py").read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names} \
        | {f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    runtime = {n for n in names if n.startswith("isfdsl.runtime")}
    allowed = ("isfdsl.runtime.contract.", "isfdsl.runtime.codesyntax.")
    assert runtime and all(n.startswith(allowed) for n in runtime), runtime


def test_classify_means_the_if_chain_over_its_lists(isf2025: Program, tmp_path: Path) -> None:
    """The bundled MDC derivation, written with `classify`, lowers to exactly the IR of the 24-branch
    `if … else if …` chain it replaced (so the grouping cannot have changed)."""
    folder = tmp_path / "isf2025"
    folder.mkdir()
    for path in (DEFINITIONS / "isf2025").glob("*.isf"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    source = (folder / "icd10_mdc.isf").read_text(encoding="utf-8")
    start, end = source.index("derive mdc:"), source.index("derive dgcat")
    assert "classify pdx by" in source[start:end]
    mdcs = [f"{n:02d}" for n in range(1, 24)] + ["25"]
    chain = " else ".join(f'if pdx in mdc{m} then "{m}"' for m in mdcs) + " else absent"
    (folder / "icd10_mdc.isf").write_text(source[:start] + f"derive mdc: text = {chain}\n" + source[end:], encoding="utf-8")
    checked = check_paths([str(folder)])
    assert checked.ok, checked.diags.errors
    old = {d.name: d.expr for d in lower(checked.models[0]).derivations}
    new = {d.name: d.expr for d in isf2025.derivations}
    assert old["mdc"] == new["mdc"] and old == new
