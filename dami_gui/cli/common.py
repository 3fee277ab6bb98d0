"""What the commands share: the exit code of bad input, checks of command-line values, and
:func:`say` for the messages that go to stderr (stdout carries the results).

Every check raises :class:`~dami_gui.core.errors.DamiError` (a :class:`ParameterError` for a
number), which :func:`dami_gui.cli.main.main` prints as one sentence with exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from dami_gui.core.errors import DamiError
from dami_gui.core.learner import LEARNER_CHOICES, LearnerConfig, learner_by_key
from dami_gui.core.validation import check_int

if TYPE_CHECKING:
    from dami_gui.core.project.journal import Project

#: The exit code of every refused input: a bad argument, a missing file, an unusable column.
EXIT_BAD_INPUT = 2

#: What ``ArgumentParser.add_subparsers()`` returns: where each module adds its commands.
Subcommands: TypeAlias = "argparse._SubParsersAction[Any]"


def check_positive(name: str, value: int | None) -> None:
    """Refuse an option given as 0 or less (``None``: the option was not given)."""
    if value is not None:
        check_int(name, value, minimum=1)


def class_list(text: str | None) -> list[str] | None:
    """The classes of ``--classes A,B,...`` (spaces trimmed, empty names dropped); None when the
    option was not given."""
    if text is None:
        return None
    return [c.strip() for c in text.split(",") if c.strip()]


def class_code(classes: list[str], name: str) -> int:
    """The code of the class called ``name``; the case may differ if that is unambiguous."""
    if name in classes:
        return classes.index(name)
    folded = [c.casefold() for c in classes]
    if folded.count(name.casefold()) == 1:
        return folded.index(name.casefold())
    raise DamiError(f"'{name}' is not a class; the classes are {', '.join(classes)}.")


def say(text: str) -> None:
    """A progress or status message, on stderr so that stdout carries only results."""
    print(text, file=sys.stderr, flush=True)


def open_and_tell(path: Path, **options: Any) -> Project:
    """Open a project (``open_project``'s options: ``with_models=False`` for the commands that
    only read or write labels, which then need no torch) and say what opening found damaged.

    A damaged part of the file that was set aside or computed again is one line on stderr
    (``project.notes``); the command goes on.
    """
    from dami_gui.core.project.opening import open_project

    project = open_project(path, **options)
    for note in project.notes:
        say(note)
    return project


def add_learner_option(p: argparse.ArgumentParser, help_extra: str = "") -> None:
    """``--learner ensemble|network``: what learns from the labels (core.learner's choices)."""
    keys = [choice.key for choice in LEARNER_CHOICES]
    p.add_argument(
        "--learner",
        choices=keys,
        default=None,
        help="ensemble: several learners weighed by cross-validation, reproduced by the "
        "network that is explained (the default); network: the network alone, faster" + help_extra,
    )


def learner_of(key: str | None) -> LearnerConfig | None:
    """The learner ``--learner`` names, or None where it was not given."""
    return None if key is None else learner_by_key(key)


def learned_sentence(info: dict[str, Any]) -> str:
    """What learned in a round whose ``RoundResult.info`` is ``info``, in one sentence (the
    learner's own wording); a round from before the ensemble learned with the network alone."""
    from dami_gui.core.learner.fidelity import describe_round

    return describe_round(info)[0]
