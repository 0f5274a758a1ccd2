"""A wheel built from the repository works on its own: grammar inside, `isf check` outside the repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True)
    [whl] = out.glob("isfdsl-*.whl")
    return whl


def test_wheel_ships_grammar_and_package_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "isfdsl/grammar/isf.lark" in names
    assert any(n.endswith("entry_points.txt") for n in names)


def test_wheel_in_a_fresh_venv_checks_a_folder_outside_the_repo(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, system_site_packages=False)
    py = env_dir / "bin" / "python"
    # The wheel's dependencies come from the package index (or the pip cache); the wheel itself is local.
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True, timeout=600)
    defs = tmp_path / "elsewhere"
    shutil.copytree(ROOT / "definitions" / "isf2025", defs)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    proc = subprocess.run([str(env_dir / "bin" / "isf"), "check", str(defs)], capture_output=True, text=True,
                          cwd=tmp_path, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    (defs / "bad.isf").write_text("derive x: int = \n")
    proc = subprocess.run([str(env_dir / "bin" / "isf"), "check", str(defs)], capture_output=True, text=True,
                          cwd=tmp_path, env=env, check=False)
    assert proc.returncode == 1 and "bad.isf:1:" in proc.stderr and "ISF103" in proc.stderr
