"""Schema of the results store and the migrations that build and upgrade it."""

from __future__ import annotations

import sqlite3
from typing import Callable

__all__ = ["MIGRATIONS", "PRIMARY_KEYS", "SCHEMA_VERSION", "SET_BY_STORE", "STATUSES"]

#: States shared by runs, attacks, transfers and sweep points.
STATUSES = ("pending", "running", "done", "failed")

_STATUS_CHECK = "CHECK (status IN ('pending', 'running', 'done', 'failed'))"

_SCHEMA_V1 = f"""
CREATE TABLE runs (
    run_key TEXT PRIMARY KEY,
    dataset TEXT,
    repr TEXT,
    setting_key TEXT,
    setting_json TEXT,
    model TEXT,
    seed INTEGER,
    protocol_json TEXT,
    status TEXT NOT NULL DEFAULT 'pending' {_STATUS_CHECK},
    device TEXT,
    acc_mean REAL,
    acc_std REAL,
    fold_accs_json TEXT,
    n_params INTEGER,
    epochs_json TEXT,
    train_seconds REAL,
    checkpoint_path TEXT,
    artefacts_json TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX runs_lookup ON runs (dataset, repr, model);

CREATE TABLE attacks (
    attack_key TEXT PRIMARY KEY,
    run_key TEXT NOT NULL REFERENCES runs (run_key),
    fold INTEGER,
    attack TEXT NOT NULL,
    norm TEXT,
    targeted INTEGER,
    params_json TEXT,
    budgets_json TEXT,
    fooling_rates_json TEXT,
    auc REAL,
    cost_to_fr90 REAL,
    grads_per_sample_json TEXT,
    l0_mean REAL,
    l0_median REAL,
    l2_mean REAL,
    l2_median REAL,
    linf_mean REAL,
    linf_median REAL,
    snr_db_mean REAL,
    n_samples INTEGER,
    n_correct INTEGER,
    seconds REAL,
    status TEXT NOT NULL DEFAULT 'pending' {_STATUS_CHECK},
    error TEXT,
    artefacts_json TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX attacks_by_run ON attacks (run_key, attack);

CREATE TABLE transfers (
    transfer_key TEXT PRIMARY KEY,
    source_run_key TEXT NOT NULL REFERENCES runs (run_key),
    target_run_key TEXT NOT NULL REFERENCES runs (run_key),
    attack TEXT NOT NULL,
    norm TEXT,
    targeted INTEGER,
    params_json TEXT,
    ratio REAL,
    n_fooling_source INTEGER,
    n_fooling_both INTEGER,
    n_samples INTEGER,
    seconds REAL,
    status TEXT NOT NULL DEFAULT 'pending' {_STATUS_CHECK},
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX transfers_pair ON transfers (source_run_key, target_run_key);

CREATE TABLE sweep_points (
    point_key TEXT PRIMARY KEY,
    sweep TEXT,
    notebook TEXT,
    params_json TEXT,
    status TEXT NOT NULL DEFAULT 'pending' {_STATUS_CHECK},
    run_key TEXT,
    error TEXT,
    notebook_path TEXT,
    worker TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    started_at TEXT,
    finished_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX points_by_sweep ON sweep_points (sweep, status);
"""


def _create_v1(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V1.split(";"):
        if statement.strip():
            conn.execute(statement)


def _add_target_rates(conn: sqlite3.Connection) -> None:
    """Version 2: targeted attacks keep misclassification and target hits apart.

    ``fooling_rates_json``, ``auc`` and ``cost_to_fr90`` hold the misclassification curve
    (the paper's fooling rate) for every attack; targeted attacks add the share that hits the
    target in ``target_rates_json`` and ``target_auc``. Version 1 stored the target-hit curve
    of targeted attacks in the misclassification columns: it moves to the new columns, and
    the misclassification columns of those rows become NULL (never measured) until the attack
    runs again.
    """
    conn.execute("ALTER TABLE attacks ADD COLUMN target_rates_json TEXT")
    conn.execute("ALTER TABLE attacks ADD COLUMN target_auc REAL")
    conn.execute(
        "UPDATE attacks SET target_rates_json = fooling_rates_json, target_auc = auc, "
        "fooling_rates_json = NULL, auc = NULL, cost_to_fr90 = NULL "
        "WHERE targeted = 1 AND fooling_rates_json IS NOT NULL"
    )


#: ``MIGRATIONS[i]`` upgrades a database from schema version ``i`` to ``i + 1`` (version 0 is
#: an empty file). A new schema appends one function; opening an older file applies the
#: missing steps in order, inside one transaction.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_create_v1, _add_target_rates]

#: Version of the schema this code writes.
SCHEMA_VERSION = len(MIGRATIONS)

#: Primary-key column of each table.
PRIMARY_KEYS = {
    "runs": "run_key",
    "attacks": "attack_key",
    "transfers": "transfer_key",
    "sweep_points": "point_key",
}


#: Columns the store fills itself, per table.
SET_BY_STORE = {
    table: frozenset({key, "created_at", "updated_at"}) for table, key in PRIMARY_KEYS.items()
}
