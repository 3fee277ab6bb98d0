"""What the commands share: the exit code of bad input, checks of command-line values, and
:func:`say` for the messages that go to stderr (stdout carries the results).

Every check raises :class:`~dami_gui.core.errors.DamiError` (a :class:`ParameterError` for a
number), which :func:`dami_gui.cli.main.main` prints as one sentence with exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TypeAlias

from dami_gui.core.errors import DamiError
from dami_gui.core.validation import check_int

#: The exit code of every refused input: a bad argument, a missing file, an unusable column.
EXIT_BAD_INPUT = 2

#: What ``ArgumentParser.add_subparsers()`` returns: where each module adds its commands.
Subcommands: TypeAlias = "argparse._SubParsersAction[Any]"


def check_positive(name: str, value: int | None) -> None:
    """Refuse an option given as 0 or less (``None``: the option was not given)."""
    if value is not None:
        check_int(name, value, minimum=1)


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
