"""A generated grouper where the data is (issue 19, item 6): an installable wheel (`isf build --wheel`,
standard library only, the same bytes on every build), and the one-call helpers of its `integrations`
module — Spark (`mapInArrow`, the package shipped to the executors), DuckDB and polars — each compared
with `isf group` row for row. Spark runs `local[2]` over 100,000 rows in one session for the module."""

from __future__ import annotations

import importlib
import importlib.util
import os
import random
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from isfdsl.commands.cli import main
from isfdsl.commands.pipeline import load_package
from isfdsl.testing import load, random_episodes

from .conftest import DEFINITIONS

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

DEFS = DEFINITIONS / "isf2025"
RESULTS = ("system", "group", "name", "rule", "return_code", "points", "refund", "problems")
ROWS = 100_000


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """isf2025 built into `isf2025/` with its wheel in `dist/`."""
    root = tmp_path_factory.mktemp("built")
    result = CliRunner().invoke(main, ["build", str(DEFS), "-o", str(root / "isf2025"), "--wheel", str(root / "dist")])
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture(scope="module")
def package(built: Path) -> Iterator[Any]:
    """The built package, imported under its own name (as a user imports it; Spark pickles by that name)."""
    sys.path.insert(0, str(built))
    for name in [m for m in sys.modules if m == "isf2025" or m.startswith("isf2025.")]:
        del sys.modules[name]
    try:
        yield load_package(built / "isf2025", "isf2025")
    finally:
        sys.path.remove(str(built))
        for name in [m for m in sys.modules if m == "isf2025" or m.startswith("isf2025.")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def episodes(built: Path) -> Path:
    """100,000 episodes as typed Parquet (lists as lists), some values invalid, and `isf group`'s output of them."""
    program = load(str(DEFS))
    sample = random_episodes(program, 3000, 19)
    rng = random.Random(19)
    rows = []
    for k in range(ROWS):
        e = dict(sample[rng.randrange(len(sample))])
        if k % 97 == 0:
            e["age"] = -4
        if k % 89 == 0:
            e["sex"] = "7"
        rows.append({"id": f"E{k:06d}", **{a.name: _text(e.get(a.name)) for a in program.attributes}})
    path = built / "episodes.parquet"
    list_type = pa.list_(pa.string())
    schema = pa.schema([("id", pa.string()), *((a.name, list_type if a.type.kind == "list" else pa.string())
                                               for a in program.attributes)])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    result = CliRunner().invoke(main, ["group", str(built / "isf2025"), str(path), "-o", str(built / "grouped.parquet"),
                                       "--no-progress"])
    assert result.exit_code == 0, result.output
    return path


def _text(value: object) -> object:
    if isinstance(value, list):
        return [str(v) for v in value]
    return None if value is None else str(value)


def _expected(built: Path) -> list[tuple[object, ...]]:
    """`isf group`'s rows: id and the results (no problems as None, as the Arrow helpers give it)."""
    table = pq.read_table(built / "grouped.parquet", columns=["id", *RESULTS])
    return [(*row[:-1], row[-1] or None) for row in zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True)]


def _rows(table: Any) -> list[tuple[object, ...]]:
    return list(zip(*(table.column(c).to_pylist() for c in ["id", *RESULTS]), strict=True))


# ---------------------------------------------------------------------- the wheel


def test_the_wheel_is_the_same_on_every_build_and_installs_alone(built: Path, tmp_path: Path, package: Any) -> None:
    [whl] = (built / "dist").glob("*.whl")
    assert whl.name == f"isf2025-2025.0+{package.SOURCE_HASH.removeprefix('sha256:')[:12]}-py3-none-any.whl"
    again = tmp_path / "again"
    env = {**os.environ, "PYTHONHASHSEED": "7"}
    subprocess.run([sys.executable, "-m", "isfdsl", "build", str(DEFS), "-o", str(again / "isf2025"), "--wheel", str(again)],
                   check=True, capture_output=True, env=env)
    assert (again / whl.name).read_bytes() == whl.read_bytes()
    names = zipfile.ZipFile(whl).namelist()
    assert {"isf2025/py.typed", "isf2025/integrations.py", "isf2025/_runtime.py"} <= set(names)
    info = whl.name.removesuffix("-py3-none-any.whl") + ".dist-info"
    metadata = zipfile.ZipFile(whl).read(f"{info}/METADATA").decode()
    assert "Name: isf2025\n" in metadata and f"Version: 2025.0+{package.SOURCE_HASH[7:19]}\n" in metadata
    # installed alone: no isfdsl, no site-packages (-S), nothing but the standard library
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(target), str(whl)],
                   check=True, capture_output=True)
    code = ("import sys, isf2025, isf2025.integrations as i; assert 'isfdsl' not in sys.modules; "
            "print(isf2025.group({'sex': '1', 'age': 45, 'care_level': '3', 'pdx': 'M16'}).group, i.PACKAGE)")
    done = subprocess.run([sys.executable, "-S", "-c", code], check=False, capture_output=True, text=True, cwd=tmp_path,
                          env={"PYTHONPATH": str(target), "PATH": os.environ.get("PATH", "")})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["901A", "isf2025"]


def _integrations(package: Any) -> Any:
    """The package's `integrations` module (the package is the one the fixture built, not an installed one)."""
    return importlib.import_module(f"{package.__name__}.integrations")


def test_the_package_zip_imports_and_is_the_same_every_time(package: Any, tmp_path: Path) -> None:
    integrations = _integrations(package)

    first = integrations.package_zip(tmp_path / "a")
    second = integrations.package_zip(tmp_path / "b")
    assert first.name == second.name and first.read_bytes() == second.read_bytes()
    code = "import isf2025; print(isf2025.__file__, isf2025.group({'pdx': 'O80', 'sex': '2', 'care_level': '1'}).group)"
    done = subprocess.run([sys.executable, "-S", "-c", code], check=False, capture_output=True, text=True, cwd=tmp_path,
                          env={"PYTHONPATH": str(first), "PATH": os.environ.get("PATH", "")})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(str(first / "isf2025" / "__init__.py"))


# ---------------------------------------------------------------------- DuckDB and polars


def test_duckdb_relation_and_table(package: Any, episodes: Path, built: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    group_duckdb = _integrations(package).group_duckdb

    expected = _expected(built)[:20_000]
    con = duckdb.connect()
    con.execute(f"CREATE TABLE episodes AS SELECT * FROM read_parquet('{episodes}') LIMIT 20000")
    table = group_duckdb("episodes", keep=["id"], connection=con, into="results")
    assert _rows(table.order("id").to_arrow_table() if hasattr(table, "to_arrow_table") else table.order("id").arrow()) == expected
    streamed = group_duckdb(con.table("episodes"), keep=["id"], connection=con)
    got = streamed.to_arrow_table() if hasattr(streamed, "to_arrow_table") else streamed.arrow()
    assert _rows(got) == expected
    assert str(dict(zip(got.schema.names, got.schema.types, strict=True))["refund"]) == "decimal128(38, 2)"


def test_polars_dataframe_and_lazyframe(package: Any, episodes: Path, built: Path) -> None:
    pl = pytest.importorskip("polars")
    group_polars = _integrations(package).group_polars

    expected = _expected(built)[:20_000]
    frame = pl.read_parquet(episodes).head(20_000)
    out = group_polars(frame, keep=["id"])
    assert isinstance(out, pl.DataFrame) and out.columns == ["id", *RESULTS]
    assert out.schema["points"] == pl.Decimal(38, 3)
    assert _rows(out.to_arrow()) == expected
    lazy = group_polars(pl.scan_parquet(episodes).head(300), keep=["id"])
    assert _rows(lazy.to_arrow()) == expected[:300]


# ---------------------------------------------------------------------- Spark


def _spark_or_skip() -> Any:
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed (pip install '.[test]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("java is not installed (Spark needs a Java runtime: apt-get install openjdk-17-jre-headless)")
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    return (SparkSession.builder.master("local[2]").appName("isfdsl-tests")
            .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
            .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
            .getOrCreate())


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One Spark session (local[2]) for every test that needs one."""
    session = _spark_or_skip()
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


def test_spark_map_in_arrow_equals_isf_group_row_for_row(spark: Any, package: Any, episodes: Path, built: Path) -> None:
    group_spark, spark_schema = _integrations(package).group_spark, _integrations(package).spark_schema

    df = spark.read.parquet(str(episodes))
    out = group_spark(df, keep=["id"])
    assert out.schema == spark_schema(df, ["id"])
    assert [f.dataType.simpleString() for f in out.schema.fields[-3:-1]] == ["decimal(38,3)", "decimal(38,2)"]
    table = out.orderBy("id").toArrow() if hasattr(out, "toArrow") else pa.Table.from_pandas(out.orderBy("id").toPandas())
    got = _rows(table)
    expected = _expected(built)
    assert len(got) == len(expected) == ROWS
    assert got == expected
    assert sum(1 for row in got if row[-1]) >= ROWS // 60  # the invalid ages and sexes are named
    assert isinstance(got[0][6], Decimal)
    # the executors imported the package from the zip group_spark shipped (the driver has it on sys.path only)
    where = spark.sparkContext.parallelize([0], 1).map(lambda _: __import__("isf2025").__file__).collect()
    assert len(where) == 1 and where[0].endswith(f"/{package.integrations.package_zip().name}/isf2025/__init__.py"), where
