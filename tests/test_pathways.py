"""Pathways (TFG): the language construct, the 2024/2025 definitions' pathway rules, compiled ==
interpreter on generated pathways, financing (pathway points replace the members'), the CLI."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner
from hypothesis import given

from isfdsl import interpret
from isfdsl.commands.cli import main
from isfdsl.commands.pipeline import build, check_paths, load_package
from isfdsl.ir.model import Program
from isfdsl.runtime.contract import PathwayResult
from isfdsl.testing import load, pathways

from .conftest import DEFINITIONS, ROOT

EXAMPLES = {json.loads(x)["id"]: json.loads(x) for x in (ROOT / "examples" / "isf2025-pathways.jsonl").read_text().splitlines()}


@pytest.fixture(scope="module", params=["isf2024", "isf2025"])
def version(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Program, ModuleType]:
    out = tmp_path_factory.mktemp("gen") / request.param
    built = build(str(DEFINITIONS / request.param), out)
    assert built.package is not None
    return request.param, load(str(DEFINITIONS / request.param)), load_package(out)


def _both(v: tuple[str, Program, ModuleType], key: str) -> tuple[object, PathwayResult]:
    _, program, pkg = v
    ex = EXAMPLES[key]
    return pkg.group_pathway(ex["pathway"], ex["episodes"]), interpret.group_pathway(program, ex["pathway"], ex["episodes"])


def test_knee_pathway_is_financed_from_2025(version: tuple[str, Program, ModuleType]) -> None:
    name = version[0]
    res, oracle = _both(version, "P1-knee")
    assert res.result.group == oracle.result.group == "T01B"  # type: ignore[attr-defined]
    member_points = sum((m.points for m in res.members), Decimal(0))  # type: ignore[attr-defined]
    if name == "isf2025":
        assert res.financed and res.points == Decimal("2.8") != member_points  # type: ignore[attr-defined]
    else:
        assert not res.financed and res.points == member_points  # type: ignore[attr-defined]
    assert res.financed == oracle.financed and res.points == oracle.points and res.refund == oracle.refund  # type: ignore[attr-defined]


def test_hip_pathway_is_financed_both_years(version: tuple[str, Program, ModuleType]) -> None:
    res, _ = _both(version, "P2-hip")
    assert res.result.group == "T01A" and res.financed and res.points == Decimal("2.9")  # type: ignore[attr-defined]
    assert [m.group for m in res.members] == ["901A", "209A"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("key,tfg", [("P3-pregnancy", "T02"), ("P4-radiotherapy", "T03"), ("P5-amd", "T04")])
def test_other_pathways_are_grouped_without_financing(version: tuple[str, Program, ModuleType], key: str, tfg: str) -> None:
    res, oracle = _both(version, key)
    assert res.result.group == oracle.result.group == tfg  # type: ignore[attr-defined]
    assert not res.financed and res.points == sum((m.points for m in res.members), Decimal(0))  # type: ignore[attr-defined]


def test_amd_pathway_members_follow_the_bevacizumab_change(version: tuple[str, Program, ModuleType]) -> None:
    res, _ = _both(version, "P5-amd")
    want = ["802U", "802U"] if version[0] == "isf2025" else ["802U", "802P"]
    assert [m.group for m in res.members] == want  # type: ignore[attr-defined]


def test_compiled_pathways_equal_the_interpreter(version: tuple[str, Program, ModuleType]) -> None:
    _, program, pkg = version

    @given(pathways(program))
    def check(item: tuple[dict[str, object], list[dict[str, object]]]) -> None:
        record, members = item
        res = pkg.group_pathway(record, members)
        oracle = interpret.group_pathway(program, record, members)
        assert (res.result.group, res.result.rule, res.result.return_code) == (
            oracle.result.group, oracle.result.rule, oracle.result.return_code)
        assert [m.group for m in res.members] == [m.group for m in oracle.members]
        assert (res.financed, res.points, res.refund) == (oracle.financed, oracle.points, oracle.refund)
        assert res.result.group in program.catalogues["TFG"]

    check()


def test_group_pathways_cli_keeps_every_line(tmp_path: Path) -> None:
    out = tmp_path / "p.csv"
    src = ROOT / "examples" / "isf2025-pathways.jsonl"
    r = CliRunner().invoke(main, ["group-pathways", str(DEFINITIONS / "isf2025"), str(src), "-o", str(out)])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == len(src.read_text().splitlines())
    by_id = {row["id"]: row for row in rows}
    assert by_id["P1-knee"]["group"] == "T01B" and by_id["P1-knee"]["financed"] == "yes"
    assert "row 7" in by_id["P7-broken"]["problems"] and by_id["P7-broken"]["group"] == "TNN"


def test_group_pathways_reports_every_problem_of_a_line(tmp_path: Path) -> None:
    """Problems of member episodes, a line that is not UTF-8, a line without `episodes`: each row says
    what was wrong with it, and there is one row per line (a byte-order mark before the first is no
    problem)."""
    src, out = tmp_path / "p.jsonl", tmp_path / "p.csv"
    src.write_bytes(b'\xef\xbb\xbf{"id": "a", "pathway": {"kind": "knee"}, "episodes": [{"pdx": "M17"}, {"age": "old"}]}\n'
                    b'{"id": "\xf8"}\n'
                    b'{"id": "c", "pathway": {"kind": "knee"}}\n')
    r = CliRunner().invoke(main, ["group-pathways", str(DEFINITIONS / "isf2025"), str(src), "-o", str(out), "--no-progress"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [row["row"] for row in rows] == ["1", "2", "3"]
    assert rows[0]["problems"] == "episode 2: age='old': not an integer" and rows[0]["members"] == "2"
    assert rows[1]["problems"].startswith("row 2: not UTF-8 text (invalid start byte at byte 8)")
    assert rows[2]["problems"] == "row 3: no field `episodes` (the member episodes): grouped without members"


SCHEMA = '''version T 2030 "t"
codesystem NCSP
enum Kind { knee = "K" }
episode { procedures: list code NCSP  age: int }
catalogue TFG { T1 "t" points 1  TN "n" points 0 }
'''


@pytest.mark.parametrize("extra,code,message", [
    ('decision t for TFG over pathway policy first fallback TN { rule R1 when kind == knee -> T1 }', "ISF201",
     "no `pathway"),
    (('pathway { kind: Kind  n: list int = members count }\n'
     'decision t for TFG over pathway policy first fallback TN { rule R1 when kind == knee -> T1 }'), "ISF203", "members count"),
    (('pathway { kind: Kind  p: list code NCSP = members proc }\n'
     'decision t for TFG over pathway policy first fallback TN { rule R1 when kind == knee -> T1 }'), "ISF201", "proc"),
    (('pathway { kind: Kind }\n'
     'decision t for TFG over pathway policy first fallback TN { rule R1 when age > 3 -> T1 }'), "ISF201", "age"),
])
def test_pathway_declarations_are_checked(tmp_path: Path, extra: str, code: str, message: str) -> None:
    f = tmp_path / "t.isf"
    f.write_text(SCHEMA + extra + "\n", encoding="utf-8")
    checked = check_paths([str(f)])
    errors = [d for d in checked.diags.errors if d.code == code]
    assert errors and message in errors[0].message, checked.diags.errors
