"""The round settings' Learner and Network choices: each shows the session's own and sets it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dami_gui.app.panels.settings_panel import OWN_LEARNER, OWN_NETWORK, SettingsPanel
from dami_gui.core.data.dataset import build_dataset
from dami_gui.core.data.roles import infer_roles
from dami_gui.core.learner import (
    DEFAULT_LEARNER,
    LEARNER_CHOICES,
    NETWORK_LEARNER,
    LearnerConfig,
)
from dami_gui.core.model import NETWORK_CHOICES, MLPConfig
from dami_gui.core.session import Session

from .conftest import SMALL


def small_session() -> Session:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    dataset = build_dataset(frame, infer_roles(frame), classes=["x", "y"])
    return Session(dataset, model_config=SMALL, estimate_accuracy=False, device="cpu")


def items(panel: SettingsPanel) -> list[str]:
    return [panel.network.itemData(i) for i in range(panel.network.count())]


def test_network_choice_shows_and_sets_the_sessions_network(qtbot) -> None:
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    session = small_session()
    panel.set_session(session)
    # a network of the session's own: named by its widths, and nothing changed by showing it
    assert panel.network.currentData() == OWN_NETWORK
    assert panel.network.currentText() == "Its own"  # short: it fits the box at 1280 px
    own_tip = panel.network.itemData(panel.network.currentIndex(), 3)
    assert own_tip == "Its own network: 32 × 32 ReLU units, weight decay 0.01"
    assert session.model_config == SMALL

    default = NETWORK_CHOICES[0]
    panel.network.setCurrentIndex(panel.network.findData(default.key))
    assert session.model_config == MLPConfig() == default.config
    # the own network stays offered while this session is shown, and can be chosen again
    panel.network.setCurrentIndex(panel.network.findData(OWN_NETWORK))
    assert session.model_config == SMALL
    panel.network.setCurrentIndex(panel.network.findData(default.key))
    panel.set_session(small_session())  # another session: its own network, listed anew
    assert items(panel).count(OWN_NETWORK) == 1
    other = Session(session.dataset, estimate_accuracy=False, device="cpu")
    panel.set_session(other)  # a session on an offered network: no own item
    assert OWN_NETWORK not in items(panel) and panel.network.currentData() == default.key
    panel.set_session(session)

    light = next(c for c in NETWORK_CHOICES if c.key == "light")
    session.model_config = light.config  # changed elsewhere (a reopened project, a command)
    assert panel.network.currentData() == "light"
    assert panel.network.itemData(panel.network.currentIndex(), 3) == light.description


def learner_items(panel: SettingsPanel) -> list[str]:
    return [panel.learner.itemData(i) for i in range(panel.learner.count())]


def test_learner_choice_shows_and_sets_the_sessions_learner(qtbot) -> None:
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    session = small_session()
    panel.set_session(session)
    assert session.learner == DEFAULT_LEARNER and panel.learner.currentData() == "ensemble"
    assert OWN_LEARNER not in learner_items(panel)
    # the network alone, for speed: set on the session (a project saves it), from the next round
    panel.learner.setCurrentIndex(panel.learner.findData("network"))
    assert session.learner == NETWORK_LEARNER
    network = next(c for c in LEARNER_CHOICES if c.key == "network")
    assert panel.learner.itemData(panel.learner.currentIndex(), 3) == network.description
    session.learner = DEFAULT_LEARNER  # changed elsewhere (a reopened project, a command)
    assert panel.learner.currentData() == "ensemble"
    # a learner of the session's own (a project's settings): shown as such, chosen again
    own = LearnerConfig(transfer_rows=500)
    session.learner = own
    assert panel.learner.currentData() == OWN_LEARNER
    assert panel.learner.currentText() == "Its own"
    own_tip = panel.learner.itemData(panel.learner.currentIndex(), 3)
    assert own_tip == "Its own learner: an ensemble, with its own settings"
    panel.learner.setCurrentIndex(panel.learner.findData("network"))
    panel.learner.setCurrentIndex(panel.learner.findData(OWN_LEARNER))
    assert session.learner == own
    panel.set_session(small_session())  # another session on the default: no own item
    assert OWN_LEARNER not in learner_items(panel)
