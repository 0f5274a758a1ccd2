"""Files: one way to write an output file or folder so that no reader ever sees it half-written, and
an interrupted write leaves the previous output whole and nothing of its own behind.

- :class:`Replacement` — a temporary file beside the target, renamed onto it by ``commit`` (for
  writers that stream: the batch writer, a workbook);
- :func:`replace_file` — the same for bytes at hand;
- :class:`FolderReplacement` — a temporary folder beside an output folder, swapped for it by
  ``commit``; an existing folder holding anything isfdsl did not write there is refused, never emptied.

Both follow a symbolic link (the file or folder it points to is replaced; the link stays) and keep
an existing target's permission bits; a new one gets the usual bits (0666 or 0777 less the umask),
not the private bits of a temporary file.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import IO, Self

__all__ = ["FolderReplacement", "ForeignFolder", "Replacement", "replace_file"]


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _free(target: Path, kind: str, make: Callable[[Path], object]) -> Path:
    """A new hidden name beside ``target`` (``.NAME.KIND-XXXXXXXX.part``), made by ``make``."""
    for _ in range(100):
        candidate = target.with_name(f".{target.name}.{kind}-{secrets.token_hex(4)}.part")
        try:
            make(candidate)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(errno.EEXIST, f"no free temporary name in {target.parent}", str(target.parent))


class _Transaction:
    """A ``with`` block that commits when it ends normally and aborts when it raises (Ctrl-C too)."""

    def commit(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()


class Replacement(_Transaction):
    """A file written under a temporary name beside ``path`` (its binary descriptor :attr:`fd`, its
    path :attr:`temporary`) and renamed onto ``path`` only by :meth:`commit`; :meth:`abort` removes it.
    As a context manager: committed on success, removed on any exception (KeyboardInterrupt too).

    ``path`` a symbolic link: the file it points to is replaced, or with ``follow_symlinks=False`` the
    link itself (a site's page must not write outside the site). Raises ``IsADirectoryError`` when
    ``path`` is a folder and ``OSError`` when the temporary file cannot be made."""

    def __init__(self, path: Path | str, follow_symlinks: bool = True) -> None:
        self.path = Path(path)
        self.target = Path(os.path.realpath(path)) if follow_symlinks else Path(os.path.abspath(path))
        if self.target.is_dir() and not self.target.is_symlink():
            raise IsADirectoryError(errno.EISDIR, "it is a folder", str(path))
        mode = stat.S_IMODE(self.target.stat().st_mode) if self.target.is_file() else None
        fds: list[int] = []
        self.temporary: Path | None = _free(self.target, "new", lambda p: fds.append(
            os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)))
        self.fd = fds[0]
        self.file: IO[str] | None = None
        self.closed = False
        try:
            if mode is not None:
                os.chmod(self.temporary, mode)
        except BaseException:
            self.abort()
            raise

    def text(self) -> IO[str]:
        """The temporary file as UTF-8 text, newlines as written (closed by :meth:`commit` or :meth:`abort`)."""
        self.file = open(self.fd, "w", encoding="utf-8", newline="")  # noqa: SIM115 -- closed in close()
        return self.file

    def write(self, data: bytes) -> None:
        """Write all of ``data`` to the temporary file."""
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def commit(self, sync: bool = False) -> None:
        """Close the temporary file (flushed to disk first when ``sync``) and rename it onto the
        target; on failure it is removed and the error raised."""
        try:
            if self.file is not None and not self.closed:
                self.file.flush()
            if sync and not self.closed:
                os.fsync(self.fd)
            self.close()
            if self.temporary is not None:
                os.replace(self.temporary, self.target)
                self.temporary = None
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Close and remove the temporary file: the target stays as it was."""
        with suppress(OSError, ValueError):
            self.close()
        if self.temporary is not None:
            with suppress(OSError):
                self.temporary.unlink()
            self.temporary = None

    def close(self) -> None:
        """Close the temporary file (once), through its text file when :meth:`text` made one."""
        if not self.closed:
            self.closed = True
            if self.file is not None:
                self.file.close()
            else:
                os.close(self.fd)



def replace_file(path: Path, data: bytes, follow_symlinks: bool = True) -> None:
    """Write ``data`` to ``path`` through a :class:`Replacement`: an interrupted write leaves the old
    file whole (and no temporary file behind); an existing file keeps its permission bits."""
    with Replacement(path, follow_symlinks) as out:
        out.write(data)


class ForeignFolder(OSError):
    """An output folder that holds entries isfdsl did not write there (:attr:`names`, sorted): it is
    refused, never emptied."""

    def __init__(self, path: Path, names: list[str]) -> None:
        super().__init__(errno.ENOTEMPTY, "holds files isfdsl did not write", str(path))
        self.names = names


class FolderReplacement(_Transaction):
    """A folder built under a temporary name beside ``path`` (:attr:`temporary`) and swapped for
    ``path`` only by :meth:`commit` (the previous folder is removed once the new one is in place);
    :meth:`abort` removes the temporary folder. As a context manager: committed on success, removed
    on any exception.

    ``owned(entry)`` says whether an entry of an existing ``path`` is one isfdsl writes there; a
    folder holding any other entry is refused (:class:`ForeignFolder`), before anything is written
    and again just before the swap. Raises ``NotADirectoryError`` when ``path`` exists and is no
    folder, ``OSError`` when the temporary folder cannot be made."""

    def __init__(self, path: Path | str, owned: Callable[[Path], bool]) -> None:
        self.path = Path(path)
        self.target = Path(os.path.realpath(path))  # a symbolic link: the folder it points to is replaced
        self.owned = owned
        if self.target.exists() and not self.target.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "exists and is not a folder", str(path))
        self._check()
        mode = stat.S_IMODE(self.target.stat().st_mode) if self.target.exists() else 0o777 & ~_umask()
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.temporary: Path | None = _free(self.target, "new", lambda p: p.mkdir(0o700))
        try:
            os.chmod(self.temporary, mode)
        except BaseException:
            self.abort()
            raise

    def _check(self) -> None:
        if self.target.is_dir():
            foreign = sorted(p.name for p in self.target.iterdir() if not self.owned(p))
            if foreign:
                raise ForeignFolder(self.path, foreign)

    def commit(self) -> None:
        """Swap the temporary folder in for the target; on failure the target is as it was."""
        try:
            assert self.temporary is not None, "committed twice"
            if not self.target.exists():
                self.temporary.rename(self.target)
                self.temporary = None
                return
            self._check()
            old = _free(self.target, "old", lambda p: self.target.rename(p))
            try:
                self.temporary.rename(self.target)
            except BaseException:
                old.rename(self.target)
                raise
            self.temporary = None
            shutil.rmtree(old, ignore_errors=True)  # checked: only entries isfdsl wrote
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Remove the temporary folder: the target stays as it was."""
        if self.temporary is not None:
            shutil.rmtree(self.temporary, ignore_errors=True)
            self.temporary = None

