"""One rule for integer and real parameters, so every check accepts and refuses the same values.

An integer parameter accepts a Python ``int`` or a numpy integer (a value read from an array is
fine) and refuses ``bool`` (``True`` is an ``int`` to Python, never a count or a row number to a
user), floats, even whole ones, and anything else. A real parameter accepts any Python or numpy
integer or float, again refusing ``bool``, and refuses NaN. Both return the plain Python value,
so what is stored (and written to a project file as JSON) is never a numpy scalar.

A refused value raises :class:`~dami_gui.core.errors.ParameterError`, which names the parameter,
the expected value and the received one. ``expected`` replaces the generated description where a
caller has a better one ("a row number in 0..99").
"""

from __future__ import annotations

import math
from typing import Any, TypeGuard

import numpy as np

from dami_gui.core.errors import ParameterError


def is_integer(value: object) -> TypeGuard[int | np.integer[Any]]:
    """True for a Python or numpy integer, False for ``bool`` and every other type."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def check_int(
    name: str,
    value: object,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    expected: str | None = None,
) -> int:
    """``value`` as an ``int`` if it is an integer in ``minimum..maximum`` (both included)."""
    if (
        not is_integer(value)
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        raise ParameterError(name, expected or _describe("an integer", minimum, maximum), value)
    return int(value)


def check_float(
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict: bool = False,
    expected: str | None = None,
) -> float:
    """``value`` as a ``float`` if it is a real number within the bounds.

    The bounds are included, or excluded with ``strict=True``; NaN is always refused.
    """
    number = (
        float(value)
        if isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool | np.bool_)
        else math.nan
    )
    low = minimum is not None and (number <= minimum if strict else number < minimum)
    high = maximum is not None and (number >= maximum if strict else number > maximum)
    if math.isnan(number) or low or high:
        description = _describe("a number", minimum, maximum, strict)
        raise ParameterError(name, expected or description, value)
    return number


def _describe(kind: str, minimum: float | None, maximum: float | None, strict: bool = False) -> str:
    if minimum is not None and maximum is not None:
        if strict:
            return f"{kind} strictly between {minimum} and {maximum}"
        return f"{kind} in {minimum}..{maximum}"
    if minimum is not None:
        return f"{kind} {'>' if strict else '>='} {minimum}"
    if maximum is not None:
        return f"{kind} {'<' if strict else '<='} {maximum}"
    return kind
