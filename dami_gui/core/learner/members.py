"""The teacher's members: each one fitted on the labeled rows, each giving class probabilities.

Every member is used with its library defaults (no per-data-set tuning): our network
(:func:`dami_gui.core.model.train_mlp` with the session's configuration), scikit-learn's ExtraTrees
and random forest (100 trees each), an RBF support vector machine with Platt-scaled probabilities,
and logistic regression. scikit-learn is imported only when a member is fitted, so the command line
starts without it. A member sees only the classes among the labels; its probabilities are placed in
the columns of those classes (zero for the others), so all members share the session's class codes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from dami_gui.core.model import MLPConfig, predict_proba, train_mlp
from dami_gui.core.progress import Reporter

#: A fitted member: rows (N x d, float32) to probabilities (N x C over the session's classes).
Proba = Callable[[np.ndarray], np.ndarray]

#: What each member is called where the app names it.
MEMBER_TITLES = {
    "network": "the network",
    "extra-trees": "ExtraTrees",
    "random-forest": "a random forest",
    "rbf-svm": "an RBF support vector machine",
    "logistic": "logistic regression",
}


def fit_member(
    name: str,
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    network: MLPConfig,
    seed: int,
    reporter: Reporter,
) -> Proba:
    """Fit member ``name`` on the labeled rows ``X``, ``y``.

    Rows of a single class (a fold of few labels can hold only one) make every member predict
    that class: some of scikit-learn's cannot be fitted on one class.
    """
    if np.unique(y).size < 2:
        only = np.zeros(n_classes, dtype=np.float32)
        only[int(y[0]) if y.size else 0] = 1.0
        return lambda rows: np.tile(only, (rows.shape[0], 1))
    if name == "network":
        model, _ = train_mlp(X, y, n_classes, network, seed, reporter)
        return lambda rows: predict_proba(model, rows)
    classifier = _sklearn(name, seed)
    with warnings.catch_warnings():
        # e.g. "lbfgs failed to converge" in 100 steps, or a class of one row in Platt's CV:
        # the defaults are kept on purpose, and their answer is still a probability.
        warnings.simplefilter("ignore")
        classifier.fit(X, y)
    reporter.check()
    columns = np.asarray(classifier.classes_, dtype=np.int64)

    def proba(rows: np.ndarray) -> np.ndarray:
        out = np.zeros((rows.shape[0], n_classes), dtype=np.float32)
        if rows.shape[0]:
            out[:, columns] = classifier.predict_proba(rows)
        return out

    return proba


def _sklearn(name: str, seed: int) -> Any:
    """A scikit-learn classifier with its defaults, seeded where it draws random numbers."""
    seed = int(seed) % (2**32)
    if name == "extra-trees":
        from sklearn.ensemble import ExtraTreesClassifier

        return ExtraTreesClassifier(random_state=seed, n_jobs=1)
    if name == "random-forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(random_state=seed, n_jobs=1)
    if name == "rbf-svm":
        from sklearn.svm import SVC

        return SVC(probability=True, random_state=seed)
    if name == "logistic":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression()
    raise ValueError(f"unknown member {name!r}")
