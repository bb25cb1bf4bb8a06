"""CNNs on one-hot DNA: regdna's default `cnn`, Basset, DeepSEA, ResidualBind, CNN-baseline and
a shallow CNN, all length-agnostic.

Every model takes a one-hot tensor (N, 4, L) and returns logits (N, T). None hard-codes the input
length: convolutions use "same" padding (Basset, ResidualBind) or valid padding with a stated
`min_length` (DeepSEA, as published), and the convolutional trunk ends in an adaptive max-pool to
a fixed number of bins, so the dense head has the same size for any L. `filters` scales the
channel counts (1.0 = published sizes; tests use small values for speed) and
`exp_activation=True` puts an exponential activation on the first layer (Koo & Ploenzke 2021,
Toneyan et al. 2022: more motif-like first-layer filters).
"""
from __future__ import annotations

import torch
from torch import nn

from regdna.models.base import RegdnaModel


class Exponential(nn.Module):
    """exp(x), clamped from above so a large pre-activation cannot overflow to inf."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(torch.clamp(x, max=10.0))


def first_activation(exp_activation: bool) -> nn.Module:
    return Exponential() if exp_activation else nn.ReLU()


def scaled(n: int, filters: float) -> int:
    """A published channel count `n` scaled by `filters` (at least 4)."""
    return max(4, int(round(n * filters)))


def conv_block(c_in: int, c_out: int, width: int, pool: int, activation: nn.Module,
               dropout: float = 0.0, padding: str = "same") -> nn.Sequential:
    """Conv1d -> BatchNorm -> activation -> MaxPool (ceil mode, so short inputs survive) -> dropout.

    (N, c_in, L) -> (N, c_out, ceil(L' / pool)).
    """
    layers: list[nn.Module] = [nn.Conv1d(c_in, c_out, width, padding=padding),
                               nn.BatchNorm1d(c_out), activation]
    if pool > 1:
        layers.append(nn.MaxPool1d(pool, ceil_mode=True))
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class CNNClassifier(RegdnaModel):
    """A convolutional trunk, adaptive max-pool to `bins` positions, and a dense head.

    Args:
        trunk: module mapping (N, 4, L) to (N, C, L').
        trunk_channels: C.
        n_outputs: T, the number of logits.
        hidden: sizes of the dense layers of the head.
        dropout: dropout after each dense layer.
        bins: positions kept by the adaptive max-pool (keeps coarse position information).
        min_length: shortest input the trunk accepts.
    """

    input_kind = "onehot"

    def __init__(self, trunk: nn.Module, trunk_channels: int, n_outputs: int,
                 hidden: tuple[int, ...], dropout: float, bins: int, min_length: int = 1):
        super().__init__()
        self.n_outputs = n_outputs
        self.min_length = min_length
        self.trunk = trunk
        self.pool = nn.AdaptiveMaxPool1d(bins)
        layers: list[nn.Module] = [nn.Flatten()]
        size = trunk_channels * bins
        for width in hidden:
            layers += [nn.Linear(size, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Dropout(dropout)]
            size = width
        layers.append(nn.Linear(size, n_outputs))
        self.head = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 4, L) one-hot -> (N, T) logits."""
        return self.head(self.pool(self.trunk(x)))


def basset(n_outputs: int, filters: float = 1.0, hidden: int = 1000, dropout: float = 0.3,
           exp_activation: bool = False, bins: int = 4, conv_dropout: float = 0.0
           ) -> CNNClassifier:
    """Basset (Kelley et al. 2016): conv 300/200/200, widths 19/11/7, batch norm, max-pool 3/4/4,
    two dense layers of `hidden` (1000) with dropout; `conv_dropout` after each conv block (0 as
    published)."""
    c1, c2, c3 = scaled(300, filters), scaled(200, filters), scaled(200, filters)
    trunk = nn.Sequential(
        conv_block(4, c1, 19, 3, first_activation(exp_activation), conv_dropout),
        conv_block(c1, c2, 11, 4, nn.ReLU(), conv_dropout),
        conv_block(c2, c3, 7, 4, nn.ReLU(), conv_dropout),
    )
    return CNNClassifier(trunk, c3, n_outputs, (hidden, hidden), dropout, bins)


def deepsea(n_outputs: int, filters: float = 1.0, hidden: int = 925,
            exp_activation: bool = False, bins: int = 4) -> CNNClassifier:
    """DeepSEA (Zhou & Troyanskaya 2015): conv 320/480/960 of width 8 (valid padding), max-pool 4
    after the first two, dropout 0.2/0.2/0.5, one dense layer of 925."""
    c1, c2, c3 = scaled(320, filters), scaled(480, filters), scaled(960, filters)
    trunk = nn.Sequential(
        nn.Conv1d(4, c1, 8), first_activation(exp_activation), nn.MaxPool1d(4), nn.Dropout(0.2),
        nn.Conv1d(c1, c2, 8), nn.ReLU(), nn.MaxPool1d(4), nn.Dropout(0.2),
        nn.Conv1d(c2, c3, 8), nn.ReLU(), nn.Dropout(0.5),
    )
    # valid convolutions: L -> L-7 -> floor/4 -> -7 -> floor/4 -> -7 must stay >= 1
    min_length = 4 * (4 * (1 + 7) + 7) + 7
    return CNNClassifier(trunk, c3, n_outputs, (hidden,), 0.0, bins, min_length=min_length)


class DilatedResidualBlock(nn.Module):
    """Dilated convolutions (width 3, dilation 1, 2, 4, ...) with batch norm and a skip connection
    to the block input, then ReLU (ResidualBind, Koo et al. 2021). (N, C, L) -> (N, C, L)."""

    def __init__(self, channels: int, n_layers: int = 3, dropout: float = 0.1):
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(n_layers):
            layers += [nn.Conv1d(channels, channels, 3, padding="same", dilation=2 ** i),
                       nn.BatchNorm1d(channels)]
            if i < n_layers - 1:
                layers.append(nn.ReLU())
            layers.append(nn.Dropout(dropout))
        self.body = nn.Sequential(*layers)
        self.out = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(x + self.body(x))


def residualbind(n_outputs: int, filters: float = 1.0, exp_activation: bool = True,
                 n_dilated: int = 3, hidden: int = 256, bins: int = 1) -> CNNClassifier:
    """ResidualBind-like (Tang & Koo 2024, Methods): conv 96 width 19 (exponential by default) ->
    dilated residual block -> max-pool 10 -> conv 192 width 7 -> global pooling -> dense."""
    c1, c2 = scaled(96, filters), scaled(192, filters)
    trunk = nn.Sequential(
        conv_block(4, c1, 19, 1, first_activation(exp_activation), dropout=0.1),
        DilatedResidualBlock(c1, n_dilated, dropout=0.1),
        nn.MaxPool1d(10, ceil_mode=True), nn.Dropout(0.1),
        conv_block(c1, c2, 7, 1, nn.ReLU(), dropout=0.1),
    )
    return CNNClassifier(trunk, c2, n_outputs, (hidden,), 0.3, bins)


def cnn(n_outputs: int, filters: float = 0.25, hidden: int = 256, dropout: float = 0.5,
        exp_activation: bool = True, bins: int = 1, conv_dropout: float = 0.2) -> CNNClassifier:
    """regdna's default model, chosen by `bench/model_defaults.py` against the published Basset,
    CNN-baseline, ResidualBind, a 2-layer CNN and a k-mer model on synthetic grammars: Basset's
    convolutional trunk (channels scaled by `filters`; 0.25 fits 2 CPU cores, 1.0 is the
    published width), an exponential first layer (Koo & Ploenzke 2021), global max-pooling
    (`bins=1`: which motifs occur, not where; the published flatten-like head learned window
    positions on the shortcut grammar), dropout 0.2 after each conv block (without it the trunk
    over-fit the decoy grammar: test AUROC 0.68 against 0.79) and one small dense layer of
    `hidden` units with dropout 0.5."""
    return basset(n_outputs, filters=filters, hidden=hidden, dropout=dropout,
                  exp_activation=exp_activation, bins=bins, conv_dropout=conv_dropout)


def cnn_baseline(n_outputs: int, filters: float = 1.0, exp_activation: bool = False,
                 bins: int = 8, bottleneck: int = 64) -> CNNClassifier:
    """CNN-baseline, binary form (Toneyan et al. 2022, Methods): three blocks of conv -> batch
    norm -> activation -> max-pool -> dropout (conv 64/96/128, widths 19/7/7, pools 4/4/2,
    dropout 0.1/0.2/0.3), flattened (`bins` positions kept) into a dense bottleneck of
    `bottleneck` units with batch norm and dropout 0.5, then the output layer."""
    c1, c2, c3 = scaled(64, filters), scaled(96, filters), scaled(128, filters)
    trunk = nn.Sequential(
        conv_block(4, c1, 19, 4, first_activation(exp_activation), dropout=0.1),
        conv_block(c1, c2, 7, 4, nn.ReLU(), dropout=0.2),
        conv_block(c2, c3, 7, 2, nn.ReLU(), dropout=0.3),
    )
    return CNNClassifier(trunk, c3, n_outputs, (bottleneck,), 0.5, bins)


def shallow_cnn(n_outputs: int, filters: float = 1.0, exp_activation: bool = False,
                width: int = 19) -> CNNClassifier:
    """The floor every default must beat: two convolutional layers (64 filters of `width`,
    then 64 of width 7) and global max-pooling into one linear layer. Global pooling sees
    which motifs occur, not where (Koo & Eddy 2019 use such shallow CNNs to study what
    first-layer filters learn)."""
    c1, c2 = scaled(64, filters), scaled(64, filters)
    trunk = nn.Sequential(
        conv_block(4, c1, width, 1, first_activation(exp_activation)),
        conv_block(c1, c2, 7, 1, nn.ReLU()),
    )
    return CNNClassifier(trunk, c2, n_outputs, (), 0.0, 1)


CNN_BUILDERS = {"cnn": cnn, "basset": basset, "deepsea": deepsea, "residualbind": residualbind,
                "cnn-baseline": cnn_baseline, "shallow-cnn": shallow_cnn}
