"""The results store's public face: runs, attacks, transfers and sweep points."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd

from specnb.store.database import Database, StoreError, now
from specnb.store.keys import dumps
from specnb.store.point_stores import changed_rows, merge_rows

__all__ = ["ResultsStore"]


class ResultsStore(Database):
    """Results of every run, attack, transfer and sweep point, in one SQLite file.

    Safe for several processes writing at once (WAL mode, busy timeout, short ``BEGIN
    IMMEDIATE`` transactions retried while locked). Keep the file on a local disk: SQLite's
    WAL mode does not work over network file systems.

    Parameters
    ----------
    path : str or Path
        The database file, or an existing folder (the run folder), in which case the file is
        ``path / "results.sqlite"``. Missing parent folders are created.
    timeout : float
        Seconds a write waits for another process's lock before it is retried.
    retries : int
        How many times a write that still finds the database locked is retried (with a
        growing random back-off) before :class:`StoreError` is raised.

    Examples
    --------
    >>> import tempfile
    >>> from specnb.store import ResultsStore, run_key
    >>> store = ResultsStore(tempfile.mkdtemp())
    >>> key = run_key(dataset="esc10", setting={"repr": "mfcc"}, model="resnet18", seed=0,
    ...               protocol={})
    >>> store.upsert_run(key, dataset="esc10", status="done", acc_mean=0.8)
    >>> store.get_run(key)["acc_mean"]
    0.8
    >>> list(store.runs_df(status="done")["run_key"]) == [key]
    True
    """

    # ----------------------------------------------------------------- runs
    def upsert_run(self, run_key: str, **fields: Any) -> None:
        """Insert the run ``run_key`` or update the given columns of it (idempotent).

        Parameters
        ----------
        run_key : str
            From :func:`run_key`.
        **fields
            Column values: ``dataset``, ``repr``, ``setting_key``, ``setting_json``, ``model``,
            ``seed``, ``protocol_json``, ``status``, ``device``, ``acc_mean``, ``acc_std``,
            ``fold_accs_json``, ``n_params``, ``epochs_json``, ``train_seconds``,
            ``checkpoint_path``, ``artefacts_json``, ``error``. Columns left out keep their
            value.
        """
        self.upsert_row("runs", run_key, fields)

    def get_run(self, run_key: str) -> dict[str, Any] | None:
        """The run's columns (JSON decoded), or None when it is not stored."""
        return self.get_row("runs", run_key)

    def runs_df(self, **filters: Any) -> pd.DataFrame:
        """Every run (one row each, oldest first), optionally filtered by column equality."""
        return self.frame("runs", filters)

    # ----------------------------------------------------------------- attacks
    def upsert_attack(self, attack_key: str, **fields: Any) -> None:
        """Insert or update one attack result; ``run_key`` must name a stored run.

        Parameters
        ----------
        attack_key : str
            From :func:`attack_key`.
        **fields
            ``run_key``, ``fold``, ``attack``, ``norm``, ``targeted``, ``params_json``,
            ``budgets_json``, ``fooling_rates_json``, ``auc``, ``cost_to_fr90``,
            ``grads_per_sample_json``, ``l0_mean``, ``l0_median``, ``l2_mean``,
            ``l2_median``, ``linf_mean``, ``linf_median``, ``snr_db_mean``, ``n_samples``,
            ``n_correct``, ``seconds``, ``status``, ``error``, ``artefacts_json``.
        """
        self.upsert_row("attacks", attack_key, fields)

    def get_attack(self, attack_key: str) -> dict[str, Any] | None:
        """The attack's columns (JSON decoded), or None."""
        return self.get_row("attacks", attack_key)

    def attacks_df(self, **filters: Any) -> pd.DataFrame:
        """Every attack result, optionally filtered by column equality (``run_key=...``)."""
        return self.frame("attacks", filters)

    # ----------------------------------------------------------------- transfers
    def upsert_transfer(self, transfer_key: str, **fields: Any) -> None:
        """Insert or update one transferability measurement.

        Parameters
        ----------
        transfer_key : str
            From :func:`transfer_key`.
        **fields
            ``source_run_key``, ``target_run_key`` (both stored runs), ``attack``, ``norm``,
            ``targeted``, ``params_json``, ``ratio``, ``n_fooling_source``,
            ``n_fooling_both``, ``n_samples``, ``seconds``, ``status``, ``error``.
        """
        self.upsert_row("transfers", transfer_key, fields)

    def transfers_df(self, **filters: Any) -> pd.DataFrame:
        """Every transfer measurement, optionally filtered by column equality."""
        return self.frame("transfers", filters)

    # ----------------------------------------------------------------- sweep points
    def add_points(self, sweep: str, notebook: str, points: Mapping[str, Mapping[str, Any]]) -> int:
        """Register grid points as pending; points already stored keep their state.

        Parameters
        ----------
        sweep : str
            Sweep name.
        notebook : str
            Notebook each point executes.
        points : mapping of str to mapping
            ``point_key -> parameters``.

        Returns
        -------
        int
            How many points were new.
        """
        stamp = now()
        rows = [
            (key, sweep, notebook, dumps(dict(params)), stamp, stamp)
            for key, params in points.items()
        ]

        def insert(conn: sqlite3.Connection) -> int:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO sweep_points "
                "(point_key, sweep, notebook, params_json, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            return conn.total_changes - before

        return int(self.write(insert))

    def claim_point(self, point_key: str, *, worker: str | None = None) -> bool:
        """Atomically move a pending or failed point to ``running``.

        Returns
        -------
        bool
            True when this caller claimed it; False when it is running or done elsewhere, or
            not registered.
        """
        stamp = now()

        def claim(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE sweep_points SET status = 'running', attempts = attempts + 1, "
                "started_at = ?, finished_at = NULL, error = NULL, worker = ?, updated_at = ? "
                "WHERE point_key = ? AND status IN ('pending', 'failed')",
                (stamp, worker, stamp, point_key),
            )
            return cursor.rowcount == 1

        return bool(self.write(claim))

    def mark_point(self, point_key: str, status: str, **fields: Any) -> None:
        """Set a point's status (inserting it when absent) and any other columns.

        ``running`` stamps ``started_at`` and counts an attempt; ``done`` and ``failed`` stamp
        ``finished_at``; ``pending`` clears both.

        Parameters
        ----------
        point_key : str
            The point.
        status : {"pending", "running", "done", "failed"}
            New state.
        **fields
            ``sweep``, ``notebook``, ``params_json``, ``run_key``, ``error``,
            ``notebook_path``, ``worker``.
        """
        sql, values = self._mark_statement(point_key, status, fields)
        self.write(lambda conn: conn.execute(sql, values))

    def merge_point(
        self,
        point_key: str,
        status: str,
        point_store: str | Path,
        *,
        before_commit: Callable[[], Any] | None = None,
        **fields: Any,
    ) -> int:
        """Copy what a point wrote into its own store, and set its status, in one transaction.

        Idempotent: the rows are upserted by key, so merging the same point store again
        leaves the same rows. See :mod:`specnb.store.point_stores`.

        Parameters
        ----------
        point_key : str
            The point.
        status : {"done", "failed", "pending", "running"}
            Its new state (as :meth:`mark_point`).
        point_store : str or Path
            The point's store (:func:`~specnb.store.point_stores.seed_point_store`); a
            missing file merges nothing.
        before_commit : callable, optional
            Called inside the transaction, after the rows are written.
        **fields
            Further ``sweep_points`` columns, as :meth:`mark_point`.

        Returns
        -------
        int
            Rows copied.
        """
        changes = changed_rows(Path(point_store))
        sql, values = self._mark_statement(point_key, status, fields)

        def merge(conn: sqlite3.Connection) -> int:
            count = merge_rows(conn, changes, before_commit)
            conn.execute(sql, values)
            return count

        return int(self.write(merge))

    def _mark_statement(
        self, point_key: str, status: str, fields: Mapping[str, Any]
    ) -> tuple[str, list[Any]]:
        """The upsert that :meth:`mark_point` runs."""
        for name in ("attempts", "started_at", "finished_at"):
            if name in fields:
                raise StoreError(f"sweep_points.{name} is set by mark_point itself")
        columns = self.columns("sweep_points")
        row = self.encode("sweep_points", {"status": status, **fields}, columns)
        stamp = now()
        stamps = {
            "pending": {"started_at": None, "finished_at": None},
            "running": {"started_at": stamp, "finished_at": None},
            "done": {"finished_at": stamp},
            "failed": {"finished_at": stamp},
        }[status]
        row.update(stamps)
        attempts = 1 if status == "running" else 0
        names = ["point_key", *row, "attempts", "created_at", "updated_at"]
        values = [point_key, *row.values(), attempts, stamp, stamp]
        updates = [f"{n} = excluded.{n}" for n in row]
        updates += [f"attempts = attempts + {attempts}", "updated_at = excluded.updated_at"]
        sql = (
            f"INSERT INTO sweep_points ({', '.join(names)}) "
            f"VALUES ({', '.join('?' * len(names))}) "
            f"ON CONFLICT (point_key) DO UPDATE SET {', '.join(updates)}"
        )
        return sql, values

    def get_point(self, point_key: str) -> dict[str, Any] | None:
        """The point's columns (JSON decoded), or None."""
        return self.get_row("sweep_points", point_key)

    def points_df(self, **filters: Any) -> pd.DataFrame:
        """Every sweep point, optionally filtered by column equality (``sweep=...``)."""
        return self.frame("sweep_points", filters)
