"""Pipelines: a learner and a query strategy, run as one learning curve on one split.

A pipeline is named ``learner/strategy``:

* ``mlp/<s>``: the MLP of :mod:`dami_gui.core.model` with its defaults, trained from scratch
  each round (``mlp64/<s>``: the network part 1 measured, 2 x 64 with weight decay 1e-4, the
  default before issue 13); ``<s>`` is one of ours (``available()``), a scikit-activeml peer on
  the same fitted network (``sk-margin``, ``sk-badge``, ``sk-typiclust``, ``sk-probcover``; see
  :mod:`benchmarks.peers`) or a research variant of :mod:`benchmarks.variants`.
* ``et``, ``rf``, ``hgb``, ``svc``, ``lr`` with ``random`` or ``margin``: what a practitioner
  would pick instead; scikit-learn's ExtraTrees, random forest, HistGradientBoosting, RBF SVC
  (``probability=True``) and logistic regression, each with its defaults, on the same features
  (the app's preprocessing: numbers standardised, categories one-hot). Margin: the rows whose two
  most probable classes are closest, ties broken at random (seeded). ``random`` is our random
  strategy whatever the learner, so every ``*/random`` labels the same rows.

Every pipeline of a split starts from the same random labels and gets the same budget; the
learners' seeds depend on (seed, round) only, so pipelines are paired by seed.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from dami_gui.core.learner import DEFAULT_LEARNER, LearnerConfig
from dami_gui.core.learner.fit import fit_learner
from dami_gui.core.learner.teacher import fit_teacher
from dami_gui.core.model import LIGHT_CONFIG, MLPConfig, predict_proba, train_mlp
from dami_gui.core.progress import as_reporter
from dami_gui.core.simulate import balanced_accuracy
from dami_gui.core.strategies import (
    ModelOutputs,
    QueryContext,
    available,
    get_strategy,
    reads_ensemble,
)
from dami_gui.core.strategies.base import top_k

from .peers import peer_query
from .protocol import ROUNDS, Split

#: The networks a pipeline can name: today's default and the one part 1 (issue 12) measured.
MLP_LEARNERS = {"mlp": MLPConfig(), "mlp64": LIGHT_CONFIG}
#: The ensemble learners (:mod:`dami_gui.core.learner`): ``ens`` is the app's default, the
#: teacher's answer reproduced by the exact network the strategies read; ``teacher`` is that
#: teacher itself (its accuracy, and ``teacher/margin`` on its probabilities).
ENSEMBLES: dict[str, LearnerConfig] = {"ens": DEFAULT_LEARNER}
MLP_PEERS = ["sk-margin", "sk-badge", "sk-typiclust", "sk-probcover"]
SK_LEARNERS = ["et", "rf", "hgb", "svc", "lr"]
SK_STRATEGIES = ["random", "margin"]


def default_pipelines() -> list[str]:
    """Every pipeline, the app's default first (also the order of the report's tables)."""
    ensemble = [f"ens/{s}" for s in ("dami-plus", "dami-blend", "margin", "teacher-margin")]
    ensemble += ["ens/random", "teacher/margin", "teacher/random"]
    # with the network alone, the ensemble's margin is margin sampling: not a pipeline twice
    ours = ensemble + [f"mlp/{s}" for s in available() if not reads_ensemble(s)]
    peers = [f"mlp/{s}" for s in MLP_PEERS]
    others = [f"{learner}/{s}" for learner in SK_LEARNERS for s in SK_STRATEGIES]
    return ours + peers + others


def learner_of(pipeline: str) -> str:
    return pipeline.split("/", 1)[0]


def make_learner(name: str, seed: int):
    """A scikit-learn classifier with its defaults (seeded where it draws random numbers)."""
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    seed = seed % (2**32)
    if name == "et":
        return ExtraTreesClassifier(random_state=seed)
    if name == "rf":
        return RandomForestClassifier(random_state=seed)
    if name == "hgb":
        return HistGradientBoostingClassifier(random_state=seed)
    if name == "svc":
        return SVC(probability=True, random_state=seed)
    if name == "lr":
        return LogisticRegression()
    raise ValueError(f"unknown learner {name!r}; one of {SK_LEARNERS}")


class _OneClass:
    """What any learner amounts to when the labeled rows hold a single class."""

    def __init__(self, cls: int) -> None:
        self.classes_ = np.array([cls])

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def predict_proba(self, X):
        return np.ones((len(X), 1))


def _fit_sklearn(name: str, X, y, seed: int):
    if np.unique(y).size < 2:
        return _OneClass(int(y[0]))
    clf = make_learner(name, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. lbfgs not converged in its default 100 steps
        clf.fit(X, y)
    return clf


def margin_rows(proba: np.ndarray, rows: np.ndarray, k: int, seed: int) -> np.ndarray:
    """The ``k`` rows (of ``rows``) with the smallest gap between the two top probabilities."""
    if proba.shape[1] < 2:
        margin = np.ones(proba.shape[0])
    else:
        top2 = np.sort(proba, axis=1)[:, -2:]
        margin = top2[:, 1] - top2[:, 0]
    scores = np.full(rows.max() + 1, -np.inf)
    scores[rows] = -margin
    candidates = np.zeros(rows.max() + 1, dtype=bool)
    candidates[rows] = True
    return top_k(scores, candidates, k, seed)


def fill_up(idx: np.ndarray, labeled: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, int]:
    """``idx`` without repeats or labeled rows, topped up to ``k`` with random unlabeled rows.

    scikit-activeml's BADGE can return the same row several times when rows are identical (e.g.
    housevotes' categorical rows): its k-means++ seeding then has nothing else left to pick.
    Returns the rows and how many were added at random.
    """
    idx = np.asarray(idx, dtype=np.int64)
    keep = idx[~labeled[idx]]
    _, first = np.unique(keep, return_index=True)
    keep = keep[np.sort(first)][:k]
    missing = k - keep.size
    if missing:
        free = np.setdiff1d(np.flatnonzero(~labeled), keep)
        extra = np.random.default_rng(seed).choice(free, missing, replace=False)
        keep = np.concatenate([keep, extra])
    return keep, missing


def _mlp_query(
    strategy: str, model, split: Split, labeled: np.ndarray, k: int, seed: int, teacher=None
):
    if strategy in MLP_PEERS:
        rows = np.flatnonzero(labeled)
        try:
            idx = peer_query(strategy, model, split.X_pool, rows, split.y_pool[rows], k, seed)
        except Exception as exc:  # a peer library's failure costs it this round, not the run
            print(f"{split.name} {strategy}: {type(exc).__name__}: {exc}; random rows instead")
            idx = np.empty(0, dtype=np.int64)
        return fill_up(idx, labeled, k, seed)
    outputs = ModelOutputs(model, split.X_pool, teacher=teacher)
    ctx = QueryContext(split.X_pool, labeled, outputs)
    from .variants import VARIANTS

    strat = VARIANTS[strategy]() if strategy in VARIANTS else get_strategy(strategy)
    return strat.query(ctx, k, seed=seed).indices, 0


def _fit_round(learner: str, split: Split, labeled: np.ndarray, seed: int, cache, key):
    """This round's model: (predict_proba over rows, the network the strategies read or None,
    the ensemble's fitted learner or None)."""
    if cache is not None and key is not None and key in cache:
        return cache[key]
    if learner in MLP_LEARNERS:
        Xl, yl = split.X_pool[labeled], split.y_pool[labeled]
        model, _ = train_mlp(Xl, yl, split.n_classes, MLP_LEARNERS[learner], seed=seed)
        fitted = (lambda X: predict_proba(model, X), model, None)
    elif learner in ENSEMBLES:
        labels = np.where(labeled, split.y_pool, -1)
        config = ENSEMBLES[learner]
        fitted_learner = fit_learner(
            split.X_pool, labels, split.n_classes, config, MLPConfig(), seed
        )
        model = fitted_learner.network
        fitted = (lambda X: predict_proba(model, X), model, fitted_learner)
    elif learner == "teacher" and np.unique(split.y_pool[labeled]).size >= 2:
        # the default ensemble's teacher alone, no student: its own accuracy and margin
        Xl, yl = split.X_pool[labeled], split.y_pool[labeled]
        teacher = fit_teacher(
            Xl,
            yl,
            split.n_classes,
            DEFAULT_LEARNER.members,
            MLPConfig(),
            seed,
            as_reporter(None),
            DEFAULT_LEARNER.weight_temperature,
        )
        fitted = (teacher.predict_proba, None, None)
    else:
        Xl, yl = split.X_pool[labeled], split.y_pool[labeled]
        clf = _fit_sklearn("et" if learner == "teacher" else learner, Xl, yl, seed)
        fitted = (lambda X: _sk_proba(clf, X, split.n_classes), None, None)
    if cache is not None and key is not None:
        cache[key] = fitted
    return fitted


def _sk_proba(clf, X: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((X.shape[0], n_classes))
    out[:, np.asarray(clf.classes_, dtype=np.int64)] = clf.predict_proba(X)
    return out


def run_curve(
    split: Split, pipeline: str, seed: int, rounds: int = ROUNDS, cache: dict | None = None
) -> dict:
    """One learning curve: test accuracy and balanced accuracy after each round's training.

    Ensemble pipelines also record, per point, the teacher's test accuracy, the fidelity on the
    test rows (student and teacher predict the same class) and the fidelity the app reports
    (measured on pool rows or rows made like them, see :mod:`dami_gui.core.learner.fit`).
    """
    learner, strategy = pipeline.split("/", 1)
    n, B = split.X_pool.shape[0], split.batch
    rng = np.random.default_rng(seed)
    labeled = np.zeros(n, dtype=bool)
    labeled[rng.choice(n, size=min(B, n), replace=False)] = True
    acc, bacc, labels, select_s, train_s = [], [], [], [], []
    teacher_acc, teacher_bacc, fidelity, app_fidelity = [], [], [], []
    stopped_early = None
    filled = 0
    for r in range(rounds + 1):
        t0 = time.perf_counter()
        train_seed = seed * 1000 + r
        key = (learner, split.name, seed) if r == 0 else None
        proba, model, fitted = _fit_round(learner, split, labeled, train_seed, cache, key)
        pred = proba(split.X_test).argmax(1)
        train_s.append(time.perf_counter() - t0)
        acc.append(float((pred == split.y_test).mean()))
        bacc.append(balanced_accuracy(split.y_test, pred))
        labels.append(int(labeled.sum()))
        if fitted is not None and fitted.teacher is not None:
            tpred = fitted.teacher.predict_proba(split.X_test).argmax(1)
            teacher_acc.append(float((tpred == split.y_test).mean()))
            teacher_bacc.append(balanced_accuracy(split.y_test, tpred))
            fidelity.append(float((tpred == pred).mean()))
            app_fidelity.append(fitted.fidelity)
        elif learner in ENSEMBLES:  # fewer than two classes: the network alone, no teacher
            teacher_acc.append(acc[-1])
            teacher_bacc.append(bacc[-1])
            fidelity.append(1.0)
            app_fidelity.append(None)
        if r == rounds:
            break
        left = int((~labeled).sum())
        if left == 0:
            stopped_early = r + 1
            break
        k = min(B, left)
        t0 = time.perf_counter()
        qseed = seed * 1000 + r
        if strategy == "random":  # our random strategy for every learner: the same rows
            ctx = QueryContext(split.X_pool, labeled)
            idx = get_strategy("random").query(ctx, k, qseed).indices
        elif strategy == "margin" and model is None:  # margin on a classic learner's proba
            rows = np.flatnonzero(~labeled)
            idx = margin_rows(proba(split.X_pool[rows]), rows, k, qseed)
        elif model is not None:  # the app's strategies (teacher-margin: given the teacher)
            teacher = fitted.teacher if fitted is not None else None
            idx, added = _mlp_query(strategy, model, split, labeled, k, qseed, teacher)
            filled += added
        else:
            raise ValueError(f"unknown pipeline {pipeline!r}")
        select_s.append(time.perf_counter() - t0)
        idx = np.asarray(idx, dtype=np.int64)
        assert len(set(idx.tolist())) == k and not labeled[idx].any(), pipeline
        labeled[idx] = True
    curve = {
        "acc": acc,
        "bacc": bacc,
        "labels": labels,
        "select_s": select_s,
        "train_s": train_s,
        "stopped_early": stopped_early,
        "filled_at_random": filled,
    }
    if learner in ENSEMBLES:
        curve.update(
            teacher_acc=teacher_acc,
            teacher_bacc=teacher_bacc,
            fidelity=fidelity,
            app_fidelity=app_fidelity,
        )
    return curve
