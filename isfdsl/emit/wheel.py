"""Emit: a generated package as an installable wheel (``isf build --wheel DIR``), written with the standard
library only — the package's files under its name, and the ``.dist-info`` metadata of the wheel
format (``METADATA``, ``WHEEL``, ``RECORD``) — the same bytes on every build of the same package:
entries in path order, one fixed timestamp and mode, no build tool involved.

The project is named like the package; its version is the definitions' year and the first twelve
hexadecimal digits of the SHA-256 over their sources as a local version label (``2025.0+1a2b3c4d5e6f``),
so that two builds of different sources never share a version.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile
from pathlib import Path

from isfdsl import __version__
from isfdsl.files import replace_file

#: Every entry's timestamp: the earliest a zip file can hold (what reproducible builds use).
EPOCH = (1980, 1, 1, 0, 0, 0)
#: The versions of Python the generated code runs on (as isfdsl itself).
REQUIRES_PYTHON = ">=3.11"


def version(year: int, source_hash: str) -> str:
    """The wheel's version: ``YEAR.0+HASH12`` from the year and a ``sha256:…`` source hash."""
    digest = source_hash.partition(":")[2] or source_hash
    return f"{year}.0+{digest[:12]}"


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def wheel_files(package: Path, name: str, release: str, summary: str) -> dict[str, bytes]:
    """The entries of the wheel of the package folder ``package`` (importable as ``name``), by path:
    its files (``__pycache__`` left out) and the metadata."""
    files: dict[str, bytes] = {}
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"):
        files[f"{name}/{path.relative_to(package).as_posix()}"] = path.read_bytes()
    info = f"{name}-{release}.dist-info"
    files[f"{info}/METADATA"] = (
        "Metadata-Version: 2.1\n"
        f"Name: {name}\n"
        f"Version: {release}\n"
        f"Summary: {summary}\n"
        f"Requires-Python: {REQUIRES_PYTHON}\n"
        "Provides-Extra: arrow\n"
        "Requires-Dist: pyarrow>=14; extra == \"arrow\"\n"
    ).encode()
    files[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\n"
        f"Generator: isfdsl {__version__}\n"
        "Root-Is-Purelib: true\n"
        "Tag: py3-none-any\n"
    ).encode()
    record = io.StringIO()
    for entry, data in files.items():
        record.write(f"{entry},{_record_hash(data)},{len(data)}\n")
    record.write(f"{info}/RECORD,,\n")
    files[f"{info}/RECORD"] = record.getvalue().encode("utf-8")
    return files


def write_wheel(package: Path, dist: Path, year: int, source_hash: str, summary: str) -> Path:
    """Write the wheel of the package folder ``package`` (named by the folder) into the folder
    ``dist``; returns its path, ``NAME-VERSION-py3-none-any.whl``."""
    name = package.name
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"{package}: a wheel needs a package folder named like a Python module, not {name!r}")
    release = version(year, source_hash)
    files = wheel_files(package, name, release, summary)
    dist.mkdir(parents=True, exist_ok=True)
    target = dist / f"{name}-{release}-py3-none-any.whl"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            entry = zipfile.ZipInfo(path, date_time=EPOCH)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    if not target.is_file() or target.read_bytes() != buffer.getvalue():
        replace_file(target, buffer.getvalue())
    return target
