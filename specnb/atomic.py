"""Atomic file writes: a file under its final name is always complete."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

__all__ = ["atomic_write"]


def atomic_write(path: Path, write: Callable[[BinaryIO], object], *, suffix: str = ".tmp") -> None:
    """Write a file through ``write(stream)`` so that ``path`` is never seen half-written.

    The bytes go to a hidden temporary file in the same folder (``.<name>.<random><suffix>``),
    are flushed and fsynced, and the file is renamed onto ``path`` in one step; the folder is
    then fsynced too, so the rename survives a power cut. On any error, or a kill before the
    rename, ``path`` keeps its previous content. The file gets the permissions of a plain
    ``open()`` (``0o666`` less the umask). The folder is created when missing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
    >>> atomic_write(target, lambda stream: stream.write(b"done"))
    >>> target.read_bytes()
    b'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            if hasattr(os, "fchmod"):
                os.fchmod(stream.fileno(), 0o666 & ~_umask())
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def _umask() -> int:
    """This process's umask, read without changing it where ``/proc`` tells it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; Windows has no folder handles to sync)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
