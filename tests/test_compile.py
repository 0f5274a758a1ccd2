"""The compiled grouper against the reference interpreter (differential), and the properties of the
generated package: deterministic bytes, standard library only, mypy --strict and ruff clean, hostile
text reproduced exactly, and `generated/` in step with `definitions/`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import get_args

import pytest
from hypothesis import HealthCheck, given, settings

from isfdsl import interpret
from isfdsl.commands.pipeline import build, check_paths, load_package
from isfdsl.emit.expr import LOOP_WRITERS, WRITERS
from isfdsl.interpret import OPERATIONS
from isfdsl.ir.model import LoopKind, Op, Program, lower
from isfdsl.runtime import convert
from isfdsl.runtime.contract import RESULT_FIELDS
from isfdsl.testing import episodes

from .conftest import DEFINITIONS, ROOT

VERSIONS = sorted(p.name for p in DEFINITIONS.iterdir() if p.is_dir())


def _program(version: str) -> Program:
    checked = check_paths([str(DEFINITIONS / version)])
    assert checked.ok, checked.diags.sorted()
    return lower(checked.models[0])


def _compile(tmp_path: Path, name: str, text: str) -> tuple[Program, ModuleType]:
    """A program written as ``text`` into a folder ``name``: checked (no errors), lowered, built into a
    package of that name and imported."""
    src = tmp_path / name
    src.mkdir()
    (src / f"{name}.isf").write_text(text, encoding="utf-8")
    checked = check_paths([str(src)])
    assert checked.ok, checked.diags.sorted()
    built = build(str(src), tmp_path / "gen" / name)
    assert built.package is not None
    return lower(checked.models[0]), load_package(built.package)


@pytest.fixture(scope="module", params=VERSIONS)
def compiled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Program, ModuleType]:
    version = request.param
    out = tmp_path_factory.mktemp("gen") / version
    built = build(str(DEFINITIONS / version), out)
    assert built.package is not None
    return _program(version), load_package(out)


def test_every_operation_has_an_emitter() -> None:
    assert set(WRITERS) == set(OPERATIONS) == set(get_args(Op))
    assert set(LOOP_WRITERS) == set(get_args(LoopKind))


def _same(program: Program, package: ModuleType, episode: dict[str, object]) -> None:
    for table in package.TABLES:
        want = interpret.group(program, episode, table)
        got = package.group(episode, table=table)
        assert (got.group, got.rule, got.return_code, got.points, got.refund, got.problems) == (
            want.group, want.rule, want.return_code, want.points, want.refund, want.problems), episode
        assert got.name == want.name and got.system == want.system


def test_compiled_equals_interpreter(compiled: tuple[Program, ModuleType]) -> None:
    program, package = compiled

    @given(episodes(program))
    def check(episode: dict[str, object]) -> None:
        _same(program, package, episode)

    check()


def test_explanation_names_the_codes(compiled: tuple[Program, ModuleType]) -> None:
    _, package = compiled
    res = package.group({"sex": "2", "age": "78", "care_level": "3", "pdx": "H35.3", "procedures": "CKD05",
                         "drugs": "S01LA05"}, explain=True)
    assert res.group == "802U"
    assert ("pdx in amd_macular_oedema", ("H353",)) in res.explanation
    assert ("procedures has intravitreal_injection", ("CKD05",)) in res.explanation


def test_group_many_keeps_every_row(compiled: tuple[Program, ModuleType]) -> None:
    _, package = compiled
    rows: list[object] = [{"pdx": "H25.1"}, None, 17, {"age": object()}, {"age": "x" * 10_000}, {}]
    results = list(package.group_many(rows))
    assert len(results) == len(rows)
    assert results[1].problems and "mapping" in results[1].problems[0][2]
    assert all(r.group for r in results)


def test_generated_is_in_step_with_definitions(tmp_path: Path) -> None:
    """CI's rebuild-and-diff: `generated/<version>` is exactly what `isf build` writes now."""
    for version in VERSIONS:
        out = tmp_path / version
        build(str(DEFINITIONS / version), out)
        committed = ROOT / "generated" / version
        want = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
        have = {p.name: p.read_bytes() for p in sorted(committed.iterdir()) if p.is_file()} if committed.exists() else {}
        assert have == want, f"generated/{version} is stale: run `isf build definitions/{version} -o generated/{version}`"


def test_build_is_byte_identical_under_any_hash_seed(tmp_path: Path) -> None:
    outs = []
    for seed in ("0", "1", "12345"):
        out = tmp_path / seed / "isf2025"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-m", "isfdsl", "build", str(DEFINITIONS / "isf2025"), "-o", str(out)],
                       check=True, env=env, capture_output=True)
        outs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outs[0] == outs[1] == outs[2]
    assert all(b"DO NOT EDIT" in text.splitlines()[0] for name, text in outs[0].items() if name.endswith(".py"))


def test_generated_code_is_typed_and_clean(tmp_path: Path) -> None:
    out = tmp_path / "isf2025"
    build(str(DEFINITIONS / "isf2025"), out)
    mypy = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(out)],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert mypy.returncode == 0, mypy.stdout
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(out)],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert ruff.returncode == 0, ruff.stdout


def test_the_compiler_itself_is_typed_and_clean() -> None:
    """mypy --strict over the compiler's own source, ruff over the source, tests and benchmarks."""
    mypy = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "isfdsl"],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert mypy.returncode == 0, mypy.stdout
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "isfdsl", "tests", "bench"],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert ruff.returncode == 0, ruff.stdout


HOSTILE = '''version ISF 2030 "label \\"\\"\\" with triple quotes\\nand a newline" valid 2030-01-01 .. 2030-12-31
codesystem ICD10 "ICD-10 \\"\\"\\"); __import__('os').system('echo pwned') #" syntax "[A-Z][0-9]{2}[0-9A-Z]{0,4}" ignore "."
enum Sex "Kjønn" { male = "1\\"\\"\\"" "Mann\\n# not a comment" female = "æøå ÆØÅ ü" "Kvinne" }
episode { sex: Sex "x\\"\\"\\"\\n__import__('os')" pdx: code ICD10 "Hoved\\u2028tilstand\\r\\n" }
codelist odd of ICD10 "\\"\\"\\"; raise SystemExit" { A00 "a\\nb" }
catalogue DRG "d" {
  1A "\\"\\"\\" + __import__('os').getcwd() + \\"\\"\\"" points 1
  2B "line one\\nline two\\t tab ☃ \\u0000 nul" points 2
}
decision drg "t\\"\\"\\"\\n" for DRG policy first fallback 2B rc 8 {
  rule R1 "title \\"\\"\\"\\n__import__('os')" when pdx in odd and sex == male -> 1A
}
'''


def test_hostile_text_compiles_and_is_reproduced(tmp_path: Path) -> None:
    program, pkg = _compile(tmp_path, "hostile", HOSTILE)
    out = tmp_path / "gen" / "hostile"
    assert pkg.VERSION_LABEL == program.label and '"""' in pkg.VERSION_LABEL and "\n" in pkg.VERSION_LABEL
    assert pkg.ATTRIBUTES == {a.name: a.label for a in program.attributes}
    names = {g.code: g.name for g in program.catalogues["DRG"].values()}
    assert pkg.group({"sex": '1"""', "pdx": "A00"}).name == names["1A"]
    assert pkg.group({"sex": "æøå ÆØÅ ü", "pdx": "A00"}).name == names["2B"]
    assert pkg.group({"sex": "1", "pdx": "A00"}).problems == (("sex", "1", "not a value of Sex"),)
    for f in out.glob("*.py"):
        compile(f.read_text(encoding="utf-8"), str(f), "exec")


def test_stdlib_only_venv_imports_and_runs_python_m(tmp_path: Path) -> None:
    """The package works in a virtual environment that has nothing but the standard library."""
    out = tmp_path / "site" / "isf2025"
    build(str(DEFINITIONS / "isf2025"), out)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(out.parent), "PYTHONNOUSERSITE": "1"}
    probe = ("import sys, isf2025; "
             "assert not any(m.split('.')[0] in {'isfdsl', 'lark', 'jinja2', 'click', 'rich'} for m in sys.modules); "
             "r = isf2025.group({'pdx': 'H25.1', 'procedures': 'CJE20', 'age': 70, 'care_level': '2'}); print(r.group, r.rule)")
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["39O", "102D001"]
    csv_in = tmp_path / "in.csv"
    csv_in.write_text("id,age,pdx,procedures,care_level\n1,70,H25.1,CJE20,2\n2,x,,,\n3,50,M16,,3,extra\n", encoding="utf-8")
    done = subprocess.run([str(python), "-m", "isf2025", str(csv_in)], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "id,age,pdx,procedures,care_level," + ",".join(RESULT_FIELDS)
    assert len(lines) == 4
    assert ",39O," in lines[1] and "age='x': not an integer" in lines[2] and "line 4: 6 fields where the header has 5" in lines[3]
    # A semicolon file (as Norwegian spreadsheets save it) is read by its header; a file whose header
    # holds no attribute is still grouped row for row, with a warning.
    csv_in.write_text('id;note;age;pdx;procedures;care_level\n1;"a; b";70;H25.1;CJE20;2\n', encoding="utf-8-sig")  # as Excel saves
    done = subprocess.run([str(python), "-m", "isf2025", str(csv_in)], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr  # the columns that pass through are noted once, not per row
    assert done.stderr == "note: 2 column(s) are no attribute and pass through unused: id, note\n", done.stderr
    assert done.stdout.splitlines()[0].startswith("id,note,age,") and done.stdout.splitlines()[1].startswith('1,a; b,70,H25.1,CJE20,2,DRG,39O,')
    csv_in.write_text("a,b\n1,2\n", encoding="utf-8")
    done = subprocess.run([str(python), "-m", "isf2025", str(csv_in)], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 2
    assert "no column of the header ['a', 'b'] (separated by ',') is an attribute" in done.stderr


def test_python_m_ends_quietly_when_the_reader_stops(tmp_path: Path) -> None:
    """`python -m isf2025 big.csv | head -1`: the closed pipe ends the run with exit status 1 (as Python's
    documentation advises; `seq 1 1000000 | head -1` ends seq by SIGPIPE) and no traceback."""
    out = tmp_path / "site" / "isf2025"
    build(str(DEFINITIONS / "isf2025"), out)
    csv_in = tmp_path / "big.csv"
    csv_in.write_text("id,age,pdx,procedures,care_level\n" + "".join(f"{n},70,H25.1,CJE20,2\n" for n in range(5000)),
                      encoding="utf-8")  # about 500 kB of output: more than a pipe holds
    env = {**os.environ, "PYTHONPATH": str(out.parent)}
    proc = subprocess.Popen([sys.executable, "-m", "isf2025", str(csv_in)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"id,age,")
    proc.stdout.close()  # as `head -1` does after its line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1, err
    # no BrokenPipeError traceback, no "Exception ignored": only the note on the id column
    assert err == "note: 1 column(s) are no attribute and pass through unused: id\n", err
    # Read to the end, the same command succeeds.
    done = subprocess.run([sys.executable, "-m", "isf2025", str(csv_in)], capture_output=True, env=env, check=False)
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 5001, done.stderr


KITCHEN = ROOT / "tests" / "programs" / "kitchen"


def test_kitchen_sink_every_feature_equals_the_interpreter(tmp_path: Path) -> None:
    """A program using every operator, built-in and condition kind: the compiled case (every attribute
    and derived feature) and result equal the interpreter's for generated episodes."""
    checked = check_paths([str(KITCHEN)])
    assert checked.ok, checked.diags.errors
    program = lower(checked.models[0])
    built = build(str(KITCHEN), tmp_path / "kitchen")
    pkg = load_package(built.package)  # type: ignore[arg-type]
    model = sys.modules[pkg.__name__ + "._model"]
    names = [a.name for a in program.attributes] + [d.name for d in program.derivations]

    @given(episodes(program))
    def check(ep: dict[str, object]) -> None:
        values, _problems = interpret.normalize(program, ep)
        ev = interpret.Evaluator(program, values)
        want = {**values, **ev.features}
        got = dict(zip(names, model.evaluate(ep, [])))
        for name in names:
            w, g = want[name], got[name]
            if isinstance(w, list):
                assert list(g) == w, (name, ep)  # type: ignore[call-overload]
            else:
                assert g == w and type(g) is type(w), (name, ep, g, w)
        _same(program, pkg, ep)

    check()


def test_memo_keeps_texts_and_non_texts_apart() -> None:
    """Equal keys that convert differently (False == 0 == 0.0) are never served from one another's
    memory; only texts (and tuples of texts) are remembered; unhashable input is converted each time."""
    calls: list[object] = []

    def kinds(raw: object) -> tuple[str, ...]:
        calls.append(raw)
        return tuple(type(x).__name__ for x in raw)  # type: ignore[attr-defined]

    m = convert.memo(kinds)
    assert m(["0"]) == ("str",)
    assert m([0]) == ("int",) and m([False]) == ("bool",) and m([0.0]) == ("float",)
    assert m(["0"]) == ("str",) and m(("0",)) == ("str",)  # remembered (list or tuple alike)
    assert m([("A", "B")]) == ("tuple",) and m([("A", "B")]) == ("tuple",)
    assert m([["A"]]) == ("list",) and m([["A"]]) == ("list",)
    assert calls == [["0"], [0], [False], [0.0], [("A", "B")], [["A"]], [["A"]]]
    failing = convert.memo(lambda raw: convert.to_int(raw, 0, 9, "int 0..9"))
    for _ in range(2):  # the error is remembered too, and raised again
        with pytest.raises(ValueError, match="0..9"):
            failing("12")


def test_list_memo_converts_as_to_list_does() -> None:
    """A list converted by look-ups of known items (memo_list) equals the item-by-item conversion,
    error for error, whatever was converted before; only lists of texts are remembered."""
    from hypothesis import strategies as st

    def fresh() -> tuple[convert.Converter[tuple[int, ...]], dict[object, object]]:
        item_known: dict[object, int | None] = {}
        item = convert.memo(lambda raw: convert.to_int(raw, 0, 50, "int 0..50"), item_known)
        known: dict[object, tuple[int, ...] | None] = {}
        return convert.memo_list(item, item_known, known, limit=8), known  # type: ignore[return-value]

    texts = st.sampled_from(["1", "2", "30", "", " ", "99", "x", "7"])
    items = st.one_of(texts, st.none(), st.integers(0, 60), st.booleans())
    plain = convert.memo(lambda raw: convert.to_int(raw, 0, 50, "int 0..50"))

    def expected(raw: object) -> object:
        try:
            return None if convert.blank(raw) else tuple(convert.to_list(raw, plain))
        except ValueError:
            return ValueError

    def got(m: convert.Converter[tuple[int, ...]], raw: object) -> object:
        try:
            return m(raw)
        except ValueError:
            return ValueError

    @settings(max_examples=300)
    @given(st.lists(st.one_of(st.lists(items, max_size=4), st.lists(items, max_size=4).map(tuple), texts), max_size=12))
    def check(raws: list[object]) -> None:
        m, known = fresh()
        for raw in raws * 2:
            assert got(m, raw) == expected(raw), raw
        assert all(k is None or isinstance(k, str) or all(x is None or isinstance(x, str) for x in k)  # type: ignore[attr-defined]
                   for k in known)
        assert len(known) <= 8

    check()


def test_feature_stages_compute_every_feature_after_its_inputs() -> None:
    from isfdsl.emit.python import stages
    from isfdsl.ir import model as ir

    for version in VERSIONS:
        program = _program(version)
        done = {a.name for a in program.attributes}
        seen = []
        for support, members in stages(program):
            for d in members:
                reads = {r.name for r in ir.refs(d.expr) if r.scope in ("attr", "feature")}
                assert reads <= done, (version, d.name, reads - done)
                attrs = {r.name for r in ir.refs(d.expr) if r.scope == "attr"}
                assert attrs <= set(support), (d.name, attrs, support)
                done.add(d.name)
                seen.append(d.name)
        assert sorted(seen) == sorted(d.name for d in program.derivations)


def test_remembered_answers_equal_fresh_ones(compiled: tuple[Program, ModuleType]) -> None:
    """Grouping the same episodes again (every memory warm) and in another order gives what the
    interpreter gives: nothing remembered leaks from one episode into another."""
    program, package = compiled
    from hypothesis import strategies as st

    @settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(episodes(program), min_size=2, max_size=8))
    def check(batch: list[dict[str, object]]) -> None:
        for episode in [*batch, *reversed(batch), *batch]:
            _same(program, package, episode)

    check()


def test_select_takes_unhashable_values(compiled: tuple[Program, ModuleType]) -> None:
    """A case holding a list (not the tuple the evaluation makes) is still dispatched, not remembered."""
    _, package = compiled
    model = sys.modules[f"{package.__name__}._model"]
    episode = {"age": "70", "care_level": "3", "pdx": "H35.3", "procedures": ["CKD05"], "drugs": ["S01LA05"]}
    case = model.evaluate(episode, [])
    table = model.TABLE_drg
    listed = tuple(list(v) if isinstance(v, tuple) and v and isinstance(v[0], str) and len(v[0]) > 1 else v for v in case)
    assert any(isinstance(v, list) for v in listed)
    assert table.select(listed) == table.select(case) >= 0


def test_combination_memories_stay_bounded(compiled: tuple[Program, ModuleType]) -> None:
    """A memory keyed by combinations empties itself when full instead of growing without end, and
    the answers stay those of the interpreter."""
    cache: dict[int, int] = {}
    for k in range(10):
        convert.remember(cache, k, k, limit=4)
        assert len(cache) <= 4 and cache[k] == k
    program, package = compiled
    model = sys.modules[f"{package.__name__}._model"]
    stage_memories = [v for name, v in vars(model).items() if name.startswith("K_")]
    assert stage_memories, "the bundled definitions have remembered feature stages"
    rng = __import__("random").Random(5)
    codes = [f"H{n:02d}{d}" for n in range(40) for d in "0123"]
    for _ in range(600):
        episode = {"age": str(rng.randint(0, 99)), "care_level": "3", "pdx": rng.choice(codes),
                   "procedures": rng.sample(["CKD05", "CJE20", "CHC10", "NFB20", "QXGX20"], rng.randint(0, 3)),
                   "drugs": rng.sample(["S01LA05", "L01FG01", "J01CA04", "B05BA01"], rng.randint(0, 3))}
        _same(program, package, episode)
    assert any(stage_memories), "grouping filled the stage memories"
    assert all(len(m) <= convert.CACHE_LIMIT for m in stage_memories)


COLLIDING = '''version ISF 2030 "stage names" valid 2030-01-01 .. 2030-12-31
codesystem ICD10 "ICD-10" syntax "[A-Z][0-9]{2}[0-9A-Z]{0,4}"
episode { a_b: code ICD10 "1"  c: code ICD10 "2"  a: code ICD10 "3"  b_c: code ICD10 "4" }
codelist early of ICD10 "early" { A00-A09 }
derive x1: bool = a_b in early and c in early
derive x2: bool = a in early and not (b_c in early)
catalogue DRG "d" { 1A "one" points 1  2B "two" points 2  3C "three" points 3 }
decision drg "t" for DRG policy first fallback 3C {
  rule R1 when x1 -> 1A
  rule R2 when x2 -> 2B
}
'''


def test_feature_stages_of_like_named_attributes_stay_apart(tmp_path: Path) -> None:
    """Supports {a_b, c} and {a, b_c} would both be named a_b_c: each stage keeps its own memory."""
    _, pkg = _compile(tmp_path, "colliding", COLLIDING)
    assert pkg.group({"a_b": "A01", "c": "A02", "a": "A01", "b_c": "A02"}).group == "1A"
    assert pkg.group({"a_b": "Z99", "c": "Z99", "a": "A01", "b_c": "Z99"}).group == "2B"
    assert pkg.group({"a_b": "A01", "c": "Z99", "a": "A01", "b_c": "A02"}).group == "3C"


WHOLE = '''version ISF 2030 "whole" valid 2030-01-01 .. 2030-12-31
codesystem ICD10 "ICD-10" syntax "[A-Z][0-9]{2}[0-9A-Z]{0,4}"
codesystem NCSP "NCSP" syntax "[A-Z]{3,4}[0-9]{2}"
episode { pdx: code ICD10 "pdx"  procedures: list code NCSP "procedures"  age: int 0..125 "age" }
codelist early of ICD10 "early" { A00-A09 }
codelist big of NCSP "big" { NFB20 NFB30 }
derive early_pdx: bool = pdx in early
derive operated: bool = any(p in procedures where p in big)
derive both: bool = pdx in early and operated
catalogue DRG "d" { 1A "one" points 1  2B "two" points 2  3C "three" points 3  9Z "rest" points 0 }
decision drg "t" for DRG policy first fallback 9Z {
  rule R1 when both and age >= 18 -> 1A
  rule R2 when operated -> 2B
  rule R3 when early_pdx and age < 18 -> 3C
}
'''


def test_features_remembered_together_when_one_stage_reads_everything(tmp_path: Path) -> None:
    """`both` reads pdx and procedures, every attribute a feature reads: all features are remembered
    together per (pdx, procedures) in `derive`, and the answers stay the interpreter's."""
    program, pkg = _compile(tmp_path, "whole", WHOLE)
    model = sys.modules[f"{pkg.__name__}._model"]
    assert callable(model.derive) and model.DERIVED == {}
    # the table looks the three features up as one, keyed like DERIVED, its mask kept in the cell
    # DERIVED holds with them (probed on a key not seen before only); age on its own, on every case
    fixed_joint, fixed_single = model.TABLE_drg.fixed
    assert [len(probe.members) for _, _, probe in fixed_joint] == [3] and not fixed_single
    assert not model.TABLE_drg.joint and len(model.TABLE_drg.probes) == 1
    rng = __import__("random").Random(3)
    for _ in range(300):
        episode = {"pdx": rng.choice(["A01", "A05", "B20", "Z99", "", "bad"]), "age": str(rng.randint(0, 40)),
                   "procedures": rng.sample(["NFB20", "NFB30", "QXGX00"], rng.randint(0, 2))}
        _same(program, pkg, episode)
    assert 0 < len(model.DERIVED) <= 6 * 10  # per (pdx, procedures): 6 x 10 at most, never per age
    bundled = (ROOT / "generated" / "isf2025" / "_model.py").read_text(encoding="utf-8")
    assert "def derive(" not in bundled  # no stage there reads every attribute: stage by stage


def test_together_probes_select_what_single_probes_select(compiled: tuple[Program, ModuleType]) -> None:
    """Features that read the same attributes are looked up as one in the decision table; the row
    chosen is the one the feature-by-feature dispatch chooses."""
    program, package = compiled
    model = sys.modules[f"{package.__name__}._model"]
    tables = [v for v in vars(model).values() if type(v).__name__ == "DecisionTable"]
    assert any(t.joint for t in tables), "the bundled tables have features probed together"
    for t in tables:
        single = type(t)(t.name, t.system, t.policy, t.rows, t.fallback, t.fallback_rc, t.post, t.features, t.codesets,
                         t.otherwise)
        assert not single.joint

        @settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
        @given(episodes(program))
        def check(episode: dict[str, object]) -> None:
            case = model.evaluate(episode, [])
            assert t.select(case) == single.select(case), episode  # noqa: B023

        check()


def test_invalid_values_are_not_known_and_reported_every_time(compiled: tuple[Program, ModuleType]) -> None:
    """Only valid texts enter the dictionaries `evaluate` looks values up in: an invalid value is
    reported as a problem each time it is met, and an equal non-text value is converted on its own."""
    _, package = compiled
    model = sys.modules[f"{package.__name__}._model"]
    for _ in range(3):
        r = package.group({"age": "abc", "pdx": "H35.3", "procedures": ["CKD05", 7]})
        assert [p[:2] for p in r.problems] == [("age", "abc"), ("procedures", "7")]  # 7 is no NCSP code
    assert "abc" not in model.V_age and ("CKD05", 7) not in model.V_procedures
    assert package.group({"age": "70"}).problems == () and model.V_age["70"] == 70
    assert package.group({"age": 70.5}).problems != ()  # not served from the text "70"


ITEM_NAMES = '''version ISF 2030 "item names" valid 2030-01-01 .. 2030-12-31
codesystem ICD10 "ICD-10" syntax "[A-Z][0-9]{2}[0-9A-Z]{0,4}"
episode { dx: list code ICD10 "list"  dx_item: int 0..9 "single" }
codelist early of ICD10 "early" { A00-A09 }
catalogue DRG "d" { 1A "one" points 1  2B "two" points 2  9Z "rest" points 0 }
decision drg "t" for DRG policy first fallback 9Z {
  rule R1 when dx has early -> 1A
  rule R2 when dx_item >= 5 -> 2B
}
'''


def test_list_items_memory_apart_from_an_attribute_named_like_it(tmp_path: Path) -> None:
    """A list attribute `dx` keeps its items' memory apart from an attribute called `dx_item`."""
    program, pkg = _compile(tmp_path, "items", ITEM_NAMES)
    for episode in ({"dx": ["A01"], "dx_item": "3"}, {"dx": ["Z99"], "dx_item": "7"}, {"dx": "A02 B20", "dx_item": ""}):
        _same(program, pkg, episode)
    assert [pkg.group(e).group for e in ({"dx": ["A01"]}, {"dx_item": "8"}, {"dx": ["B20"], "dx_item": "2"})] == ["1A", "2B", "9Z"]
    assert _module_names_defined_twice(tmp_path / "gen" / "items" / "_model.py") == []


def _module_names_defined_twice(path: Path) -> list[str]:
    import ast
    from collections import Counter

    names: Counter[str] = Counter()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] += 1
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names[node.name] += 1
    return [n for n, k in names.items() if k > 1]


@pytest.mark.parametrize("version", VERSIONS)
def test_generated_module_defines_each_name_once(version: str) -> None:
    for module in ("_model.py", "_pathway.py"):
        path = ROOT / "generated" / version / module
        if path.exists():
            assert _module_names_defined_twice(path) == [], (version, module)


def test_pathway_model_shares_the_episode_models_lists_and_catalogues(compiled: tuple[Program, ModuleType]) -> None:
    """What the pathway tables share with the episode model is imported from it, not written twice."""
    _, package = compiled
    model = sys.modules[f"{package.__name__}._model"]
    pathway = sys.modules[f"{package.__name__}._pathway"]
    shared = [name for name in vars(pathway) if name.startswith(("CL_", "CAT_", "ENUM_")) and name in vars(model)]
    assert shared and all(getattr(pathway, name) is getattr(model, name) for name in shared)
    assert pathway.CATALOGUES["DRG"] is model.CAT_DRG


def test_the_default_table_is_what_the_package_says(compiled: tuple[Program, ModuleType]) -> None:
    """The contract constants are true: ``DEFAULT_TABLE`` is the table ``group`` uses (the program's
    entry table, not simply the first of ``TABLES``), and the comment above ``TABLES`` claims no more."""
    program, package = compiled
    assert package.DEFAULT_TABLE == program.entry.name and package.DEFAULT_TABLE in package.TABLES
    assert package._GROUPER.default == package.DEFAULT_TABLE
    episode = {"sex": "2", "age": "78", "care_level": "3", "pdx": "H35.3", "procedures": ["CKD05"], "drugs": ["S01LA05"]}
    assert package.group(episode) == package.group(episode, table=package.DEFAULT_TABLE)
    if hasattr(package, "PATHWAY_TABLES"):
        assert package._PATHWAY_GROUPER.default == package.PATHWAY_DEFAULT_TABLE in package.PATHWAY_TABLES
    init = (Path(package.__file__)).read_text(encoding="utf-8")
    assert "the first is the default" not in init
    assert isinstance(package.TABLES, tuple) and isinstance(getattr(package, "PATHWAY_TABLES", ()), tuple)
    # the contract the docstring sends an embedder to is where it says (not a file outside the repository)
    section = re.search(r"isfdsl's README, \"([^\"]+)\"", package.__doc__ or "")
    assert section and f"\n## {section[1]}\n" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_generated_tables_are_read_one_entry_per_line(compiled: tuple[Program, ModuleType]) -> None:
    """What an embedder reads: rows, groups, features, code lists, converters and payment with keyword
    arguments, dictionaries and conditional chains one entry per line (in no module a line over 160
    characters but a group's or a row's own), the package's tables of attributes and files too."""
    _, package = compiled
    folder = Path(package.__file__).parent
    for path in sorted(folder.glob("*.py")):
        if path.name != "_runtime.py":
            long = [line for line in path.read_text(encoding="utf-8").splitlines() if len(line) > 160
                    and not line.lstrip().startswith(("'", "id=", "C(", "#"))]
            assert not long, (path.name, long[:3])
    model = (folder / "_model.py").read_text(encoding="utf-8")
    assert "Row(\n" in model and "            id=" in model and "conditions=(" in model
    assert "GroupRecord(code=" in model and "Feature(position=" in model
    assert "PAYMENT: Final = Payment(\n    unit_price=" in model
    assert "\n        else " in model  # the MDC chain, one branch per line
    assert "= CodeSet(\n    name=" in model and "CodeSet(\n    '" not in model
    assert "R.to_int(x, lo=0, hi=125, bounds=" in model and "R.to_code(x, ignore='.'" in model
    init = (folder / "__init__.py").read_text(encoding="utf-8")
    assert "ATTRIBUTES: Final[dict[str, str]] = {\n    'sex': " in init and "SOURCE_FILES: Final = (\n    '" in init


@pytest.mark.parametrize(("source", "tables"), [(ROOT / "definitions" / "isf2024", False), (KITCHEN, True)])
def test_the_model_has_no_empty_section(tmp_path: Path, source: Path, tables: bool) -> None:
    """A package without code tables has no "code tables" heading over nothing (isf2024's `_model.py` had one);
    a package with them keeps it; no section heading of `_model.py` is followed by another one."""
    built = build(str(source), tmp_path / "pkg")
    assert built.package is not None, built.checked.diags.errors
    text = (tmp_path / "pkg" / "_model.py").read_text(encoding="utf-8")
    headings = re.findall(r"^# -{20,} (.+)$", text, flags=re.MULTILINE)
    assert ("code tables" in headings) is tables, headings
    assert not re.search(r"^# -{20,} .*\n\s*# -{20,} ", text, flags=re.MULTILINE), headings
