"""tools/standalone_predict.py, the numpy-only loader users copy, is tested like dami-gui's own.

Every kind of damage of :mod:`.model_damage` is given to both loaders: where ``dami predict``
refuses with one line and exit code 2, so does the example (``error: ...``, exit code 2, never a
traceback); where dami-gui predicts (the benign kinds), the example predicts the same
probabilities and flags the same rows. Its limits are dami-gui's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dami_gui.core.data import pieces
from dami_gui.core.data.preprocessing import MAX_FEATURE
from dami_gui.core.prediction import model_file
from dami_gui.core.untrusted import MAX_LAYERS, MAX_PARAMETERS, MAX_WEIGHT, MAX_WIDTH

from . import model_damage as damage


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    return damage.make_export(tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def tool():
    return damage.standalone()


def test_the_example_applies_dami_gui_s_limits(tool):
    assert (tool.MAX_LAYERS, tool.MAX_WIDTH, tool.MAX_PARAMETERS, tool.MAX_WEIGHT) == (
        MAX_LAYERS, MAX_WIDTH, MAX_PARAMETERS, MAX_WEIGHT
    )  # fmt: skip
    assert tool.MAX_FEATURE == MAX_FEATURE and tool.MAX_CELL == pieces.MAX_LINE_BYTES
    assert tool.MAX_DESCRIPTION_BYTES == model_file.MAX_DESCRIPTION_BYTES
    assert tool.MAX_WEIGHTS_HEADER == model_file.MAX_WEIGHTS_HEADER


def test_the_intact_export_predicts_as_dami_gui(export, tmp_path, capsys, tool):
    folder = damage.copy_export(export, tmp_path / "m")
    app_error, ours = damage.run_app(folder, capsys)
    error, theirs = damage.run_standalone(folder, capsys, tool)
    assert app_error is None and error is None
    classes = damage.description(folder)["classes"]
    np.testing.assert_allclose(
        damage.check_predictions(theirs, classes, len(ours)),
        damage.check_predictions(ours, classes, len(ours)),
        atol=1e-6,
    )
    assert "clamped" not in theirs.columns


@pytest.mark.parametrize("kind", list(damage.DAMAGE))
def test_each_kind_of_damage_gets_dami_gui_s_verdict(export, tmp_path, capsys, tool, kind):
    folder = damage.copy_export(export, tmp_path / "m")
    classes = damage.description(folder)["classes"]
    damage.DAMAGE[kind](folder)
    error, theirs = damage.run_standalone(folder, capsys, tool)
    if kind not in damage.BENIGN:
        assert error is not None, f"{kind}: accepted"
        assert "\n" not in error and len(error) < 400
        return
    assert error is None, error
    proba = damage.check_predictions(theirs, classes, len(damage.new_rows()))
    app_error, ours = damage.run_app(folder, capsys)
    assert app_error is None
    np.testing.assert_allclose(proba, damage.check_predictions(ours, classes, len(ours)), atol=1e-6)
    flagged = damage.CLAMPED.get(kind)
    if flagged is None:
        assert "clamped" not in theirs.columns and "clamped" not in ours.columns
    else:
        expected = [flagged.get(i, "") for i in range(len(ours))]
        assert theirs["clamped"].tolist() == ours["clamped"].tolist() == expected


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("header length past the file", "the header length is larger than the file"),
        ("header not UTF-8", "is not valid JSON (UTF-8"),
        ("shape not matching the data", "has the shape (8, 9), not (8, 8)"),
        ("a tensor missing", "does not hold the tensors model.json names"),
        ("weights file empty", "shorter than its 8-byte header length"),
        ("json is a list", "is not a model description written by dami-gui"),
        ("json nested 100,000 deep", "not nested too deeply"),
        ("csv empty", "new.csv is empty"),
        ("NaN weight", "holds values that are not finite"),
        ("weights 2.5 GB", "is larger than the weights of this network can be"),
    ],
)
def test_the_example_s_sentence_says_what_is_wrong(export, tmp_path, capsys, tool, kind, words):
    folder = damage.copy_export(export, tmp_path / "m")
    damage.DAMAGE[kind](folder)
    error, _ = damage.run_standalone(folder, capsys, tool)
    assert error is not None and words in error, error


def test_a_reader_that_stops_early_is_no_error(export, tmp_path):
    """``python standalone_predict.py ... | head``: no BrokenPipeError traceback."""
    import subprocess
    import sys

    folder = damage.copy_export(export, tmp_path / "m")
    rows = damage.new_rows(n=5000)  # more output than a pipe holds: the writer meets EPIPE
    rows.to_csv(folder / damage.CSV, index=False)
    command = (
        f"{sys.executable} {damage.TOOL} {folder / damage.JSON} {folder / damage.CSV} | head -n 1"
    )
    done = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
    assert done.stdout.startswith("row,predicted,p_a") and "Traceback" not in done.stderr
