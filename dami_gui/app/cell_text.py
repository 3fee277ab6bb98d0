"""How a value of the user's table is written in a cell: the one rule every table of the app uses.

The query table, the selected row's panel and the import dialog's preview show the file's own
values; they all write them the same way: missing values empty, floats with up to six significant
digits, anything else as text. :func:`counted` writes a count with its noun ("1 colour").
"""

from __future__ import annotations

import numpy as np


def cell_text(value: object) -> str:
    """``value`` as shown in a table cell ("" for None and NaN, ``1.5`` for ``1.50000001``)."""
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return ""
        return f"{float(value):.6g}"
    return str(value)


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """``n`` and the word that goes with it: "1 colour", "7 colours", "1 DAMI group"."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"
