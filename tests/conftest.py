"""Shared test set-up: Hypothesis profiles (``ci``: derandomised and bounded; ``deep``: long local runs), and
an analysis cache folder of its own for every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = ROOT / "definitions"


@pytest.fixture(autouse=True)
def _analysis_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test its own, empty cache folder for the analysis (``ISF_CACHE_DIR``, inherited by the
    processes a test starts): nothing is written into the real ``~/.cache``, no test sees another's."""
    folder = tmp_path_factory.mktemp("isf-cache")
    monkeypatch.setenv("ISF_CACHE_DIR", str(folder))
    return folder


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that read the official NordDRG tables (``-m "not official"`` leaves them out)."""
    for item in items:
        if item.path.name == "test_norddrg.py":
            item.add_marker(pytest.mark.official)


def pytest_terminal_summary(terminalreporter: object) -> None:
    """Report how many rows of each decision table the generated episodes reached, and how many of the
    rows the analysis proves can match the rows' witness episodes reached."""
    from .properties import COVERAGE, ROWS, WITNESS_SECONDS

    if ROWS:
        write = terminalreporter.write_line  # type: ignore[attr-defined]
        write("rows reached by their witness episodes (compiled == interpreter), of the rows that can match:")
        for (label, table), (reached, reachable) in sorted(ROWS.items()):
            write(f"  {label} / {table}: {len(reached)} of {len(reachable)} ({100 * len(reached) / max(len(reachable), 1):.0f} %)")
        for label, seconds in sorted(WITNESS_SECONDS.items()):
            write(f"  witness search for {label}: {seconds:.1f} s")
    if COVERAGE:
        write = terminalreporter.write_line  # type: ignore[attr-defined]
        write("rows reached by generated episodes (property tests):")
        for (label, table), (hit, total) in sorted(COVERAGE.items()):
            rows = len(hit - {"fallback"})
            write(f"  {label} / {table}: {rows} of {total} rows ({100 * rows / max(total, 1):.0f} %)"
                  f"{', and the fallback' if 'fallback' in hit else ''}")
