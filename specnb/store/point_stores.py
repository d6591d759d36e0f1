"""A results store of one's own for each sweep point, merged back by the sweep's one writer.

SQLite's WAL mode needs memory shared by every process that opens the file, hence one host:
on a sweep whose workers run on several nodes only the sweep's driver may open the sweep's
store. Each point's notebook then writes into a store in its own run folder, seeded just
before it runs with a copy of the sweep's results (runs, attacks and transfers, so the
notebook reads what its dependencies recorded). Once the point's notebook is in place the
driver copies the rows the point added or changed into the sweep's store and records the
point's status, in one transaction; a copy is an upsert by primary key, so merging twice
leaves the same rows as merging once.

Which seeded rows a point changed is told by their ``updated_at`` (the store sets it at
every write), compared with the value recorded at seeding in the point store's
``merge_base`` table; no clock is compared across hosts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from specnb.store.database import Database
from specnb.store.schema import PRIMARY_KEYS

__all__ = [
    "MERGED_TABLES",
    "changed_rows",
    "merge_rows",
    "remove_store_files",
    "seed_point_store",
]

#: Tables a point store carries, in foreign-key order (runs before what refers to them).
MERGED_TABLES = ("runs", "attacks", "transfers")

_BASE_TABLE = "merge_base"


def remove_store_files(path: Path) -> None:
    """Delete the SQLite file ``path`` and its journal files, where they exist."""
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal"):
        (path.parent / name).unlink(missing_ok=True)


def _rows(conn: sqlite3.Connection, table: str) -> tuple[list[str], list[tuple]]:
    cursor = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
    return [d[0] for d in cursor.description], cursor.fetchall()


def seed_point_store(source: Database, path: Path) -> Path:
    """Make ``path`` a fresh store holding a copy of ``source``'s results.

    Parameters
    ----------
    source : Database
        The sweep's store (read only).
    path : Path
        The point store; an earlier one there is replaced.

    Returns
    -------
    Path
        ``path``.
    """
    copies = source.retry(lambda conn: [(t, *_rows(conn, t)) for t in MERGED_TABLES])
    remove_store_files(path)
    point = Database(path)

    def fill(conn: sqlite3.Connection) -> None:
        conn.execute(
            f"CREATE TABLE {_BASE_TABLE} (tbl TEXT NOT NULL, key TEXT NOT NULL, "
            "updated_at TEXT, PRIMARY KEY (tbl, key))"
        )
        for table, names, rows in copies:
            if not rows:
                continue
            marks = ", ".join("?" * len(names))
            conn.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)
            key, stamp = names.index(PRIMARY_KEYS[table]), names.index("updated_at")
            conn.executemany(
                f"INSERT INTO {_BASE_TABLE} VALUES (?, ?, ?)",
                [(table, row[key], row[stamp]) for row in rows],
            )

    point.write(fill)
    point.close()
    return path


def changed_rows(path: Path) -> list[tuple[str, list[str], list[tuple]]]:
    """The rows a point store added or changed since it was seeded.

    Parameters
    ----------
    path : Path
        The point store. A missing file has no rows (its notebook wrote none); a store
        that was not seeded gives all its rows.

    Returns
    -------
    list of (table, column names, rows)
        In :data:`MERGED_TABLES` order.
    """
    if not path.is_file():
        return []
    point = Database(path)

    def read(conn: sqlite3.Connection) -> list[tuple[str, list[str], list[tuple]]]:
        seeded = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (_BASE_TABLE,)
        ).fetchone()
        base: dict[tuple[str, str], str] = {}
        if seeded:
            base = {(t, k): u for t, k, u in conn.execute(f"SELECT * FROM {_BASE_TABLE}")}
        changed = []
        for table in MERGED_TABLES:
            names, rows = _rows(conn, table)
            key, stamp = names.index(PRIMARY_KEYS[table]), names.index("updated_at")
            rows = [r for r in rows if base.get((table, r[key])) != r[stamp]]
            changed.append((table, names, rows))
        return changed

    try:
        return point.retry(read)
    finally:
        point.close()


def merge_rows(
    conn: sqlite3.Connection,
    changes: Iterable[tuple[str, list[str], list[tuple]]],
    before_commit: Callable[[], Any] | None = None,
) -> int:
    """Upsert ``changes`` (from :func:`changed_rows`) inside the caller's transaction.

    A row already present keeps its ``created_at`` and takes every other column from the
    point store.

    Parameters
    ----------
    conn : sqlite3.Connection
        A connection to the sweep's store, inside a write transaction.
    changes : iterable of (table, column names, rows)
        What to copy.
    before_commit : callable, optional
        Called after the rows are written (a test stops the process there).

    Returns
    -------
    int
        Rows written.
    """
    count = 0
    for table, names, rows in changes:
        if not rows:
            continue
        pk = PRIMARY_KEYS[table]
        updates = ", ".join(f"{n} = excluded.{n}" for n in names if n not in (pk, "created_at"))
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
            f"ON CONFLICT ({pk}) DO UPDATE SET {updates}",
            rows,
        )
        count += len(rows)
    if before_commit is not None:
        before_commit()
    return count
