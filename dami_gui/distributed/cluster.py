"""Where the pool-wide work runs: a ``distributed.LocalCluster`` by default, or a scheduler the
user names (``tcp://host:8786``) for a real cluster.

A local cluster starts worker processes (``spawn``), which import the program's main module
again: the ``dami`` command guards its entry point, and a frozen program would need
``multiprocessing.freeze_support()`` (the bundle excludes Dask, so it never starts one).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dami_gui.core.errors import DamiError

#: Local workers are processes (one thread each); tests set False (threads, faster to start).
PROCESSES = True

#: Seconds to wait for a scheduler given by address.
CONNECT_TIMEOUT = 10


def memory_bytes(text: str) -> int:
    """``--memory-per-worker`` ("2GB", "1.5GiB", "800MB") in bytes; a DamiError when unreadable."""
    from dask.utils import parse_bytes

    try:
        value = int(parse_bytes(text))
    except (ValueError, TypeError, KeyError):
        value = 0
    if value <= 0:
        raise DamiError(f"--memory-per-worker must be a size such as 2GB or 1.5GiB, not '{text}'.")
    return value


@contextmanager
def connect(scheduler: str | None, workers: int, memory: int | None) -> Iterator[tuple[Any, str]]:
    """A ``distributed.Client`` and a description of where it runs; the local cluster (if any)
    is closed on exit."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT}s")
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            raise DamiError(
                f"Cannot reach the Dask scheduler at '{scheduler}' ({type(exc).__name__}); give "
                "its address as tcp://HOST:8786 and check that it is running."
            ) from None
        try:
            n = len(client.scheduler_info().get("workers", {}))
            yield client, f"the scheduler at {scheduler} ({n} workers)"
        finally:
            client.close()
        return
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=PROCESSES,
        memory_limit=memory if memory is not None else "auto",
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    try:
        limit = f", {memory / 2**30:.2f} GiB each" if memory else ""
        yield client, f"a local cluster of {workers} workers{limit}"
    finally:
        client.close()
        cluster.close()
