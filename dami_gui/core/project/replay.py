"""Rebuilding a session from a project's stored history: the label events, then the rounds.

The events are the truth; everything else in the file can be recomputed from them. So:

* each event is checked (:func:`dami_gui.core.project.checks.event`) and replayed through
  :meth:`dami_gui.core.session.Session.apply`, the rules the live session follows; one that makes
  no sense (a class code out of range, an unknown kind) is set aside and counted, never guessed;
  events given together (meta ``event_groups``) get their group back, so undo takes them back
  together as it did before;
* a round whose figures make no sense ends the rounds read (it and the later ones are set aside:
  the next round replaces them); an older round whose model or arrays are damaged keeps its
  figures for the learning curve; the last round, whose model and map are in use, is computed
  again from the labels it was computed from, and saved again when the project is writable.

Each of these is told in :attr:`Project.notes`, one sentence each, for the app and the commands
to show.
"""

from __future__ import annotations

import contextlib

import numpy as np

from dami_gui.core.errors import DamiError
from dami_gui.core.learner import NETWORK_LEARNER
from dami_gui.core.project import checks
from dami_gui.core.project.errors import ProjectError
from dami_gui.core.project.journal import Project
from dami_gui.core.project.rounds import DamagedRound, StoredRound, read_round, write_round
from dami_gui.core.project.storage import Row
from dami_gui.core.records import RoundResult
from dami_gui.core.session import Session

__all__ = ["TableNeeded", "replay"]


class TableNeeded(Exception):
    """The last round must be computed again, from the rows of a dataset opened without its table
    (:attr:`~dami_gui.core.data.dataset.Dataset.has_table`): the caller opens again, reading
    them (:func:`~dami_gui.core.project.opening.open_project` does)."""


def replay(
    project: Project, events: list[Row], round_rows: list[Row], with_models: bool = True
) -> None:
    """Rebuild labels, skips, events, rounds and current queries from the stored history.

    Events are applied in order to the file's labels; an event whose row is no longer in the file
    is set aside (it stays in the history). ``previous_*`` are recomputed from the replayed state,
    so undo restores exactly what the user saw. ``with_models=False``: the rounds' networks are
    not read (see :func:`~dami_gui.core.project.rounds.read_round`).
    """
    session, keys = project.session, project.keys
    n_classes = len(session.classes)
    stored = _read_rounds(project, round_rows, with_models)
    last_before = stored[-1].events_before if stored else -1
    then: tuple[np.ndarray, np.ndarray] | None = None  # labels and skips when it was computed
    index: dict[str, int] | None = None
    by_seq: dict[int, int] = {}
    damaged = 0
    groups = checks.event_groups(project.store.get_meta("event_groups"))
    group_of = {seq: first for first, last in groups for seq in range(first, last + 1)}
    group_index: dict[int, int] = {}  # a group's first seq -> its first replayed event's index
    for row in events:
        try:
            seq, position, key, kind, label, rnd, when, undoes = checks.event(row, n_classes)
        except (ValueError, TypeError):
            damaged += 1
            continue
        if then is None and stored and seq > last_before:
            then = session.labels.copy(), session.skipped.copy()
        if not (0 <= position < len(keys.keys) and keys.keys[position] == key):
            index = index if index is not None else keys.index()
            position = index.get(key, -1)
        target = by_seq.get(undoes) if undoes is not None else None
        if position >= 0 and (kind != "undo" or target is not None):
            first = group_of.get(seq)
            group = None if first is None else group_index.setdefault(first, len(session.events))
            event = session.new_event(
                position, kind, label, target, round_index=rnd, when=when, group=group
            )
            by_seq[seq] = len(session.events)
            session.apply(event)
            project.event_seqs.append(seq)
    if damaged:
        project.notes.append(
            f"{damaged} label event{'s' if damaged != 1 else ''} in {project.path.name} "
            f"{'are' if damaged != 1 else 'is'} damaged and {'were' if damaged != 1 else 'was'} "
            "left out; every other label is here."
        )
    if then is None:
        then = session.labels.copy(), session.skipped.copy()
    session.rounds = [s.result for s in stored]
    if stored and stored[-1].damaged:
        _recompute_last(project, stored[-1], then)
    if session.rounds:
        labels, skipped = then
        queries = session.rounds[-1].queries
        open_rows = (labels < 0) & ~skipped
        session.queries = queries[open_rows[queries]]


def _read_rounds(project: Project, round_rows: list[Row], with_models: bool) -> list[StoredRound]:
    """The stored rounds up to the first one that cannot be read; older damage is noted."""
    session, name = project.session, project.path.name
    n_classes, n_features = len(session.classes), session.dataset.n_features
    stored: list[StoredRound] = []
    for position, row in enumerate(round_rows, start=1):
        try:
            round_ = read_round(
                project.store,
                row,
                project.keys,
                project.source_version,
                n_classes,
                n_features,
                with_model=with_models,
            )
            if round_.result.index != position:
                raise DamagedRound(f"round {round_.result.index} in place {position}")
        except DamagedRound:
            project.notes.append(
                f"Rounds {position} to {len(round_rows)} in {name} are damaged and were set "
                "aside; your labels are all here, and the next round is computed from them."
            )
            break
        stored.append(round_)
    for round_ in stored[:-1]:
        if round_.damaged:
            project.notes.append(
                f"In {name}, the {_and(round_.damaged)} of round {round_.result.index} "
                f"{'are' if len(round_.damaged) > 1 else 'is'} damaged; the learning curve keeps "
                "its figures."
            )
    return stored


def _recompute_last(
    project: Project, stored: StoredRound, then: tuple[np.ndarray, np.ndarray]
) -> None:
    """Compute the last round again from the labels it was computed from, and save it."""
    session, old = project.session, stored.result
    if not session.dataset.has_table:
        raise TableNeeded
    what = f"{_and(stored.damaged)} of round {old.index} in {project.path.name}"
    try:
        result = _compute_again(session, old, then)
    except DamiError:
        session.rounds.pop()
        project.notes.append(
            f"The stored {what} could not be read or computed again, so that round was set "
            "aside; your labels are all here, and the next round is computed from them."
        )
        return
    session.rounds[-1] = result
    saved = ""
    if not project.store.readonly:
        with contextlib.suppress(ProjectError):  # not saved: computed again at the next open
            with project.store.transaction("the recomputed round") as conn:
                write_round(conn, result, project.source_version, stored.events_before)
            saved = " and saved"
    project.notes.append(
        f"The stored {what} {'were' if len(stored.damaged) > 1 else 'was'} damaged, so the round "
        f"was computed again from your labels{saved}."
    )


def _compute_again(
    session: Session, old: RoundResult, then: tuple[np.ndarray, np.ndarray]
) -> RoundResult:
    # The round's own network when it was recorded (since issue 13), so that a project whose
    # network was changed afterwards computes its last round again as it was computed.
    config = checks.model_config(old.info.get("model_config")) or session.model_config
    # Likewise its learner (since 0.3); a round recorded before then had the network alone.
    if "learner" in old.info:
        learner = checks.learner_config(old.info["learner"]) or session.learner
    else:
        learner = NETWORK_LEARNER
    scratch = Session(
        session.dataset,
        strategy=session.strategy,
        batch_size=session.batch_size,
        seed=session.seed,
        model_config=config,
        learner=learner,
        truth=session.truth,
        estimate_accuracy=False,
        device=session.device,
    )
    with contextlib.suppress(DamiError, ValueError):  # the round's own, when still valid
        scratch.strategy, scratch.batch_size = old.strategy, min(old.batch_size, session.n_rows)
    scratch.labels, scratch.skipped = then[0].copy(), then[1].copy()
    scratch.rounds = list(session.rounds[:-1])
    result = scratch.compute_round()
    result.accuracy_estimate = old.accuracy_estimate  # not estimated again: the stored figure
    return result


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
