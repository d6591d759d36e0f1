"""The SQLite file under the results store: connections, retries, migrations, generic rows."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from specnb.errors import StoreError
from specnb.store.keys import dumps
from specnb.store.schema import MIGRATIONS, PRIMARY_KEYS, SET_BY_STORE, STATUSES

__all__ = ["REFUSED_STORES_VARIABLE", "Database", "StoreError", "decode", "now"]

#: Environment variable naming store files (separated by ``os.pathsep``) that this process
#: and its children refuse to open. Set it on the workers of a sweep that spans several
#: hosts, to the sweep's ``results.sqlite``: only the sweep's driver may open that file.
REFUSED_STORES_VARIABLE = "SPECNB_REFUSED_STORES"


def now() -> str:
    """The current UTC time as an ISO 8601 string (microseconds), as stored in ``*_at``."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _is_busy(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


class Database:
    """One SQLite file in WAL mode, written by short retried transactions from any process.

    Each process and thread gets its own connection, opened on first use and kept open (a
    connection opened after a fork never reuses the parent's). The object pickles without
    its connections, so it can be handed to forked or spawned workers.

    Parameters
    ----------
    path : str or Path
        The database file, or an existing folder, in which case the file is
        ``path / "results.sqlite"``. Missing parent folders are created.
    timeout : float
        Seconds a statement waits for another process's lock (SQLite busy timeout).
    retries : int
        How many times an operation that still finds the database locked is retried, with a
        growing random back-off, before :class:`StoreError` is raised.
    read_only : bool
        Open an existing file for reading only: nothing is created, migrated or written (a
        write raises :class:`StoreError`), so a finished store on a read-only file system or
        one owned by another user can be read.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        timeout: float = 30.0,
        retries: int = 20,
        read_only: bool = False,
    ) -> None:
        path = Path(path)
        if path.is_dir():
            path = path / "results.sqlite"
        if path.exists() and not path.is_file():
            raise StoreError(f"results store {path} is not a file")
        _refuse_if_named(path)
        if read_only and not path.is_file():
            raise StoreError(f"no results store at {path} to open read-only")
        self.path = path
        self.read_only = bool(read_only)
        self.timeout = float(timeout)
        self.retries = int(retries)
        self._column_cache: dict[str, dict[str, str]] = {}
        self._local = threading.local()
        if read_only:
            self.journal_mode = str(
                self.retry(lambda conn: conn.execute("PRAGMA journal_mode").fetchone()[0])
            ).lower()
            version = self.schema_version
            self._check_version(version)
            if version < len(MIGRATIONS):
                raise StoreError(
                    f"results store {path} has schema version {version}, older than this "
                    f"specnb's {len(MIGRATIONS)}; open it once for writing to bring it up to date"
                )
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"results store {path}: cannot create its folder ({error})") from error
        self.journal_mode = self.retry(self._set_wal)
        self.write(self._migrate)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_local"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----------------------------------------------------------------- connections
    def _connection(self) -> sqlite3.Connection:
        """This process's and thread's connection, opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        conn = (
            self._open()
            if self.read_only
            else sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            if not self.read_only:
                conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error:
            conn.close()
            raise
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _open(self) -> sqlite3.Connection:
        """A read-only connection; on a read-only folder, where SQLite cannot create the WAL
        index beside the file, the file is opened as immutable (nobody can change it there)."""
        uri = self.path.resolve().as_uri()
        conn = sqlite3.connect(
            f"{uri}?mode=ro", uri=True, timeout=self.timeout, isolation_level=None
        )
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            conn.close()
        return sqlite3.connect(
            f"{uri}?immutable=1", uri=True, timeout=self.timeout, isolation_level=None
        )

    def close(self) -> None:
        """Close this thread's connection (a later call opens a new one)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None

    def retry(self, operation: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``operation(conn)``, retrying while the database is locked or busy."""
        delay, attempt = 0.01, 0
        while True:
            try:
                return operation(self._connection())
            except sqlite3.OperationalError as error:
                if not _is_busy(error):
                    raise StoreError(f"results store {self.path}: {error}") from error
                if attempt == self.retries:
                    raise StoreError(
                        f"results store {self.path}: {error} (after {attempt} retries)"
                    ) from error
            except sqlite3.DatabaseError as error:
                raise StoreError(f"results store {self.path}: {error}") from error
            attempt += 1
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 1.0)

    def write(self, statements: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``statements`` in one ``BEGIN IMMEDIATE`` transaction (retried when locked).

        Raises
        ------
        StoreError
            The store was opened read-only.
        """
        if self.read_only:
            raise StoreError(f"results store {self.path} is open read-only; nothing is written")

        def transaction(conn: sqlite3.Connection) -> Any:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = statements(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result

        return self.retry(transaction)

    @staticmethod
    def _set_wal(conn: sqlite3.Connection) -> str:
        return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Bring the file to the newest schema (run inside one write transaction)."""
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        version = row[0] if row else 0
        self._check_version(version)
        if version == len(MIGRATIONS):
            return
        for step in MIGRATIONS[version:]:
            step(conn)
        conn.execute("DELETE FROM schema_version")
        conn.execute("INSERT INTO schema_version VALUES (?)", (len(MIGRATIONS),))

    def _check_version(self, version: int) -> None:
        if version > len(MIGRATIONS):
            raise StoreError(
                f"results store {self.path} has schema version {version}; this specnb "
                f"reads up to {len(MIGRATIONS)}"
            )

    @property
    def schema_version(self) -> int:
        """Schema version of the file."""
        row = self.retry(lambda c: c.execute("SELECT version FROM schema_version").fetchone())
        return int(row[0])

    # ----------------------------------------------------------------- generic rows
    def columns(self, table: str) -> dict[str, str]:
        """Column name -> declared SQL type."""
        if table not in self._column_cache:
            info = self.retry(lambda c: c.execute(f"PRAGMA table_info({table})").fetchall())
            self._column_cache[table] = {row[1]: row[2].upper() for row in info}
        return self._column_cache[table]

    def encode(
        self, table: str, fields: Mapping[str, Any], columns: Mapping[str, str]
    ) -> dict[str, Any]:
        """Validate column names and values, and turn values into SQLite ones."""
        encoded: dict[str, Any] = {}
        for name, value in fields.items():
            writable = [c for c in columns if c not in SET_BY_STORE[table]]
            if name not in writable:
                raise StoreError(f"{table} has no writable column {name!r}; known: {writable}")
            if name == "status" and value not in STATUSES:
                raise StoreError(f"{table}.status={value!r} is not one of {STATUSES}")
            if name.endswith("_json"):
                try:
                    value = dumps(value)
                except (TypeError, ValueError) as error:
                    raise StoreError(f"{table}.{name}: {error}") from error
            elif isinstance(value, np.generic):
                value = value.item()
            elif isinstance(value, bool):
                value = int(value)
            elif isinstance(value, Path):
                value = str(value)
            elif value is not None and not isinstance(value, (int, float, str)):
                raise StoreError(
                    f"{table}.{name} takes a number or a string, got {type(value).__name__}"
                )
            encoded[name] = value
        return encoded

    def upsert_row(self, table: str, key: str, fields: Mapping[str, Any]) -> None:
        """Insert the row ``key`` of ``table`` or update the given columns of it."""
        if not isinstance(key, str) or not key:
            raise StoreError(f"{table}.{PRIMARY_KEYS[table]} must be a non-empty string")
        row = self.encode(table, fields, self.columns(table))
        pk = PRIMARY_KEYS[table]
        stamp = now()
        assignments = ", ".join([f"{name} = ?" for name in row] + ["updated_at = ?"])
        update_sql = f"UPDATE {table} SET {assignments} WHERE {pk} = ?"
        update_values = [*row.values(), stamp, key]
        names = [pk, *row, "created_at", "updated_at"]
        insert_sql = (
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        )
        insert_values = [key, *row.values(), stamp, stamp]

        def update_or_insert(conn: sqlite3.Connection) -> None:
            if conn.execute(update_sql, update_values).rowcount == 0:
                conn.execute(insert_sql, insert_values)

        try:
            self.write(update_or_insert)
        except StoreError as error:
            if "FOREIGN KEY" in str(error):
                refs = {k: v for k, v in row.items() if k.endswith("run_key")}
                raise StoreError(
                    f"{table} row {key!r} refers to a run that is not in the store: {refs}"
                ) from error
            raise

    def get_row(self, table: str, key: str) -> dict[str, Any] | None:
        """The row ``key`` of ``table`` (JSON columns decoded), or None."""

        def read(conn: sqlite3.Connection) -> tuple[list[str], tuple | None]:
            cursor = conn.execute(f"SELECT * FROM {table} WHERE {PRIMARY_KEYS[table]} = ?", (key,))
            return [d[0] for d in cursor.description], cursor.fetchone()

        names, row = self.retry(read)
        if row is None:
            return None
        return {n: decode(n, v) for n, v in zip(names, row)}

    def frame(self, table: str, filters: Mapping[str, Any]) -> pd.DataFrame:
        """Rows of ``table`` matching ``filters`` (column equality), oldest first."""
        columns = self.columns(table)
        unknown = sorted(set(filters) - set(columns))
        if unknown:
            raise StoreError(
                f"{table} has no column {unknown[0]!r} to filter on; known: {list(columns)}"
            )
        where = " AND ".join(f"{name} = ?" for name in filters)
        sql = f"SELECT * FROM {table}" + (f" WHERE {where}" if where else "")
        sql += " ORDER BY created_at, rowid"
        values = list(filters.values())
        frame = self.retry(lambda conn: pd.read_sql_query(sql, conn, params=values))
        for name in frame.columns:
            if name.endswith("_json"):
                frame[name] = [decode(name, v) for v in frame[name]]
            elif columns[name] == "REAL":
                frame[name] = frame[name].astype("float64")
            elif columns[name] == "INTEGER":
                frame[name] = frame[name].astype("Int64")
        return frame


def _refuse_if_named(path: Path) -> None:
    """Raise :class:`StoreError` when :data:`REFUSED_STORES_VARIABLE` names ``path``."""
    named = os.environ.get(REFUSED_STORES_VARIABLE, "")
    refused = {Path(p).expanduser().resolve() for p in named.split(os.pathsep) if p}
    if path.expanduser().resolve() in refused:
        raise StoreError(
            f"results store {path} may not be opened in this process "
            f"({REFUSED_STORES_VARIABLE} names it): on a sweep across hosts only the "
            "sweep's driver opens it; a notebook writes to the STORE it is given"
        )


def decode(name: str, value: Any) -> Any:
    """Decode a stored value: JSON columns back into Python objects."""
    if name.endswith("_json") and isinstance(value, str):
        return json.loads(value)
    return value
