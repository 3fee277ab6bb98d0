"""``dami select --engine dask``: the options, the check that the extra is installed, and the
table of picks written as the in-memory ``dami select`` writes it.

The only module of the command line that imports :mod:`dami_gui.distributed`, and only inside
:func:`run_dask_select`, so that ``dami`` works without the ``dask`` extra.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from dami_gui.cli.common import check_positive, class_list, learner_of, say
from dami_gui.core.errors import DamiError
from dami_gui.core.learner import DEFAULT_LEARNER


def add_dask_options(p: argparse.ArgumentParser) -> None:
    """``--engine`` and the options of the Dask engine."""
    p.add_argument(
        "--engine",
        choices=("memory", "dask"),
        default="memory",
        help="memory: read the whole pool into this process (default); dask: a CSV, a glob of "
        "CSVs or a Parquet file/folder, processed by partitions on a Dask cluster (needs the "
        "dami-gui[dask] extra; docs/dask.md)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --engine dask: a running Dask scheduler (tcp://HOST:8786); default: a local "
        "cluster",
    )
    p.add_argument(
        "--workers", type=int, default=2, metavar="N", help="local cluster: worker processes (2)"
    )
    p.add_argument(
        "--memory-per-worker",
        metavar="SIZE",
        help="local cluster: memory limit of each worker, e.g. 2GB (default: an equal share)",
    )


def run_dask_select(args: argparse.Namespace) -> int:
    """The round on Dask, then the same table and messages as the in-memory ``select``."""
    import pandas as pd

    from dami_gui.core.project.export import write_table
    from dami_gui.distributed import missing_packages

    missing = missing_packages()
    if missing:
        raise DamiError(
            f"--engine dask needs {', '.join(missing)}, which is not installed here; install "
            'the extra with: pip install "dami-gui[dask]" (or leave out --engine dask).'
        )
    check_positive("batch", args.batch)
    check_positive("workers", args.workers)
    from dami_gui.distributed import cluster, engine, features, reading

    if args.strategy not in engine.STRATEGIES:
        raise DamiError(
            f"--engine dask runs the strategies {engine.strategies_text()}, not "
            f"'{args.strategy}'; use one of them, or the default --engine memory."
        )
    memory = cluster.memory_bytes(args.memory_per_worker) if args.memory_per_worker else None
    classes = class_list(args.classes)
    # a bad path or file (a pipe, an empty file): one sentence before any cluster starts
    if reading.pool_kind(str(args.pool)) == "csv":
        reading.check_csv_files(str(args.pool))
    with cluster.connect(args.scheduler, args.workers, memory) as (client, where):
        say(f"Running on {where}.")
        workers = max(len(client.scheduler_info().get("workers", {})), 1)
        frame = reading.open_pool(str(args.pool), workers)
        try:
            result = engine.select(
                client,
                frame,
                name=Path(str(args.pool)).name,
                label_column=args.label_column,
                id_column=args.id_column,
                classes=classes,
                strategy=args.strategy,
                batch=args.batch,
                seed=args.seed,
                learner=learner_of(args.learner) or DEFAULT_LEARNER,
                say=say,
            )
        except Exception as exc:  # a worker's failure comes back as the worker raised it
            raise _sentence(exc) from None
    print(result.report.describe(), file=sys.stderr)
    say(
        f"(The roles and kinds above were decided on the first {features.SAMPLE_ROWS:,} rows; "
        "the counts below are the whole pool's.)"
    )
    print(
        f"{result.n_rows} rows, {result.n_features} features, {len(result.classes)} classes, "
        f"{result.n_labeled} labeled.",
        file=sys.stderr,
    )
    rows = result.rows
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(rows) + 1),
            "id": result.ids,
            "row": rows + 1,
            "score": result.scores,
            "region": result.regions,
            "group": result.groups,
            "predicted": result.predicted,
        }
    )
    write_table(table, args.out, "the rows to label")
    print(table.to_string(index=False, max_rows=40))
    if len(table) == 0:
        print("Every row already has a label: there is nothing left to select.", file=sys.stderr)
    elif result.cold_start:
        print(
            "No model can be trained yet (fewer than two classes labeled): these rows are the "
            "central rows of groups of similar rows that the labeled rows leave uncovered "
            "(score: the share of the pool its group holds). Label them, then run select again.",
            file=sys.stderr,
        )
    stages = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.timings.items())
    say(f"Stages: {stages}.")
    print(f"Wrote {len(table)} rows to label next to {args.out}.", file=sys.stderr)
    return 0


def _sentence(exc: Exception) -> DamiError:
    """A failure on the cluster as one sentence (a DamiError raised on a worker is kept)."""
    if isinstance(exc, DamiError):
        return exc
    name = type(exc).__name__
    if name == "KilledWorker":
        return DamiError(
            "A Dask worker died (most often: it ran out of memory); give each worker more "
            "memory (--memory-per-worker), more workers, or smaller partitions."
        )
    if isinstance(exc, OSError | ValueError | KeyError):
        return DamiError(f"The pool could not be processed ({name}: {exc}); check the files.")
    raise exc
