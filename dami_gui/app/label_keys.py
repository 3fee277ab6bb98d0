"""The labeling keys: what a key press means for the selected query, in one place.

* ``1`` … ``9``: the class with that number, when there are at most nine classes;
* with ten classes or more every class has two digits (``01`` … ``12``), typed one after the
  other (a two-key chord); the first digit waits for the second, Backspace forgets it;
* Space or ``S``: "not sure";
* ``A``: the model's guess: shown first if it is still hidden, accepted when shown (Prodigy's
  *accept*).

:class:`LabelKeys` turns a key into a :class:`KeyAction`; the query table (and the window, for
keys that reach it) does what it says, through the session.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt

#: With more classes than this, each class is typed with two digits.
ONE_DIGIT_CLASSES = 9


def key_of_class(code: int, n_classes: int) -> str:
    """The keys of class ``code`` (0-based) among ``n_classes``: "3", or "03" / "12"."""
    if n_classes <= ONE_DIGIT_CLASSES:
        return str(code + 1) if code < ONE_DIGIT_CLASSES else ""
    return f"{code + 1:02d}" if code < 99 else ""


@dataclass(frozen=True)
class KeyAction:
    """What a key asks for: ``kind`` is "label" (``code``), "skip", "accept", "pending" (a
    first digit typed; ``text`` says which), "cleared" or "invalid" (``text`` says why)."""

    kind: str
    code: int = -1
    text: str = ""


class LabelKeys:
    """The state of the labeling keys (a first digit waiting for its second)."""

    def __init__(self) -> None:
        self.pending = ""

    def press(self, key: int, modifiers: Qt.KeyboardModifier, n_classes: int) -> KeyAction | None:
        """The action of ``key``; None when it is not a labeling key (the widget handles it)."""
        mods = modifiers & ~Qt.KeyboardModifier.KeypadModifier
        if mods != Qt.KeyboardModifier.NoModifier or n_classes <= 0:
            return None
        if Qt.Key.Key_0 <= key <= Qt.Key.Key_9:
            return self._digit(key - Qt.Key.Key_0, n_classes)
        if key == Qt.Key.Key_Backspace and self.pending:
            self.pending = ""
            return KeyAction("cleared")
        if key in (Qt.Key.Key_Space, Qt.Key.Key_S):
            self.pending = ""
            return KeyAction("skip")
        if key == Qt.Key.Key_A:
            self.pending = ""
            return KeyAction("accept")
        return None

    def _digit(self, digit: int, n_classes: int) -> KeyAction:
        if n_classes <= ONE_DIGIT_CLASSES:
            if 1 <= digit <= n_classes:
                return KeyAction("label", digit - 1)
            return KeyAction("invalid", text=f"There is no class {digit}.")
        if not self.pending:
            self.pending = str(digit)
            if digit * 10 > n_classes:
                self.pending = ""
                return KeyAction(
                    "invalid", text=f"Classes go from 01 to {n_classes:02d}: type two digits."
                )
            return KeyAction("pending", text=self.pending)
        number = int(self.pending + str(digit))
        self.pending = ""
        if 1 <= number <= n_classes:
            return KeyAction("label", number - 1)
        return KeyAction("invalid", text=f"There is no class {number:02d}.")
