"""download / extract_archive / fetch_dataset against a local HTTP server (no external network)."""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import os
import socket
import tarfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from specnb.data import load_esc50, load_urbansound8k
from specnb.data.archives import extract_archive
from specnb.data.download import (
    ChecksumError,
    DatasetSource,
    DownloadError,
    download,
    fetch_dataset,
)

TIMEOUT = 5.0


@dataclass
class Served:
    """What the server offers and what it saw."""

    files: dict[str, bytes] = field(default_factory=dict)
    ranges: list[str | None] = field(default_factory=list)
    cut_next: int | None = None  # send only this many bytes of the next response, then close
    ignore_range: bool = False


def _handler(state: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            body = state.files.get(self.path)
            wanted = self.headers.get("Range")
            state.ranges.append(wanted)
            if body is None:
                self.send_error(404)
                return
            start, status = 0, 200
            if wanted and not state.ignore_range:
                start = int(wanted.removeprefix("bytes=").split("-")[0])
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
            payload = body[start:]
            self.send_response(status)
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if state.cut_next is not None:
                payload, state.cut_next = payload[: state.cut_next], None
                self.close_connection = True
            self.wfile.write(payload)

    return Handler


@pytest.fixture
def server():
    state = Served()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(TIMEOUT)


def _wav_bytes(seed: int) -> bytes:
    buffer = io.BytesIO()
    tone = 0.2 * np.sin(np.arange(4000) * (0.05 + 0.01 * seed))
    sf.write(buffer, tone, 8000, format="WAV")
    return buffer.getvalue()


def _csv_bytes(header: list[str], rows: list[list[object]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode()


def esc_zip(top: str = "ESC-50-test", extra: dict[str, bytes] | None = None) -> bytes:
    """A small zip in the official ESC-50 layout (2 classes x 2 clips)."""
    rows = [
        [f"{f}-{s}-A-{t}.wav", f, t, ("dog", "rain")[t], True, s, "A"]
        for f, s, t in [(1, 10, 0), (2, 11, 0), (1, 12, 1), (2, 13, 1)]
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr(f"{top}/README.md", "test copy")
        bundle.writestr(
            f"{top}/meta/esc50.csv",
            _csv_bytes(
                ["filename", "fold", "target", "category", "esc10", "src_file", "take"], rows
            ),
        )
        for i, row in enumerate(rows):
            bundle.writestr(f"{top}/audio/{row[0]}", _wav_bytes(i))
        for name, data in (extra or {}).items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def us_tar() -> bytes:
    """A small tar.gz in the official UrbanSound8K layout."""
    rows = [
        ["7-0-0-0.wav", 7, 0.0, 0.5, 1, 1, 0, "air_conditioner"],
        ["8-1-0-0.wav", 8, 0.0, 0.5, 2, 2, 1, "car_horn"],
    ]
    members = {
        "UrbanSound8K/metadata/UrbanSound8K.csv": _csv_bytes(
            ["slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class"],
            rows,
        )
    }
    for i, row in enumerate(rows):
        members[f"UrbanSound8K/audio/fold{row[5]}/{row[0]}"] = _wav_bytes(i)
    return _tar(members)


def _tar(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            bundle.addfile(info)
    return buffer.getvalue()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_fetch_esc50_over_http(server, tmp_path):
    base, state = server
    archive = esc_zip()
    state.files["/esc.zip"] = archive
    source = DatasetSource(
        f"{base}/esc.zip",
        "esc.zip",
        "ESC-50-test",
        "meta/esc50.csv",
        md5=md5(archive),
        sha256=hashlib.sha256(archive).hexdigest(),
    )
    root = fetch_dataset("esc10", tmp_path / "esc50", source=source, timeout=TIMEOUT)
    assert root == tmp_path / "esc50"
    data = load_esc50(root)
    assert len(data) == 4 and data.classes == ("dog", "rain")
    assert data.load(data.clips[0], 8000).shape == (40000,)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["esc50"]
    requests = len(state.ranges)
    assert fetch_dataset("esc50", root, source=source) == root
    assert len(state.ranges) == requests


def test_fetch_urbansound_tar_keeps_archive(server, tmp_path):
    base, state = server
    archive = us_tar()
    state.files["/us.tar.gz"] = archive
    source = DatasetSource(
        f"{base}/us.tar.gz",
        "us.tar.gz",
        "UrbanSound8K",
        "metadata/UrbanSound8K.csv",
        md5=md5(archive),
    )
    root = fetch_dataset(
        "urbansound8k", tmp_path / "us", source=source, keep_archive=True, timeout=TIMEOUT
    )
    assert len(load_urbansound8k(root)) == 2
    assert (tmp_path / "us.tar.gz").read_bytes() == archive


def test_resume_from_partial_part(server, tmp_path):
    base, state = server
    payload = np.random.default_rng(1).bytes(50_000)
    state.files["/blob.bin"] = payload
    dest = tmp_path / "blob.bin"
    (tmp_path / "blob.bin.part").write_bytes(payload[:20_000])
    download(f"{base}/blob.bin", dest, md5=md5(payload), chunk=4096, timeout=TIMEOUT)
    assert state.ranges == ["bytes=20000-"]
    assert dest.read_bytes() == payload and not (tmp_path / "blob.bin.part").exists()


def test_interrupted_download_resumes(server, tmp_path):
    base, state = server
    payload = np.random.default_rng(2).bytes(64_000)
    state.files["/blob.bin"] = payload
    state.cut_next = 10_000
    dest = tmp_path / "blob.bin"
    with pytest.raises(DownloadError, match="closed after 10000 of 64000 bytes.*resume"):
        download(f"{base}/blob.bin", dest, md5=md5(payload), timeout=TIMEOUT)
    assert not dest.exists() and (tmp_path / "blob.bin.part").stat().st_size == 10_000
    download(f"{base}/blob.bin", dest, md5=md5(payload), timeout=TIMEOUT)
    assert state.ranges == [None, "bytes=10000-"] and dest.read_bytes() == payload


def test_server_without_range_support_restarts(server, tmp_path):
    base, state = server
    payload = np.random.default_rng(3).bytes(30_000)
    state.files["/blob.bin"] = payload
    state.ignore_range = True
    (tmp_path / "blob.bin.part").write_bytes(b"x" * 12_000)
    download(f"{base}/blob.bin", tmp_path / "blob.bin", md5=md5(payload), timeout=TIMEOUT)
    assert (tmp_path / "blob.bin").read_bytes() == payload


def test_complete_part_is_finished_or_replaced(server, tmp_path):
    base, state = server
    payload = np.random.default_rng(4).bytes(8_000)
    state.files["/blob.bin"] = payload
    (tmp_path / "a.part").write_bytes(payload)
    download(f"{base}/blob.bin", tmp_path / "a", md5=md5(payload), timeout=TIMEOUT)
    assert (tmp_path / "a").read_bytes() == payload
    (tmp_path / "b.part").write_bytes(b"y" * 8_000)
    download(f"{base}/blob.bin", tmp_path / "b", md5=md5(payload), timeout=TIMEOUT)
    assert (tmp_path / "b").read_bytes() == payload
    assert state.ranges == ["bytes=8000-", "bytes=8000-", None]


def test_checksum_mismatch_removes_file(server, tmp_path):
    base, state = server
    state.files["/blob.bin"] = b"abc" * 1000
    dest = tmp_path / "blob.bin"
    with pytest.raises(ChecksumError, match="md5 .* where 0{32} was expected; it was removed"):
        download(f"{base}/blob.bin", dest, md5="0" * 32, timeout=TIMEOUT)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ChecksumError, match="sha256"):
        download(f"{base}/blob.bin", dest, sha256="f" * 64, timeout=TIMEOUT)


def test_existing_verified_file_is_not_fetched_again(server, tmp_path):
    base, state = server
    payload = b"data" * 100
    state.files["/blob.bin"] = payload
    dest = tmp_path / "blob.bin"
    dest.write_bytes(payload)
    assert download(f"{base}/blob.bin", dest, md5=md5(payload), timeout=TIMEOUT) == dest
    assert state.ranges == []
    dest.write_bytes(b"stale")
    download(f"{base}/blob.bin", dest, md5=md5(payload), timeout=TIMEOUT)
    assert dest.read_bytes() == payload and state.ranges == [None]


def test_file_url_with_resume(tmp_path):
    payload = np.random.default_rng(5).bytes(20_000)
    source = tmp_path / "src" / "blob.bin"
    source.parent.mkdir()
    source.write_bytes(payload)
    out = tmp_path / "out" / "blob.bin"
    out.parent.mkdir()
    (out.parent / "blob.bin.part").write_bytes(payload[:7_000])
    download(source.as_uri(), out, md5=md5(payload), chunk=1000)
    assert out.read_bytes() == payload
    with pytest.raises(DownloadError, match="no such file"):
        download((tmp_path / "absent.zip").as_uri(), tmp_path / "x.zip")


def test_offline_error_says_what_to_do(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(DownloadError, match=r"cannot download .*by other means.*--path"):
        download(f"http://127.0.0.1:{port}/esc.zip", tmp_path / "esc.zip", timeout=TIMEOUT)
    assert time.monotonic() - start < TIMEOUT
    source = DatasetSource(f"http://127.0.0.1:{port}/esc.zip", "esc.zip", "x", "meta/esc50.csv")
    with pytest.raises(DownloadError, match="--path"):
        fetch_dataset("esc50", tmp_path / "esc50", source=source, timeout=TIMEOUT)


def test_http_errors_and_bad_schemes(server, tmp_path):
    base, _ = server
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(f"{base}/missing.zip", tmp_path / "m.zip", timeout=TIMEOUT)
    with pytest.raises(DownloadError, match="unsupported address scheme 'ftp'"):
        download("ftp://example.org/a.zip", tmp_path / "a.zip")
    with pytest.raises(ValueError, match="no download for dataset 'synthetic'"):
        fetch_dataset("synthetic", tmp_path)


def test_archive_without_expected_layout(server, tmp_path):
    base, state = server
    state.files["/esc.zip"] = esc_zip(top="other-name")
    source = DatasetSource(f"{base}/esc.zip", "esc.zip", "ESC-50-test", "meta/esc50.csv")
    with pytest.raises(DownloadError, match="expected ESC-50-test/meta/esc50.csv inside"):
        fetch_dataset("esc50", tmp_path / "esc50", source=source, timeout=TIMEOUT)
    assert not (tmp_path / ".esc50.unpacking").exists()


@pytest.mark.parametrize("evil", ["../evil.txt", "/tmp/specnb-evil.txt", "a/../../evil.txt"])
def test_zip_path_traversal_is_refused(tmp_path, evil):
    archive = tmp_path / "bad.zip"
    archive.write_bytes(esc_zip(extra={evil: b"owned"}))
    with pytest.raises(DownloadError, match="outside"):
        extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/specnb-evil.txt").exists()
    assert not any((tmp_path / "out").iterdir())


def test_tar_traversal_and_links_are_refused(tmp_path):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(_tar({"ok.txt": b"1", "../evil.txt": b"owned"}))
    with pytest.raises(DownloadError, match="'../evil.txt' would be written outside"):
        extract_archive(bad, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out" / "ok.txt").exists()
    linked = tmp_path / "link.tar.gz"
    linked.write_bytes(_tar({"ok.txt": b"1"}, links={"escape": "/etc"}))
    with pytest.raises(DownloadError, match="'escape' is a link"):
        extract_archive(linked, tmp_path / "out2")


def test_damaged_archive(tmp_path):
    archive = tmp_path / "broken.zip"
    archive.write_bytes(esc_zip()[:200])
    with pytest.raises(DownloadError, match="damaged archive"):
        extract_archive(archive, tmp_path / "out")
    with pytest.raises(DownloadError, match="not a zip or tar"):
        extract_archive(tmp_path / "notes.rar", tmp_path / "out")


def _file_source(tmp_path: Path) -> DatasetSource:
    archive = tmp_path / "mirror" / "esc.zip"
    archive.parent.mkdir(parents=True, exist_ok=True)
    archive.write_bytes(esc_zip())
    return DatasetSource(archive.as_uri(), "esc.zip", "ESC-50-test", "meta/esc50.csv")


def _users_copy(root: Path) -> None:
    (root / "audio").mkdir(parents=True)
    (root / "audio" / "mine.wav").write_bytes(b"my own recording")


def test_a_failed_move_keeps_the_old_data_and_is_a_download_error(tmp_path, monkeypatch):
    root = tmp_path / "data" / "esc50"
    _users_copy(root)
    source = _file_source(tmp_path)
    real_replace = os.replace
    staged: list[Path] = []

    def cross_device(src, dst, *args, **kwargs):
        src, dst = Path(src), Path(dst)
        if "ESC-50-test" in src.parts and dst.parent == root:
            staged.append(src)
            raise OSError(errno.EXDEV, "Invalid cross-device link", str(src))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", cross_device)
    with pytest.raises(DownloadError, match="cross-device"):
        fetch_dataset("esc50", root, source=source)
    assert staged and all(root in path.parents for path in staged)
    assert (root / "audio" / "mine.wav").read_bytes() == b"my own recording"
    assert sorted(p.name for p in root.iterdir()) == ["audio"]


def test_a_successful_download_replaces_the_old_entry(tmp_path):
    root = tmp_path / "data" / "esc50"
    _users_copy(root)
    fetch_dataset("esc50", root, source=_file_source(tmp_path))
    assert "mine.wav" not in {p.name for p in (root / "audio").iterdir()}
    assert sorted(p.name for p in root.iterdir()) == ["README.md", "audio", "meta"]
    assert len(load_esc50(root)) == 4


def test_a_full_disk_is_a_download_error(tmp_path, monkeypatch):
    root = tmp_path / "data" / "esc50"
    _users_copy(root)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "extractall", full)
    with pytest.raises(DownloadError, match="No space left"):
        fetch_dataset("esc50", root, source=_file_source(tmp_path))
    assert (root / "audio" / "mine.wav").read_bytes() == b"my own recording"
    assert sorted(p.name for p in root.iterdir()) == ["audio"]


def test_unpacked_size_is_capped_before_anything_is_written(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("top/zeros.bin", bytes(4 << 20))
    assert archive.stat().st_size < 64 << 10
    with pytest.raises(DownloadError, match=r"bomb\.zip.*4194304 bytes.*1048576"):
        extract_archive(archive, tmp_path / "out", max_bytes=1 << 20)
    assert not any((tmp_path / "out").rglob("*"))
    assert extract_archive(archive, tmp_path / "ok", max_bytes=8 << 20) == tmp_path / "ok"
