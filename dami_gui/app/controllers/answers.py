"""Answers that could not be saved: one guard for every label, skip and undo the app gives.

In a project the session's journal writes each answer to disk *before* the session changes
(:mod:`dami_gui.core.project.journal`). If that write fails (a full disk, a read-only folder,
another program holding the file) the session call raises a :class:`~dami_gui.core.errors.DamiError`
and nothing changes. :func:`answer` runs such a call, and on that error shows the sentence in the
window (never a traceback) and repaints the view that asked, so the table, the map and the row
panel keep showing what is really saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QAbstractItemView, QWidget

from dami_gui.core.errors import DamiError

log = logging.getLogger("dami_gui.app")


def answer(source: QObject | None, call: Callable[[], object]) -> bool:
    """Run ``call`` (e.g. ``lambda: session.label(row, 2)``); False when it could not be saved.

    ``source`` is the widget or model that asked; its window shows the message.
    """
    try:
        call()
    except DamiError as error:
        not_saved(source, str(error))
        return False
    return True


def not_saved(source: QObject | None, message: str) -> None:
    """Tell the user an answer was not saved, in the window that ``source`` belongs to."""
    log.warning("An answer was not saved: %s", message)
    widget = _widget_of(source)
    if isinstance(widget, QAbstractItemView):
        widget.viewport().update()
    window = widget.window() if widget is not None else None
    show = getattr(window, "show_error", None)
    if callable(show):
        show(message)


def _widget_of(source: QObject | None) -> QWidget | None:
    while source is not None and not isinstance(source, QWidget):
        source = source.parent()
    return source
