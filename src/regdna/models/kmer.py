"""`kmer-lr`: k-mer frequency features + a linear / logistic model, the floor every network must beat.

The model is an ordinary regdna model (one-hot in, logits out), so it trains, evaluates and
predicts through the same harness and commands as the CNNs: the k-mer counting is a fixed,
parameter-free layer and the only trained weights are one linear layer. Logistic regression
(binary, multi-label), multinomial regression (multi-class) or linear regression come from the
loss the harness picks for the task; L2 regularisation is the optimiser's weight decay.
Features are standardised with the mean and standard deviation of the training sequences,
computed once in `prepare_data` (given the sequences, never the dataset dir) and stored as
buffers (so they travel in the checkpoint).
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from regdna.encode.onehot import one_hot
from regdna.errors import RegdnaError
from regdna.models.base import RegdnaModel


def kmer_frequencies(x: torch.Tensor, k: int) -> torch.Tensor:
    """One-hot (N, 4, L) -> k-mer frequencies (N, 4**k); k-mers touching an N are skipped.

    Each k-mer gets the code sum_j base[i + j] * 4**(k - 1 - j) (A, C, G, T = 0..3); frequencies
    are counts divided by the number of valid k-mers in the sequence.
    """
    n, _, length = x.shape
    n_kmers = length - k + 1
    if n_kmers <= 0:
        return x.new_zeros((n, 4 ** k))
    base = x.argmax(dim=1)                          # (N, L)
    valid = x.sum(dim=1) > 0.5                      # (N, L) False at N
    codes = torch.zeros((n, n_kmers), dtype=torch.long, device=x.device)
    ok = torch.ones((n, n_kmers), dtype=torch.bool, device=x.device)
    for j in range(k):
        codes = codes * 4 + base[:, j:j + n_kmers]
        ok &= valid[:, j:j + n_kmers]
    counts = x.new_zeros((n, 4 ** k))
    counts.scatter_add_(1, codes, ok.to(x.dtype))
    return counts / ok.sum(dim=1, keepdim=True).clamp(min=1).to(x.dtype)


class KmerLinear(RegdnaModel):
    """Standardised k-mer frequencies -> one linear layer -> (N, T) logits.

    Args:
        n_outputs: T.
        k: k-mer size (4**k features).
    """

    input_kind = "onehot"

    def __init__(self, n_outputs: int, k: int = 5):
        super().__init__()
        if not 1 <= k <= 8:
            raise RegdnaError(f"kmer-lr option k={k} is out of range; use 1 <= k <= 8 "
                              f"(4**k features).")
        self.k = k
        self.n_outputs = n_outputs
        self.min_length = k
        self.register_buffer("feature_mean", torch.zeros(4 ** k))
        self.register_buffer("feature_std", torch.ones(4 ** k))
        self.linear = nn.Linear(4 ** k, n_outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 4, L) -> standardised k-mer features (N, 4**k)."""
        return (kmer_frequencies(x.float(), self.k) - self.feature_mean) / self.feature_std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 4, L) one-hot -> (N, T) logits."""
        return self.linear(self.features(x))

    @torch.no_grad()
    def prepare_data(self, sequences: Mapping[str, Sequence[str]],
                     cache_dir: str | Path | None = None, chunk_size: int = 4096) -> None:
        """Set the standardisation from the training sequences (one-hot in chunks, memory flat).

        Parameters
        ----------
        sequences : mapping split name -> sequence of str
            the DNA strings of each split; only "train" is used.
        cache_dir : unused (the harness's interface).
        chunk_size : sequences one-hot encoded at a time.
        """
        train = sequences.get("train", ())
        total = torch.zeros(4 ** self.k, dtype=torch.float64)
        total_sq = torch.zeros(4 ** self.k, dtype=torch.float64)
        n = 0
        for start in range(0, len(train), chunk_size):
            x = torch.from_numpy(one_hot(list(train[start:start + chunk_size]), dtype=np.float32,
                                         channels_first=True))
            freq = kmer_frequencies(x, self.k).double()
            total += freq.sum(0)
            total_sq += (freq ** 2).sum(0)
            n += len(freq)
        if n == 0:
            return
        mean = total / n
        std = (total_sq / n - mean ** 2).clamp(min=0).sqrt()
        self.feature_mean.copy_(mean.float())
        # k-mers that never vary carry no information; keep their scale at 1 to avoid 0 / 0
        self.feature_std.copy_(torch.where(std > 1e-8, std, torch.ones_like(std)).float())


def kmer_lr(n_outputs: int, k: int = 5) -> KmerLinear:
    return KmerLinear(n_outputs, k=k)
