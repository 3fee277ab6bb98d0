"""The active learning loop as one object: labels, label history, rounds and the current model.

The session is the single owner of state; the app's Qt models and the CLI read it and call its
methods. A round is split in two so the app can run the long part in a worker thread while the
user keeps labeling: :meth:`Session.compute_round` works on a snapshot of the labels and changes
nothing, :meth:`Session.commit_round` (on the caller's thread) records the result.

Labels are an append-only list of :class:`LabelEvent`; undo is a new event, and the current label
of every row (``labels``, ``skipped``) is derived from the file's initial labels plus the events.

An optional *journal* (see :class:`Journal`, e.g. a project file) is told about every event and
every committed round before the in-memory state changes, so nothing the user sees as done can be
lost; if the journal raises, the change is not made and the error reaches the caller. The rules
of label, skip and undo live in :meth:`Session.apply`, used alike by the live calls and by a
project's replay of its stored history.

torch is loaded by the first round (training, the device), not by the session itself: a session
restored to take a label from the shell never loads it, nor pandas (its dataset may be one
without its table: the labels, ids and classes of a project's unchanged CSV file).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np

from dami_gui.core.cold_start import can_train, cold_start_round
from dami_gui.core.coverage import round_coverage
from dami_gui.core.errors import ParameterError
from dami_gui.core.learner.config import DEFAULT_LEARNER, LearnerConfig
from dami_gui.core.network import MLPConfig
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter
from dami_gui.core.records import EVENT_KINDS, LabelEvent, RoundResult
from dami_gui.core.strategies import DEFAULT_STRATEGY, ModelOutputs, QueryContext, get_strategy
from dami_gui.core.validation import check_int

if TYPE_CHECKING:
    import torch

    from dami_gui.core.data.dataset import Dataset
    from dami_gui.core.model import MLP

Listener = Callable[[str, object], None]

#: Rows asked for per round unless told otherwise.
DEFAULT_BATCH_SIZE = 20


class Journal(Protocol):
    """Durable record of what happens to a session (e.g.
    :class:`dami_gui.core.project.journal.Project`).

    Each method is called before the session's state changes and before listeners hear of it;
    raising refuses the change (the session stays as it was) and the error propagates.
    """

    def record_event(self, event: LabelEvent) -> None: ...

    def record_round(self, result: RoundResult) -> None: ...

    def record_events(self, events: list[LabelEvent]) -> None:
        """Record ``events``, given together (a group), all or none."""


class Session:
    """The labeling loop over one :class:`Dataset`.

    ``truth``: optional ground-truth class codes for every row (the demo, simulations); the test
    accuracy is then measured on the rows not labeled at the start of the round. ``test_set``:
    optional held-out ``(X, y)``, used instead of ``truth`` for the test accuracy.
    """

    def __init__(
        self,
        dataset: Dataset,
        *,
        strategy: str = DEFAULT_STRATEGY,
        batch_size: int = DEFAULT_BATCH_SIZE,
        seed: int = 0,
        model_config: MLPConfig | None = None,
        learner: LearnerConfig | None = None,
        truth: np.ndarray | None = None,
        test_set: tuple[np.ndarray, np.ndarray] | None = None,
        estimate_accuracy: bool = True,
        device: torch.device | str | None = "auto",
        journal: Journal | None = None,
    ) -> None:
        self.dataset = dataset
        #: Told of every event and committed round before they take effect; see :class:`Journal`.
        self.journal = journal
        n = dataset.n_rows
        self.labels = np.asarray(dataset.y, dtype=np.int64).copy()
        self.skipped = np.zeros(n, dtype=bool)
        self.events: list[LabelEvent] = []
        self.rounds: list[RoundResult] = []
        self.queries = np.empty(0, dtype=np.int64)
        self._model_config = model_config or MLPConfig()
        self._learner = learner or DEFAULT_LEARNER
        self.seed = int(seed)
        self.estimate_accuracy = estimate_accuracy
        self._device_spec = device
        self._device: torch.device | None = None
        self._device_known = False
        if truth is not None:
            truth = np.asarray(truth, dtype=np.int64)
            if truth.shape != (n,):
                raise ParameterError("truth", f"{n} class codes, one per row", truth.shape)
        self.truth = truth
        self.test_set = test_set
        self._listeners: list[Listener] = []
        self._strategy = ""
        self._batch_size = 0
        self.strategy = strategy
        self.batch_size = batch_size

    # ----------------------------------------------------------------- settings and listeners
    @property
    def device(self) -> torch.device | None:
        """Where interpretation and K-Center run: an accelerator when torch has one, else the
        CPU (None); see :mod:`dami_gui.core.device`. Resolved on first use (it loads torch)."""
        if not self._device_known:
            from dami_gui.core.device import resolve_device

            self._device = resolve_device(self._device_spec)
            self._device_known = True
        return self._device

    @property
    def strategy(self) -> str:
        return self._strategy

    @strategy.setter
    def strategy(self, name: str) -> None:
        get_strategy(name)  # validates the name
        self._strategy = name
        self._notify("settings", None)

    @property
    def model_config(self) -> MLPConfig:
        """The network and its training schedule; a change applies from the next round."""
        return self._model_config

    @model_config.setter
    def model_config(self, config: MLPConfig) -> None:
        if not isinstance(config, MLPConfig):
            raise ParameterError("model_config", "an MLPConfig", type(config).__name__)
        self._model_config = config
        self._notify("settings", None)

    @property
    def learner(self) -> LearnerConfig:
        """What learns from the labels (the ensemble and its exact student, or the network
        alone; see :mod:`dami_gui.core.learner`); a change applies from the next round."""
        return self._learner

    @learner.setter
    def learner(self, config: LearnerConfig) -> None:
        if not isinstance(config, LearnerConfig):
            raise ParameterError("learner", "a LearnerConfig", type(config).__name__)
        self._learner = config
        self._notify("settings", None)

    @property
    def batch_size(self) -> int:
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        self._batch_size = check_int("batch_size", value, minimum=1)
        self._notify("settings", None)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(kind, payload)`` on every change; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self, kind: str, payload: object) -> None:
        for listener in list(self._listeners):
            listener(kind, payload)

    # ----------------------------------------------------------------------------- labels
    @property
    def n_rows(self) -> int:
        return self.dataset.n_rows

    @property
    def classes(self) -> list[str]:
        return self.dataset.classes

    @property
    def labeled_mask(self) -> np.ndarray:
        return self.labels >= 0

    @property
    def n_labeled(self) -> int:
        return int((self.labels >= 0).sum())

    @property
    def last_round(self) -> RoundResult | None:
        return self.rounds[-1] if self.rounds else None

    def _check_row(self, row: int) -> int:
        last = self.n_rows - 1
        return check_int("row", row, minimum=0, maximum=last, expected=f"a row number in 0..{last}")

    def new_event(
        self,
        row: int,
        kind: str,
        label: int | None = None,
        undoes: int | None = None,
        *,
        round_index: int | None = None,
        when: float | None = None,
        group: int | None = None,
    ) -> LabelEvent:
        """The event ``kind`` on ``row`` as of the current state; nothing is changed yet.

        ``previous_label`` and ``previous_skipped`` are the row's state now, which is what an
        undo of the event restores. ``round_index`` and ``when`` default to the current round and
        the clock; a replayed history passes the stored ones.
        """
        return LabelEvent(
            row=row,
            kind=kind,
            label=label,
            previous_label=int(self.labels[row]),
            previous_skipped=bool(self.skipped[row]),
            round=len(self.rounds) if round_index is None else round_index,
            time=time.time() if when is None else when,
            undoes=undoes,
            group=group,
        )

    def apply(self, event: LabelEvent) -> None:
        """Append ``event`` to the history and change its row's label and skip accordingly.

        The one place the rules of label, skip and undo live: a label sets the class and clears
        the skip, a skip clears the label, an undo restores what the undone event found. The live
        calls (:meth:`label`, :meth:`skip`, :meth:`undo`) apply an event once the journal has
        accepted it; replaying a project's stored history applies each event with no journal.
        Tells no listener.
        """
        row = event.row
        if event.kind == "undo":
            if event.undoes is None or not 0 <= event.undoes < len(self.events):
                raise ParameterError(
                    "undoes", f"an event index in 0..{len(self.events) - 1}", event.undoes
                )
            undone = self.events[event.undoes]
            self.labels[row] = undone.previous_label
            self.skipped[row] = undone.previous_skipped
        elif event.kind == "skip":
            self.labels[row] = -1
            self.skipped[row] = True
        elif event.kind == "label":
            self.labels[row] = -1 if event.label is None else event.label
            self.skipped[row] = False
        else:
            raise ParameterError("kind", f"one of {', '.join(EVENT_KINDS)}", event.kind)
        self.events.append(event)

    def _journal_and_apply(self, event: LabelEvent) -> LabelEvent:
        """Record ``event`` in the journal, apply it, then tell the listeners."""
        if self.journal is not None:
            self.journal.record_event(event)  # raises: nothing below happens
        self.apply(event)
        self._notify("labels", [event.row])
        return event

    def label(self, row: int, label: int) -> LabelEvent:
        """Give ``row`` the class code ``label``; it counts from the next round on."""
        row = self._check_row(row)
        last = len(self.classes) - 1
        code = check_int(
            "label", label, minimum=0, maximum=last, expected=f"a class code in 0..{last}"
        )
        return self._journal_and_apply(self.new_event(row, "label", code))

    def skip(self, row: int) -> LabelEvent:
        """Mark ``row`` "not sure": no label, not trained on, not queried again."""
        row = self._check_row(row)
        return self._journal_and_apply(self.new_event(row, "skip"))

    def label_rows(self, rows: np.ndarray | list[int], label: int) -> list[LabelEvent]:
        """Give every row of ``rows`` the class ``label`` at once (a group the user looked at).

        One label event per row, recorded by the journal all together (one write: all or none)
        and each applied by :meth:`apply` as :meth:`label` does, marked as one group
        (``LabelEvent.group``) so that :meth:`undo` takes them back together. Rows that already
        have the label are left alone. If the journal refuses, nothing changes and the error
        goes to the caller. Listeners hear of the rows once.
        """
        last = len(self.classes) - 1
        code = check_int(
            "label", label, minimum=0, maximum=last, expected=f"a class code in 0..{last}"
        )
        checked = [self._check_row(int(row)) for row in np.unique(np.asarray(rows, np.int64))]
        todo = [r for r in checked if self.labels[r] != code or self.skipped[r]]
        group = len(self.events)
        return self._give_group([self.new_event(row, "label", code, group=group) for row in todo])

    def _give_group(self, events: list[LabelEvent]) -> list[LabelEvent]:
        """Record ``events`` in the journal all or none (raises: nothing changes), apply each,
        then tell the listeners once."""
        if not events:
            return []
        if self.journal is not None:
            self.journal.record_events(events)  # raises: none of them is given
        for event in events:
            self.apply(event)
        self._notify("labels", [e.row for e in events])
        return events

    def undo(self) -> LabelEvent | None:
        """Revert the most recent label or skip not yet undone (all of its group, when it was
        given in one); returns the last undo event, None when there is nothing left."""
        undone = {e.undoes for e in self.events if e.kind == "undo"}
        for index in range(len(self.events) - 1, -1, -1):
            target = self.events[index]
            if target.kind == "undo" or index in undone:
                continue
            if target.group is None:
                return self._journal_and_apply(self.new_event(target.row, "undo", undoes=index))
            members = [
                i
                for i, e in enumerate(self.events)
                if e.group == target.group and e.kind != "undo" and i not in undone
            ]
            group = len(self.events)
            events = []
            for i in reversed(members):  # one row each: its own state is what undo restores
                events.append(self.new_event(self.events[i].row, "undo", undoes=i, group=group))
            given = self._give_group(events)
            return given[-1] if given else None
        return None

    def query_status(self) -> tuple[int, int]:
        """(answered, total) over the current queries; a skip counts as answered."""
        if self.queries.size == 0:
            return 0, 0
        answered = (self.labels[self.queries] >= 0) | self.skipped[self.queries]
        return int(answered.sum()), int(self.queries.size)

    def predictions(self) -> np.ndarray | None:
        """Predicted class probabilities (N x C) from the last round, or None before round 1."""
        return None if self.last_round is None else self.last_round.proba

    # ----------------------------------------------------------------------------- rounds
    def compute_round(
        self,
        progress: ProgressCallback | Reporter | None = None,
        cancel: CancelToken | None = None,
    ) -> RoundResult:
        """Train on the labeled rows, interpret, select the next queries; changes no state.

        Safe to call from a worker thread while the user keeps labeling: it reads a snapshot of
        the labels taken at the start. Raises :class:`Cancelled` if ``cancel`` is set.
        """
        reporter = as_reporter(progress, cancel)
        labels = self.labels.copy()
        skipped = self.skipped.copy()
        index = len(self.rounds) + 1
        strategy_name, batch_size = self.strategy, self.batch_size
        config = self.model_config  # taken once: the settings may change while the round runs
        learner = self.learner
        seed = self.seed * 1_000_003 + index
        X = self.dataset.X
        n_classes = len(self.classes)
        labeled = labels >= 0
        timings: dict[str, float] = {}
        if not can_train(labels):  # no model yet: rows that cover the pool (as `dami select`)
            t0 = time.perf_counter()
            cold = cold_start_round(
                index, X, labels, skipped, n_classes, strategy=strategy_name,
                batch_size=batch_size, seed=seed, info={"model_config": config.to_dict()},
                device=self.device, progress=reporter,
            )  # fmt: skip
            cold.timings = {"select": time.perf_counter() - t0}
            return cold

        from dami_gui.core.learner.estimate import round_estimate
        from dami_gui.core.learner.fit import fit_learner

        device = self.device  # a device torch cannot use is refused before training
        t0 = time.perf_counter()
        fitted = fit_learner(
            X,
            labels,
            n_classes,
            learner,
            config,
            seed,
            reporter.sub(0.0, 0.45, "Training the model"),
        )
        model = fitted.network
        timings["train"] = time.perf_counter() - t0
        timings.update({f"train_{k}": v for k, v in fitted.timings.items() if k != "train"})

        t0 = time.perf_counter()
        outputs = ModelOutputs(model, X, device, teacher=fitted.teacher)
        ctx = QueryContext(X, labeled, outputs, candidates=~skipped, device=device)
        strategy = get_strategy(strategy_name)
        query = strategy.query(
            ctx, batch_size, seed, reporter.sub(0.45, 0.8, "Choosing rows to label")
        )
        region_ids = outputs.regions()
        # The map always shows groups of similar local models, whatever picked the rows.
        partition, centers, center_distance = strategy.map_partition(ctx, query)
        timings["select"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        estimate, cv_predictions = round_estimate(
            fitted, X, labels, n_classes, config, seed, self.estimate_accuracy,
            reporter.sub(0.8, 1.0, "Estimating accuracy"),
        )  # fmt: skip
        timings["estimate"] = time.perf_counter() - t0
        reporter("Done", 1.0)

        result = RoundResult(
            index=index,
            strategy=strategy_name,
            batch_size=batch_size,
            seed=seed,
            labeled_count=int(labeled.sum()),
            queries=query.indices,
            scores=query.scores,
            partition=partition,
            centers=centers,
            center_distance=center_distance,
            region_ids=region_ids,
            proba=outputs.proba,
            accuracy_estimate=estimate,
            test_accuracy=self._test_accuracy(model, outputs.proba, labeled),
            model_state={k: v.detach().clone() for k, v in model.state_dict().items()},
            model_spec=model.spec(),
            train_accuracy=fitted.train_accuracy,
            timings=timings,
            info={
                **query.info,
                "model_config": config.to_dict(),
                "learner": fitted.learner.to_dict(),
                "fidelity": fitted.fidelity,
            },
            teacher=fitted.teacher,
            cv_predictions=cv_predictions,
        )
        previous = self.rounds[-1] if self.rounds and self.rounds[-1].index == index - 1 else None
        # Recorded now, while the previous round's per-row arrays are at hand: a reopened
        # project keeps those arrays for the last round only.
        result.info = {**result.info, "coverage": round_coverage(result, previous).to_dict()}
        return result

    def _test_accuracy(self, model: MLP, proba: np.ndarray, labeled: np.ndarray) -> float | None:
        if self.test_set is not None:
            import torch

            X_test, y_test = self.test_set
            with torch.no_grad():
                pred = (
                    model(torch.as_tensor(np.asarray(X_test, dtype=np.float32))).argmax(1).numpy()
                )
            return float((pred == np.asarray(y_test)).mean())
        if self.truth is not None:
            rows = (~labeled) & (self.truth >= 0)
            if rows.any():
                return float((proba[rows].argmax(1) == self.truth[rows]).mean())
        return None

    def commit_round(self, result: RoundResult) -> None:
        """Record a computed round and make its queries current (minus rows answered meanwhile)."""
        if result.index != len(self.rounds) + 1:
            raise ParameterError(
                "result", f"the result of round {len(self.rounds) + 1}", result.index
            )
        if self.journal is not None:
            self.journal.record_round(result)  # raises: the round is not committed
        self.rounds.append(result)
        open_rows = (self.labels[result.queries] < 0) & ~self.skipped[result.queries]
        self.queries = result.queries[open_rows]
        self._notify("round", result)

    def run_round(
        self,
        progress: ProgressCallback | Reporter | None = None,
        cancel: CancelToken | None = None,
    ) -> RoundResult:
        """Compute and commit one round."""
        result = self.compute_round(progress, cancel)
        self.commit_round(result)
        return result
