"""The preprocessing of a partitioned pool, fitted with Dask reductions to match the in-memory one.

The in-memory :meth:`~dami_gui.core.data.preprocessing.Preprocessing.fit` needs, per feature
column, its kind (numbers, yes/no or categories), and then the median of a numeric column (the
fill of its gaps), its mean and standard deviation after filling, or the categories of a
categorical one. Here:

* the column roles and kinds are decided by the core on the first :data:`SAMPLE_ROWS` rows
  (:func:`~dami_gui.core.data.roles.infer_roles`, then ``Preprocessing.fit`` for the kinds): on a
  pool that holds fewer rows, exactly as in memory;
* the means and deviations are one reduction over every partition (count, sum and the squared
  deviations about each partition's mean, merged by Chan's formula, float64), the categories and
  the class names the union of each partition's distinct values;
* the median of a column with gaps is exact: its present values are gathered to the client
  (8 bytes a row, only for such columns).

Each cell is read by the core's own functions (``ColumnTransform.apply``), so on a pool that fits
in memory the features are those of the in-memory path (to float32 round-off of the mean).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from dami_gui.core.data.cells import feature_text_values, natural_sorted, text_values
from dami_gui.core.data.preprocessing import ColumnTransform, Preprocessing
from dami_gui.core.data.roles import RoleReport, infer_roles
from dami_gui.core.errors import DataError

#: Rows read to decide the column roles and kinds.
SAMPLE_ROWS = 10_000

#: Per column: (rows with a value, their sum, their squared deviations about their mean).
Moments = tuple[int, float, float]


@dataclass
class PoolFacts:
    """What the whole pool says: the preprocessing, the roles, the classes and the number of
    rows of each partition."""

    preprocessing: Preprocessing
    report: RoleReport
    classes: list[str]
    lengths: list[int]

    @property
    def n_rows(self) -> int:
        return int(sum(self.lengths))

    @property
    def offsets(self) -> list[int]:
        """Global row number of each partition's first row."""
        return [int(v) for v in np.concatenate([[0], np.cumsum(self.lengths)[:-1]])]


def _numbers(t: ColumnTransform, series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The column's values before filling and scaling, through the core's reading of cells:
    (present values, gap mask)."""
    probe = ColumnTransform(t.column, t.kind, missing_indicator=True, true_values=t.true_values)
    block = probe.apply(series)
    gaps = block[:, 1] > 0
    return block[~gaps, 0], gaps


def partition_stats(
    frame: pd.DataFrame, transforms: list[ColumnTransform], label_column: str | None
) -> dict[str, Any]:
    """One partition's share of the fit: its length, per column the moments, gaps and
    categories, and its class names."""
    out: dict[str, Any] = {"rows": len(frame), "columns": {}, "labels": set()}
    for t in transforms:
        series = frame[t.column]
        if t.kind == "categorical":
            text = feature_text_values(series)
            out["columns"][t.column] = (set(text.dropna().astype(str)), bool(text.isna().any()))
        else:
            values, gaps = _numbers(t, series)
            mean = float(values.mean()) if values.size else 0.0
            m2 = float(((values - mean) ** 2).sum())
            out["columns"][t.column] = ((values.size, float(values.sum()), m2), int(gaps.sum()))
    if label_column is not None:
        out["labels"] = {str(v) for v in text_values(frame[label_column]).dropna().unique()}
    out["nul"] = first_nul_row(frame)
    return out


def first_nul_row(frame: pd.DataFrame) -> int:
    """The first row (0-based, in ``frame``) with a NUL character in a cell, or -1.

    The core's reader refuses a file holding a NUL byte anywhere (binary data, a sparse file);
    the pool's partitions are read on the workers, so each looks at its own cells (about 0.1 s
    per million text cells, measured on the development machine).
    """
    first = -1
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
            continue
        if not pd.api.types.is_string_dtype(series.dtype) or series.dtype == object:
            series = series.astype(str)  # mixed values (Parquet): as text
        found = series.str.contains("\x00", regex=False, na=False).to_numpy(dtype=bool)
        if found.any():
            row = int(found.argmax())
            first = row if first < 0 else min(first, row)
    return first


def refuse_nul(stats: list[dict[str, Any]], name: str) -> None:
    """Refuse the pool, as the core's reader refuses a file, when a partition holds a NUL."""
    offset = 0
    for s in stats:
        if s["nul"] >= 0:
            raise DataError(
                f"{name} holds binary data (a NUL byte in data row {offset + s['nul'] + 1:,}), not "
                "only text; check that it is the right file and complete, or save it as CSV "
                "again."
            )
        offset += int(s["rows"])


def present_values(frame: pd.DataFrame, transforms: list[ColumnTransform]) -> list[np.ndarray]:
    """The present values of each given column (for an exact median)."""
    return [_numbers(t, frame[t.column])[0] for t in transforms]


def merge_moments(a: Moments, b: Moments) -> Moments:
    """Chan's merge of two groups' (count, sum, squared deviations)."""
    (na, sa, ma), (nb, sb, mb) = a, b
    if na == 0 or nb == 0:
        return (na + nb, sa + sb, ma + mb)
    delta = sb / nb - sa / na
    return (na + nb, sa + sb, ma + mb + delta * delta * na * nb / (na + nb))


def fitted(t: ColumnTransform, moments: Moments, gaps: int, fill: float) -> ColumnTransform:
    """A numeric or yes/no column's transform from the pool's moments (see module)."""
    n, total, m2 = merge_moments(moments, (gaps, fill * gaps, 0.0))
    mean = total / n if n else 0.0
    std = float(np.sqrt(m2 / n)) if n else 0.0
    return replace(
        t,
        mean=mean,
        std=std if np.isfinite(std) and std > 1e-12 else 1.0,
        fill=fill,
        missing_indicator=gaps > 0,
    )


def sample_preprocessing(
    sample: pd.DataFrame, label_column: str | None, id_column: str | None
) -> tuple[RoleReport, Preprocessing]:
    """Roles and kinds decided on the first rows (see module)."""
    if sample.empty:
        raise DataError("The pool has no rows; give a file with a header and at least one row.")
    report = infer_roles(sample, label_column=label_column, id_column=id_column)
    return report, Preprocessing.fit(sample, report)


def combine(
    sample_fit: Preprocessing,
    report: RoleReport,
    stats: list[dict[str, Any]],
    medians: dict[str, float],
    classes: list[str] | None,
) -> PoolFacts:
    """The pool's preprocessing from the partitions' stats and the medians of gappy columns."""
    transforms = []
    for t in sample_fit.transforms:
        if t.kind == "categorical":
            levels: set[str] = set()
            gappy = False
            for s in stats:
                found, gap = s["columns"][t.column]
                levels |= found
                gappy = gappy or gap
            transforms.append(
                replace(t, categories=natural_sorted(sorted(levels)), missing_indicator=gappy)
            )
            continue
        moments: Moments = (0, 0.0, 0.0)
        gaps = 0
        for s in stats:
            part, part_gaps = s["columns"][t.column]
            moments = merge_moments(moments, part)
            gaps += part_gaps
        transforms.append(fitted(t, moments, gaps, medians.get(t.column, 0.0)))
    found_classes = natural_sorted(sorted(set().union(*(s["labels"] for s in stats))))
    if classes is not None:
        unknown = sorted(set(found_classes) - set(classes))
        if unknown:
            raise DataError(
                f"The label '{unknown[0]}' in column '{report.column('label')}' is not one of "
                f"the classes ({', '.join(classes)}); add it to --classes or correct the cell."
            )
    preprocessing = Preprocessing(transforms, report.column("id"), report.column("label"))
    return PoolFacts(
        preprocessing,
        report,
        list(classes) if classes is not None else found_classes,
        [int(s["rows"]) for s in stats],
    )


def gappy_columns(sample_fit: Preprocessing, stats: list[dict[str, Any]]) -> list[ColumnTransform]:
    """The numeric and yes/no columns with a gap somewhere in the pool."""
    return [
        t
        for t in sample_fit.transforms
        if t.kind != "categorical" and sum(s["columns"][t.column][1] for s in stats) > 0
    ]


def medians(gappy: list[ColumnTransform], parts: list[list[np.ndarray]]) -> dict[str, float]:
    """Exact median of each gappy column's present values (0 when it has none), as in memory."""
    out = {}
    for i, t in enumerate(gappy):
        values = np.concatenate([p[i] for p in parts]) if parts else np.empty(0)
        out[t.column] = float(np.median(values)) if values.size else 0.0
    return out
