"""The official NordDRG years of ``../shared/norddrg``, each imported from its JSON once per test session
into a temporary folder and shared by the tests that need it (tests/test_norddrg.py,
test_import_tables.py, test_compare.py). Nothing imported is kept."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from isfdsl.importers import norddrg

from .conftest import ROOT

SHARED = ROOT.parent / "shared" / "norddrg"
ZIPS = {2015: "DefinitionData_NOR_2015_PR1cN.zip", 2016: "DefinitionData_NOR_2016_PR1cN.zip",
        2017: "DefinitionData_NOR_2017_PR1aN.zip"}


@dataclass(frozen=True, slots=True)
class JsonYear:
    """An official year: its tables (rows of trimmed text by column) and the folder of its import."""

    data: dict[str, list[dict[str, str]]]
    folder: Path


_IMPORTED: dict[int, JsonYear] = {}


def json_year(year: int, tmp: Path) -> JsonYear:
    """The year's tables and its JSON import (into ``tmp`` the first time it is asked for)."""
    if year not in _IMPORTED:
        folder = tmp / f"nd{year}"
        norddrg.write(SHARED / ZIPS[year], folder)
        data, _ = norddrg.load(SHARED / ZIPS[year])
        _IMPORTED[year] = JsonYear(data, folder)
    return _IMPORTED[year]
