"""`isf docs -o DIR` into a folder that holds other things: only what a build can prove it wrote (its
manifest, unchanged since) is ever removed, and only folders it created (issue 18, item 3)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from isfdsl.commands.cli import main
from isfdsl.emit.docs import MANIFEST, write_docs

from .conftest import DEFINITIONS


def test_docs_into_a_git_work_tree_leave_its_folders_and_files(tmp_path: Path) -> None:
    out = tmp_path / "site"
    for empty in (".git/refs/heads", ".git/refs/tags", "notes/empty", "diagrams"):
        (out / empty).mkdir(parents=True)
    (out / ".git" / "packed-refs").write_text("# pack-refs with: peeled\n", encoding="utf-8")
    (out / "diagrams" / "mine.svg").write_text("<svg/>", encoding="utf-8")
    (out / "index.md").write_text("my own notes\n", encoding="utf-8")
    for _ in range(2):
        r = CliRunner().invoke(main, ["docs", str(DEFINITIONS / "isf2025"), "-o", str(out), "--no-diagrams", "--no-progress"])
        assert r.exit_code == 0, r.output
    for empty in (".git/refs/heads", ".git/refs/tags", "notes/empty"):
        assert (out / empty).is_dir(), empty
    assert (out / "diagrams" / "mine.svg").read_text(encoding="utf-8") == "<svg/>"
    assert (out / ".git" / "packed-refs").is_file()
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert "index.html" in manifest["files"] and "diagrams/mine.svg" not in manifest["files"]
    assert not list(out.rglob("*.part"))


def test_a_rebuild_removes_only_unchanged_files_it_wrote_and_folders_it_made(tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "keep").mkdir()
    write_docs({"a.html": "A", "old/b.html": "B", "old/c.html": "C", "keep/d.html": "D"}, out)
    (out / "old" / "c.html").write_text("edited by hand", encoding="utf-8")
    (out / "old" / "mine.txt").write_text("mine", encoding="utf-8")
    write_docs({"a.html": "A2"}, out)
    assert (out / "a.html").read_text(encoding="utf-8") == "A2"
    assert not (out / "old" / "b.html").exists() and not (out / "keep" / "d.html").exists()
    assert (out / "old" / "c.html").read_text(encoding="utf-8") == "edited by hand"
    assert (out / "old" / "mine.txt").is_file()
    assert (out / "keep").is_dir()  # there before the first build: never removed
    (out / "old" / "c.html").unlink()
    (out / "old" / "mine.txt").unlink()
    write_docs({"a.html": "A2"}, out)
    assert not (out / "old").exists()  # made by a build, now empty: removed
    assert (out / "keep").is_dir()


def test_paths_outside_the_site_are_refused(tmp_path: Path) -> None:
    for bad in ("../x.html", "/etc/x.html", MANIFEST):
        try:
            write_docs({bad: "x"}, tmp_path / "site")
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was written")


def test_written_files_have_the_usual_permissions(tmp_path: Path) -> None:
    """A page is written through a private temporary file but ends with the bits any new file gets
    (0666 less the umask), so a web server can read the site; an existing file keeps its own."""
    import os

    umask = os.umask(0o022)
    try:
        out = tmp_path / "site"
        write_docs({"a.html": "A", "b.html": "B"}, out)
        assert (out / "a.html").stat().st_mode & 0o777 == 0o644
        (out / "b.html").chmod(0o600)
        write_docs({"a.html": "A", "b.html": "B2"}, out)
        assert (out / "b.html").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(umask)
