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
    are flushed and fsynced, and the file is renamed onto ``path`` in one step; on any error,
    or a kill before the rename, ``path`` keeps its previous content. The folder is created
    when missing.

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
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
