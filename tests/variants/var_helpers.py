"""Helpers of the variant tests: models whose numbers are checkable by hand."""
from __future__ import annotations

import numpy as np
import torch

from regdna.models.base import RegdnaModel

GC_LENGTH = 20


class GCModel(RegdnaModel):
    """logit = 10 * (GC fraction of the window) - 5: every number is checkable by hand.

    (N, 4, L) one-hot -> (N, 1) logits. Two outputs with `two=True` (second = -first).
    """

    input_kind = "onehot"

    def __init__(self, two: bool = False):
        super().__init__()
        self.n_outputs = 2 if two else 1
        self.scale = torch.nn.Parameter(torch.tensor(10.0), requires_grad=False)

    def forward(self, x):
        gc = (x[:, 1] + x[:, 2]).mean(dim=-1, keepdim=True)
        z = self.scale * gc - 5.0
        return torch.cat([z, -z], dim=1) if self.n_outputs == 2 else z


def gc_logit(seq: str) -> float:
    return 10.0 * sum(b in "GC" for b in seq) / len(seq) - 5.0


def gc_predictor(two: bool = False, length: int = GC_LENGTH):
    from regdna.runs.predictor import Predictor

    return Predictor(GCModel(two), task="multilabel" if two else "binary",
                     labels=["y", "z"] if two else ["y"], length=length, device="cpu", batch_size=7)


def random_bn(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give batch-norm layers non-trivial running statistics (a fresh model has mean 0, var 1)."""
    gen = torch.Generator().manual_seed(seed)
    for mod in model.modules():
        if isinstance(mod, torch.nn.BatchNorm1d):
            mod.running_mean.copy_(torch.randn(mod.num_features, generator=gen) * 0.3)
            mod.running_var.copy_(torch.rand(mod.num_features, generator=gen) + 0.5)
    return model.eval()


class GrammarScanner(RegdnaModel):
    """An oracle for the bundled example's grammar (positives carry >= 2 distinct factors,
    negatives one): PWM log-odds filters for both strands, the best match of each factor
    normalised by its best possible score, logit = 10 * (second-best factor - 0.6).

    Used to check the VEP pipeline end to end (windows, alleles, strands, sign of log2_ratio)
    independently of how well a trained model learned the grammar. (N, 4, L) -> (N, 1).
    """

    input_kind = "onehot"
    n_outputs = 1

    def __init__(self, motifs):
        super().__init__()
        width = max(m.width for m in motifs)
        filters = []
        for motif in motifs:
            for strand in (motif, motif.reverse_complement()):
                weights = strand.log_odds()                      # (W, 4)
                weights = weights / weights.max(axis=1).sum()    # best site scores 1
                padded = np.zeros((width, 4))
                padded[:strand.width] = weights
                filters.append(padded.T)
        self.register_buffer("weight", torch.tensor(np.stack(filters), dtype=torch.float32))
        self.n_factors = len(motifs)
        self.width = width

    def forward(self, x):
        scores = torch.nn.functional.conv1d(x, self.weight, padding=self.width)  # (N, 2M, L')
        best = scores.amax(dim=-1).view(x.shape[0], self.n_factors, 2).amax(dim=-1)
        second = best.sort(dim=1, descending=True).values[:, 1]
        return (10.0 * (second - 0.6))[:, None]
