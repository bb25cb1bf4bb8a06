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
