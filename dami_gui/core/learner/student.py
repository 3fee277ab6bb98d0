"""The student: one ReLU network trained to reproduce the teacher's probabilities.

It is the network the app interprets and predicts with, built exactly like the network-only
learner's (:func:`dami_gui.core.model.init_model`, the session's architecture), so every
identity of :mod:`dami_gui.core.interpret` holds for it. Only its training differs: it fits
thousands of rows whose targets are the teacher's probabilities (the labeled rows keep their
own class), so it is trained like a learner of thousands of rows (mini-batches of 256, at least
40 epochs, a weak weight penalty, a learning rate of 2e-3 that decays to zero along a cosine),
not like a learner of 20 labels. Measured on the hardest sets to follow (small noisy pools,
2-d boundaries among irrelevant columns, 26 classes), 8,000 transfer rows agreed with the
teacher on 0.7 points more test rows than 5,000, and batches of 256 on as many as batches of 128
in two thirds of the time (docs/benchmarks.md). Deterministic for a seed, like
:func:`~dami_gui.core.model.train_mlp`.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from dami_gui.core.learner.config import LearnerConfig
from dami_gui.core.model import MLP, MLPConfig, init_model, seeded_generator, single_thread
from dami_gui.core.progress import Reporter


def train_student(
    X: np.ndarray,
    targets: np.ndarray,
    network: MLPConfig,
    learner: LearnerConfig,
    seed: int,
    reporter: Reporter,
) -> MLP:
    """A network of ``network``'s architecture fitted to ``targets`` (N x C probabilities).

    The loss is the cross-entropy against the target distribution (for a one-hot target, the
    usual one). Reports ``("Training", fraction)`` per epoch and checks cancellation.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    targets = np.ascontiguousarray(targets, dtype=np.float32)
    model = init_model(X.shape[1], targets.shape[1], network, seed)
    n = X.shape[0]
    if n == 0:
        return model
    batch = learner.student_batch_size
    steps_per_epoch = math.ceil(n / batch)
    epochs = max(learner.student_epochs, math.ceil(learner.student_min_steps / steps_per_epoch))
    total = epochs * steps_per_epoch
    xt, tt = torch.from_numpy(X), torch.from_numpy(targets)
    gen = seeded_generator(seed + 1)
    with single_thread():
        optimizer = torch.optim.Adam(
            model.parameters(),
            lr=learner.student_learning_rate,
            weight_decay=learner.student_weight_decay,
        )
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))
        )
        model.train()
        for epoch in range(epochs):
            reporter.check()
            order = torch.randperm(n, generator=gen)
            for start in range(0, n, batch):
                idx = order[start : start + batch]
                log_p = nn.functional.log_softmax(model(xt[idx]), dim=1)
                loss = -(tt[idx] * log_p).sum(dim=1).mean()
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
            reporter("Training", (epoch + 1) / epochs)
        model.eval()
    return model
