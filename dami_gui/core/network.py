"""The network's settings, without torch: :class:`MLPConfig` and the networks the settings offer.

Kept apart from :mod:`dami_gui.core.model` (the torch network and its training) so that what only
reads or writes settings (opening a project, the command line's parser, labeling from the shell)
does not load torch, which takes seconds. :mod:`.model` re-exports these names.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from dami_gui.core.errors import ParameterError
from dami_gui.core.validation import check_float, check_int


@dataclass(frozen=True)
class MLPConfig:
    """Architecture and training schedule of the MLP; plain values, serialisable with ``asdict``."""

    hidden: tuple[int, ...] = (128, 128)
    min_epochs: int = 100
    min_steps: int = 500
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 1e-2

    def __post_init__(self) -> None:
        # Checked, then stored as plain Python numbers (a numpy integer would not go to JSON).
        widths = "a non-empty tuple of positive layer widths"
        if not isinstance(self.hidden, tuple | list) or not self.hidden:
            raise ParameterError("hidden", widths, self.hidden)
        hidden = []
        for width in self.hidden:
            try:
                hidden.append(check_int("hidden", width, minimum=1))
            except ParameterError:
                raise ParameterError("hidden", widths, self.hidden) from None
        values: dict[str, object] = {"hidden": tuple(hidden)}
        for name in ("min_epochs", "min_steps", "batch_size"):
            values[name] = check_int(
                name, getattr(self, name), minimum=1, expected="a positive integer"
            )
        values["learning_rate"] = check_float(
            "learning_rate",
            self.learning_rate,
            minimum=0.0,
            strict=True,
            expected="a positive number",
        )
        values["weight_decay"] = check_float(
            "weight_decay", self.weight_decay, minimum=0.0, expected="a number >= 0"
        )
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["hidden"] = list(self.hidden)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MLPConfig:
        data = dict(data)
        data["hidden"] = tuple(data.get("hidden", MLPConfig.hidden))
        return cls(**data)


#: The default network before 0.2 (2 x 64, weight decay 1e-4): "light" in the settings, the
#: network of older projects and of part 1's benchmark curves.
LIGHT_CONFIG = MLPConfig(hidden=(64, 64), weight_decay=1e-4)


@dataclass(frozen=True)
class NetworkChoice:
    """A network the settings offer by name: what the user picks instead of raw numbers."""

    key: str
    title: str
    description: str
    config: MLPConfig


#: The networks offered in the settings, the default first. "light" is the default of projects
#: made before issue 13; they keep it (it is stored with them) until the user picks another.
NETWORK_CHOICES = (
    NetworkChoice(
        "regularised",
        "2 × 128",
        "Two layers of 128 ReLU units with a strong weight penalty: the default; in the "
        "benchmark it learned more from the same labels than the light network on 17 of 24 sets.",
        MLPConfig(),
    ),
    NetworkChoice(
        "light",
        "2 × 64",
        "Two layers of 64 ReLU units with a weak weight penalty: the network of projects made "
        "before version 0.2; faster to train, but it over-fits a few labels more easily.",
        LIGHT_CONFIG,
    ),
)


def network_choice(config: MLPConfig) -> NetworkChoice | None:
    """The offered network ``config`` is, or None for a configuration of one's own."""
    return next((choice for choice in NETWORK_CHOICES if choice.config == config), None)
