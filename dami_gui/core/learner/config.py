"""What learns from the labels: the network alone, or an ensemble that the network then reproduces.

Two learners are offered by name (:data:`LEARNER_CHOICES`):

* **ensemble** (the default): a *teacher*, the class probabilities of several diverse learners
  fitted on the labeled rows (our network, ExtraTrees, a random forest, an RBF support vector
  machine, logistic regression), each weighed by how well it predicts the labels it was not trained
  on (:mod:`.teacher`), and a *student*, one ReLU network of the session's architecture trained to
  reproduce the teacher's probabilities over a bounded sample of pool rows (plus rows made like them
  when the pool is small) and the labeled rows' own classes. The student is the model the app
  interprets, maps, explains, exports and predicts with: it is exactly piecewise linear, so every
  explanation stays exact, while its accuracy is the teacher's, as far as *fidelity* (how often the
  two agree) says.
* **network**: today's learner before 0.3, the network trained on the labeled rows alone;
  faster, and the learner of every round recorded before the ensemble existed.

A :class:`LearnerConfig` is plain values (stored with every round and in the project settings);
everything that changes what is learned is in it, so a round can be computed again as it was.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from dami_gui.core.errors import ParameterError
from dami_gui.core.validation import check_float, check_int

#: The teacher's members, by the names stored in a project.
MEMBERS = ("network", "extra-trees", "random-forest", "rbf-svm", "logistic")
KINDS = ("ensemble", "network")


@dataclass(frozen=True)
class LearnerConfig:
    """The learner and, for the ensemble, its members and the student's training.

    ``weight_temperature``: the members' weights are ``exp(-held-out log-loss / T)``
    (:mod:`.teacher`); ``transfer_rows``: most pool rows the teacher labels for the student (a
    seeded sample above that); ``augment_to``: when the pool has fewer rows, rows made like the
    pool's (each a pool row with some values taken from its nearest neighbour, MUNGE) fill the
    transfer set up to this many; ``student_*``: the student's schedule (Adam, cosine-decayed
    learning rate, at least ``student_epochs`` epochs and ``student_min_steps`` steps) and weight
    decay, suited to thousands of rows rather than to a few labels.
    """

    kind: str = "ensemble"
    members: tuple[str, ...] = MEMBERS
    weight_temperature: float = 0.05
    transfer_rows: int = 8000
    augment_to: int = 8000
    student_epochs: int = 40
    student_min_steps: int = 800
    student_batch_size: int = 256
    student_learning_rate: float = 2e-3
    student_weight_decay: float = 1e-4

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ParameterError("kind", f"one of {', '.join(KINDS)}", self.kind)
        members = tuple(self.members) if isinstance(self.members, tuple | list) else None
        if (
            not members
            or any(m not in MEMBERS for m in members)
            or len(set(members)) != len(members)
        ):
            raise ParameterError(
                "members", f"distinct names among {', '.join(MEMBERS)}", self.members
            )
        values: dict[str, object] = {"members": members}
        for name in ("transfer_rows", "student_epochs", "student_min_steps", "student_batch_size"):
            values[name] = check_int(
                name, getattr(self, name), minimum=1, expected="a positive integer"
            )
        values["augment_to"] = check_int(
            "augment_to", self.augment_to, minimum=0, expected="an integer >= 0"
        )
        values["weight_temperature"] = check_float(
            "weight_temperature",
            self.weight_temperature,
            minimum=0.0,
            strict=True,
            expected="a positive number",
        )
        values["student_learning_rate"] = check_float(
            "student_learning_rate",
            self.student_learning_rate,
            minimum=0.0,
            strict=True,
            expected="a positive number",
        )
        values["student_weight_decay"] = check_float(
            "student_weight_decay",
            self.student_weight_decay,
            minimum=0.0,
            expected="a number >= 0",
        )
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def is_ensemble(self) -> bool:
        return self.kind == "ensemble"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["members"] = list(self.members)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LearnerConfig:
        """The config a dict describes; keys this version does not know are refused."""
        data = dict(data)
        if "members" in data and isinstance(data["members"], list):
            data["members"] = tuple(data["members"])
        return cls(**data)


#: The learner of every round recorded before the ensemble (projects made before 0.3).
NETWORK_LEARNER = LearnerConfig(kind="network")


@dataclass(frozen=True)
class LearnerChoice:
    """A learner the settings offer by name."""

    key: str
    title: str
    description: str
    config: LearnerConfig


LEARNER_CHOICES = (
    LearnerChoice(
        "ensemble",
        "Ensemble",
        "Ensemble, explained exactly: learns with several methods at once (the network, "
        "ExtraTrees, a random forest, an RBF support vector machine, logistic regression), each "
        "weighed by how well it predicts the labels it did not see, and trains the network the "
        "app explains to reproduce their answer: the accuracy of the best of them, with exact "
        "explanations. Each round says how closely the network follows the ensemble.",
        LearnerConfig(),
    ),
    LearnerChoice(
        "network",
        "Network only",
        "Network only (faster): trains only the network, on the labeled rows; a round takes a "
        "fraction of the time, but from few labels it finds some boundaries that tree ensembles "
        "and kernels find at once only later.",
        NETWORK_LEARNER,
    ),
)

#: The learner new sessions and projects use unless told otherwise.
DEFAULT_LEARNER = LEARNER_CHOICES[0].config


def learner_choice(config: LearnerConfig) -> LearnerChoice | None:
    """The offered learner ``config`` is, or None for a configuration of one's own."""
    return next((choice for choice in LEARNER_CHOICES if choice.config == config), None)


def learner_by_key(key: str) -> LearnerConfig:
    """The offered learner named ``key`` ("ensemble" or "network")."""
    for choice in LEARNER_CHOICES:
        if choice.key == key:
            return choice.config
    keys = ", ".join(choice.key for choice in LEARNER_CHOICES)
    raise ParameterError("learner", f"one of {keys}", key)
