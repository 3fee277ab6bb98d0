"""Apply a trained model to a new table: the project's preprocessing replayed, one row per row.

The user labels to get a model they can use on next month's file. :func:`predict_file` reads
that file, turns it into the model's inputs with the preprocessing recorded when the project was
made (never refitted: the same fill values, means, scales and category lists), and writes one
output row per input row: the id (or the row number), the predicted class and the probability
of every class. With ``explain`` it adds the row's exact linear region, its DAMI group (the
nearest labeled or queried row in explanation space, when the model comes from a project) and
the columns that push the predicted class most, from the exact local linear model (inside a
region the logits *are* ``A x + c``, so the contributions add up to the score with the bias).

What the new file does differently is said, not hidden (:class:`PredictionReport`): a category
the labeling file did not have counts as unseen (all its indicator inputs 0, as for a gap) and is
named with how many rows have it; empty or unreadable cells are filled as in training; columns the
model does not use are ignored and named; a column the model needs but the file lacks is one
:class:`~dami_gui.core.errors.DataError` sentence. The output is written atomically, with text
that a spreadsheet would run as a formula escaped.

A prediction is never silently wrong: a value too far from the labeling file's for the network's
float32 inputs (``1e300``) is clamped to the bound
:data:`~dami_gui.core.data.preprocessing.MAX_FEATURE` (in standard deviations), and its row is
named in a ``clamped`` column (present only then) and in the report; probabilities that are not
finite numbers are refused with the row's number before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dami_gui.core.data.preprocessing import MAX_FEATURE, Preprocessing
from dami_gui.core.data.reader import read_csv
from dami_gui.core.errors import DamiError, DataError
from dami_gui.core.explain import region_hex
from dami_gui.core.interpret import interpret
from dami_gui.core.model import MLP, predict_proba
from dami_gui.core.prediction.model_file import load_model
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter
from dami_gui.core.project.export import write_table

if TYPE_CHECKING:
    from dami_gui.core.records import RoundResult
    from dami_gui.core.session import Session

__all__ = ["PoolContext", "PredictionReport", "Predictor", "predict_file", "predict_frame"]

#: Rows predicted (and explained) at a time: bounds memory and paces progress and Cancel.
CHUNK_ROWS = 4096
#: Top contributions written per row by default with ``--explain``.
DEFAULT_TOP = 3


@dataclass
class PoolContext:
    """What the labeled pool adds to a prediction: DAMI groups and how big each region is.

    ``centers``: the flattened local linear models ``vec(A)`` of the last round's centers (its
    labeled rows, then its queries), the space in which the app's map draws its groups;
    ``center_ids``: their ids; ``regions``/``region_counts``: the pool's distinct region ids
    (sorted) and how many pool rows each holds.
    """

    centers: np.ndarray
    center_ids: np.ndarray
    regions: np.ndarray
    region_counts: np.ndarray

    @classmethod
    def from_session(
        cls, session: Session, result: RoundResult, model: MLP, reporter: Reporter | None = None
    ) -> PoolContext | None:
        X = session.dataset.X
        region_ids = result.region_ids
        if np.size(region_ids) != session.n_rows:  # not kept for this round: recompute
            region_ids = interpret(model, X, with_A=False, progress=reporter).region_ids
        regions, counts = np.unique(region_ids, return_counts=True)
        centers = result.centers
        if centers is None or np.size(centers) == 0:
            return cls(np.zeros((0, 0), np.float32), np.empty(0, str), regions, counts)
        centers = np.asarray(centers, dtype=np.int64)
        flat = interpret(model, X[centers]).flat()
        return cls(flat, session.dataset.ids[centers], regions, counts)


@dataclass
class Predictor:
    """A model with everything needed to apply it to a new table."""

    model: MLP
    preprocessing: Preprocessing
    classes: list[str]
    name: str = "the model"
    pool: PoolContext | None = None

    @classmethod
    def from_session(
        cls,
        session: Session,
        result: RoundResult | None = None,
        *,
        with_pool: bool = False,
        name: str = "the model",
        progress: ProgressCallback | Reporter | None = None,
        cancel: CancelToken | None = None,
    ) -> Predictor:
        """The model of ``result`` (default: the last round); ``with_pool`` adds groups."""
        result = result or session.last_round
        if result is None:
            raise DamiError("There is no model yet; run a round first, then apply the model.")
        model = result.model()
        pool = None
        if with_pool:
            pool = PoolContext.from_session(session, result, model, as_reporter(progress, cancel))
        preprocessing = session.dataset.preprocessing
        return cls(model, preprocessing, list(session.classes), name, pool)

    @classmethod
    def from_export(cls, path: str | Path) -> Predictor:
        """An exported model (its ``.json`` or weights file), with no pool to group by."""
        portable = load_model(path)
        return cls(portable.model, portable.preprocessing, portable.classes, portable.path.name)

    @property
    def input_columns(self) -> list[str]:
        return [t.column for t in self.preprocessing.transforms]


@dataclass
class PredictionReport:
    """What happened to a new table on its way through the model, for the user to read."""

    n_rows: int
    id_column: str | None
    ignored_columns: list[str] = field(default_factory=list)
    unseen: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    filled: dict[str, int] = field(default_factory=dict)
    class_counts: dict[str, int] = field(default_factory=dict)
    agreement: tuple[int, int] | None = None  # (rows agreeing, rows with a label), label column
    clamped: dict[str, np.ndarray] = field(default_factory=dict)  # column -> rows (0-based)

    def lines(self) -> list[str]:
        """A few sentences: counts per class, then each difference from the labeling file."""
        counts = ", ".join(f"{c} {n:,}" for c, n in self.class_counts.items())
        out = [f"Predicted {self.n_rows:,} rows: {counts}."]
        if self.id_column is None:
            out.append("Rows are named by their number (no id column in this file).")
        for column, (rows, examples) in self.unseen.items():
            shown = ", ".join(f"'{e}'" for e in examples)
            out.append(
                f"Column '{column}': {rows:,} row{'s' if rows != 1 else ''} with a category not "
                f"seen in labeling ({shown}), treated as unseen (no category)."
            )
        for column, cells in self.filled.items():
            out.append(
                f"Column '{column}': {cells:,} empty or unreadable cell{'s' if cells != 1 else ''}"
                " filled as in labeling."
            )
        for column, where in self.clamped.items():
            shown = ", ".join(str(r + 1) for r in where[:5]) + (", …" if len(where) > 5 else "")
            plural = "s" if len(where) != 1 else ""
            out.append(
                f"Column '{column}': {len(where):,} row{plural} ({shown}) with a value more than "
                f"{MAX_FEATURE:,.0f} standard deviations from the labeling file's, predicted from "
                "that bound instead and named in the column 'clamped'; check those cells."
            )
        if self.ignored_columns:
            names = ", ".join(f"'{c}'" for c in self.ignored_columns)
            out.append(f"Ignored (the model does not use them): {names}.")
        if self.agreement is not None:
            agree, total = self.agreement
            out.append(
                f"On the {total:,} rows whose label is filled, the prediction agrees with it for "
                f"{agree:,} ({agree / total:.0%})."
            )
        return out


def predict_file(
    predictor: Predictor,
    csv: str | Path,
    out: str | Path,
    *,
    explain: int = 0,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
) -> PredictionReport:
    """Read ``csv``, predict every row and write the table of :func:`predict_frame` to ``out``."""
    csv, out = Path(csv), Path(out)
    if out.resolve() == csv.resolve():
        raise DamiError(
            f"Writing the predictions to {out.name} would replace the file being read; choose "
            "another name for the output."
        )
    reporter = as_reporter(progress, cancel)
    frame = read_csv(csv, progress=reporter.sub(0.0, 0.4, "Reading file"), cancel=cancel)
    table, report = predict_frame(
        predictor, frame, explain=explain, progress=reporter.sub(0.4, 0.95), cancel=cancel
    )
    reporter("Writing the predictions", 0.95)
    reporter.check()
    write_table(table, out, "the predictions")  # atomic, formula-like text escaped
    reporter("Writing the predictions", 1.0)
    return report


def predict_frame(
    predictor: Predictor,
    frame: pd.DataFrame,
    *,
    explain: int = 0,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
) -> tuple[pd.DataFrame, PredictionReport]:
    """The predictions for every row of ``frame``, and what was different about it.

    Columns: the id column (or ``row``, 1-based), ``predicted``, one ``p_<class>`` per class;
    with ``explain`` (the number of top columns, 0 for none) also ``region``, the pool's rows in
    that region and the group (when the predictor has a pool), and ``top<i>_column`` /
    ``top<i>_contribution`` for the predicted class.
    """
    reporter = as_reporter(progress, cancel)
    frame = frame.rename(columns=str)
    prep = predictor.preprocessing
    report = _check_columns(predictor, frame)
    reporter("Preparing features", 0.0)
    X, clamped = prep.transform_flagged(frame)
    _describe_inputs(prep, frame, report)
    report.clamped = {c: np.flatnonzero(rows) for c, rows in clamped.items()}

    n = len(frame)
    n_classes = len(predictor.classes)
    proba = np.empty((n, n_classes), dtype=np.float32)
    explained = _Explained(predictor, n, explain) if explain > 0 else None
    for start in range(0, n, CHUNK_ROWS):
        reporter.check()
        stop = min(n, start + CHUNK_ROWS)
        proba[start:stop] = predict_proba(predictor.model, X[start:stop])
        _refuse_non_finite(proba[start:stop], start, frame, report.id_column)
        if explained is not None:
            explained.add(start, X[start:stop], proba[start:stop])
        reporter("Predicting", stop / max(n, 1))
    predicted = proba.argmax(1) if n else np.empty(0, np.int64)
    classes = np.array(predictor.classes, dtype=object)

    table = pd.DataFrame(index=pd.RangeIndex(n))
    if report.id_column is not None:
        table[report.id_column] = frame[report.id_column].to_numpy()
    else:
        table["row"] = np.arange(1, n + 1)
    taken = set(table.columns)
    table[_free("predicted", taken)] = classes[predicted] if n else []
    for k, name in enumerate(predictor.classes):
        table[_free(f"p_{name}", taken)] = proba[:, k]
    if report.clamped:
        table[_free("clamped", taken)] = _clamped_column(n, report.clamped)
    if explained is not None:
        for name, values in explained.columns():
            table[_free(name, taken)] = values
    counts = np.bincount(predicted, minlength=n_classes)
    report.class_counts = {c: int(k) for c, k in zip(predictor.classes, counts, strict=True)}
    report.agreement = _agreement(prep.label_column, frame, classes[predicted] if n else [])
    return table, report


def _refuse_non_finite(
    proba: np.ndarray, start: int, frame: pd.DataFrame, id_column: str | None
) -> None:
    """Refuse, naming the first such row, probabilities that are not finite numbers.

    With the inputs clamped (:data:`~dami_gui.core.data.preprocessing.MAX_FEATURE`) and the
    weights bounded (:data:`~dami_gui.core.untrusted.MAX_WEIGHT`) a trained network never gets
    there; a network made to overflow does, and then no row gets a class it did not compute.
    """
    bad = ~np.isfinite(proba).all(axis=1)
    if not bad.any():
        return
    row = start + int(bad.argmax())
    named = f" ({id_column} {frame[id_column].iloc[row]})" if id_column is not None else ""
    raise DataError(
        f"The model gives no finite probabilities for row {row + 1}{named}: its values lie too "
        "far outside what the model was trained on for its numbers to hold; fix or remove that "
        "row (nothing was written)."
    )


def _clamped_column(n: int, clamped: dict[str, np.ndarray]) -> np.ndarray:
    """Per row, the columns whose value was clamped (``"x1, x2"``), empty for the others."""
    out = np.full(n, "", dtype=object)
    for column, rows in clamped.items():
        out[rows] = [f"{v}, {column}" if v else column for v in out[rows]]
    return out


def _free(name: str, taken: set[str]) -> str:
    while name in taken:
        name = f"dami_{name}"
    taken.add(name)
    return name


def _check_columns(predictor: Predictor, frame: pd.DataFrame) -> PredictionReport:
    """Refuse a file without a column the model needs; name the columns it will ignore."""
    needed = predictor.input_columns
    present = [str(c) for c in frame.columns]
    missing = [c for c in needed if c not in present]
    if missing:
        folded = {c.casefold(): c for c in present}
        near = folded.get(missing[0].casefold())
        hint = f" (it has '{near}': rename it)" if near else ""
        listed = " and ".join(f"'{c}'" for c in missing[:2])
        listed += f" and {len(missing) - 2} more" if len(missing) > 2 else ""
        plural = "s" if len(missing) > 1 else ""
        uses = f" (the model uses {', '.join(needed)})" if len(needed) <= 8 else ""
        raise DataError(
            f"The file has no column{plural} {listed}, which {predictor.name} needs{hint}; add "
            f"{'them' if plural else 'it'}, named as in the labeling file{uses}."
        )
    prep = predictor.preprocessing
    id_column = prep.id_column if prep.id_column in present else None
    used = {*needed, prep.id_column, prep.label_column}
    ignored = [c for c in present if c not in used]
    return PredictionReport(len(frame), id_column, ignored)


def _is_empty(series: pd.Series) -> np.ndarray:
    text = series.astype(object).where(series.notna(), None)
    return np.array([v is None or str(v).strip() == "" for v in text], dtype=bool)


def _describe_inputs(prep: Preprocessing, frame: pd.DataFrame, report: PredictionReport) -> None:
    """Count unseen categories (with examples) and filled cells, column by column."""
    for t in prep.transforms:
        series = frame[t.column]
        empty = _is_empty(series)
        if t.kind == "categorical":
            block = t.apply(series)[:, : len(t.categories)]
            unseen = ~empty & ~block.any(1)
            if unseen.any():
                values = series[unseen].astype(str).str.strip().unique()[:3]
                report.unseen[t.column] = (int(unseen.sum()), [str(v) for v in values])
            continue
        gaps = empty
        if t.kind == "numeric":
            numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64")
            gaps = ~np.isfinite(numbers)
        if gaps.any():
            report.filled[t.column] = int(gaps.sum())


def _agreement(
    label_column: str | None, frame: pd.DataFrame, predicted: object
) -> tuple[int, int] | None:
    """(agreeing, labeled) on rows whose label cell is filled, when the file has that column."""
    if label_column is None or label_column not in frame.columns:
        return None
    series = frame[label_column]
    filled = ~_is_empty(series)
    if not filled.any():
        return None
    if pd.api.types.is_numeric_dtype(series.dtype):  # 1.0 is the class "1", as in labeling
        text = [_number_text(v) for v in series.to_numpy(dtype="float64")]
    else:
        text = [str(v).strip() for v in series.astype(object)]
    labels = np.array(text, dtype=object)
    agree = int((labels[filled] == np.asarray(predicted, dtype=object)[filled]).sum())
    return agree, int(filled.sum())


def _number_text(value: float) -> str:
    return str(int(value)) if np.isfinite(value) and float(value).is_integer() else repr(value)


class _Explained:
    """The explanation columns, filled chunk by chunk from the exact local linear models."""

    def __init__(self, predictor: Predictor, n: int, top: int) -> None:
        prep = predictor.preprocessing
        self.predictor = predictor
        self.names = list(dict.fromkeys(prep.feature_columns))  # source columns, in order
        where = {c: j for j, c in enumerate(self.names)}
        self.grouping = np.zeros((len(prep.feature_columns), len(self.names)), np.float32)
        for i, column in enumerate(prep.feature_columns):
            self.grouping[i, where[column]] = 1.0
        self.top = min(top, len(self.names))
        self.region = np.empty(n, dtype=object)
        self.top_columns = np.empty((n, self.top), dtype=object)
        self.top_values = np.empty((n, self.top), dtype=np.float64)
        pool = predictor.pool
        self.pool = pool
        if pool is not None:
            self.region_rows = np.zeros(n, dtype=np.int64)
            self.group = np.full(n, -1, dtype=np.int64)
            self.group_center = np.empty(n, dtype=object)
            self.center_sq = (pool.centers.astype(np.float64) ** 2).sum(1)

    def add(self, start: int, X: np.ndarray, proba: np.ndarray) -> None:
        local = interpret(self.predictor.model, X)
        stop = start + len(X)
        rows = np.arange(len(X))
        k = proba.argmax(1)
        assert local.A is not None
        per_input = local.A[rows, k, :] * X  # (rows, d): weight x standardised value
        per_column = per_input @ self.grouping
        order = np.argsort(-np.abs(per_column), axis=1, kind="stable")[:, : self.top]
        self.top_columns[start:stop] = np.array(self.names, dtype=object)[order]
        self.top_values[start:stop] = np.take_along_axis(per_column, order, axis=1)
        self.region[start:stop] = [region_hex(r) for r in local.region_ids]
        if self.pool is None:
            return
        pool = self.pool
        at = np.searchsorted(pool.regions, local.region_ids).clip(0, max(len(pool.regions) - 1, 0))
        if len(pool.regions):
            hit = pool.regions[at] == local.region_ids
            self.region_rows[start:stop] = np.where(hit, pool.region_counts[at], 0)
        if len(pool.centers):
            flat = local.flat().astype(np.float64)
            d2 = (flat**2).sum(1)[:, None] + self.center_sq[None, :] - 2.0 * flat @ pool.centers.T
            nearest = d2.argmin(1)
            self.group[start:stop] = nearest
            self.group_center[start:stop] = pool.center_ids[nearest]

    def columns(self) -> list[tuple[str, np.ndarray]]:
        out: list[tuple[str, np.ndarray]] = [("region", self.region)]
        if self.pool is not None:
            out.append(("pool_rows_in_region", self.region_rows))
            if len(self.pool.centers):
                out += [("group", self.group), ("group_center", self.group_center)]
        for i in range(self.top):
            out.append((f"top{i + 1}_column", self.top_columns[:, i]))
            out.append((f"top{i + 1}_contribution", self.top_values[:, i]))
        return out
