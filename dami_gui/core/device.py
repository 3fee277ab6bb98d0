"""Which torch device runs the interpretation and K-Center: an accelerator when there is one.

``"auto"`` (the default everywhere) takes CUDA when torch sees a CUDA GPU, else Apple's MPS
when it is available, else the CPU. The CPU path is the tested default: training always runs
on the CPU (the network is small and the batches are tiny, so a GPU would only add transfer
time), and every result comes back to the CPU as numpy arrays. The environment variable
``DAMI_DEVICE`` (``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps``) overrides the default, for
instance to keep a shared GPU free.

``None`` stands for the CPU throughout the core, so that the CPU code paths stay exactly the
ones without any device.
"""

from __future__ import annotations

import os

import torch

from dami_gui.core.errors import ParameterError

CHOICES = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve_device(spec: str | torch.device | None = "auto") -> torch.device | None:
    """The device for ``spec`` (``None`` for the CPU); ``"auto"`` picks CUDA, then MPS, then CPU.

    Asking for an accelerator that torch cannot use is an error that says so, rather than a
    silent fall back to the CPU.
    """
    if isinstance(spec, torch.device):
        return None if spec.type == "cpu" else spec
    if spec is None:
        return None
    text = str(spec).strip().lower()
    if text == "auto":
        text = os.environ.get("DAMI_DEVICE", "auto").strip().lower() or "auto"
        if text == "auto":
            if torch.cuda.is_available():
                return torch.device("cuda")
            if _mps_available():
                return torch.device("mps")
            return None
    kind = text.split(":", 1)[0]
    if kind not in CHOICES[1:]:
        raise ParameterError("device", "one of auto, cpu, cuda, cuda:N or mps", spec)
    if kind == "cpu":
        return None
    if kind == "cuda" and not torch.cuda.is_available():
        raise ParameterError("device", "a CUDA GPU that torch can see (or auto / cpu)", spec)
    if kind == "mps" and not _mps_available():
        raise ParameterError("device", "Apple's MPS backend available to torch (or auto)", spec)
    return torch.device(text)


def device_name(device: torch.device | None) -> str:
    """A short human name for the device, for the status bar and the benchmarks."""
    if device is None:
        return "CPU"
    if device.type == "cuda":
        return f"GPU ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "GPU (Apple MPS)"
    return str(device)
