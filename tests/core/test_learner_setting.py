"""The learner is a setting: each round records the one that made it, projects save it, and
projects made before the ensemble keep the network alone, so their rounds replay as computed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from dami_gui.core.errors import ParameterError
from dami_gui.core.learner import DEFAULT_LEARNER, NETWORK_LEARNER
from dami_gui.core.project.opening import open_project
from dami_gui.core.session import Session

from .project_data import TINY, TINY_LEARNER, new_project
from .test_learner import FAST
from .test_session import make_dataset


def edit_settings(path: Path, change) -> None:
    conn = sqlite3.connect(path)
    with conn:
        (text,) = conn.execute("SELECT value FROM meta WHERE key = 'settings'").fetchone()
        settings = json.loads(text)
        change(settings)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'settings'", (json.dumps(settings),))
    conn.close()


def edit_round_info(path: Path, change) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for idx, extra in conn.execute("SELECT idx, extra FROM rounds").fetchall():
            data = json.loads(extra)
            change(data.setdefault("info", {}))
            conn.execute("UPDATE rounds SET extra = ? WHERE idx = ?", (json.dumps(data), idx))
    conn.close()


def test_a_new_session_learns_with_the_ensemble_and_a_round_says_how_closely():
    dataset, truth = make_dataset()
    session = Session(dataset, batch_size=5, model_config=TINY, learner=FAST, truth=truth)
    assert Session(dataset).learner == DEFAULT_LEARNER
    result = session.run_round()
    assert result.info["learner"] == FAST.to_dict()
    assert 0.0 <= result.info["fidelity"] <= 1.0
    assert result.teacher is not None
    assert {"train_teacher", "train_student", "train_fidelity"} <= set(result.timings)
    # the round's probabilities are the network's, which the strategies and the map read
    np.testing.assert_allclose(result.proba.sum(1), 1.0, rtol=1e-5)


def test_the_network_alone_records_no_teacher_and_no_fidelity():
    dataset, _ = make_dataset()
    session = Session(dataset, batch_size=5, model_config=TINY, learner=NETWORK_LEARNER)
    result = session.run_round()
    assert result.info["learner"]["kind"] == "network" and result.info["fidelity"] is None
    assert result.teacher is None


def test_the_learner_setting_is_checked_and_heard():
    dataset, _ = make_dataset()
    session = Session(dataset)
    heard: list[str] = []
    session.subscribe(lambda kind, _: heard.append(kind))
    session.learner = NETWORK_LEARNER
    assert heard == ["settings"] and session.learner == NETWORK_LEARNER
    with pytest.raises(ParameterError, match="'learner'"):
        session.learner = "ensemble"  # type: ignore[assignment]


def test_a_project_saves_its_learner_and_each_round_keeps_its_own(tmp_path: Path):
    project = new_project(tmp_path)
    session = project.session
    session.learner = FAST
    session.run_round()
    session.learner = NETWORK_LEARNER
    project.save_settings()  # as the app does when it hears "settings"
    path = project.path
    project.close()
    again = open_project(path)
    assert again.session.learner == NETWORK_LEARNER
    assert again.session.rounds[0].info["learner"] == FAST.to_dict()
    assert not any("network alone" in note for note in again.notes)  # its own choice
    assert again.session.rounds[0].teacher is None  # never stored
    again.close()


def test_a_project_from_before_the_ensemble_keeps_the_network_alone(tmp_path: Path):
    project = new_project(tmp_path)
    project.session.learner = FAST
    project.session.run_round()
    path = project.path
    project.close()
    edit_settings(path, lambda settings: settings.pop("learner"))
    edit_round_info(path, lambda info: (info.pop("learner"), info.pop("fidelity")))
    again = open_project(path)
    assert again.session.learner == NETWORK_LEARNER
    assert any("keeps learning with the network alone" in note for note in again.notes)
    again.close()


def test_a_damaged_learner_setting_falls_back_to_the_default(tmp_path: Path):
    project = new_project(tmp_path)
    path = project.path
    project.close()
    edit_settings(path, lambda s: s.update(learner={"kind": "forest", "transfer_rows": -3}))
    again = open_project(path)
    assert again.session.learner == DEFAULT_LEARNER
    again.close()
    edit_settings(path, lambda s: s.update(learner={**FAST.to_dict(), "transfer_rows": 1 << 40}))
    again = open_project(path)
    assert again.session.learner == DEFAULT_LEARNER  # beyond the limits: not used
    again.close()


def damage_weights(path: Path, round_index: int) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE rounds SET model_state = X'00' WHERE idx = ?", (round_index,))
    conn.close()


@pytest.mark.parametrize("recorded", [True, False])
def test_a_damaged_last_round_is_computed_again_with_its_own_learner(tmp_path: Path, recorded):
    project = new_project(tmp_path)
    project.session.learner = FAST
    project.session.run_round()
    path = project.path
    project.close()
    if not recorded:  # a round from before 0.3: the network alone made it
        edit_round_info(path, lambda info: (info.pop("learner"), info.pop("fidelity")))
    edit_settings(path, lambda s: s.update(learner=DEFAULT_LEARNER.to_dict()))
    damage_weights(path, 1)
    again = open_project(path)
    redone = again.session.rounds[-1].info["learner"]
    assert redone == (FAST.to_dict() if recorded else NETWORK_LEARNER.to_dict())
    assert any("computed again" in note for note in again.notes)
    again.close()


def test_the_learner_of_a_new_project_is_a_setting_of_its_creation(tmp_path: Path):
    project = new_project(tmp_path)
    assert project.session.learner == TINY_LEARNER
    project.close()


def test_the_command_line_sets_a_projects_learner_and_says_what_learned(tmp_path: Path, capsys):
    from dami_gui.cli import main as cli

    from .project_data import write_pool

    csv = write_pool(tmp_path / "pool.csv")
    path = tmp_path / "p.dami"
    new = ["project", "new", str(csv), "--label-column", "species", "--id-column", "name"]
    assert cli.main([*new, "--learner", "network", "-o", str(path)]) == 0
    with open_project(path) as project:
        assert project.session.learner == NETWORK_LEARNER
    assert cli.main(["project", "round", str(path), "--batch", "5"]) == 0
    assert "learned from the labeled rows alone" in capsys.readouterr().err
    assert cli.main(["project", "round", str(path), "--learner", "ensemble"]) == 0
    assert "the ensemble" in capsys.readouterr().err
    with open_project(path) as project:
        assert project.session.learner == DEFAULT_LEARNER
        kinds = [r.info["learner"]["kind"] for r in project.session.rounds]
        assert kinds == ["network", "ensemble"]
