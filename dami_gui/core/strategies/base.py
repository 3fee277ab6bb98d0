"""The one interface every query strategy implements, the inputs they share, and the registry.

A strategy gets the pool (``X``), which rows are labeled, which rows may be queried, the fitted
model's outputs (computed lazily and cached, so a strategy pays only for what it reads), a batch
size and a seed; it returns the chosen rows in selection order and a score for every row.

Each strategy also carries what the rest of the program needs to know about it, so that nothing
outside asks for a strategy by name: its title and description (menus, help), why it picked a
row (:meth:`QueryStrategy.why_picked`, shown beside the row) and the partition of the pool into
groups of similar local models that the map draws (:meth:`QueryStrategy.map_partition`).

The strategies import the engine (torch, the interpretation, the geometry) inside the functions
that compute, not at the top: the registry, the names, titles and descriptions load without
torch, so the command line's parser and a project opened to take a label start at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol

import numpy as np

from dami_gui.core.cold_start import cold_start_why
from dami_gui.core.errors import ParameterError
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter
from dami_gui.core.validation import check_int

if TYPE_CHECKING:
    import torch

    from dami_gui.core.geometry.points import Points
    from dami_gui.core.interpret import Interpretation, LocalModels
    from dami_gui.core.model import MLP

#: Most bytes of A (N x C x d float32) kept. Smaller pools keep all of it, as they always did;
#: bigger ones keep the A of their first rows up to this size, and the passes that read A form
#: the rest block by block from the activation patterns
#: (:class:`~dami_gui.core.interpret.LocalModels`): a 1M-row pool of 10 classes x 50 features
#: keeps 1 GiB instead of 1.9 GB, and forms 46 % of its rows per pass.
KEEP_A_BYTES = 1024 * 1024 * 1024


class Ensemble(Protocol):
    """What a strategy may ask of the round's ensemble teacher (:class:`~dami_gui.core.learner.
    teacher.Teacher`): its averaged class probabilities of some rows."""

    def predict_proba(self, X: np.ndarray) -> np.ndarray: ...


class ModelOutputs:
    """The fitted model's outputs on the pool, each computed on first use and then cached.

    ``teacher`` is the round's ensemble when the learner has one (None: the network alone).
    The network is what every strategy explains; a strategy that ranks rows by the ensemble's
    own probabilities (:mod:`~dami_gui.core.strategies.ensemble`) asks the teacher for them.
    """

    def __init__(
        self,
        model: MLP,
        X: np.ndarray,
        device: torch.device | None = None,
        teacher: Ensemble | None = None,
    ) -> None:
        self.model = model
        self.X = np.asarray(X, dtype=np.float32)
        #: Where the interpretation runs (None: the CPU); see :mod:`dami_gui.core.device`.
        self.device = device
        self.teacher = teacher
        self._proba: np.ndarray | None = None
        self._hidden: np.ndarray | None = None
        self._interpretation: Interpretation | None = None
        self._models: LocalModels | None = None  # with the A of its first rows: formed once

    @property
    def proba(self) -> np.ndarray:
        from dami_gui.core.model import predict_proba

        if self._proba is None:
            self._proba = predict_proba(self.model, self.X)
        return self._proba

    @property
    def hidden(self) -> np.ndarray:
        from dami_gui.core.model import last_hidden

        if self._hidden is None:
            self._hidden = last_hidden(self.model, self.X)
        return self._hidden

    def interpretation(self, reporter: Reporter | None = None) -> Interpretation:
        """Local linear models of every row (with A, whatever its size); plain DAMI's K-Center
        reads it once per pick. Passes that read A a block at a time use :meth:`local_models`."""
        from dami_gui.core.interpret import interpret

        if self._interpretation is None or self._interpretation.A is None:
            self._interpretation = interpret(
                self.model, self.X, with_A=True, progress=reporter, device=self.device
            )
        return self._interpretation

    def local_models(self, reporter: Reporter | None = None) -> np.ndarray | LocalModels:
        """A of every row for the passes that read it block by block (DAMI+, the map's groups):
        the kept A (N, C, d) when it takes at most :data:`KEEP_A_BYTES` or is there already,
        else :class:`LocalModels` that keep that many bytes of it and form the rest from the
        activation patterns on every pass (the same A, to float32 rounding)."""
        from dami_gui.core.interpret import LocalModels, interpret

        n, d = self.X.shape
        kept = self._interpretation is not None and self._interpretation.A is not None
        if kept or n * self.model.n_classes * d * 4 <= KEEP_A_BYTES:
            return self.interpretation(reporter).matrices()
        if self._interpretation is None or self._interpretation.patterns is None:
            self._interpretation = interpret(
                self.model,
                self.X,
                with_A=False,
                keep_patterns=True,
                progress=reporter,
                device=self.device,
            )
        patterns = self._interpretation.patterns
        assert patterns is not None  # kept just above
        if self._models is None or self._models.patterns is not patterns:
            keep = KEEP_A_BYTES // (self.model.n_classes * d * 4)
            self._models = LocalModels(self.model, patterns, self.device, keep)
        return self._models

    def regions(self, reporter: Reporter | None = None) -> np.ndarray:
        """Exact activation region id of every row (cheap: no A when not already computed)."""
        from dami_gui.core.interpret import interpret

        if self._interpretation is None:
            self._interpretation = interpret(
                self.model, self.X, with_A=False, progress=reporter, device=self.device
            )
        return self._interpretation.region_ids


@dataclass(init=False)
class QueryContext:
    """Everything a strategy may read. ``candidates`` defaults to the unlabeled rows.

    Once built, ``candidates`` is always a boolean mask of the rows that may be queried (never a
    labeled one), whether it was given or not.
    """

    X: np.ndarray
    labeled: np.ndarray
    outputs: ModelOutputs | None
    candidates: np.ndarray
    device: torch.device | None

    def __init__(
        self,
        X: np.ndarray,
        labeled: np.ndarray,
        outputs: ModelOutputs | None = None,
        candidates: np.ndarray | None = None,
        device: torch.device | None = None,
    ) -> None:
        self.X = np.asarray(X, dtype=np.float32)
        self.outputs = outputs
        self.device = device
        n = self.X.shape[0]
        self.labeled = np.asarray(labeled, dtype=bool)
        if self.labeled.shape != (n,):
            raise ParameterError("labeled", f"a boolean mask of {n} rows", self.labeled.shape)
        if candidates is None:
            self.candidates = ~self.labeled
        else:
            self.candidates = np.asarray(candidates, dtype=bool) & ~self.labeled
            if self.candidates.shape != (n,):
                raise ParameterError(
                    "candidates", f"a boolean mask of {n} rows", self.candidates.shape
                )

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    def model_outputs(self, strategy: str) -> ModelOutputs:
        """``outputs``, which strategy ``strategy`` reads; refused when there are none."""
        if self.outputs is None:
            raise ParameterError(
                "outputs", f"the fitted model's outputs (strategy {strategy!r})", None
            )
        return self.outputs


@dataclass
class QueryResult:
    """Chosen rows in selection order and one score per row (higher: more wanted; nan: unscored).

    ``partition`` (strategies built on K-Center) gives each row's nearest center as an index
    into ``centers`` (initial centers first, then the chosen rows), and ``center_distance`` the
    distance to it in the strategy's representation.
    """

    indices: np.ndarray
    scores: np.ndarray
    partition: np.ndarray | None = None
    centers: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)
    center_distance: np.ndarray | None = None


class MapPartition(NamedTuple):
    """Every row's nearest center in interpretation space (vec A(x)), as the map shows it.

    ``centers`` are the labeled rows, then the picks; ``partition`` is each row's index into
    ``centers`` and ``center_distance`` the distance to that center.
    """

    partition: np.ndarray
    centers: np.ndarray
    center_distance: np.ndarray


class QueryStrategy(ABC):
    """Base class: validates the request, then delegates to :meth:`_select`."""

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    needs_model: ClassVar[bool] = True
    #: True when the strategy's own ``QueryResult.partition`` already is the map's partition:
    #: nearest centers in interpretation space, labeled rows then picks as centers (DAMI's
    #: K-Center). Otherwise :meth:`map_partition` computes it.
    partitions_interpretations: ClassVar[bool] = False
    #: True when the strategy ranks rows by the round's ensemble (``ModelOutputs.teacher``) and
    #: not only by the network; with the network alone it is then one of the others.
    reads_ensemble: ClassVar[bool] = False

    @classmethod
    def why_picked(cls) -> str:
        """Why this strategy picked a row, in one or two plain sentences starting with its title."""
        return f"{cls.title}: {cls.description}"

    @classmethod
    def why_this_row(cls, info: dict[str, Any], position: int, classes: Sequence[str] = ()) -> str:
        """Why it picked the ``position``-th row (0-based) of a round whose ``QueryResult.info``
        is ``info``: :meth:`why_picked` unless the strategy picks by more than one rule or kept
        the numbers behind each pick. ``classes`` are the class names, for a reason that names
        classes (by their codes when not given)."""
        return cls.why_picked()

    def map_partition(self, ctx: QueryContext, result: QueryResult) -> MapPartition:
        """The groups of similar local models the map draws, whatever picked ``result``.

        The strategy's own partition when it is one (:attr:`partitions_interpretations`), else
        every row's nearest center in interpretation space among the labeled rows and the picks.
        """
        if (
            self.partitions_interpretations
            and result.partition is not None
            and result.centers is not None
            and result.center_distance is not None
        ):
            return MapPartition(result.partition, result.centers, result.center_distance)
        if ctx.outputs is None:
            raise ParameterError("outputs", "the fitted model's outputs (for the map)", None)
        from dami_gui.core.geometry.kcenter import nearest_center

        centers = np.concatenate([np.flatnonzero(ctx.labeled), result.indices])
        flat = flat_models(ctx.outputs.local_models())
        partition, distance = nearest_center(flat, centers, ctx.device)
        return MapPartition(partition, centers, distance)

    def query(
        self,
        ctx: QueryContext,
        batch_size: int,
        seed: int = 0,
        progress: ProgressCallback | Reporter | None = None,
        cancel: CancelToken | None = None,
    ) -> QueryResult:
        batch_size = check_int("batch_size", batch_size, minimum=1)
        if self.needs_model:
            ctx.model_outputs(self.name)  # refuses a context without them
        k = int(min(batch_size, ctx.candidates.sum()))
        reporter = as_reporter(progress, cancel)
        if k == 0:
            return QueryResult(np.empty(0, dtype=np.int64), np.full(ctx.n_rows, np.nan))
        result = self._select(ctx, k, int(seed), reporter)
        result.indices = np.asarray(result.indices, dtype=np.int64)
        return result

    @abstractmethod
    def _select(self, ctx: QueryContext, k: int, seed: int, reporter: Reporter) -> QueryResult:
        """Choose exactly ``k`` distinct rows among ``ctx.candidates`` (k >= 1 and feasible)."""


def flat_models(models: np.ndarray | LocalModels) -> np.ndarray | Points:
    """vec(A(x)) per row: the kept A flattened (N, C*d), or points that form it block by block."""
    from dami_gui.core.geometry.points import LocalModelPoints

    if isinstance(models, np.ndarray):
        return models.reshape(models.shape[0], -1)
    return LocalModelPoints(models)


def top_k(scores: np.ndarray, candidates: np.ndarray, k: int, seed: int) -> np.ndarray:
    """The ``k`` candidates with the highest scores, ties broken by a seeded random order."""
    rows = np.flatnonzero(candidates)
    rng = np.random.default_rng(seed)
    rows = rows[rng.permutation(rows.size)]
    order = np.argsort(-scores[rows], kind="stable")
    return rows[order[:k]]


_REGISTRY: dict[str, type[QueryStrategy]] = {}

#: The strategy the app and the command line use unless told otherwise: DAMI+ (central rows of
#: new groups of dp/dx). With the 2 x 128 network it was ahead of DAMI+ blend on the tuning sets
#: over four seeds (issue 13; docs/benchmarks.md), so the blend is offered, not the default.
DEFAULT_STRATEGY = "dami-plus"


def register(cls: type[QueryStrategy]) -> type[QueryStrategy]:
    _REGISTRY[cls.name] = cls
    return cls


def available() -> list[str]:
    """Names of all strategies: the default first, then the paper's ``dami``, then the rest."""
    first = [n for n in (DEFAULT_STRATEGY, "dami") if n in _REGISTRY]
    return first + sorted(n for n in _REGISTRY if n not in first)


def get_strategy(name: str) -> QueryStrategy:
    """A strategy instance by name; an unknown name is a :class:`ParameterError` listing them."""
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise ParameterError("strategy", f"one of {', '.join(available())}", name) from None


def reads_ensemble(name: str) -> bool:
    """Whether strategy ``name`` ranks rows by the round's ensemble (see
    :attr:`QueryStrategy.reads_ensemble`)."""
    return type(get_strategy(name)).reads_ensemble


def describe(name: str) -> tuple[str, str]:
    """A strategy's title and one-sentence plain description, for menus and help."""
    cls = type(get_strategy(name))
    return cls.title, cls.description


def why_this_row(
    name: str, info: dict[str, Any], position: int, classes: Sequence[str] = ()
) -> str:
    """Why strategy ``name`` picked the ``position``-th row (0-based) of a round (see
    :meth:`QueryStrategy.why_this_row`); an unknown name is named, as in :func:`why_picked`.
    A cold-start round (no model yet) says so whatever the strategy: it picked by no model."""
    if info.get("cold_start"):
        return cold_start_why(info, position)
    cls = _REGISTRY.get(name)
    if cls is None:
        return why_picked(name)
    return cls.why_this_row(info, position, classes)


def why_picked(name: str) -> str:
    """Why strategy ``name`` picked a row (see :meth:`QueryStrategy.why_picked`).

    A name this version does not know (a round saved by another version) gets a plain sentence
    naming it instead of an error.
    """
    cls = _REGISTRY.get(name)
    if cls is None:
        return f"Picked by the '{name}' strategy."
    return cls.why_picked()
