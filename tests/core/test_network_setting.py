"""The network is a setting: offered by name, saved with the project, and each round's own.

Projects made before issue 13 keep the network they were made with (2 x 64, light), so their
rounds replay as they were computed; opening one says so, and the user moves when they choose.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from dami_gui.core.errors import ParameterError
from dami_gui.core.model import NETWORK_CHOICES, MLPConfig, network_choice
from dami_gui.core.project.creating import create_project_from_csv
from dami_gui.core.project.opening import open_project

from .project_data import TINY, new_project, write_pool

#: Another tiny network, to tell which one a round used.
OTHER = MLPConfig(hidden=(6,), min_epochs=3, min_steps=10, weight_decay=1e-3)


def damage_weights(path: Path, round_index: int) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE rounds SET model_state = X'00' WHERE idx = ?", (round_index,))
    conn.close()


def forget_round_networks(path: Path) -> None:
    """Make the stored rounds look like 0.1's, which did not record their network."""
    conn = sqlite3.connect(path)
    with conn:
        for idx, extra in conn.execute("SELECT idx, extra FROM rounds").fetchall():
            data = json.loads(extra)
            data.get("info", {}).pop("model_config", None)
            conn.execute("UPDATE rounds SET extra = ? WHERE idx = ?", (json.dumps(data), idx))
    conn.close()


def test_the_offered_networks_start_with_the_default_and_keep_the_old_one() -> None:
    assert NETWORK_CHOICES[0].config == MLPConfig()
    assert MLPConfig().hidden == (128, 128) and MLPConfig().weight_decay == pytest.approx(1e-2)
    light = network_choice(MLPConfig(hidden=(64, 64), weight_decay=1e-4))
    assert light is not None and light.key == "light"
    assert network_choice(OTHER) is None
    assert len({c.key for c in NETWORK_CHOICES}) == len(NETWORK_CHOICES)


def test_a_network_change_is_saved_and_used_from_the_next_round(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    session = project.session
    told: list[str] = []
    session.subscribe(lambda kind, _: told.append(kind))
    session.run_round()
    session.model_config = OTHER
    assert told[-1] == "settings"
    session.run_round()
    first, second = session.rounds
    assert first.info["model_config"] == TINY.to_dict() and first.model_spec["hidden"] == [8]
    assert second.info["model_config"] == OTHER.to_dict() and second.model_spec["hidden"] == [6]
    with pytest.raises(ParameterError, match="model_config"):
        session.model_config = {"hidden": [8]}  # type: ignore[assignment]
    project.close()
    with open_project(tmp_path / "p.dami") as reopened:
        assert reopened.session.model_config == OTHER
        assert reopened.session.rounds[0].info["model_config"] == TINY.to_dict()


def test_a_last_round_computed_again_uses_the_network_it_was_computed_with(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    session = project.session
    session.run_round()
    session.label(int(session.queries[0]), 1)
    session.run_round()
    queries, proba = session.queries.copy(), session.rounds[-1].proba.copy()
    session.model_config = OTHER  # changed after the round: the next round's network
    project.save_settings()  # as the app does on every settings change
    project.close()
    damage_weights(tmp_path / "p.dami", 2)
    with open_project(tmp_path / "p.dami") as reopened:
        assert any("computed again" in note for note in reopened.notes), reopened.notes
        np.testing.assert_array_equal(reopened.session.queries, queries)
        np.testing.assert_array_equal(reopened.session.rounds[-1].proba, proba)
        assert reopened.session.rounds[-1].model_spec["hidden"] == [8]
        assert reopened.session.model_config == OTHER


def test_a_project_from_before_0_2_keeps_its_network_and_says_so(tmp_path: Path) -> None:
    light = next(c for c in NETWORK_CHOICES if c.key == "light")
    csv = write_pool(tmp_path / "pool.csv")
    project = create_project_from_csv(
        tmp_path / "old.dami",
        csv,
        label_column="species",
        id_column="name",
        model_config=light.config,
        estimate_accuracy=False,
        batch_size=5,
    )
    project.session.run_round()
    queries = project.session.queries.copy()
    project.close()
    with open_project(tmp_path / "old.dami") as reopened:  # chosen in 0.2: nothing to say
        assert not any("network" in n for n in reopened.notes), reopened.notes
    forget_round_networks(tmp_path / "old.dami")  # as 0.1 wrote its rounds
    with open_project(tmp_path / "old.dami") as reopened:
        assert reopened.session.model_config == light.config
        np.testing.assert_array_equal(reopened.session.queries, queries)
        note = f"keeps the network it was made with ({light.title}); new projects use"
        assert any(note in n for n in reopened.notes), reopened.notes
    (tmp_path / "new").mkdir()
    new_project(tmp_path / "new", name="new.dami").close()
    with open_project(tmp_path / "new" / "new.dami") as reopened:  # its own network: no note
        assert not any("network" in n for n in reopened.notes), reopened.notes


def test_an_exported_model_names_the_network_of_its_round(tmp_path: Path) -> None:
    from dami_gui.core.project.export import export_model

    project = new_project(tmp_path)
    project.session.run_round()
    project.session.model_config = OTHER  # for the next round only
    _, description = export_model(project.session, tmp_path / "model.safetensors")
    described = json.loads(description.read_text())
    assert described["model_config"] == TINY.to_dict()
    assert described["spec"]["hidden"] == [8]
    project.close()
