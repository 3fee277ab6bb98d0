"""scikit-activeml's query strategies on *our* trained MLP (no second learner is trained).

* UncertaintySampling (margin) and Badge get a :class:`FrozenMLP`: a scikit-activeml classifier
  whose ``fit`` does nothing and whose ``predict_proba`` runs our fitted network; with
  ``return_embeddings=True`` it also returns the last hidden layer, which Badge uses for its
  gradient embedding (``clf_embedding_flag_name="return_embeddings"``). Both are called with
  ``fit_clf=False``.
* CoreSet, TypiClust and ProbCover take a representation ``X``: they get the network's last
  hidden layer (as our ``coreset`` does). ProbCover's ball radii (0.2 .. 2.0 by default) assume
  L2-normalised embeddings, as in its paper (self-supervised features on the unit sphere), so it
  gets the hidden vectors divided by their norm; TypiClust and CoreSet get them as they are.
"""

from __future__ import annotations

import warnings

import numpy as np

from dami_gui.core.model import MLP, last_hidden, predict_proba

PEERS = ["sk-margin", "sk-coreset", "sk-badge", "sk-typiclust", "sk-probcover"]


def _classifier_class():
    from skactiveml.base import SkactivemlClassifier

    class FrozenMLP(SkactivemlClassifier):
        """Our fitted MLP behind scikit-activeml's classifier interface (fit is a no-op)."""

        def __init__(self, model=None, classes=None, missing_label=np.nan, random_state=None):
            super().__init__(
                classes=classes, missing_label=missing_label, random_state=random_state
            )
            self.model = model

        def fit(self, X, y, sample_weight=None):
            return self

        def predict_proba(self, X, return_embeddings=False):
            X = np.asarray(X, dtype=np.float32)
            proba = predict_proba(self.model, X).astype(np.float64)
            if return_embeddings:
                return proba, last_hidden(self.model, X).astype(np.float64)
            return proba

    return FrozenMLP


def peer_query(
    name: str,
    model: MLP,
    X: np.ndarray,
    labeled: np.ndarray,
    y_labeled: np.ndarray,
    k: int,
    seed: int,
    hidden: np.ndarray | None = None,
) -> np.ndarray:
    """Indices (into X) of the ``k`` rows scikit-activeml's strategy ``name`` picks."""
    from skactiveml.pool import Badge, CoreSet, ProbCover, UncertaintySampling

    y = np.full(X.shape[0], np.nan)
    y[labeled] = y_labeled
    classes = np.arange(model.n_classes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "sk-margin":
            clf = _classifier_class()(model, classes=classes)
            q = UncertaintySampling(method="margin_sampling", random_state=seed).query(
                X, y, clf, fit_clf=False, batch_size=k
            )
        elif name == "sk-badge":
            clf = _classifier_class()(model, classes=classes)
            q = Badge(clf_embedding_flag_name="return_embeddings", random_state=seed).query(
                X, y, clf, fit_clf=False, batch_size=k
            )
        else:
            H = (hidden if hidden is not None else last_hidden(model, X)).astype(np.float64)
            if name == "sk-coreset":
                q = CoreSet(random_state=seed).query(H, y, batch_size=k)
            elif name == "sk-typiclust":
                q = typiclust_on(H, labeled, k, seed)
            elif name == "sk-probcover":
                Hn = H / np.maximum(np.linalg.norm(H, axis=1, keepdims=True), 1e-12)
                q = ProbCover(n_classes=model.n_classes, random_state=seed).query(
                    Hn, y, batch_size=k
                )
            else:
                raise ValueError(f"unknown peer {name!r}; one of {PEERS}")
    return np.asarray(q, dtype=np.int64)


def typiclust_on(F: np.ndarray, labeled: np.ndarray, k: int, seed: int) -> np.ndarray:
    """scikit-activeml's TypiClust on a representation ``F``; only which rows are labeled counts."""
    from skactiveml.pool import TypiClust

    y = np.full(F.shape[0], np.nan)
    y[labeled] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            q = TypiClust(random_state=seed).query(F, y, batch_size=k)
        except UnboundLocalError:
            # scikit-activeml 1.0.1: when every cluster already holds a labeled row, its branch
            # "typicality = 1 everywhere" (a random pick) reads an unset cluster id. Do what
            # that branch means: k unlabeled rows at random.
            free = np.setdiff1d(np.arange(F.shape[0]), labeled)
            q = np.random.default_rng(seed).choice(free, k, replace=False)
    return np.asarray(q, dtype=np.int64)
