"""An exported model damaged at random offsets: each loader predicts or refuses in one line.

Hypothesis changes a few bytes (anywhere, or near the fields and tensors the files hold) of the
exported ``model.json`` or ``model.safetensors`` (the weights either left unsigned, so their
SHA-256 catches the damage, or signed again, so that it reaches the checks behind it), and runs
``dami predict`` and tools/standalone_predict.py on it. Whatever the damage:

* no traceback: exit code 0, or 2 with one error line;
* a run that works predicts every row with finite probabilities that sum to 1, the class being
  the most probable one;
* when both work they agree: the same probabilities (to float32 round-off) and the same rows
  flagged as clamped.

And our safetensors parser is checked against the format's reference implementation (the
``safetensors`` package, where installed): a damaged weights file that ours reads is read by the
reference too, with the same tensors.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dami_gui.core.errors import DataError
from dami_gui.core.prediction import safetensors

from . import flips
from . import model_damage as damage
from .model_damage import JSON, WEIGHTS


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    return damage.make_export(tmp_path_factory.mktemp("export"))


#: (target, dami-gui predicted, the example predicted) of each example run, for a look at how
#: the damage spreads between refusals and predictions (printed with ``pytest -s``).
OUTCOMES: list[tuple[str, bool, bool]] = []


@pytest.fixture(scope="module")
def tool():
    return damage.standalone()


#: Where a change does most harm: the fields of the description, the header of the weights.
MARKERS = {
    JSON: (b'"format_version"', b'"weights"', b'"weights_sha256"', b'"spec"', b'"hidden"',
           b'"layers"', b'"classes"', b'"transforms"', b'"mean"', b'"std"', b'"fill"',
           b'"categories"', b'"kind"', b'"missing_indicator"', b'"true_values"'),
    WEIGHTS: (b'"dtype"', b'"shape"', b'"data_offsets"', b"__metadata__", b"linears", b"F32"),
}  # fmt: skip


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,  # the same files on every run: a failure is reproducible, CI is stable
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(target=st.sampled_from([JSON, WEIGHTS, "signed weights"]), changes=flips.changes)
def test_any_damage_is_predicted_or_refused_in_one_line(export, tmp_path, capsys, tool, target,
                                                        changes):  # fmt: skip
    folder = damage.copy_export(export, Path(tempfile.mkdtemp(dir=tmp_path)) / "m")
    classes = damage.description(folder)["classes"]
    name = JSON if target == JSON else WEIGHTS
    path = folder / name
    path.write_bytes(flips.damaged(path.read_bytes(), MARKERS[name], changes))
    if target == "signed weights":
        damage.sign(folder)

    _, ours = damage.run_app(folder, capsys)
    _, theirs = damage.run_standalone(folder, capsys, tool)
    n = len(damage.new_rows())
    if ours is not None:
        damage.check_predictions(ours, _classes(ours), n)
    if theirs is not None:
        damage.check_predictions(theirs, _classes(theirs), n)
    if ours is not None and theirs is not None:
        assert _classes(ours) == _classes(theirs)
        np.testing.assert_allclose(
            theirs[[f"p_{c}" for c in _classes(theirs)]].to_numpy(float),
            ours[[f"p_{c}" for c in _classes(ours)]].to_numpy(float),
            atol=1e-5,
        )
        assert _flagged(ours) == _flagged(theirs)
    if ours is not None and target != JSON:
        assert _classes(ours) == classes  # the weights do not name the classes
    OUTCOMES.append((target, ours is not None, theirs is not None))
    shutil.rmtree(folder.parent)


def _flagged(table) -> list[str]:
    """The ``clamped`` column of a predictions table (empty cells when it has none)."""
    return table["clamped"].tolist() if "clamped" in table.columns else [""] * len(table)


def _classes(table) -> list[str]:
    """The class names of a predictions table, from its ``p_<class>`` columns."""
    return [c[2:] for c in table.columns if c.startswith("p_")]


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(changes=flips.changes)
def test_our_parser_reads_no_file_the_reference_refuses(changes):
    reference = pytest.importorskip("safetensors.numpy", reason="the safetensors package")
    good = safetensors.encode(
        {
            "linears.0.weight": np.arange(12, dtype=np.float32).reshape(3, 4),
            "linears.0.bias": np.ones(3, np.float32),
            "counts": np.array([1, -2], np.int64),
        },
        {"format": "pt"},
    )
    data = flips.damaged(good, MARKERS[WEIGHTS], changes)
    try:
        ours, _ = safetensors.decode(data)
    except DataError:
        return  # refused: at least as strict as the reference (it may refuse or not)
    theirs = reference.load(data)
    assert set(theirs) == set(ours)
    for key, array in ours.items():
        assert theirs[key].dtype == array.dtype and theirs[key].shape == array.shape
        np.testing.assert_array_equal(theirs[key], array)
