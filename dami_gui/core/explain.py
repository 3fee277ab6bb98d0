"""Why a row was picked, exactly: its local linear model, its region, and the region table.

Inside a linear region the network *is* the affine map ``z = A(x) x + c(x)``, so the logit of
class k splits exactly into one contribution ``A_kj x_j`` per model input plus the bias
``c_k``; nothing is estimated (unlike SHAP or LIME). Contributions are in the model's own units
(standardised inputs, logits); the one-hot parts of a categorical column, and a column's
"(missing)" indicator, are summed back into their source column so the user sees their columns.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dami_gui.core.data.dataset import Dataset
from dami_gui.core.validation import check_int

if TYPE_CHECKING:  # the label conflicts (``dami project status``) need no torch
    from dami_gui.core.model import MLP


@dataclass
class Contribution:
    """One source column's push on the explained class: the sum over its model inputs."""

    column: str
    value: float
    parts: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class RowExplanation:
    """Everything the "why this row" panel and ``dami explain`` show for one row."""

    row: int
    row_id: str
    explained_class: str
    predicted_class: str
    logit: float
    bias: float
    contributions: list[Contribution]
    probabilities: dict[str, float]
    margin: float
    entropy: float
    region_id: str
    region_size: int
    region_labeled: int
    region_labels: dict[str, int]
    label: str | None
    selection_rank: int | None
    distance_to_labeled: float | None
    nearest_labeled_row: int | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["contributions"] = [
            {"column": c.column, "value": c.value, "parts": [list(p) for p in c.parts]}
            for c in self.contributions
        ]
        return data


def region_hex(region_id: int) -> str:
    """A region id as 16 hex digits, the way it is shown to the user."""
    return f"{int(region_id) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


def group_contributions(
    values: np.ndarray, feature_names: list[str], feature_columns: list[str]
) -> list[Contribution]:
    """Sum per-input contributions into their source columns, largest magnitude first."""
    by_column: dict[str, Contribution] = {}
    for name, column, value in zip(feature_names, feature_columns, values, strict=True):
        entry = by_column.setdefault(column, Contribution(column, 0.0))
        entry.value += float(value)
        entry.parts.append((name, float(value)))
    return sorted(by_column.values(), key=lambda c: -abs(c.value))


def explain_row(
    model: MLP,
    dataset: Dataset,
    row: int,
    labels: np.ndarray,
    *,
    class_index: int | None = None,
    region_ids: np.ndarray | None = None,
    queries: np.ndarray | None = None,
) -> RowExplanation:
    """Explain ``row`` under ``model``: contributions for ``class_index`` (default: predicted).

    ``labels``: current class code per row (-1 unlabeled). ``region_ids``: every row's exact
    region under ``model`` (recomputed when not given). ``queries``: the current queries in
    selection order, for the row's rank.
    """
    X = dataset.X
    n_rows, n_classes = X.shape[0], model.n_classes
    row = check_int(
        "row", row, minimum=0, maximum=n_rows - 1, expected=f"a row number in 0..{n_rows - 1}"
    )
    if class_index is not None:
        class_index = check_int(
            "class_index",
            class_index,
            minimum=0,
            maximum=n_classes - 1,
            expected=f"a class code in 0..{n_classes - 1}",
        )
    from dami_gui.core.interpret import interpret

    labeled_rows = np.flatnonzero(labels >= 0)
    rows = np.concatenate([[row], labeled_rows[labeled_rows != row]])
    local = interpret(model, X[rows])
    A, c, z = local.matrices()[0], local.c[0], local.logits[0]
    proba = np.exp(z - z.max())
    proba /= proba.sum()
    predicted = int(np.argmax(z))
    k = predicted if class_index is None else class_index
    top = np.sort(proba)[::-1]
    classes = dataset.classes

    if region_ids is None:
        region_ids = interpret(model, X, with_A=False).region_ids
    same = region_ids == region_ids[row]
    same_labeled = same & (labels >= 0)
    mix = Counter(classes[int(v)] for v in labels[same_labeled])

    distance = nearest = None
    if rows.size > 1:
        flat = local.flat()
        d = np.sqrt(((flat[1:] - flat[0]) ** 2).sum(1))
        best = int(np.argmin(d))
        distance, nearest = float(d[best]), int(rows[1 + best])

    rank = None
    if queries is not None:
        hits = np.flatnonzero(np.asarray(queries) == row)
        rank = int(hits[0]) + 1 if hits.size else None

    return RowExplanation(
        row=int(row),
        row_id=str(dataset.ids[row]),
        explained_class=classes[k],
        predicted_class=classes[predicted],
        logit=float(z[k]),
        bias=float(c[k]),
        contributions=group_contributions(
            A[k] * X[row], dataset.feature_names, dataset.preprocessing.feature_columns
        ),
        probabilities={classes[i]: float(p) for i, p in enumerate(proba)},
        margin=float(top[0] - top[1]) if top.size > 1 else 1.0,
        entropy=float(-(proba * np.log(np.clip(proba, 1e-12, 1))).sum()),
        region_id=region_hex(region_ids[row]),
        region_size=int(same.sum()),
        region_labeled=int(same_labeled.sum()),
        region_labels=dict(mix),
        label=classes[int(labels[row])] if labels[row] >= 0 else None,
        selection_rank=rank,
        distance_to_labeled=distance,
        nearest_labeled_row=nearest,
    )


@dataclass
class RegionGroup:
    """One group of the DAMI partition: the rows whose nearest center is ``center_row``."""

    index: int
    center_row: int
    center_labeled: bool
    size: int
    labeled: int
    label_counts: dict[str, int]
    mean_confidence: float
    mean_distance: float
    rows: np.ndarray


def region_groups(
    partition: np.ndarray,
    centers: np.ndarray,
    center_distance: np.ndarray | None,
    proba: np.ndarray,
    labels: np.ndarray,
    classes: list[str],
) -> list[RegionGroup]:
    """The partition as a table, largest group first."""
    confidence = proba.max(1)
    groups = []
    order = np.argsort(partition, kind="stable")
    bounds = np.searchsorted(partition[order], np.arange(len(centers) + 1))
    for g in range(len(centers)):
        rows = order[bounds[g] : bounds[g + 1]]
        if rows.size == 0:
            continue
        lab = labels[rows]
        counts = Counter(classes[int(v)] for v in lab[lab >= 0])
        groups.append(
            RegionGroup(
                index=g,
                center_row=int(centers[g]),
                center_labeled=bool(labels[centers[g]] >= 0),
                size=int(rows.size),
                labeled=int((lab >= 0).sum()),
                label_counts=dict(counts),
                mean_confidence=float(confidence[rows].mean()),
                mean_distance=float(center_distance[rows].mean())
                if center_distance is not None
                else float("nan"),
                rows=rows,
            )
        )
    return sorted(groups, key=lambda grp: -grp.size)


@dataclass
class Conflict:
    """Labeled rows in one exact linear region that carry different labels."""

    region_id: str
    rows: list[int]
    labels: dict[str, int]


def label_conflicts(
    region_ids: np.ndarray, labels: np.ndarray, classes: list[str]
) -> list[Conflict]:
    """Exact regions whose labeled rows disagree: a labeling mistake, or classes the model
    cannot separate there (inside a region it is one linear classifier)."""
    labeled = np.flatnonzero(labels >= 0)
    by_region: dict[int, list[int]] = {}
    for r in labeled:
        by_region.setdefault(int(region_ids[r]), []).append(int(r))
    conflicts = []
    for region, rows in by_region.items():
        distinct = Counter(classes[int(labels[r])] for r in rows)
        if len(distinct) > 1:
            conflicts.append(Conflict(region_hex(region), rows, dict(distinct)))
    return sorted(conflicts, key=lambda c: -len(c.rows))
