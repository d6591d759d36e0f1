"""Where the points run: a local Dask cluster (one worker per GPU) or an existing scheduler.

Each worker has one thread, so it executes one notebook at a time; the notebook's kernel is
a child process of the worker and inherits its environment. With CUDA present, each worker
sees one GPU (``CUDA_VISIBLE_DEVICES`` pinned per worker), so every notebook that picks
``cuda`` when available lands on its own device.

A Dask client can run any code on the workers, so nobody else may connect one. The local
cluster listens on 127.0.0.1 only and speaks TLS with a key pair made for it and held in
memory (:meth:`distributed.security.Security.temporary`): a client without that pair, or a
plain ``tcp://`` one, is refused. No HTTP server stays up (the dashboard and the workers'
metrics pages are closed as they start) unless the dashboard is asked for, and then it
listens on 127.0.0.1 only.

On a SLURM cluster, start the workers with dask-jobqueue (not a dependency of specnb; the
runner never imports it), with TLS certificates (``sweeps/README.md`` shows how), and give
the runner the scheduler's ``tls://`` address and the client's certificate files::

    $ specnb sweep sweeps/paper.yaml --scheduler tls://10.0.0.5:8786 --out /scratch/sweep \\
          --tls-ca-file ca.pem --tls-cert client.pem --tls-key client.key

Without these options the client takes Dask's own TLS settings
(``distributed.comm.tls.ca-file``, ``distributed.comm.tls.client.cert`` and ``.key``, or the
``DASK_DISTRIBUTED__COMM__TLS__...`` environment variables). SLURM sets
``CUDA_VISIBLE_DEVICES`` for each job itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from specnb.errors import ParameterError

if TYPE_CHECKING:
    from distributed import Client, LocalCluster
    from distributed.security import Security

__all__ = [
    "CPU_WORKERS_MAX",
    "connect",
    "cpu_thread_env",
    "cuda_devices",
    "default_workers",
    "local_cluster",
    "tls_security",
]

#: Where the local cluster and its dashboard listen.
LOCAL_HOST = "127.0.0.1"


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


#: Most workers a local cluster starts by default on a machine without CUDA devices.
CPU_WORKERS_MAX = 4


def default_workers(devices: list[str]) -> int:
    """Workers of a local cluster when none are asked for: one per CUDA device, else one per
    CPU core up to :data:`CPU_WORKERS_MAX`.

    Examples
    --------
    >>> default_workers(["0", "1"])
    2
    """
    if devices:
        return len(devices)
    return max(1, min(os.cpu_count() or 1, CPU_WORKERS_MAX))


def cpu_thread_env(workers: int) -> dict[str, str]:
    """Environment of a CPU worker: its share of the cores as the thread count of torch and
    BLAS in its notebooks; an ``OMP_NUM_THREADS`` already set is kept.

    Parameters
    ----------
    workers : int
        Workers sharing this machine's cores.

    Returns
    -------
    dict of str to str
        ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS``.

    Examples
    --------
    >>> env = cpu_thread_env(1)
    >>> env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"]
    True
    """
    threads = os.environ.get("OMP_NUM_THREADS") or str(
        max(1, (os.cpu_count() or 1) // max(1, workers))
    )
    return {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}


def local_cluster(
    workers: int | None = None,
    devices: list[str] | None = None,
    *,
    dashboard: int | None = None,
) -> LocalCluster:
    """A :class:`distributed.LocalCluster` of single-thread worker processes, over TLS.

    Parameters
    ----------
    workers : int, optional
        Number of workers. Default: one per device; without devices, one per CPU core up to
        :data:`CPU_WORKERS_MAX`. On the CPU the cores are shared out: each worker's notebooks
        get ``cores // workers`` threads (``OMP_NUM_THREADS``, unless it is set already),
        so two notebooks on a 2-core CPU run side by side instead of fighting for both cores.
    devices : list of str, optional
        CUDA devices; worker ``i`` sees only ``devices[i % len(devices)]``. Default:
        :func:`cuda_devices`.
    dashboard : int, optional
        Serve Dask's dashboard on this port of 127.0.0.1 (0: any free port; the cluster's
        ``dashboard_link`` tells which). Default: no dashboard and no HTTP server at all.

    Returns
    -------
    distributed.LocalCluster
        Started, listening on ``tls://127.0.0.1``; its ``security`` holds the only key pair
        that connects (``Client(cluster)`` uses it). Close it (or use it as a context
        manager) when done.

    Raises
    ------
    ParameterError
        ``workers`` below 1 or ``dashboard`` not a port number.
    """
    from distributed import LocalCluster
    from distributed.security import Security

    from .no_http import SchedulerWithoutHttp, WorkerWithoutHttp

    devices = cuda_devices() if devices is None else list(devices)
    count = workers if workers is not None else default_workers(devices)
    if count < 1:
        raise ParameterError(f"workers must be at least 1, got {count}")
    if dashboard is not None and not 0 <= dashboard <= 65535:
        raise ParameterError(f"dashboard must be a port number (0 to 65535), got {dashboard}")
    port = 0 if dashboard is None else dashboard
    cluster = LocalCluster(
        n_workers=0,
        threads_per_worker=1,
        processes=True,
        memory_limit=0,
        silence_logs=logging.ERROR,
        host=LOCAL_HOST,
        protocol="tls://",
        security=Security.temporary(),
        dashboard_address=f"{LOCAL_HOST}:{port}",
        scheduler_kwargs={
            "dashboard": dashboard is not None,
            "plugins": [] if dashboard is not None else [SchedulerWithoutHttp()],
        },
        plugins=(WorkerWithoutHttp(),),
    )
    template = cluster.new_spec
    for i in range(count):
        options = dict(template["options"])
        name = f"worker-{i}"
        if devices:
            device = devices[i % len(devices)]
            options["env"] = {"CUDA_VISIBLE_DEVICES": device}
            name = f"cuda-{device}-{i}"
        else:
            options["env"] = cpu_thread_env(count)
        cluster.worker_spec[name] = {"cls": template["cls"], "options": options}
    cluster.scale(count)
    return cluster


def tls_security(
    ca_file: str | Path | None = None,
    cert: str | Path | None = None,
    key: str | Path | None = None,
) -> Security | None:
    """The client's TLS credentials for a scheduler started with certificates.

    Parameters
    ----------
    ca_file : str or Path, optional
        PEM file of the certificate authority that signed the scheduler's and workers'
        certificates.
    cert : str or Path, optional
        PEM file of the client's certificate (may hold its key too).
    key : str or Path, optional
        PEM file of the client's private key.

    Returns
    -------
    distributed.security.Security or None
        None when no file is given (Dask's own configuration then applies); otherwise
        credentials that require encryption.

    Raises
    ------
    ParameterError
        A file that does not exist, a key without a certificate, or a certificate without
        a certificate authority (or the other way round).
    """
    from distributed.security import Security

    files = {"--tls-ca-file": ca_file, "--tls-cert": cert, "--tls-key": key}
    if all(value is None for value in files.values()):
        return None
    for option, value in files.items():
        if value is not None and not Path(value).is_file():
            raise ParameterError(f"{option}: no such file {value}")
    if ca_file is None or cert is None:
        given = [option for option, value in files.items() if value is not None]
        raise ParameterError(
            f"{', '.join(given)} given without --tls-ca-file and --tls-cert: a TLS client "
            "needs both (and --tls-key when the certificate file does not hold the key)"
        )
    return Security(
        tls_ca_file=str(ca_file),
        tls_client_cert=str(cert),
        tls_client_key=None if key is None else str(key),
        require_encryption=True,
    )


@contextmanager
def connect(
    scheduler: str | None = None,
    workers: int | None = None,
    *,
    security: Security | None = None,
    dashboard: int | None = None,
) -> Iterator[Client]:
    """A Dask client: on an existing scheduler, or on a :func:`local_cluster` closed after.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tls://host:8786``).
    workers : int, optional
        Workers of the local cluster (ignored with ``scheduler``).
    security : distributed.security.Security, optional
        Credentials for ``scheduler`` (:func:`tls_security`). Default: Dask's configuration.
    dashboard : int, optional
        Dashboard port of the local cluster (see :func:`local_cluster`).

    Yields
    ------
    distributed.Client

    Raises
    ------
    ConnectionError
        The scheduler cannot be reached or refused the client's credentials.
    """
    from distributed import Client

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s", security=security)
        except (OSError, TypeError, ValueError) as error:
            raise ConnectionError(
                f"cannot reach the Dask scheduler at {scheduler}: {error} (a tls:// "
                "scheduler needs --tls-ca-file, --tls-cert and --tls-key, or Dask's TLS "
                "configuration)"
            ) from error
        with client:
            yield client
        return
    with local_cluster(workers, dashboard=dashboard) as cluster, Client(cluster) as client:
        yield client
