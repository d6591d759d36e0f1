"""Where the points run: a local Dask cluster (one worker per GPU) or an existing scheduler.

Each worker has one thread, so it executes one notebook at a time; the notebook's kernel is
a child process of the worker and inherits its environment. With CUDA present, each worker
sees one GPU (``CUDA_VISIBLE_DEVICES`` pinned per worker), so every notebook that picks
``cuda`` when available lands on its own device.

On a SLURM cluster, start the workers with dask-jobqueue (not a dependency of specnb; the
runner never imports it) and give the runner the scheduler's address::

    # slurm_cluster.py: keep this process running while the sweep runs
    from dask_jobqueue import SLURMCluster

    cluster = SLURMCluster(
        queue="gpu", cores=1, processes=1, memory="32GB", walltime="12:00:00",
        job_extra_directives=["--gres=gpu:1"],   # one GPU per job, hence per worker
        worker_extra_args=["--nthreads", "1"],
    )
    cluster.scale(jobs=8)
    print(cluster.scheduler_address)            # e.g. tcp://10.0.0.5:8786
    input("press Enter to stop the workers")

    $ specnb sweep sweeps/paper.yaml --scheduler tcp://10.0.0.5:8786 --out /scratch/sweep

SLURM sets ``CUDA_VISIBLE_DEVICES`` for each job itself. The output folder must be visible
from every node, and the results database in it needs a file system where SQLite's locks
work (a local disk, or a cluster file system with POSIX locks; not NFS).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from specnb.errors import ParameterError

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

__all__ = ["connect", "cuda_devices", "local_cluster"]


def cuda_devices() -> list[str]:
    """The CUDA devices this process may use, as ``CUDA_VISIBLE_DEVICES`` entries.

    Returns
    -------
    list of str
        Empty without CUDA. Honours an existing ``CUDA_VISIBLE_DEVICES``.
    """
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    visible = [d.strip() for d in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")]
    visible = [d for d in visible if d]
    if visible:
        return visible[:count]
    return [str(i) for i in range(count)]


def local_cluster(
    workers: int | None = None, devices: list[str] | None = None
) -> LocalCluster:
    """A :class:`distributed.LocalCluster` of single-thread worker processes.

    Parameters
    ----------
    workers : int, optional
        Number of workers. Default: one per device, or 1 without devices.
    devices : list of str, optional
        CUDA devices; worker ``i`` sees only ``devices[i % len(devices)]``. Default:
        :func:`cuda_devices`.

    Returns
    -------
    distributed.LocalCluster
        Started; close it (or use it as a context manager) when done.
    """
    from distributed import LocalCluster

    devices = cuda_devices() if devices is None else list(devices)
    count = workers if workers is not None else max(1, len(devices))
    if count < 1:
        raise ParameterError(f"workers must be at least 1, got {count}")
    cluster = LocalCluster(
        n_workers=0, threads_per_worker=1, processes=True, dashboard_address=None,
        memory_limit=0, silence_logs=logging.ERROR,
    )
    template = cluster.new_spec
    for i in range(count):
        options = dict(template["options"])
        name = f"worker-{i}"
        if devices:
            device = devices[i % len(devices)]
            options["env"] = {"CUDA_VISIBLE_DEVICES": device}
            name = f"cuda-{device}-{i}"
        cluster.worker_spec[name] = {"cls": template["cls"], "options": options}
    cluster.scale(count)
    return cluster


@contextmanager
def connect(scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """A Dask client: on an existing scheduler, or on a :func:`local_cluster` closed after.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``).
    workers : int, optional
        Workers of the local cluster (ignored with ``scheduler``).

    Yields
    ------
    distributed.Client
    """
    from distributed import Client

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as error:
            raise ConnectionError(
                f"cannot reach the Dask scheduler at {scheduler}: {error}"
            ) from error
        with client:
            yield client
        return
    with local_cluster(workers) as cluster, Client(cluster) as client:
        yield client
