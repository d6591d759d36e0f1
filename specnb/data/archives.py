"""Unpacking a downloaded archive safely and putting its files in place of the old ones.

An archive is untrusted: every member is checked before anything is written (no absolute
paths, no ``..``, no links or devices, a capped total size), and its files replace a dataset
folder's entries only once unpacked, with the old entries moved aside and deleted last.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import zipfile
from os import PathLike
from pathlib import Path, PurePosixPath

from specnb.errors import DownloadError

__all__ = ["MAX_UNPACKED_BYTES", "extract_archive", "replace_entries"]

#: Largest total size, in bytes, that :func:`extract_archive` unpacks unless told otherwise.
MAX_UNPACKED_BYTES = 16 << 30


def _safe_target(folder: Path, name: str, archive: Path) -> Path:
    member = PurePosixPath(name.replace("\\", "/"))
    target = (folder / member).resolve()
    if member.is_absolute() or ".." in member.parts or not target.is_relative_to(folder):
        raise DownloadError(
            f"{archive}: member {name!r} would be written outside {folder}; refusing to unpack"
        )
    return target


def _check_size(archive: Path, total: int, max_bytes: int) -> None:
    if total > max_bytes:
        raise DownloadError(
            f"{archive}: unpacks to {total} bytes, more than the {max_bytes} allowed; refusing "
            "to unpack (a damaged or hostile archive)"
        )


def extract_archive(
    archive: str | PathLike[str],
    folder: str | PathLike[str],
    *,
    max_bytes: int = MAX_UNPACKED_BYTES,
) -> Path:
    """Unpack a zip or tar archive into ``folder``, refusing members that escape it.

    Every member is checked before anything is written.

    Parameters
    ----------
    archive : str or path-like
        ``.zip``, ``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2`` or ``.tar.xz``.
    folder : str or path-like
        Created if needed.
    max_bytes : int
        Largest total size of the unpacked members (as the archive declares them; both the
        zip and the tar reader stop at the declared size).

    Returns
    -------
    folder : Path

    Raises
    ------
    DownloadError
        A member has an absolute path or ``..`` in it, or is a link or device (the member is
        named and nothing of the archive is written); the members add up to more than
        ``max_bytes``; the archive is damaged or of another kind; the file system refuses
        a write (a full disk, for example).

    Examples
    --------
    >>> extract_archive("data/esc.zip", "data/.esc50.unpacking")  # doctest: +SKIP
    PosixPath('/home/me/specnb/data/.esc50.unpacking')
    """
    archive, folder = Path(archive), Path(folder)
    name = archive.name.lower()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        folder = folder.resolve()
        if name.endswith(".zip"):
            with zipfile.ZipFile(archive) as bundle:
                members = bundle.infolist()
                for info in members:
                    _safe_target(folder, info.filename, archive)
                    if (info.external_attr >> 16) & 0o170000 == 0o120000:
                        raise DownloadError(f"{archive}: member {info.filename!r} is a link")
                _check_size(archive, sum(info.file_size for info in members), max_bytes)
                bundle.extractall(folder, members)
        elif name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
            with tarfile.open(archive, "r:*") as bundle:
                members = bundle.getmembers()
                for info in members:
                    _safe_target(folder, info.name, archive)
                    if not (info.isfile() or info.isdir()):
                        raise DownloadError(
                            f"{archive}: member {info.name!r} is a link or device; refusing to "
                            "unpack"
                        )
                _check_size(archive, sum(info.size for info in members), max_bytes)
                bundle.extractall(folder, members, filter="data")
        else:
            raise DownloadError(f"{archive}: not a zip or tar archive")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise DownloadError(
            f"{archive}: damaged archive ({exc}); delete it and download again"
        ) from exc
    except OSError as exc:
        raise DownloadError(f"{archive}: cannot unpack into {folder}: {exc}") from exc
    return folder


def replace_entries(top: Path, root: Path, aside: Path) -> None:
    """Move every entry of ``top`` into ``root``; entries it replaces go to ``aside`` first.

    Once every new entry is in place, the old ones in ``aside`` are deleted. On an error the
    new entries moved in are taken out again and the old ones are put back; should putting
    them back fail too, they stay in ``aside`` and the message says so.

    Raises
    ------
    DownloadError
        The file system refused a move.
    """
    moved_aside: list[str] = []
    moved_in: list[str] = []
    try:
        aside.mkdir()
        for entry in sorted(top.iterdir()):
            target = root / entry.name
            if target.exists() or target.is_symlink():
                os.replace(target, aside / entry.name)
                moved_aside.append(entry.name)
            os.replace(entry, target)
            moved_in.append(entry.name)
    except OSError as exc:
        try:
            for name in moved_in:
                _remove(root / name)
            for name in moved_aside:
                os.replace(aside / name, root / name)
        except OSError as undo:
            raise DownloadError(
                f"cannot move the unpacked files into {root} ({exc}), nor put the previous "
                f"files back ({undo}): they are kept in {aside}"
            ) from exc
        raise DownloadError(
            f"cannot move the unpacked files into {root}: {exc}; its previous files are back "
            "in place"
        ) from exc
    shutil.rmtree(aside, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
