"""Subscribing a Qt object to the session for exactly as long as the object lives."""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject

from dami_gui.core.session import Session

Listener = Callable[[str, object], None]


def bind(owner: QObject, session: Session, callback: Listener) -> Callable[[], None]:
    """``session.subscribe(callback)`` until ``owner`` is destroyed; returns the unsubscriber.

    A view closed and deleted while the session lives on (a test, a reopened window) must not be
    called any more: its C++ side is gone. The listener checks that, and ``owner.destroyed``
    unsubscribes as well.
    """
    unsubscribe: Callable[[], None] = lambda: None  # noqa: E731 - replaced just below

    def listener(kind: str, payload: object) -> None:
        if not shiboken6.isValid(owner):
            unsubscribe()
            return
        callback(kind, payload)

    unsubscribe = session.subscribe(listener)
    owner.destroyed.connect(lambda *_: unsubscribe())
    return unsubscribe


class SessionLink:
    """One view's subscription to the session it shows: switching drops the previous one.

    Every view that shows a session keeps exactly one of these instead of juggling an
    unsubscribe function by hand.
    """

    def __init__(self, owner: QObject, callback: Listener) -> None:
        self.owner = owner
        self.callback = callback
        self._unsubscribe: Callable[[], None] | None = None

    def switch(self, session: Session | None) -> None:
        """Listen to ``session`` (None: to nothing) from now on."""
        self.drop()
        if session is not None:
            self._unsubscribe = bind(self.owner, session, self.callback)

    def drop(self) -> None:
        """Stop listening."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
