"""Test-wide settings: Qt runs headless; torch uses one thread (the test networks are tiny)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch

torch.set_num_threads(1)  # tiny networks: one thread is fastest and immune to contention
