"""isfdsl/files.py: an output file or folder is replaced whole or not at all — an interrupted write
leaves the previous output whole and no temporary file or folder; permission bits are kept (or the
usual ones for a new output); a symbolic link's target is replaced and the link kept; a folder that
holds anything isfdsl did not write is refused, never emptied."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from isfdsl import files
from isfdsl.files import FolderReplacement, ForeignFolder, Replacement, replace_file


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_new_file_gets_the_usual_bits_an_existing_one_keeps_its_own(tmp_path: Path, umask_022: None) -> None:
    f = tmp_path / "a.txt"
    replace_file(f, b"one")
    assert f.read_bytes() == b"one" and f.stat().st_mode & 0o7777 == 0o644
    f.chmod(0o640)
    replace_file(f, b"two")
    assert f.read_bytes() == b"two" and f.stat().st_mode & 0o7777 == 0o640
    with Replacement(f) as out:
        out.text().write("three\r\n")
    assert f.read_bytes() == b"three\r\n" and f.stat().st_mode & 0o7777 == 0o640
    assert names(tmp_path) == ["a.txt"]


@pytest.mark.parametrize("stop", [KeyboardInterrupt, OSError, ValueError])
def test_an_interrupted_write_leaves_the_old_file_whole_and_no_temporary_file(tmp_path: Path, stop: type[BaseException]) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(b"old")
    with pytest.raises(stop), Replacement(f) as out:
        out.write(b"half of the new")
        raise stop()
    assert f.read_bytes() == b"old" and names(tmp_path) == ["a.txt"]


def test_a_failed_rename_leaves_the_old_file_whole_and_no_temporary_file(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(b"old")

    def full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", full)
    with pytest.raises(OSError, match="No space"):
        replace_file(f, b"new")
    assert f.read_bytes() == b"old" and names(tmp_path) == ["a.txt"]


def test_a_symlinked_file_is_written_through_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_bytes(b"old")
    real.chmod(0o600)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    replace_file(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new" and real.stat().st_mode & 0o7777 == 0o600
    replace_file(link, b"mine", follow_symlinks=False)  # the link itself is replaced, its target left alone
    assert not link.is_symlink() and link.read_bytes() == b"mine" and real.read_bytes() == b"new"
    assert names(tmp_path) == ["link.txt", "real.txt"]


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(IsADirectoryError):
        replace_file(tmp_path / "out", b"x")
    assert names(tmp_path) == ["out"] and names(tmp_path / "out") == []


# ---------------------------------------------------------------------- folders


def ours(entry: Path) -> bool:
    return entry.suffix == ".isf" and entry.is_file()


def fill(folder: Path, **texts: str) -> None:
    for name, text in texts.items():
        (folder / f"{name}.isf").write_text(text, encoding="utf-8")


def test_a_folder_is_replaced_whole(tmp_path: Path, umask_022: None) -> None:
    out = tmp_path / "out"
    with FolderReplacement(out, ours) as new:
        assert new.temporary is not None and new.temporary.parent == tmp_path
        fill(new.temporary, a="1", b="2")
    assert names(out) == ["a.isf", "b.isf"] and out.stat().st_mode & 0o7777 == 0o755
    out.chmod(0o750)
    with FolderReplacement(out, ours) as new:
        assert new.temporary is not None
        fill(new.temporary, a="3")
    assert names(out) == ["a.isf"] and (out / "a.isf").read_text(encoding="utf-8") == "3"
    assert out.stat().st_mode & 0o7777 == 0o750 and names(tmp_path) == ["out"]


def test_an_interrupted_folder_write_leaves_the_old_folder_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    fill(out, a="old")
    with pytest.raises(KeyboardInterrupt), FolderReplacement(out, ours) as new:
        assert new.temporary is not None
        fill(new.temporary, a="new", b="new")
        raise KeyboardInterrupt
    assert names(out) == ["a.isf"] and (out / "a.isf").read_text(encoding="utf-8") == "old"
    assert names(tmp_path) == ["out"]


def test_a_failed_swap_leaves_the_old_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    fill(out, a="old")
    real = Path.rename

    def rename(self: Path, target: Path) -> Path:
        if self.name.startswith(".out.new-"):
            raise OSError(5, "Input/output error")
        return real(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError, match="Input/output"), FolderReplacement(out, ours) as new:
        assert new.temporary is not None
        fill(new.temporary, a="new")
    assert names(out) == ["a.isf"] and (out / "a.isf").read_text(encoding="utf-8") == "old"
    assert names(tmp_path) == ["out"]


def test_a_folder_holding_what_isfdsl_did_not_write_is_refused_not_emptied(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    fill(out, a="old")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "sub").mkdir()
    with pytest.raises(ForeignFolder) as refused:
        FolderReplacement(out, ours)
    assert refused.value.names == ["notes.txt", "sub"]
    assert names(out) == ["a.isf", "notes.txt", "sub"] and names(tmp_path) == ["out"]
    (out / "notes.txt").unlink()
    (out / "sub").rmdir()
    # a file of someone else's that appears while the new folder is written: refused at the swap
    with pytest.raises(ForeignFolder), FolderReplacement(out, ours) as new:
        assert new.temporary is not None
        fill(new.temporary, a="new")
        (out / "notes.txt").write_text("mine", encoding="utf-8")
    assert names(out) == ["a.isf", "notes.txt"] and (out / "a.isf").read_text(encoding="utf-8") == "old"
    assert names(tmp_path) == ["out"]


def test_an_output_folder_that_is_a_file_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("a file", encoding="utf-8")
    with pytest.raises(NotADirectoryError):
        FolderReplacement(out, ours)
    assert out.read_text(encoding="utf-8") == "a file" and names(tmp_path) == ["out"]


def test_a_symlinked_folder_is_replaced_through_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    fill(real, a="old")
    link = tmp_path / "link"
    link.symlink_to(real)
    with FolderReplacement(link, ours) as new:
        assert new.temporary is not None
        fill(new.temporary, b="new")
    assert link.is_symlink() and link.resolve() == real and names(real) == ["b.isf"]
    assert names(tmp_path) == ["link", "real"]
