"""Planted-motif toy data shared by the interpretation tests (a module of its own, not
conftest: `from conftest import ...` resolves to whichever conftest pytest imported first)."""
from __future__ import annotations

import numpy as np
from helpers import random_seq

TOY_MOTIF = "TGACTCAG"      # AP-1-like (FOS::JUN core), planted in positives
TOY_LENGTH = 100


def make_planted(n: int, seed: int = 0, length: int = TOY_LENGTH, frame: int = 1):
    """n positives (random background + TOY_MOTIF at a random place, a multiple of `frame`)
    and n negatives. Returns seqs, labels (2n,), motif starts (-1 for negatives)."""
    rng = np.random.default_rng(seed)
    seqs, labels, starts = [], [], []
    for i in range(2 * n):
        bg = random_seq(length, rng)
        if i % 2 == 0:
            s = int(rng.integers(5, length - len(TOY_MOTIF) - 5)) // frame * frame
            bg = bg[:s] + TOY_MOTIF + bg[s + len(TOY_MOTIF):]
            labels.append(1.0), starts.append(s)
        else:
            labels.append(0.0), starts.append(-1)
        seqs.append(bg)
    return seqs, np.array(labels, dtype=np.float32), np.array(starts)


def fit_binary(model, x, y, epochs: int, batch: int, lr: float = 2e-2):
    """`epochs` passes of Adam on the binary cross-entropy of model(x) against y, in batches of
    `batch` (the stand-ins' few seconds of training); returns the model in eval mode."""
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        for i in range(0, len(x), batch):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x[i:i + batch]),
                                                                        y[i:i + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()
