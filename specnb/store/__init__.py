"""The results store: one embedded SQLite database per run folder.

Every notebook of the chain writes here and the report reads from here. The database runs in
WAL mode with a busy timeout and every write is one short ``BEGIN IMMEDIATE`` transaction,
retried while another process holds the lock, so any number of processes (papermill
executions on Dask workers) can write at once.

Tables
------
``runs``
    One trained setting (dataset, representation setting, model, seed, protocol), keyed by
    :func:`run_key`: accuracy over the fold models, epochs, checkpoint folder.
``attacks``
    One attack on one run (optionally one fold model), keyed by :func:`attack_key`: budget
    grid, fooling-rate curve, AUC, cost, perturbation sizes.
``transfers``
    Transferability of one attack from a source run to a target run (Table 9), keyed by
    :func:`transfer_key`.
``sweep_points``
    One papermill execution of a sweep grid point and its state.
``schema_version``
    The schema version; :data:`MIGRATIONS` upgrades older files when they are opened.

Columns whose name ends in ``_json`` take any JSON-serialisable value (numpy scalars and
arrays, tensors, paths included) and are decoded back into Python objects when read.

Modules
-------
- ``database`` -- The SQLite file under the results store: connections, retries, migrations, generic
  rows.
- ``keys`` -- Stable keys: the hashes that identify runs, attacks and transfers in the store.
- ``point_stores`` -- A results store of one's own for each sweep point, merged back by the
  sweep's one writer.
- ``results`` -- The results store's public face: runs, attacks, transfers and sweep points.
- ``schema`` -- Schema of the results store and the migrations that build and upgrade it.
"""

from specnb.store.database import StoreError
from specnb.store.keys import attack_key, run_key, stable_key, transfer_key
from specnb.store.results import ResultsStore
from specnb.store.schema import MIGRATIONS, SCHEMA_VERSION, STATUSES

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "STATUSES",
    "ResultsStore",
    "StoreError",
    "attack_key",
    "run_key",
    "stable_key",
    "transfer_key",
]
