"""Heads on a pretrained encoder: `MLPHead` on the pooled embedding and `CNNHead` over the
token embeddings (Tang & Koo 2024). The linear probe and the fine-tuning head are plain
`nn.Linear` / `nn.Sequential` (see `regdna.models.hf.sequence_model`).
"""
from __future__ import annotations

import torch
from torch import nn


class MLPHead(nn.Module):
    """Two fully connected blocks (Linear, ReLU, LayerNorm, dropout) then the output layer
    (Tang & Koo 2024: 512 and 256 units, dropout 0.5)."""

    def __init__(self, d_in: int, n_outputs: int, units=(512, 256), dropout: float = 0.5):
        super().__init__()
        layers, d = [], d_in
        for u in units:
            layers += [nn.Linear(d, u), nn.ReLU(), nn.LayerNorm(u), nn.Dropout(dropout)]
            d = u
        layers.append(nn.Linear(d, n_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, pooled):
        return self.net(pooled)


class CNNHead(nn.Module):
    """Small CNN over token embeddings (N, S, D): 1x1 conv to `channels`, conv k=7, ReLU,
    max over real tokens, dropout, linear (the baseline CNN of Tang & Koo 2024, with a global max
    pool so it takes any token length)."""

    def __init__(self, d_in: int, n_outputs: int, channels: int = 64, kernel: int = 7,
                 dropout: float = 0.2):
        super().__init__()
        self.reduce = nn.Conv1d(d_in, channels, 1)
        self.conv = nn.Conv1d(channels, channels, kernel, padding=kernel // 2)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(channels, n_outputs)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.reduce(hidden.transpose(1, 2)))
        h = torch.relu(self.conv(h))                                    # (N, C, S)
        h = h.masked_fill(~mask.bool()[:, None, :], float("-inf")).amax(dim=-1)
        return self.out(self.drop(h))
