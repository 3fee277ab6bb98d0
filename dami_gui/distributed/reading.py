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

from dami_gui.core.data import pieces
from dami_gui.core.data.dialect import detect_separator
from dami_gui.core.data.reader import SAMPLE_BYTES, empty_file, no_rows, reject_non_csv
from dami_gui.core.errors import DataError
from dami_gui.core.untrusted import regular_file

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
    for file in files:  # a named pipe or a device would block a worker forever
        if _remote(file):
            continue
        inside = Path(file).rglob("*") if Path(file).is_dir() else [Path(file)]
        for part in inside:
            if not part.is_dir():
                regular_file(part, "a CSV or Parquet file")
    first = files[0]
    if not _remote(first) and Path(first).is_dir():
        return "parquet"
    suffix = Path(first.rstrip("/")).suffix.lower()
    if suffix in PARQUET or (_remote(first) and not suffix):  # a remote folder: Parquet
        return "parquet"
    if suffix in CSV:
        return "csv"
    raise DataError(f"'{first}' is neither CSV nor Parquet (by its name); {ADVICE}.")


def check_csv_files(path: str) -> str:
    """Check a local CSV pool's files as the core's reader checks a file, before Dask reads
    them; return the separator guessed from the first file's first lines (``,`` when remote).

    Each file must be a regular file (a named pipe would block a worker forever) that does not
    look like another format (a workbook, binary data: a NUL byte in its first 8 KB); an empty
    file, or a pool of headers without rows, gets the core's sentence. NUL bytes further on are
    found by the workers (:func:`~dami_gui.distributed.features.first_nul_row`).
    """
    if _remote(path):
        return ","
    files = sorted(glob.glob(path))
    name = Path(files[0]).name if len(files) == 1 else path
    header_only = []
    first: list[str] = []
    for file in files:
        regular_file(file, "a CSV file")
        raw, stamp = pieces.read_start(Path(file), SAMPLE_BYTES)
        reject_non_csv(raw, Path(file).name)
        if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf"):
            raise empty_file(Path(file).name)
        lines = [line for line in raw.decode("utf-8-sig", "replace").splitlines() if line.strip()]
        header_only.append(stamp.size <= len(raw) and len(lines) < 2)  # the whole file read
        first = first or lines[:50]
    if all(header_only):
        raise no_rows(name)
    return detect_separator(first)


def open_pool(path: str, workers: int) -> Any:
    """The pool as a ``dask.dataframe.DataFrame`` of at least ``workers`` partitions."""
    import dask.dataframe as dd

    kind = pool_kind(path)
    separator = check_csv_files(path) if kind == "csv" else ","
    try:
        if kind == "csv":
            frame = dd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                sep=separator,
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
