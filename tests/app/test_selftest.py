"""``dami-gui --selftest`` run from the source tree, as the packaged app runs it after a build.

The frozen bundle's self-test is the last step of ``dev.py package`` (and so of CI); this test
runs the same steps unfrozen, so that a step that breaks (a round whose figures are missing, a
project that does not reopen) is caught by the suite instead of after a ten-minute build.
"""

from __future__ import annotations

import tempfile

import pytest

from dami_gui.app.selftest import _accuracy, run_selftest


def test_the_self_test_passes_from_the_source_tree(qapp, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # its project file goes here
    assert run_selftest(umap=False) == 0
    out = capsys.readouterr().out
    assert "SELF-TEST PASSED" in out
    assert "FAIL" not in out
    assert "ok    round 2: the ensemble teacher and its exact student" in out
    # round 1 of a new project has no model (a cold start): its accuracy is said as such
    assert "test accuracy none yet (no model) -> 0." in out


@pytest.mark.parametrize(("value", "said"), [(None, "none yet (no model)"), (0.8125, "0.812")])
def test_a_round_accuracy_is_said_with_or_without_a_model(value, said):
    assert _accuracy(value) == said
