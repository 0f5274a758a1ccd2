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
    """The interpreter is the oracle for the runtime's converters: breaking every one of them (and the
    pathway gathering) must not change what it reads from an episode."""
    from isfdsl import interpret
    from isfdsl.runtime import convert, pathway

    episode = {"sex": " 2 ", "age": "78", "care_level": 3, "pdx": "h35.3", "sdx": "E11.9; I10",
               "procedures": ["CKD05", "", None], "drugs": "S01LA05", "los": "x", "sector": "S"}
    want = interpret.normalize(isf2025, episode)

    def broken(*args: object, **kwargs: object) -> object:
        raise AssertionError("the oracle called the runtime")

    for name in ("blank", "to_int", "to_decimal", "to_bool", "to_enum", "to_code", "to_pair", "to_text", "to_list",
                 "memo", "convert"):
        monkeypatch.setattr(convert, name, broken)
    for name in ("gather", "financed", "settle"):
        monkeypatch.setattr(pathway, name, broken)
    assert interpret.normalize(isf2025, episode) == want
    assert want[0]["pdx"] == "H353" and want[0]["age"] == 78 and want[1] == [("los", "x", "not an integer")]
