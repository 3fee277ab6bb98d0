"""Round settings: query strategy, batch size, learner, network, when to start the next round.

The strategy, the batch size, the learner and the network are the session's own settings (set on
it at once; the session notifies its listeners, and a project saves them); "start the next round
when the batch is labeled" is a preference of the window and lives here. A learner or network
change applies from the next round; a project whose learner or network is none of the offered
ones shows it as "its own", and it stays offered while that session is shown.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from dami_gui.app.binding import SessionLink
from dami_gui.core.learner import LEARNER_CHOICES, LearnerConfig, learner_choice
from dami_gui.core.model import NETWORK_CHOICES, MLPConfig, network_choice
from dami_gui.core.session import Session
from dami_gui.core.strategies import available, describe

#: The combo box item of a network none of :data:`NETWORK_CHOICES` is (set in the project), and
#: of a learner none of :data:`LEARNER_CHOICES` is.
OWN_NETWORK = "own"
OWN_LEARNER = "own"
#: The item of a learner or network that is none of the offered ones (its details in the item's
#: tooltip: a drop-down box at 1280 px has room for a short title only).
OWN_TITLE = "Its own"


class SettingsPanel(QWidget):
    """One row of controls; ``nextRoundRequested`` when the button is pressed."""

    nextRoundRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self._own: MLPConfig | None = None
        self._own_learner: LearnerConfig | None = None
        self._session_link = SessionLink(self, self._on_session)
        self._updating = False
        self.strategy = QComboBox()
        for name in available():
            title, description = describe(name)
            self.strategy.addItem(title, name)
            self.strategy.setItemData(self.strategy.count() - 1, description, 3)  # ToolTipRole
        self.strategy.setToolTip("How the next rows to label are picked")
        # long strategy titles must not widen the window (the popup shows them whole)
        self.strategy.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.strategy.setMinimumContentsLength(10)
        self.strategy.currentIndexChanged.connect(self._strategy_changed)
        self.batch = QSpinBox()
        self.batch.setRange(1, 1000)
        self.batch.setValue(20)
        self.batch.setToolTip("How many rows to label per round")
        self.batch.valueChanged.connect(self._batch_changed)
        self.learner = QComboBox()
        self.learner.setObjectName("learner")
        for learner in LEARNER_CHOICES:
            self.learner.addItem(learner.title, learner.key)
            self.learner.setItemData(self.learner.count() - 1, learner.description, 3)
        self.learner.setToolTip(
            "What learns from your labels: an ensemble of methods whose answer the network "
            "reproduces (explained exactly), or the network alone (faster); a change applies "
            "from the next round"
        )
        self.learner.currentIndexChanged.connect(self._learner_changed)
        self.network = QComboBox()
        for choice in NETWORK_CHOICES:
            self.network.addItem(choice.title, choice.key)
            self.network.setItemData(self.network.count() - 1, choice.description, 3)
        self.network.setToolTip("The network trained every round; a change applies from the next")
        self.network.currentIndexChanged.connect(self._network_changed)
        self.auto = QCheckBox("Start the next round by itself")
        self.auto.setChecked(True)
        self.auto.setToolTip(
            "When on, the model retrains and picks new rows as soon as every row of the batch "
            "is labeled or marked 'not sure'"
        )
        self.next_button = QPushButton("Next round")
        self.next_button.setToolTip("Retrain on the labels so far and pick new rows now (Ctrl+R)")
        self.next_button.clicked.connect(self.nextRoundRequested)
        self.next_button.setEnabled(False)

        # two short rows, so that the column of the rows to label stays narrow (1280-px screens)
        self.network.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.network.setMinimumContentsLength(6)
        self.learner.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.learner.setMinimumContentsLength(8)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Strategy:"), 0, 0)
        layout.addWidget(self.strategy, 0, 1)
        layout.addWidget(QLabel("Rows per round:"), 0, 2)
        layout.addWidget(self.batch, 0, 3)
        # the learner and the network share a row: a 1366 x 768 screen has no height to spare
        layout.addWidget(QLabel("Learner:"), 1, 0)
        layout.addWidget(self.learner, 1, 1)
        layout.addWidget(QLabel("Network:"), 1, 2)
        layout.addWidget(self.network, 1, 3)
        layout.addWidget(self.auto, 2, 0, 1, 2)
        layout.addWidget(self.next_button, 2, 2, 1, 2)
        layout.setColumnStretch(1, 1)
        layout.setColumnStretch(3, 1)

    @property
    def auto_next(self) -> bool:
        return self.auto.isChecked()

    def set_session(self, session: Session | None) -> None:
        self.session = session
        self._own = None  # the session's own network, once seen (see _show_network)
        self._own_learner = None  # and its own learner (see _show_learner)
        self._session_link.switch(session)
        self._sync()

    def set_running(self, running: bool) -> None:
        """Disable the button while a round runs (or without data)."""
        self.next_button.setEnabled(self.session is not None and not running)

    def _on_session(self, kind: str, payload: object) -> None:
        if kind == "settings":
            self._sync()

    def _sync(self) -> None:
        """Show the session's settings (after a change from elsewhere, or a new session)."""
        if self.session is None:
            return
        self._updating = True
        try:
            index = self.strategy.findData(self.session.strategy)
            if index >= 0:
                self.strategy.setCurrentIndex(index)
            self.batch.setValue(self.session.batch_size)
            self._show_learner()
            self._show_network()
        finally:
            self._updating = False

    def _strategy_changed(self) -> None:
        if self.session is not None and not self._updating:
            name = self.strategy.currentData()
            if name and name != self.session.strategy:
                self.session.strategy = name

    def _show_network(self) -> None:
        """Select the session's network. A network of the session's own gets an item that says
        so and stays in the list while this session is shown, so that it can be chosen again."""
        assert self.session is not None
        config = self.session.model_config
        choice = network_choice(config)
        if choice is None:
            self._own = config
        own = self.network.findData(OWN_NETWORK)
        if self._own is not None:
            widths = " × ".join(str(width) for width in self._own.hidden)
            decay = f"{self._own.weight_decay:g}"
            detail = f"Its own network: {widths} ReLU units, weight decay {decay}"
            if own < 0:
                self.network.addItem(OWN_TITLE, OWN_NETWORK)
                own = self.network.count() - 1
            self.network.setItemData(own, detail, 3)  # ToolTipRole: the short title's details
        elif own >= 0:
            self.network.removeItem(own)
        key = OWN_NETWORK if choice is None else choice.key
        self.network.setCurrentIndex(self.network.findData(key))

    def _network_changed(self) -> None:
        if self.session is None or self._updating:
            return
        key = self.network.currentData()
        choice = next((c for c in NETWORK_CHOICES if c.key == key), None)
        config = choice.config if choice is not None else self._own
        if config is not None and config != self.session.model_config:
            self.session.model_config = config

    def _show_learner(self) -> None:
        """Select the session's learner; one of its own gets an item that says so (as the
        network does)."""
        assert self.session is not None
        config = self.session.learner
        choice = learner_choice(config)
        if choice is None:
            self._own_learner = config
        own = self.learner.findData(OWN_LEARNER)
        if self._own_learner is not None:
            kind = "an ensemble" if self._own_learner.is_ensemble else "the network alone"
            if own < 0:
                self.learner.addItem(OWN_TITLE, OWN_LEARNER)
                own = self.learner.count() - 1
            self.learner.setItemData(own, f"Its own learner: {kind}, with its own settings", 3)
        elif own >= 0:
            self.learner.removeItem(own)
        key = OWN_LEARNER if choice is None else choice.key
        self.learner.setCurrentIndex(self.learner.findData(key))

    def _learner_changed(self) -> None:
        if self.session is None or self._updating:
            return
        key = self.learner.currentData()
        choice = next((c for c in LEARNER_CHOICES if c.key == key), None)
        config = choice.config if choice is not None else self._own_learner
        if config is not None and config != self.session.learner:
            self.session.learner = config

    def _batch_changed(self, value: int) -> None:
        if self.session is not None and not self._updating and value != self.session.batch_size:
            self.session.batch_size = int(value)
