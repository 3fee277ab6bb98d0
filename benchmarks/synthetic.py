"""The synthetic group (issue 26): data sets drawn afresh for every seed from named families.

A tuning set can be fitted: ideas that win on it may win on it alone. A family cannot: each seed
draws a new member (new covariances, relevant columns, motifs, rules, thresholds), so what wins
on the synthetic group wins on the *kind* of boundary, not on one table. Every family is a
function of a random generator that returns a table of text and number cells with a ``class``
column, as a user's CSV would hold it; :func:`write_csv` writes the draw of ``(name, seed)`` and
:mod:`benchmarks.protocol` reads it back through the app's importer exactly like a KEEL set.

What each family is, why it is there and how it is drawn: docs/benchmarks.md, "The synthetic
group". :data:`FAMILIES` declares each set's rows, classes and column kinds (what the importer
must make of it; tests/test_synthetic_sets.py checks them). ``frame.attrs["draw"]`` holds the
hidden parameters of a draw (relevant columns, motifs, rule), for the tests and for curiosity.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr

LABEL = "class"
Draw = tuple[pd.DataFrame, dict]


@dataclass(frozen=True)
class Family:
    """A named family: how one member is drawn, and what the importer must find in it."""

    draw: Callable[[np.random.Generator], Draw]
    rows: int
    classes: int
    numeric: int
    categorical: int  # categories and yes/no columns
    gaps: bool = False  # some cells are empty
    imbalanced: bool = False  # headline metric: balanced accuracy
    tests: str = field(default="", compare=False)  # the kind of boundary it tests


# ------------------------------------------------------------------------------ helpers


def _rotation(rng: np.random.Generator, d: int) -> np.ndarray:
    """A random orthogonal d x d matrix (Haar: QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def _log_uniform(rng: np.random.Generator, low: float, high: float, size: int) -> np.ndarray:
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


def _flip(rng: np.random.Generator, y: np.ndarray, rate: float, k: int) -> np.ndarray:
    """Label noise: each label, with probability ``rate``, becomes another class at random."""
    y = y.copy()
    hit = rng.random(y.size) < rate
    y[hit] = (y[hit] + rng.integers(1, k, hit.sum())) % k
    return y


def _balanced(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """n class codes, as equal in number as n allows, in random order."""
    return rng.permutation(np.arange(n) % k)


def _pick(rng: np.random.Generator, names: list[str], n: int, p=None) -> np.ndarray:
    """n of ``names`` drawn with probabilities ``p`` (default: equal)."""
    return np.asarray(names)[rng.choice(len(names), n, p=p)]


def _standard(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / values.std()


def _numbers(X: np.ndarray, y: np.ndarray, prefix: str = "x") -> pd.DataFrame:
    frame = pd.DataFrame(X, columns=[f"{prefix}{j}" for j in range(1, X.shape[1] + 1)])
    frame[LABEL] = [f"c{c}" for c in y]
    return frame


def _gaussian_class(
    rng: np.random.Generator, d: int, n: int, spread: tuple[float, float]
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """n rows of N(0, Q diag(lam) Q') with a random rotation Q and eigenvalues log-uniform
    in ``spread``; returns the rows and (Q, lam) for the Bayes rule."""
    q, lam = _rotation(rng, d), _log_uniform(rng, spread[0], spread[1], d)
    return rng.normal(size=(n, d)) * np.sqrt(lam) @ q.T, (q, lam)


def _log_density(X: np.ndarray, mean, q: np.ndarray, lam: np.ndarray) -> np.ndarray:
    z = (X - mean) @ q
    return -0.5 * ((z**2 / lam).sum(1) + np.log(lam).sum())


# ------------------------------------------------------------------------------ families


def quadratic(rng: np.random.Generator, d: int, n: int = 3000, spread: float = 3.0) -> Draw:
    """Two Gaussians, each with its own random rotation and variances log-uniform in
    [1/spread, spread], means 0.5 apart: the best boundary is a quadric. ``bayes``: the
    accuracy of the true densities on this draw."""
    y = _balanced(rng, n, 2)
    X = np.empty((n, d))
    params = []
    for c in (0, 1):
        rows = np.flatnonzero(y == c)
        X[rows], qlam = _gaussian_class(rng, d, rows.size, (1 / spread, spread))
        params.append(qlam)
    shift = rng.normal(size=d)
    shift *= 0.5 / np.linalg.norm(shift)
    X[y == 1] += shift
    scores = [_log_density(X, m, *p) for m, p in zip((0.0, shift), params, strict=True)]
    bayes = float(np.mean((scores[1] > scores[0]) == (y == 1)))
    return _numbers(X, y), {
        "eigenvalues": [p[1].round(3).tolist() for p in params],
        "shift": shift.round(3).tolist(),
        "bayes": round(bayes, 3),
    }


def parity(rng: np.random.Generator, d: int, bits: int, noise: float, n: int) -> Draw:
    """The class is the parity of ``bits`` columns (each above or below its median) among
    ``d``; the rest are irrelevant. No single column says anything; only their interaction."""
    relevant = np.sort(rng.choice(d, bits, replace=False))
    loc, scale = rng.normal(0, 3, d), _log_uniform(rng, 0.5, 5, d)
    Z = rng.normal(size=(n, d))
    y = _flip(rng, (Z[:, relevant] > 0).sum(1) % 2, noise, 2)
    return _numbers(loc + scale * Z, y), {"relevant": relevant.tolist(), "bayes": 1 - noise}


LETTERS = np.array(list("ACGT"))


def motifs(rng: np.random.Generator, classes: int, n: int = 3000, length: int = 60) -> Draw:
    """Sequences of ``length`` letters A/C/G/T, one column per position, each position with its
    own random letter mix. Two motifs of 5 letters, each with its own place (any of 3 shifts);
    each letter of a planted motif stays the background's with probability 0.2. Two classes: a
    motif (either) or none; three: the first motif, the second, or none. Then 3 % label noise."""
    width, shifts = 5, 3
    mix = rng.dirichlet(np.full(4, 3.0), size=length)  # per-position letter frequencies
    codes = (rng.random((n, length, 1)) > mix.cumsum(1)[None, :, :3]).sum(2)
    slot = width + 2 * (shifts - 1)  # room for a motif at its place and every shift
    starts = rng.choice(length // slot, 2, replace=False) * slot + rng.integers(0, shifts, 2)
    words = rng.integers(0, 4, (2, width))
    y = _balanced(rng, n, classes)
    which = np.where(y == 2, 1, 0) if classes == 3 else rng.integers(0, 2, n)
    for i in np.flatnonzero(y > 0):
        at = starts[which[i]] + rng.integers(0, shifts)
        keep = rng.random(width) >= 0.2
        codes[i, at : at + width][keep] = words[which[i]][keep]
    y = _flip(rng, y, 0.03, classes)
    frame = pd.DataFrame(LETTERS[codes], columns=[f"p{j}" for j in range(1, length + 1)])
    frame[LABEL] = np.array(["none", "m1", "m2"])[y] if classes == 3 else np.where(y, "m", "none")
    draw = {"starts": starts.tolist(), "motifs": ["".join(LETTERS[w]) for w in words]}
    return frame, draw


HOUSING = ["own", "rent", "free"]
PURPOSE = ["car", "furniture", "education", "business", "holiday", "repairs", "other"]
EMPLOYMENT = ["salaried", "self-employed", "unemployed", "retired", "student"]
REGIONS = ["north", "south", "east", "west", "centre", "coast", "hills", "capital", "islands"]


def credit(rng: np.random.Generator, n: int = 2500) -> Draw:
    """A credit-like table: skewed amounts (log-normal income, loan and savings, many savings at
    zero), counts, categories, yes/no columns, empty cells (income more often missing for the
    self-employed), and a risk rule with interactions whose weights, risky categories and
    threshold are drawn per seed; 7 % label noise."""
    employment = _pick(rng, EMPLOYMENT, n, rng.dirichlet(np.full(5, 2.0)))
    housing = _pick(rng, HOUSING, n, rng.dirichlet(np.full(3, 3.0)))
    purpose = _pick(rng, PURPOSE, n)
    age = np.clip(18 + rng.gamma(4.0, 6.0, n), 18, 90).astype(int)
    log_income = rng.normal(np.log(rng.uniform(1500, 4000)), 0.6, n)
    log_loan = 0.6 * log_income + rng.normal(rng.uniform(2, 4), 0.8, n)
    savings = np.where(rng.random(n) < 0.3, 0.0, rng.lognormal(np.log(2000), 1.5, n))
    duration = rng.choice([6, 12, 18, 24, 36, 48, 60], n)
    guarantor = np.where(rng.random(n) < 0.25, "yes", "no")
    w = rng.uniform(0.5, 1.5, 6)
    risky_jobs = rng.choice(EMPLOYMENT, 2, replace=False)
    risky_purposes = rng.choice(PURPOSE, 3, replace=False)
    z = _standard
    risk = (
        w[0] * z(log_loan - log_income) * (1 + w[1] * (housing == "rent"))
        + w[2] * np.isin(employment, risky_jobs)
        + w[3] * z(duration) * np.isin(purpose, risky_purposes) * (guarantor == "no")
        - w[4] * z(np.log1p(savings))
        + w[5] * z(np.abs(age - rng.uniform(35, 50)))
    )
    unseen = 0.5 * rng.normal(size=n)  # what the table does not show
    cut = np.quantile(risk + unseen, 1 - rng.uniform(0.3, 0.45))
    bad = _flip(rng, (risk + unseen > cut).astype(int), 0.07, 2).astype(bool)
    rule = float(np.mean((risk > cut) == bad))  # the rule on the true (gap-free) values
    frame = pd.DataFrame({
        "age": age.astype(float), "income": np.exp(log_income).round(2),
        "loan_amount": (100 * np.round(np.exp(log_loan) / 100)), "duration_months": duration,
        "savings": savings.round(2), "open_credits": rng.poisson(1.2, n),
        "housing": housing, "purpose": purpose, "employment": employment,
        "region": _pick(rng, REGIONS, n), "phone": np.where(rng.random(n) < 0.6, "yes", "no"),
        "guarantor": guarantor,
    })  # fmt: skip
    hidden = rng.random(n) < np.where(employment == "self-employed", 0.25, 0.05)
    frame.loc[hidden, "income"] = np.nan
    for column, share in (("savings", 0.12), ("employment", 0.04), ("age", 0.02)):
        frame.loc[rng.random(n) < share, column] = np.nan
    frame[LABEL] = np.where(bad, "bad", "good")
    draw = {
        "weights": w.round(3).tolist(),
        "risky_jobs": risky_jobs.tolist(),
        "risky_purposes": risky_purposes.tolist(),
        "rule": round(rule, 3),
    }
    return frame, draw


def blobs(rng: np.random.Generator, classes: int, d: int, n: int, spread: float) -> Draw:
    """Many classes with few rows each: one anisotropic Gaussian per class (random rotation,
    eigenvalues log-uniform in [0.2, 2]) around centres drawn N(0, spread^2 I)."""
    y = _balanced(rng, n, classes)
    centres = rng.normal(0, spread, (classes, d))
    X = np.empty((n, d))
    params = []
    for c in range(classes):
        rows = np.flatnonzero(y == c)
        X[rows], qlam = _gaussian_class(rng, d, rows.size, (0.2, 2.0))
        X[rows] += centres[c]
        params.append(qlam)
    scores = np.stack([_log_density(X, centres[c], *params[c]) for c in range(classes)], 1)
    return _numbers(X, y), {
        "centres": centres.round(3).tolist(),
        "bayes": round(float(np.mean(scores.argmax(1) == y)), 3),
    }


def linear(rng: np.random.Generator, d: int = 20, n: int = 2000) -> Draw:
    """The control: correlated Gaussian columns, a random hyperplane, 3 % label noise. A linear
    model is the right one here; a learner that loses much to it wastes labels."""
    X, _ = _gaussian_class(rng, d, n, (0.3, 3.0))
    w = rng.normal(size=d)
    score = X @ w
    y = (score > np.quantile(score, rng.uniform(0.35, 0.65))).astype(int)
    return _numbers(X, _flip(rng, y, 0.03, 2)), {"w": w.round(3).tolist(), "bayes": 0.97}


def heavy_tails(rng: np.random.Generator, d: int = 12, n: int = 2500) -> Draw:
    """Half the columns Cauchy, half log-normal (random location and scale); the class is a
    linear rule on the normal scores of three columns' ranks, 5 % label noise. Any monotone
    transform of a column keeps the rule: it tests learners that standardise raw values."""
    g = rng.normal(size=(n, d))  # the normal scores
    cauchy = rng.permutation(d) < d // 2
    loc, scale = rng.normal(0, 10, d), _log_uniform(rng, 0.1, 10, d)
    mu, sigma = rng.uniform(-2, 5, d), rng.uniform(1, 2.5, d)
    X = np.where(cauchy, loc + scale * np.tan(np.pi * (ndtr(g) - 0.5)), np.exp(mu + sigma * g))
    relevant = np.sort(rng.choice(d, 3, replace=False))
    w = rng.uniform(0.5, 1.5, 3) * rng.choice([-1, 1], 3)
    y = _flip(rng, (g[:, relevant] @ w > 0).astype(int), 0.05, 2)
    draw = {"relevant": relevant.tolist(), "cauchy": np.flatnonzero(cauchy).tolist()}
    return _numbers(X, y), {**draw, "w": w.round(3).tolist(), "bayes": 0.95}


def shells(rng: np.random.Generator, classes: int = 3, d: int = 10, n: int = 2400) -> Draw:
    """Concentric spherical shells, one per class, in 3 random columns of ``d``; the radial
    bands are drawn per seed and blur into each other; the other columns are noise."""
    y = _balanced(rng, n, classes)
    radii = np.cumsum(rng.uniform(0.8, 1.2, classes))
    direction = rng.normal(size=(n, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    r = radii[y] + rng.normal(0, 0.25, n)
    X = rng.normal(0, radii[-1] / 2, (n, d))
    relevant = np.sort(rng.choice(d, 3, replace=False))
    X[:, relevant] = direction * r[:, None]
    X *= _log_uniform(rng, 0.2, 5, d)
    return _numbers(X, y), {"relevant": relevant.tolist(), "radii": radii.round(3).tolist()}


def spirals(rng: np.random.Generator, arms: int = 3, d: int = 8, n: int = 2400) -> Draw:
    """Interleaved spiral arms, one per class, in 2 random columns of ``d`` (turns and blur
    drawn per seed); the other columns are noise."""
    y = _balanced(rng, n, arms)
    turns = rng.uniform(0.75, 1.25)
    t = np.sqrt(rng.uniform(0.02, 1, n))
    angle = 2 * np.pi * (y / arms + turns * t) + rng.uniform(0, 2 * np.pi)
    blur = rng.uniform(0.06, 0.1)
    X = rng.normal(0, 0.5, (n, d))
    relevant = np.sort(rng.choice(d, 2, replace=False))
    X[:, relevant] = t[:, None] * np.c_[np.cos(angle), np.sin(angle)]
    X[:, relevant] += rng.normal(0, blur, (n, 2))
    return _numbers(X, y), {"relevant": relevant.tolist(), "turns": round(turns, 3)}


def rare(rng: np.random.Generator, d: int = 10, n: int = 5000, share: float = 0.04) -> Draw:
    """An imbalanced set: the rare class (about ``share`` of the rows) is a corner of two random
    columns (both past their thresholds), with measurement noise blurring the corner's edge;
    half the columns log-normal. Headline metric: balanced accuracy."""
    g = rng.normal(size=(n, d))
    relevant = np.sort(rng.choice(d, 2, replace=False))
    p_a = rng.uniform(0.15, 0.3)
    t = -np.array([_normal_quantile(p_a), _normal_quantile(share / p_a)])
    seen = g[:, relevant] + rng.normal(0, 0.15, (n, 2))
    y = (seen > t).all(1).astype(int)
    skewed = rng.permutation(d) < d // 2
    X = np.where(skewed, np.exp(rng.uniform(0, 3, d) + rng.uniform(0.5, 1.5, d) * g), g)
    frame = _numbers(X, y)
    frame[LABEL] = np.where(y == 1, "rare", "common")
    return frame, {"relevant": relevant.tolist(), "thresholds": t.round(3).tolist()}


def _normal_quantile(p: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(p))


def category_rules(rng: np.random.Generator, d: int = 14, n: int = 2000) -> Draw:
    """Only categories (3 to 6 levels per column, random frequencies): the class is an OR of
    three random AND-pairs of conditions "column in a set of its levels", 3 % label noise;
    the kind of rule behind mushroom or tic-tac-toe, new per seed."""
    levels = rng.integers(3, 7, d)
    codes = np.stack([rng.choice(k, n, p=rng.dirichlet(np.full(k, 3.0))) for k in levels], 1)
    terms = []
    hit = np.zeros(n, dtype=bool)
    for _ in range(3):
        pair = rng.choice(d, 2, replace=False)
        allowed = [rng.choice(levels[j], max(1, levels[j] // 2), replace=False) for j in pair]
        hit |= np.isin(codes[:, pair[0]], allowed[0]) & np.isin(codes[:, pair[1]], allowed[1])
        terms.append([[int(j), sorted(a.tolist())] for j, a in zip(pair, allowed, strict=True)])
    y = _flip(rng, hit.astype(int), 0.03, 2)
    names = np.array([f"v{k}" for k in range(1, 7)])
    frame = pd.DataFrame(names[codes], columns=[f"q{j}" for j in range(1, d + 1)])
    frame[LABEL] = np.where(y == 1, "rule", "other")
    return frame, {"terms": terms}


# ------------------------------------------------------------------------------ the group

#: name -> family, in the order of the tables.
FAMILIES: dict[str, Family] = {
    "syn-linear": Family(linear, 2000, 2, 20, 0, tests="a hyperplane (control)"),
    "syn-quadratic-20": Family(
        partial(quadratic, d=20), 3000, 2, 20, 0, tests="a quadric in 20 dimensions"
    ),
    "syn-quadratic-40": Family(
        partial(quadratic, d=40), 3000, 2, 40, 0, tests="a quadric in 40 dimensions"
    ),
    "syn-xor-2of10": Family(
        partial(parity, d=10, bits=2, noise=0.05, n=2000), 2000, 2, 10, 0,
        tests="an interaction of 2 columns among 10",
    ),
    "syn-parity-3of6": Family(
        partial(parity, d=6, bits=3, noise=0.05, n=3000), 3000, 2, 6, 0,
        tests="an interaction of 3 columns among 6",
    ),
    "syn-shells": Family(shells, 2400, 3, 10, 0, tests="nested radial bands in 3 of 10 columns"),
    "syn-spirals": Family(spirals, 2400, 3, 8, 0, tests="interleaved spirals in 2 of 8 columns"),
    "syn-heavy-tails": Family(heavy_tails, 2500, 2, 12, 0, tests="a rule on ranks, wild scales"),
    "syn-blobs-20": Family(
        partial(blobs, classes=20, d=8, n=1400, spread=1.25), 1400, 20, 8, 0,
        tests="20 classes, 70 rows each",
    ),
    "syn-motifs-2": Family(
        partial(motifs, classes=2), 3000, 2, 0, 60, tests="motifs in 60 letter columns"
    ),
    "syn-motifs-3": Family(
        partial(motifs, classes=3), 3000, 3, 0, 60, tests="two motifs and none, 3 classes"
    ),
    "syn-categories": Family(category_rules, 2000, 2, 0, 14, tests="OR of ANDs of categories"),
    "syn-credit": Family(
        credit, 2500, 2, 6, 6, gaps=True, tests="mixed columns, gaps, skew, interactions"
    ),
    "syn-rare": Family(rare, 5000, 2, 10, 0, imbalanced=True, tests="a rare corner (4 %)"),
}  # fmt: skip
SYNTHETIC = list(FAMILIES)
SYNTHETIC_IMBALANCED = [name for name, f in FAMILIES.items() if f.imbalanced]


def generate(name: str, seed: int) -> pd.DataFrame:
    """Seed ``seed``'s draw of family ``name``: a new member, not a new sample of one member.

    The generator is seeded by (name, seed) only, so a draw is the same on every run and
    machine (for one numpy version) and the families do not share random numbers.
    """
    if name not in FAMILIES:
        raise ValueError(f"{name!r} is not a synthetic family; one of {SYNTHETIC}")
    rng = np.random.default_rng([zlib.crc32(name.encode()), seed])
    frame, draw = FAMILIES[name].draw(rng)
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    frame.attrs["draw"] = draw
    return frame


def write_csv(name: str, seed: int, folder: Path) -> Path:
    """``folder/<name>-seed<seed>.csv``, written (again) whenever its text would change, so a
    changed generator never leaves an old draw behind. Numbers keep 6 significant digits; a
    gap is an empty cell."""
    text = generate(name, seed).to_csv(index=False, float_format="%.6g", na_rep="")
    path = folder / f"{name}-seed{seed}.csv"
    if not path.exists() or path.read_text() != text:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    return path
