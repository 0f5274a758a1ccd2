"""Emit: several versions as one standalone package — each version a complete grouper package of its
own (:mod:`isfdsl.emit.python`) as a subpackage ``vYEAR``, and a small dispatcher on top whose
``group`` picks the version whose validity contains the episode's date attribute (the attribute the
versions name with ``valid … by ATTR``); ``isfdsl/templates/versions/`` holds its templates."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import jinja2

from isfdsl import __version__
from isfdsl.emit.expr import prose, py
from isfdsl.emit.python import HEADER, Sources, render
from isfdsl.ir import model as ir
from isfdsl.resources import template_text


class VersionsError(ValueError):
    """The versions cannot share one package (no date attribute, different ones, overlapping validity)."""


def plan(programs: Sequence[ir.Program]) -> list[tuple[str, ir.Program]]:
    """The versions oldest first, each with its subpackage name; raises :class:`VersionsError` when
    they cannot be told apart by date."""
    if len(programs) < 2:
        raise VersionsError("name at least two version folders to build one package of several versions")
    dated = {p.dated_by for p in programs}
    undated = [p.label for p in programs if p.dated_by is None]
    if undated:
        raise VersionsError(f"{', '.join(undated)}: no date attribute picks the version; declare it in the "
                            "version header, e.g. `valid 2025-01-01 .. 2025-12-31 by admitted` (an episode attribute of type date)")
    if len(dated) > 1:
        raise VersionsError(f"the versions pick by different attributes ({', '.join(sorted(d or '' for d in dated))}); use one")
    order = sorted(programs, key=lambda p: (p.valid_from or "", p.year))
    for p in order:
        if p.valid_from is None:
            raise VersionsError(f"{p.label}: no validity (`valid FROM .. TO`), so no date can pick it")
    for a, b in pairwise(order):
        end = a.valid_to or "9999-12-31"
        if b.valid_from is not None and b.valid_from <= end:
            raise VersionsError(f"the validity of {a.label} ({a.valid_from} to {a.valid_to or '…'}) overlaps that of "
                                f"{b.label} (from {b.valid_from}): a date must pick one version")
    names: list[str] = []
    for p in order:
        name = f"v{p.year}"
        while name in names:
            name += "b"
        names.append(name)
    return list(zip(names, order, strict=True))


def render_versions(versions: Sequence[tuple[ir.Program, Sources]], package: str) -> dict[str, str]:
    """The files of the package (relative path -> text): ``vYEAR/…`` per version and the dispatcher."""
    sources = {id(p): s for p, s in versions}
    planned = plan([p for p, _ in versions])
    out: dict[str, str] = {}
    for name, program in planned:
        for path, text in render(program, sources[id(program)], f"{package}.{name}").items():
            out[f"{name}/{path}"] = text
    env = jinja2.Environment(autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["py"] = py
    roots = " and ".join(sources[id(p)].name for _, p in planned)
    newest = planned[-1][1]
    context = {
        "header": HEADER.format(version=__version__, root=prose(roots)), "package": package,
        "system": newest.system, "year": newest.year, "years": f"{planned[0][1].year}–{newest.year}",
        "label": " | ".join(p.label for _, p in planned), "dated_by": newest.dated_by,
        "valid_from": planned[0][1].valid_from, "valid_to": newest.valid_to, "compiler": f"isfdsl {__version__}",
        "newest": planned[-1][0], "subpackages": ", ".join(f"``{n}``" for n, _ in planned),
        "versions": [{"package": n, "label": p.label, "valid_from": p.valid_from, "valid_to": p.valid_to} for n, p in planned],
    }
    for name in ("__init__.py", "__main__.py"):
        out[name] = env.from_string(template_text(f"versions/{name}.j2")).render(**context)
    out["integrations.py"] = env.from_string(template_text("python/integrations.py.j2")).render(**context)
    out["py.typed"] = ""
    return out


def write_versions(files: dict[str, str], out: Path) -> list[Path]:
    """Write the package into ``out``: each subpackage, then the dispatcher."""
    from isfdsl.emit.python import write_package

    folders: dict[str, dict[str, str]] = {}
    for path, text in files.items():
        folder, _, name = path.rpartition("/")
        folders.setdefault(folder, {})[name] = text
    written: list[Path] = []
    for folder, texts in sorted(folders.items(), key=lambda item: item[0] == ""):
        written += write_package(texts, out / folder if folder else out)
    return written
