"""Device choice: an accelerator when torch has one, the CPU (None) otherwise; bad asks say so."""

import numpy as np
import pytest
import torch

from dami_gui.core import device as device_module
from dami_gui.core.device import device_name, resolve_device
from dami_gui.core.errors import ParameterError
from dami_gui.core.geometry.kcenter import k_center_greedy
from dami_gui.core.interpret import interpret
from dami_gui.core.model import train_mlp


def _no_accelerator(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device_module, "_mps_available", lambda: False)
    monkeypatch.delenv("DAMI_DEVICE", raising=False)


def test_cpu_is_none_whatever_the_spelling(monkeypatch):
    _no_accelerator(monkeypatch)
    for spec in (None, "cpu", " CPU ", torch.device("cpu"), "auto"):
        assert resolve_device(spec) is None
    assert device_name(None) == "CPU"


def test_auto_prefers_cuda_then_mps(monkeypatch):
    _no_accelerator(monkeypatch)
    monkeypatch.setattr(device_module, "_mps_available", lambda: True)
    assert resolve_device("auto") == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")


def test_the_environment_overrides_auto_but_not_an_explicit_choice(monkeypatch):
    _no_accelerator(monkeypatch)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("DAMI_DEVICE", "cpu")
    assert resolve_device("auto") is None
    assert resolve_device("cuda:1") == torch.device("cuda:1")


def test_asking_for_what_is_not_there_names_the_parameter(monkeypatch):
    _no_accelerator(monkeypatch)
    for spec, expected in (
        ("tpu", "one of auto, cpu"),
        ("cuda", "a CUDA GPU"),
        ("mps", "Apple's MPS"),
    ):
        with pytest.raises(ParameterError, match="'device'") as err:
            resolve_device(spec)
        assert expected in str(err.value) and repr(spec) in str(err.value)


def test_session_defaults_to_auto(monkeypatch):
    from dami_gui.core.session import Session

    from .test_session import make_dataset as small_dataset

    _no_accelerator(monkeypatch)
    assert Session(small_dataset()[0]).device is None
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert Session(small_dataset()[0]).device == torch.device("cuda")
    assert Session(small_dataset()[0], device="cpu").device is None


@pytest.mark.skipif(
    not (torch.cuda.is_available() or device_module._mps_available()),
    reason="no CUDA or MPS device on this machine",
)
def test_the_accelerator_gives_the_cpu_results():
    device = resolve_device("auto")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 7)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    model, _ = train_mlp(X[:60], y[:60], 2, seed=0)
    cpu = interpret(model, X)
    acc = interpret(model, X, device=device)
    np.testing.assert_array_equal(cpu.region_ids, acc.region_ids)
    np.testing.assert_allclose(cpu.A, acc.A, rtol=1e-4, atol=1e-5)
    flat = cpu.flat()
    a = k_center_greedy(flat, np.arange(10), 15)
    b = k_center_greedy(flat, np.arange(10), 15, device=device)
    np.testing.assert_array_equal(a.order, b.order)
