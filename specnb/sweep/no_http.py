"""Dask plugins that close the HTTP servers Dask opens even when no dashboard is wanted.

A Dask scheduler starts an HTTP server (port 8787 by default) and every worker another
(metrics and health pages) whatever ``dashboard`` says; the local cluster of a sweep adds
these plugins so that nothing listens but its TLS connections.
"""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import SchedulerPlugin, WorkerPlugin

__all__ = ["SchedulerWithoutHttp", "WorkerWithoutHttp"]


class SchedulerWithoutHttp(SchedulerPlugin):
    """Closes the scheduler's HTTP server as it starts (Dask opens one even without a
    dashboard, on port 8787 by default)."""

    name = "specnb-scheduler-without-http"

    async def start(self, scheduler: Any) -> None:
        scheduler.http_server.stop()


class WorkerWithoutHttp(WorkerPlugin):
    """Closes a worker's HTTP server (metrics and health pages) as the worker starts."""

    name = "specnb-worker-without-http"

    def setup(self, worker: Any) -> None:
        worker.http_server.stop()
