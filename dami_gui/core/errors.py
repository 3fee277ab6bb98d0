"""Errors meant for the user: each carries one sentence saying what is wrong and what to do."""

from __future__ import annotations


class DamiError(Exception):
    """A problem the user can fix; ``str(error)`` is the sentence to show them."""


class DataError(DamiError):
    """The input file or a column in it cannot be used as asked."""


class ParameterError(DamiError, ValueError):
    """A parameter has a value outside what it accepts.

    The message names the parameter, the expected value and the received one, in the manner of
    scikit-learn's parameter validation.
    """

    def __init__(self, name: str, expected: str, received: object) -> None:
        self.name = name
        self.expected = expected
        self.received = received
        super().__init__(f"The {name!r} parameter must be {expected}. Got {received!r} instead.")


class Cancelled(Exception):
    """Raised inside long work when the user cancelled it; the caller's state is unchanged."""
