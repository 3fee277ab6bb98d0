"""Test-wide settings: Qt runs headless, torch uses the machine's two cores at most."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch

torch.set_num_threads(min(2, os.cpu_count() or 1))
