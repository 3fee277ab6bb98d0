"""``dami select --engine dask``: one round over a partitioned pool.

What runs where:

* on the workers, per partition (:mod:`~dami_gui.distributed.tasks`, numpy only): reading the
  partition, its features (the preprocessing replayed), and every pass over the pool;
* on the client: the fit of the preprocessing from the partitions' reductions
  (:mod:`~dami_gui.distributed.features`), the learning from the labeled rows (gathered: they are
  few) with :func:`~dami_gui.core.learner.fit.fit_on_sample` as the in-memory round learns (the
  ensemble's student learns its teacher on a seeded sample of pool rows, gathered too, and its
  fidelity is measured on more of them), and the small steps between passes.

DAMI+ (the in-memory rule: k-means around the labeled rows in the space of dp/dx, the central
row of each new group) with the seeding of k-means|| (Bahmani et al., VLDB 2012): the labeled
rows are the fixed centers; :data:`ROUNDS` passes each draw about ``10 k`` rows with probability
proportional to their squared distance to the nearest center so far; one pass weighs each drawn
row by the rows nearest to it; on the client, weighted k-means++ (D² draws) and Lloyd's
iterations on the weighted draws (the core's own, as for the in-memory coreset); then
:data:`FULL_STEPS` Lloyd steps on the whole pool and one pass for the central rows. About
``ROUNDS + FULL_STEPS + 2`` passes, whatever the pool's size. The picks are not the in-memory
ones (which on more than 50,000 rows come from a coreset): docs/dask.md compares their quality.
``random``: a seeded key per open row, the ``k`` smallest. With no label yet, or one class
labeled while ``classes`` names the others (no model yet), the same k-means runs on the
features: a first batch that covers the pool; one class without ``classes`` is refused, as in
memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dami_gui.core.data.dataset import check_classes
from dami_gui.core.errors import DamiError
from dami_gui.core.learner import DEFAULT_LEARNER, LearnerConfig
from dami_gui.distributed import features, tasks
from dami_gui.distributed.kernels import Net, nearest, represent

#: k-means|| sampling rounds, and rows drawn per round per new center.
ROUNDS = 5
#: 10 rather than the usual 2: the weighted draws then summarise the pool as well as the in-memory
#: coreset does (docs/dask.md: the uncovered mass on 1M rows, 2 seeds, equal on average with 10,
#: 4-8 % worse with 2), for little more time (the passes' cost is forming dp/dx).
OVERSAMPLING = 10.0

#: Lloyd's steps on the whole pool after those on the weighted draws (1, as the in-memory
#: coreset path, core.geometry.kmeans.FULL_ITERATIONS).
FULL_STEPS = 1

#: Strategies this engine runs: DAMI+ blend (half DAMI+'s central rows, half its k-means++
#: draws, see dami_gui.core.strategies.dami_blend), DAMI+ (the default) and random.
STRATEGIES = ("dami-blend", "dami-plus", "random")


def strategies_text() -> str:
    """The strategies this engine runs, for a sentence: "a, b and c"."""
    return f"{', '.join(STRATEGIES[:-1])} and {STRATEGIES[-1]}"


@dataclass
class Selection:
    """The round's result: global rows (0-based) in selection order and what the table shows."""

    rows: np.ndarray
    ids: list[str]
    scores: np.ndarray
    groups: np.ndarray
    regions: list[str]
    predicted: list[str]
    n_rows: int
    n_features: int
    classes: list[str]
    n_labeled: int
    cold_start: bool
    report: Any
    timings: dict[str, float] = field(default_factory=dict)
    #: The learner that made the round's network, and how closely it follows the ensemble.
    learner: LearnerConfig = DEFAULT_LEARNER
    fidelity: float | None = None


def net_of(model: Any) -> Net:
    """The trained torch MLP as numpy weights (what the workers get)."""
    layers = model.layers
    return Net(
        tuple(lin.weight.detach().cpu().numpy().astype(np.float32) for lin in layers),
        tuple(lin.bias.detach().cpu().numpy().astype(np.float32) for lin in layers),
    )


def _map(client: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> list[Any]:
    """``fn`` on every partition; the arrays and the network shared by all the tasks are
    scattered to the workers once and passed as futures (``client.map`` turns a large keyword
    argument into a task named after the keyword, whose key collides from one call to the
    next: seen with 1,000 centers)."""
    shared = {
        name: client.scatter(value, broadcast=True, hash=False)
        if isinstance(value, np.ndarray | Net)
        else value
        for name, value in kwargs.items()
    }
    return list(client.map(fn, *args, pure=False, **shared))


def _gather(client: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> list[Any]:
    return list(client.gather(_map(client, fn, *args, **kwargs)))


def fit_features(
    client: Any,
    frame: Any,
    label: str | None,
    id_column: str | None,
    classes: list[str] | None,
    name: str = "The pool",
) -> tuple[features.PoolFacts, list[Any]]:
    """The preprocessing of the pool (see :mod:`features`) and its partitions (delayed); a
    pool with a NUL byte in a cell is refused (``name`` starts the sentence)."""
    import dask

    sample = frame.head(features.SAMPLE_ROWS, npartitions=-1, compute=True)
    report, sample_fit = features.sample_preprocessing(sample, label, id_column)
    label = report.column("label")
    parts = frame.to_delayed()
    fit = dask.delayed(features.partition_stats)
    stats = list(
        client.gather(client.compute([fit(p, sample_fit.transforms, label) for p in parts]))
    )
    features.refuse_nul(stats, name)
    gappy = features.gappy_columns(sample_fit, stats)
    medians: dict[str, float] = {}
    if gappy:
        take = dask.delayed(features.present_values)
        values = list(client.gather(client.compute([take(p, gappy) for p in parts])))
        medians = features.medians(gappy, values)
    return features.combine(sample_fit, report, stats, medians, classes), parts


def select(
    client: Any,
    frame: Any,
    *,
    label_column: str,
    id_column: str | None,
    classes: list[str] | None,
    strategy: str,
    batch: int,
    seed: int,
    learner: LearnerConfig = DEFAULT_LEARNER,
    say: Callable[[str], None] = lambda _: None,
    name: str = "The pool",
) -> Selection:
    """One round of ``strategy`` over ``frame`` (a Dask DataFrame) on ``client`` (see module).

    The same bad input gets the in-memory ``select``'s answer: a NUL byte in a cell, or a
    single labeled class without ``classes`` naming the others, is refused with its sentence
    (``name``, the pool's, starts the first).
    """
    import dask

    from dami_gui.core.learner import describe_learning
    from dami_gui.core.learner.fit import CHECK_ROWS, fit_on_sample
    from dami_gui.core.model import MLPConfig
    from dami_gui.core.progress import as_reporter

    if strategy not in STRATEGIES:
        raise DamiError(
            f"--engine dask runs the strategies {strategies_text()}, not '{strategy}'; "
            "use one of them, or the default --engine memory."
        )
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    facts, raw = fit_features(client, frame, label_column, id_column, classes, name)
    timings["features"] = time.perf_counter() - t0
    say(f"{facts.n_rows} rows in {len(raw)} partitions; features fitted.")

    t0 = time.perf_counter()
    prep = dask.delayed(tasks.prepare)
    label = facts.report.column("label")
    pre = facts.preprocessing
    delayed_parts = [
        prep(p, pre, label, facts.classes, off, i)
        for i, (p, off) in enumerate(zip(raw, facts.offsets, strict=True))
    ]
    parts = client.compute(delayed_parts)
    found = _gather(client, tasks.labeled, parts)
    rows_l = np.concatenate([f[0] for f in found])
    X_l = np.concatenate([f[1] for f in found]).astype(np.float32)
    y_l = np.concatenate([f[2] for f in found])
    timings["prepare"] = time.perf_counter() - t0
    if rows_l.size or facts.classes:  # as the in-memory select: one class, or far too many
        check_classes(label, facts.classes, int(rows_l.size))

    t0 = time.perf_counter()
    round_seed = seed * 1_000_003 + 1  # the in-memory session's first round
    cold = np.unique(y_l).size < 2
    model, fidelity = None, None
    if not cold:
        sample, check = _learning_sample(client, parts, facts, learner, CHECK_ROWS, round_seed)
        fitted = fit_on_sample(
            X_l,
            y_l,
            sample,
            check,
            len(facts.classes),
            learner,
            MLPConfig(),
            round_seed,
            as_reporter(None),
        )
        model, fidelity = fitted.network, fitted.fidelity
        learner = fitted.learner
        say(describe_learning(fitted.learner, fidelity))
    net = net_of(model) if model is not None else None
    timings["train"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    n_open = facts.n_rows - rows_l.size
    k = int(min(batch, n_open))
    states = None
    if k == 0:
        picks, scores, sizes = np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64)
    elif strategy == "random" and not cold:
        picks, scores = _random(client, parts, round_seed, k)
        sizes = np.zeros(k, np.int64)
    else:
        states, picks, sizes, drawn = _central(client, parts, net, X_l, k, round_seed, say)
        if strategy == "dami-blend" and not cold:
            from dami_gui.core.strategies.dami_blend import blend, boundary_count

            n_boundary = boundary_count(int(rows_l.size), k)
            picks = np.asarray(blend(picks, drawn, k, n_boundary)[0], np.int64)
    timings["select"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    X_p, fixed = _take(client, parts, states, facts.offsets, picks)
    if cold or strategy == "random":
        scores = sizes / max(facts.n_rows, 1) if cold else scores
    else:
        scores = np.sqrt(fixed.astype(np.float64))
    ids = _ids(client, raw, facts, picks)
    regions, predicted = [""] * picks.size, [""] * picks.size
    if model is not None and picks.size:
        from dami_gui.core.interpret import interpret
        from dami_gui.core.model import predict_proba

        region_ids = interpret(model, X_p, with_A=False).region_ids
        regions = [f"{int(r) & 0xFFFF_FFFF_FFFF_FFFF:016x}" for r in region_ids]
        predicted = [facts.classes[i] for i in predict_proba(model, X_p).argmax(1)]
    timings["report"] = time.perf_counter() - t0
    return Selection(
        picks,
        ids,
        np.asarray(scores, dtype=np.float64),
        np.arange(picks.size),
        regions,
        predicted,
        facts.n_rows,
        len(pre.feature_names),
        facts.classes,
        int(rows_l.size),
        cold,
        facts.report,
        timings,
        learner,
        fidelity,
    )


def _learning_sample(
    client: Any,
    parts: list[Any],
    facts: features.PoolFacts,
    learner: LearnerConfig,
    check_rows: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The ensemble's transfer sample and fidelity rows, drawn as the in-memory round draws
    them (a seeded choice of pool rows), gathered from their partitions; none for the network."""
    from dami_gui.core.learner.transfer import sample_rows

    if not learner.is_ensemble:
        return np.empty((0, 0), np.float32), np.empty((0, 0), np.float32)
    n = facts.n_rows
    sample = sample_rows(n, learner.transfer_rows, seed + 11)
    left = np.setdiff1d(np.arange(n), sample)
    check = left[sample_rows(left.size, check_rows, seed + 17)]
    rows = np.concatenate([sample, check])
    X, _ = _take(client, parts, None, facts.offsets, rows)
    return X[: sample.size], X[sample.size :]


def _random(client: Any, parts: list[Any], seed: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    found = _gather(client, tasks.random_keys, parts, seed=seed, k=k)
    keys = np.concatenate([f[0] for f in found])
    rows = np.concatenate([f[1] for f in found])
    order = np.lexsort((rows, keys))[:k]
    return rows[order], keys[order]


def _central(
    client: Any,
    parts: list[Any],
    net: Net | None,
    X_l: np.ndarray,
    k: int,
    seed: int,
    say: Callable[[str], None],
) -> tuple[list[Any], np.ndarray, np.ndarray, np.ndarray]:
    """DAMI+'s central rows with k-means|| seeding (see module): states, picks, group sizes,
    and the rows the movable centres were seeded from (global rows, in seeding order)."""
    import torch

    from dami_gui.core.geometry import coreset, kmeans
    from dami_gui.core.geometry.points import Matrix
    from dami_gui.core.progress import as_reporter

    fixed = represent(net, X_l) if X_l.shape[0] else np.empty((0, _dim(client, parts, net)))
    fixed = fixed.astype(np.float32)
    states = _map(client, tasks.fixed_pass, parts, net=net, fixed=fixed)
    drawn_rows, drawn = [], []
    for step in range(ROUNDS):
        mass = sum(m for m, _ in _gather(client, tasks.open_mass, parts, states))
        found = _gather(
            client,
            tasks.oversample,
            parts,
            states,
            net=net,
            mass=mass,
            ell=OVERSAMPLING * k,
            seed=seed,
            step=step,
        )
        new_rows = np.concatenate([f[0] for f in found])
        new = np.concatenate([f[1] for f in found]).astype(np.float32)
        drawn_rows.append(new_rows)
        drawn.append(new)
        if step < ROUNDS - 1 and new_rows.size:
            states = _map(client, tasks.update, parts, states, net=net, new=new)
    C_all = np.concatenate(drawn) if drawn else np.empty((0, fixed.shape[1]), np.float32)
    say(f"k-means||: {C_all.shape[0]} rows drawn in {ROUNDS} rounds.")
    if C_all.shape[0] < k:
        raise DamiError(
            "Too few unlabeled rows differ from the labeled ones for this batch; use a smaller "
            "--batch or the default --engine memory."
        )
    weights = np.sum(_gather(client, tasks.weigh, parts, states, net=net, C=C_all), axis=0)
    c_sq = np.einsum("ij,ij->i", C_all, C_all)
    c_fixed = nearest(C_all, c_sq, fixed)[0]
    sample = Matrix(torch.from_numpy(C_all))
    rng = np.random.default_rng(seed)
    fixed_t = torch.from_numpy(c_fixed.astype(np.float32))
    w_t = torch.from_numpy(np.maximum(weights, 1).astype(np.float32))
    open_t = torch.ones(C_all.shape[0], dtype=torch.bool)
    seeds = coreset.weighted_d2_seeding(sample, fixed_t, w_t, open_t, k, rng)
    if seeds is None:
        raise DamiError(
            "The unlabeled rows cannot be told apart from the labeled ones; use the default "
            "--engine memory, whose tie rule handles this."
        )
    C = sample.X[torch.as_tensor(seeds)].clone()
    C, _, _ = kmeans.lloyd(
        sample, sample.sq_norms(), fixed_t, C, kmeans.MAX_ITERATIONS, as_reporter(None), w_t
    )
    centers = C.numpy().astype(np.float32)
    for _ in range(FULL_STEPS):
        shares = _gather(client, tasks.lloyd_sums, parts, states, net=net, C=centers)
        sums = np.sum([s for s, _ in shares], axis=0)
        counts = np.sum([c for _, c in shares], axis=0)
        moved = counts > 0
        centers = centers.copy()
        centers[moved] = (sums[moved] / counts[moved, None]).astype(np.float32)
    found = _gather(client, tasks.central, parts, states, net=net, C=centers, keep=k)
    sizes = np.sum([f[0] for f in found], axis=0)
    _, near_r = tasks.nearest_first(
        np.hstack([f[1] for f in found]), np.hstack([f[2] for f in found]), k
    )
    order: list[int] = []
    for j in np.argsort(-sizes, kind="stable"):
        row = next(int(r) for r in near_r[j] if int(r) not in order)
        order.append(row)
    seed_rows = np.concatenate(drawn_rows)[np.asarray(seeds, np.int64)]
    return states, np.asarray(order, np.int64), np.sort(sizes)[::-1], seed_rows


def _dim(client: Any, parts: list[Any], net: Net | None) -> int:
    if net is not None:
        return net.n_classes * net.n_features
    return int(client.submit(lambda p: p.X.shape[1], parts[0], pure=False).result())


def _where(offsets: list[int], rows: np.ndarray) -> np.ndarray:
    """The partition of each global row."""
    return np.searchsorted(np.asarray(offsets), rows, side="right") - 1


def _take(
    client: Any, parts: list[Any], states: list[Any] | None, offsets: list[int], rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Features and fixed distance of ``rows``, in their order."""
    where = _where(offsets, rows)
    X = np.empty((rows.size, 0), np.float32)
    fixed = np.full(rows.size, np.nan, np.float32)
    for p in np.unique(where):
        mine = np.flatnonzero(where == p)
        state = states[p] if states is not None else None
        Xp, fp = client.submit(tasks.take, parts[p], state, rows[mine], pure=False).result()
        if X.shape[1] != Xp.shape[1]:
            X = np.empty((rows.size, Xp.shape[1]), np.float32)
        X[mine], fixed[mine] = Xp, fp
    return X, fixed


def _ids(client: Any, raw: list[Any], facts: features.PoolFacts, rows: np.ndarray) -> list[str]:
    """The id cell of each picked row (its row number, 1-based, without an id column)."""
    import dask

    id_column = facts.report.column("id")
    if id_column is None:
        return [str(int(r) + 1) for r in rows]
    from dami_gui.core.data.cells import text_values

    where = _where(facts.offsets, rows)
    out = [""] * rows.size

    def cells(frame: Any, local: np.ndarray) -> list[str]:
        series = frame[id_column].reset_index(drop=True).iloc[local]
        return [str(v) for v in text_values(series)]

    for p in np.unique(where):
        mine = np.flatnonzero(where == p)
        local = rows[mine] - facts.offsets[p]
        found = client.compute(dask.delayed(cells)(raw[p], local)).result()
        for i, v in zip(mine, found, strict=True):
            out[i] = v
    return out
