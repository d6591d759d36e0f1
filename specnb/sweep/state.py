"""Crash safety: who runs a point, whether that process still lives, one runner per folder."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from specnb.errors import SweepError

__all__ = [
    "STOP_VARIABLE",
    "RunnerLock",
    "WorkerId",
    "new_session",
    "process_alive",
    "stale_owner",
    "stop_here",
]

#: Environment variable naming a place where the sweep's driver stops itself (SIGSTOP), so
#: that a test can kill -9 it exactly there. ``merge``: inside the transaction that merges a
#: point's store into the sweep's store, after the rows are written, before the commit.
STOP_VARIABLE = "SPECNB_SWEEP_STOP_AT"


def stop_here(place: str) -> None:
    """Stop this process (SIGSTOP) when :data:`STOP_VARIABLE` names ``place``."""
    if os.environ.get(STOP_VARIABLE) == place:
        os.kill(os.getpid(), signal.SIGSTOP)


def new_session() -> str:
    """A fresh runner-session id (12 hexadecimal digits)."""
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class WorkerId:
    """The process executing a point, stored in ``sweep_points.worker`` as ``host/pid/session``.

    Attributes
    ----------
    host : str
        Host name.
    pid : int
        Process id of the Dask worker that claimed the point.
    session : str
        Id of the runner session that submitted it.
    """

    host: str
    pid: int
    session: str

    @classmethod
    def here(cls, session: str) -> WorkerId:
        """This process, working for ``session``."""
        return cls(socket.gethostname(), os.getpid(), session)

    @classmethod
    def parse(cls, text: str | None) -> WorkerId | None:
        """Inverse of ``str()``; None for an empty or foreign value."""
        host, _, rest = (text or "").partition("/")
        pid, _, session = rest.partition("/")
        if not host or not pid.isdigit() or not session:
            return None
        return cls(host, int(pid), session)

    def __str__(self) -> str:
        return f"{self.host}/{self.pid}/{self.session}"


def process_alive(worker: WorkerId, started_at: str | None) -> bool | None:
    """Whether the process that claimed a point at ``started_at`` still runs.

    Parameters
    ----------
    worker : WorkerId
        The claiming process.
    started_at : str or None
        ISO 8601 time of the claim (``sweep_points.started_at``).

    Returns
    -------
    bool or None
        None when ``worker`` is on another host (unknowable from here). A live process with
        the same id that started after the claim is another process (the id was reused).
    """
    import psutil

    if worker.host != socket.gethostname():
        return None
    try:
        created = psutil.Process(worker.pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    if started_at is None:
        return True
    return created <= datetime.fromisoformat(started_at).timestamp()


class RunnerLock:
    """An exclusive lock on a sweep's output folder, held while one runner works in it.

    The operating system releases it when the holder dies, however it dies, so a runner
    that holds it knows that every point another session left ``running`` has lost its
    runner.

    Parameters
    ----------
    out : Path
        The sweep's output folder (created if needed).
    session : str
        The holder's session id, written into the lock file for error messages.

    Raises
    ------
    SweepError
        When another live runner holds the folder.
    """

    def __init__(self, out: Path, session: str) -> None:
        self.path = Path(out) / ".sweep.lock"
        self.session = session
        self._file: IO[str] | None = None

    def __enter__(self) -> RunnerLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise SweepError(
                f"{self.path.parent}: another sweep runner ({holder}) is using this folder"
            ) from error
        handle.seek(0)
        handle.truncate()
        handle.write(f"{WorkerId.here(self.session)}\n")
        handle.flush()
        self._file = handle
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def stale_owner(row: Mapping[str, Any], session: str) -> bool:
    """Whether a ``running`` row belongs to a process that no longer works on it.

    Parameters
    ----------
    row : mapping
        The ``sweep_points`` row (``worker`` and ``started_at`` are read).
    session : str
        The asking runner's session.

    Returns
    -------
    bool
        Rows of another session are stale unless their worker process is alive on this
        host (another host's processes cannot be checked: the runner lock already tells
        that their runner is gone). Rows of ``session`` itself are stale: the session
        submits each point once and Dask runs a task again only after its worker died.
    """
    worker = WorkerId.parse(row.get("worker"))
    if worker is None or worker.session == session:
        return True
    return process_alive(worker, row.get("started_at")) is not True
