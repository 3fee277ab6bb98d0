"""Test-wide settings: Qt runs headless; torch uses one thread (the test networks are tiny),
and every test starts with one thread whatever the test before it did."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
import torch

TORCH_THREADS = 1
torch.set_num_threads(TORCH_THREADS)  # tiny networks: one thread is fastest, immune to contention


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Give torch its one thread back after each test.

    A test that runs numba code itself (umap's functions as a reference) can leave torch on
    every core: numba's first parallel launch in a process sets the OpenMP thread count, which
    torch shares. Products split over two threads are rounded differently, so a later test's
    results would depend on which tests ran before it (the order dependence of issue 24).
    """
    yield
    if torch.get_num_threads() != TORCH_THREADS:
        torch.set_num_threads(TORCH_THREADS)
