"""The pool as a Dask DataFrame: a CSV file, a glob of CSV files, or a Parquet file or folder.

CSV cells are read as text (nothing turned into NaN or a number by the reader), as the core's
reader does, so that labels such as "NA" and ids with leading zeros stay what was written; the
separator is the core's guess from the first file's first lines; the files must be UTF-8. Parquet
columns keep their types (the core reads numbers and text columns alike).

Paths with a scheme (``s3://``, ``gs://``, ``hdfs://``) are passed to Dask as they are: the
workers read them (with ``s3fs``/``gcsfs`` installed there); one without a suffix is taken for a
folder of Parquet files.

``read_parquet`` makes one partition per file (or row group): a pool with fewer partitions than
workers is split, so that every worker has a share.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

from dami_gui.core.data.dialect import detect_separator
from dami_gui.core.errors import DataError

PARQUET = (".parquet", ".parq", ".pq")
CSV = (".csv", ".txt", ".tsv")

#: Bytes of CSV per partition.
CSV_BLOCK = "64MB"

ADVICE = "give a CSV file, a glob of CSV files (quoted), or a Parquet file or folder"


def _remote(path: str) -> bool:
    return "://" in path


def pool_kind(path: str) -> str:
    """ "csv" or "parquet", from the path (a folder is Parquet); a DataError when neither."""
    files = [path] if _remote(path) else sorted(glob.glob(path))
    if not _remote(path) and not files:
        raise DataError(f"No file matches '{path}'; {ADVICE}.")
    first = files[0]
    if not _remote(first) and Path(first).is_dir():
        return "parquet"
    suffix = Path(first.rstrip("/")).suffix.lower()
    if suffix in PARQUET or (_remote(first) and not suffix):  # a remote folder: Parquet
        return "parquet"
    if suffix in CSV:
        return "csv"
    raise DataError(f"'{first}' is neither CSV nor Parquet (by its name); {ADVICE}.")


def _separator(path: str) -> str:
    if _remote(path):
        return ","
    first = sorted(glob.glob(path))[0]
    with open(first, encoding="utf-8-sig", errors="replace") as f:
        lines = [line.rstrip("\r\n") for _, line in zip(range(50), f, strict=False)]
    return detect_separator([line for line in lines if line])


def open_pool(path: str, workers: int) -> Any:
    """The pool as a ``dask.dataframe.DataFrame`` of at least ``workers`` partitions."""
    import dask.dataframe as dd

    kind = pool_kind(path)
    try:
        if kind == "csv":
            frame = dd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                sep=_separator(path),
                blocksize=CSV_BLOCK,
                encoding="utf-8-sig",
            )
        else:
            frame = dd.read_parquet(path)
        if frame.npartitions < workers:
            frame = frame.repartition(npartitions=workers)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"Cannot read the pool '{path}' ({exc}); {ADVICE}.") from None
    return frame
