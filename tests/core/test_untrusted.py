"""The one rule for every file read (dami_gui/core/untrusted.py), checked on its own.

Its readers (project, exported model, CSV) are tested with crafted files in their own modules;
here the rule itself: a regular file or one sentence, a named pipe never waited on (even one put
in place between the check and the open), sizes before allocation, strict JSON, typed and finite
values, and a network's weights exactly the spec's, finite and bounded.
"""

from __future__ import annotations

import io
import os
import tracemalloc
from pathlib import Path

import pytest
import torch

from dami_gui.core import untrusted
from dami_gui.core.errors import DataError
from dami_gui.core.project.errors import ProjectError

from .model_damage import never_blocked

pipes = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


@pipes
def test_only_a_regular_file_is_opened_and_a_pipe_never_waits(tmp_path: Path, monkeypatch):
    os.mkfifo(tmp_path / "pipe")
    with never_blocked(tmp_path):
        with pytest.raises(DataError, match=r"pipe is a named pipe, not an ordinary file, so it "
                           r"is not read as a CSV file"):  # fmt: skip
            untrusted.open_regular(tmp_path / "pipe", "a CSV file")
        # put in place between the check and the open: opened without waiting, refused by fstat
        real_stat = os.stat
        regular = real_stat(__file__)
        monkeypatch.setattr(untrusted.os, "stat", lambda p, *a, **k: regular)
        with pytest.raises(ProjectError, match="named pipe"):
            untrusted.open_regular(tmp_path / "pipe", "a project file", ProjectError)
        monkeypatch.setattr(untrusted.os, "stat", real_stat)
    with pytest.raises(DataError, match="is a folder, not a model description; choose a model"):
        untrusted.open_regular(tmp_path, "a model description")
    with pytest.raises(DataError, match="does not exist; check its name and folder"):
        untrusted.open_regular(tmp_path / "absent", "a CSV file")
    if os.path.exists("/dev/zero"):  # a device never ends: refused before it is read
        with pytest.raises(DataError, match="zero is a device, not an ordinary file"):
            untrusted.read_bounded("/dev/zero", 100, "a model description")
    (tmp_path / "file").write_bytes(b"abc")
    with untrusted.open_regular(tmp_path / "file", "a CSV file") as handle:
        assert handle.read() == b"abc"


def test_a_file_is_sized_before_it_is_read(tmp_path: Path):
    path = tmp_path / "big"
    with path.open("wb") as handle:
        handle.truncate(200 << 20)  # sparse
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="larger than a model description can be"):
            untrusted.read_bounded(path, 100 << 20, "a model description")
        path.write_bytes(b"{}")
        assert untrusted.read_bounded(path, 100 << 20, "a model description") == b"{}"
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # neither the file's size nor the bound's was allocated


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "it is empty"),
        ('{"a": NaN}', "NaN is not a number JSON allows"),
        ("[1e999, Infinity]", "Infinity is not a number JSON allows"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"a": 1', "it is not JSON"),
    ],
)
def test_json_is_read_strictly(text: str, words: str):
    with pytest.raises(ValueError, match=words):
        untrusted.parse_json(text.encode())
    with pytest.raises(ValueError, match="not UTF-8"):
        untrusted.parse_json(b'{"a": "\xff"}')


def test_values_are_typed_and_finite():
    assert untrusted.whole(3) == 3 and untrusted.real(2) == 2.0
    for bad in (True, "3", 3.0, [3], None):
        with pytest.raises(ValueError):
            untrusted.whole(bad)
    for bad in (float("nan"), float("inf"), "0.5", False, None):
        with pytest.raises(ValueError):
            untrusted.real(bad)
    assert untrusted.names(["a", "b"], "classes", 5) == ["a", "b"]
    for bad in (["a", "a"], ["a", ""], "ab", ["a", 1], ["a"] * 6, ["a\x00"]):
        with pytest.raises(ValueError):
            untrusted.names(bad, "classes", 5)


def test_a_network_is_exactly_its_spec_finite_and_bounded():
    spec = untrusted.model_spec({"n_features": 3, "n_classes": 2, "hidden": [4]}, 3, 2)
    state = {name: torch.zeros(shape) for name, shape in untrusted.state_shapes(spec).items()}
    untrusted.model_state(state, spec)
    for name, value, words in [
        ("linears.0.weight", float("nan"), "not finite"),
        ("linears.1.bias", float("inf"), "not finite"),
        ("linears.0.bias", 1e30, "beyond"),
    ]:
        broken = {k: v.clone() for k, v in state.items()}
        broken[name][0] = value
        with pytest.raises(ValueError, match=words):
            untrusted.model_state(broken, spec)
    with pytest.raises(ValueError, match=r"linears\.1\.bias is missing"):
        untrusted.model_state({k: v for k, v in state.items() if k != "linears.1.bias"}, spec)
    with pytest.raises(ValueError, match="more than the 50,000,000"):
        untrusted.model_spec({"n_features": 3, "n_classes": 2, "hidden": [16000, 16000]}, 3, 2)
    with pytest.raises(ValueError, match="where the rest says 4 and 2"):
        untrusted.model_spec(spec, 4, 2)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    loaded = untrusted.load_torch_state(buffer.getvalue(), untrusted.state_bytes(spec))
    assert set(loaded) == set(state)
    with pytest.raises(ValueError, match=r"not a torch\.save archive"):
        untrusted.load_torch_state(buffer.getvalue(), 100)
