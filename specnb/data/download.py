"""Downloading the real datasets from their official sources: resume, checksums, installing.

Unpacking and putting the files in place is :mod:`specnb.data.archives`.

============  ===============================================================  ========
dataset       official source                                                  checksum
============  ===============================================================  ========
ESC-50        GitHub archive of karolpiczak/ESC-50 at commit 33c8ce9 (zip)     MD5
UrbanSound8K  Zenodo record 1203745, ``UrbanSound8K.tar.gz`` (5.6 GiB)         MD5
============  ===============================================================  ========

Neither source publishes a SHA-256, so only MD5 is checked. Both MD5 values are the ones the
soundata dataset index records for these exact files (the ESC-50 one for the archive of the
pinned commit, which soundata adopted after the moving ``master.zip`` kept changing); they
could not be re-derived here, as no copy of either archive is at hand. GitHub builds commit
archives on request and does not promise byte-identical output forever, so an ESC-50 mismatch
may mean a re-packed archive rather than a damaged one: in that case download and unpack the
archive by hand and pass its folder with ``--path``.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from tqdm.auto import tqdm

from specnb.errors import ChecksumError, DownloadError, ParameterError

from .archives import MAX_UNPACKED_BYTES, extract_archive, replace_entries

__all__ = [
    "ChecksumError",
    "DATASET_SOURCES",
    "DatasetSource",
    "DownloadError",
    "download",
    "fetch_dataset",
]

_ESC50_COMMIT = "33c8ce9eb2cf0b1c2f8bcf322eb349b6be34dbb6"


@dataclass(frozen=True)
class DatasetSource:
    """Where a dataset's official archive lives and what it unpacks to.

    Parameters
    ----------
    url : str
        Official download address (``http(s)://`` or ``file://``).
    filename : str
        Name the archive is saved under (its ending selects zip or tar unpacking).
    archive_root : str
        Top folder inside the archive holding the dataset's files.
    marker : str
        Path, relative to the dataset folder, whose presence shows a complete copy.
    md5, sha256 : str or None
        Published checksums of the archive (hex); None when none is published.
    max_unpacked : int
        Largest total size in bytes the archive may unpack to; a larger one is refused
        before anything is written.
    """

    url: str
    filename: str
    archive_root: str
    marker: str
    md5: str | None = None
    sha256: str | None = None
    max_unpacked: int = MAX_UNPACKED_BYTES


#: Official sources. ``esc10`` is read from the ESC-50 copy.
DATASET_SOURCES: dict[str, DatasetSource] = {
    "esc50": DatasetSource(
        url=f"https://github.com/karolpiczak/ESC-50/archive/{_ESC50_COMMIT}.zip",
        filename=f"ESC-50-{_ESC50_COMMIT}.zip",
        archive_root=f"ESC-50-{_ESC50_COMMIT}",
        marker="meta/esc50.csv",
        md5="071b44018315e034b2c6e8064543d19c",
        max_unpacked=2 << 30,
    ),
    "urbansound8k": DatasetSource(
        url="https://zenodo.org/records/1203745/files/UrbanSound8K.tar.gz?download=1",
        filename="UrbanSound8K.tar.gz",
        archive_root="UrbanSound8K",
        marker="metadata/UrbanSound8K.csv",
        md5="9aa69802bbf37fb986f71ec1483a196e",
    ),
}

_FOLDER_OF = {"esc50": "esc50", "esc10": "esc50", "urbansound8k": "urbansound8k"}


def _manual_hint(url: str) -> str:
    return (
        f"If this machine is offline or the source is unreachable, download {url} by other "
        "means, unpack it, and pass the dataset folder with --path (path=... in Python)."
    )


def _digests(path: Path, chunk: int) -> dict[str, str]:
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            md5.update(block)
            sha256.update(block)
    return {"md5": md5.hexdigest(), "sha256": sha256.hexdigest()}


def _mismatch(path: Path, expected: dict[str, str | None], chunk: int) -> str | None:
    wanted = {kind: value.lower() for kind, value in expected.items() if value}
    if not wanted:
        return None
    actual = _digests(path, chunk)
    for kind, value in wanted.items():
        if actual[kind] != value:
            return f"{kind} {actual[kind]} where {value} was expected"
    return None


def _copy_local(url: str, part: Path, offset: int, chunk: int, bar: tqdm) -> None:
    source = Path(url2pathname(urlparse(url).path))
    if not source.is_file():
        raise DownloadError(f"{url}: no such file. {_manual_hint(url)}")
    if offset > source.stat().st_size:
        offset = 0
    bar.reset(total=source.stat().st_size)
    bar.update(offset)
    with open(source, "rb") as src, open(part, "r+b" if offset else "wb") as out:
        src.seek(offset)
        out.seek(offset)
        out.truncate()
        while block := src.read(chunk):
            out.write(block)
            bar.update(len(block))


def _fetch_http(url: str, part: Path, offset: int, chunk: int, timeout: float, bar: tqdm) -> bool:
    """Write (the rest of) ``url`` into ``part``; False when the server says it is complete."""
    headers = {"User-Agent": "specnb"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            return False
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}. {_manual_hint(url)}") from exc
    with response:
        start = 0
        if response.status == 206:
            content_range = response.headers.get("Content-Range", "")
            if content_range.startswith(f"bytes {offset}-"):
                start = offset
        length = response.headers.get("Content-Length")
        expected = start + int(length) if length is not None else None
        bar.reset(total=expected)
        bar.update(start)
        written = start
        with open(part, "r+b" if start else "wb") as out:
            out.seek(start)
            out.truncate()
            while block := response.read(chunk):
                out.write(block)
                written += len(block)
                bar.update(len(block))
    if expected is not None and written < expected:
        raise DownloadError(
            f"{url}: the connection closed after {written} of {expected} bytes; run the "
            f"download again to resume from {part}"
        )
    return True


def download(
    url: str,
    dest: str | PathLike[str],
    *,
    sha256: str | None = None,
    md5: str | None = None,
    chunk: int = 1 << 20,
    timeout: float = 30.0,
    progress: bool = False,
) -> Path:
    """Download ``url`` to ``dest``, resuming an interrupted download and checking checksums.

    Bytes go to ``<dest>.part``; an existing part is continued with an HTTP Range request
    (``file://`` sources are continued by seeking). When complete, the file is checked against
    the given checksums and renamed to ``dest`` in one atomic step, so ``dest`` never holds a
    partial or unverified file.

    Parameters
    ----------
    url : str
        ``http://``, ``https://`` or ``file://`` address.
    dest : str or path-like
        Where the file lands; parent folders are created.
    sha256, md5 : str, optional
        Expected hex digests. An existing ``dest`` that matches is returned at once; one that
        does not is downloaded again.
    chunk : int > 0
        Read size in bytes.
    timeout : float > 0
        Seconds to wait for the server to connect or to send the next bytes.
    progress : bool
        Show a progress bar.

    Returns
    -------
    dest : Path

    Raises
    ------
    ChecksumError
        The completed file does not match; it is removed.
    DownloadError
        The source is unreachable (offline, refused, timed out), answers an HTTP error, closes
        the connection early (the part is kept for resuming) or uses another URL scheme. The
        message says how to download by hand and pass ``--path``.

    Examples
    --------
    >>> download("file:///tmp/archive.zip", "data/archive.zip", md5="...")  # doctest: +SKIP
    PosixPath('data/archive.zip')
    """
    if chunk <= 0:
        raise ParameterError(f"chunk must be a positive number of bytes, got {chunk!r}")
    dest = Path(dest)
    expected = {"md5": md5, "sha256": sha256}
    try:
        if dest.is_file():
            if _mismatch(dest, expected, chunk) is None:
                return dest
            dest.unlink()
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot prepare {dest}: {exc}") from exc
    part = dest.with_name(dest.name + ".part")
    scheme = urlparse(url).scheme.lower()
    if scheme not in ("http", "https", "file"):
        raise DownloadError(f"{url}: unsupported address scheme {scheme!r} (http, https, file)")
    offset = part.stat().st_size if part.is_file() else 0
    with tqdm(desc=dest.name, unit="B", unit_scale=True, disable=not progress) as bar:
        try:
            if scheme == "file":
                _copy_local(url, part, offset, chunk, bar)
            elif not _fetch_http(url, part, offset, chunk, timeout, bar):
                if _mismatch(part, expected, chunk) is not None:
                    part.unlink()
                    _fetch_http(url, part, 0, chunk, timeout, bar)
        except (urllib.error.URLError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise DownloadError(f"cannot download {url}: {reason}. {_manual_hint(url)}") from exc
        except OSError as exc:
            raise DownloadError(f"cannot download {url}: {exc}. {_manual_hint(url)}") from exc
    problem = _mismatch(part, expected, chunk)
    if problem is not None:
        part.unlink()
        raise ChecksumError(
            f"{url}: the downloaded file has {problem}; it was removed. Run the download again, "
            f"or fetch the file by hand and check it. {_manual_hint(url)}"
        )
    try:
        os.replace(part, dest)
    except OSError as exc:
        raise DownloadError(f"cannot save {dest}: {exc}") from exc
    return dest


def fetch_dataset(
    name: str,
    root: str | PathLike[str],
    *,
    source: DatasetSource | None = None,
    keep_archive: bool = False,
    timeout: float = 30.0,
    progress: bool = False,
) -> Path:
    """Download and unpack a real dataset into ``root`` (nothing is done if it is there).

    Parameters
    ----------
    name : {"esc50", "esc10", "urbansound8k"}
        ``"esc10"`` fetches ESC-50, which holds it.
    root : str or path-like
        The dataset folder to fill (``data/esc50``...): afterwards it holds the official layout
        (``meta/`` and ``audio/`` for ESC-50; ``metadata/`` and ``audio/`` for UrbanSound8K).
        The archive is saved beside it, in ``root``'s parent folder.
    source : DatasetSource, optional
        Replaces the official entry of :data:`DATASET_SOURCES` (mirrors, tests).
    keep_archive : bool
        Keep the archive after unpacking (by default it is deleted).
    timeout : float
        Network timeout in seconds.
    progress : bool
        Show a progress bar.

    Returns
    -------
    root : Path

    Raises
    ------
    ValueError
        Unknown ``name``.
    DownloadError
        As :func:`download` and :func:`extract_archive`, or the archive lacks the expected
        layout, or the file system refuses a write (a full disk); the message says how to
        download by hand and pass ``--path``. Whatever ``root`` held before is then still
        there.

    Notes
    -----
    The archive is unpacked into a hidden folder inside ``root`` (so every later move stays
    on one file system); each top-level entry that ``root`` already holds is moved aside
    there before the new one takes its place, and deleted only once every new entry is in
    place. On any error the entries moved aside are put back.

    Examples
    --------
    >>> fetch_dataset("esc50", "data/esc50", progress=True)  # doctest: +SKIP
    PosixPath('data/esc50')
    """
    if name not in _FOLDER_OF:
        raise ParameterError(
            f"no download for dataset {name!r}; choose one of {sorted(_FOLDER_OF)}"
        )
    source = source or DATASET_SOURCES[_FOLDER_OF[name]]
    root = Path(root)
    if (root / source.marker).is_file():
        return root
    archive = download(
        source.url,
        root.parent / source.filename,
        md5=source.md5,
        sha256=source.sha256,
        timeout=timeout,
        progress=progress,
    )
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = root / f".specnb-unpacking-{uuid.uuid4().hex}"
        staging.mkdir()
    except OSError as exc:
        raise DownloadError(f"cannot create {root}: {exc}. {_manual_hint(source.url)}") from exc
    aside = staging / "old"
    try:
        extract_archive(archive, staging / "new", max_bytes=source.max_unpacked)
        top = staging / "new" / source.archive_root
        if not (top / source.marker).is_file():
            raise DownloadError(
                f"{archive}: expected {source.archive_root}/{source.marker} inside the archive; "
                f"{_manual_hint(source.url)}"
            )
        replace_entries(top, root, aside)
    finally:
        shutil.rmtree(staging / "new", ignore_errors=True)
        if not (aside.is_dir() and any(aside.iterdir())):
            shutil.rmtree(staging, ignore_errors=True)
    if not keep_archive:
        archive.unlink()
    return root
