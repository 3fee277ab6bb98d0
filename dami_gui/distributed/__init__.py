"""``dami select --engine dask``: the pool-wide work of a round as Dask computations.

An optional room (the ``dami-gui[dask]`` extra): it may import :mod:`dami_gui.core`, ``dask``
and ``distributed``; the core and the app never import it, and the command line only when
``--engine dask`` is given. The bundle built by ``packaging/`` leaves Dask out.

* :mod:`~dami_gui.distributed.reading`: the pool (CSV, a glob of CSVs, Parquet) as partitions;
* :mod:`~dami_gui.distributed.features`: the preprocessing fitted by reductions over them;
* :mod:`~dami_gui.distributed.kernels`: the network's outputs and dp/dx in numpy (no torch on
  the workers);
* :mod:`~dami_gui.distributed.tasks`: what one partition does in each pass;
* :mod:`~dami_gui.distributed.engine`: the round (training on the client, DAMI+ with k-means||
  seeding, or random);
* :mod:`~dami_gui.distributed.cluster`: a local cluster, or the scheduler the user names.

See docs/dask.md.
"""

from __future__ import annotations

from importlib.util import find_spec

#: The packages of the extra, by the name they are imported with.
EXTRA = ("dask", "distributed", "pyarrow")


def missing_packages() -> list[str]:
    """The packages of the ``dask`` extra that are not installed."""
    return [name for name in EXTRA if find_spec(name) is None]
