"""Profile models for coverage datasets: one-hot DNA (N, 4, L) in, predicted coverage
(N, L / bin_size, T) >= 0 out, the mean coverage per base within each bin of each track
(`regdna.models.base`).

The architectures compared by Toneyan et al. 2022 (the GOPHER framework), each at any bin size
that divides the input length, from 1 (base resolution) to the whole window (one bin):

- `cnn-baseline`: three conv blocks (conv, batch norm, activation, max-pool, dropout), a dense
  bottleneck, a dense layer to (bins x 8) reshaped to (bins, 8), a conv block, then one linear
  softplus output or a head per track (`heads="task"`).
- `residualbind-base`: CNN-baseline with a dilated residual block (Koo et al. 2021) after each of
  the first three conv layers (5, 5, 4 dilated convolutions) and one of 5 after the conv block
  that follows the bottleneck.
- `residualbind-32`: no bottleneck: three conv blocks with residual blocks (5, 5, 3 dilated
  convolutions) whose max-pools take the positions to the bin size (4, 4, 2 at 32 bp), then a
  position-wise dense block and a linear softplus output, or a head per track. The default
  profile model.
- `basenji` (Kelley et al. 2018, as adapted by Toneyan et al. 2022): a conv block (GELU, conv
  width 15, batch norm), max-pool 2, dilated residual blocks with dilation growing x1.5, a final
  width-1 conv, average-pooling to the bin size and a dense softplus output.
- `bpnet` (Avsec et al. 2021): a width-25 conv and 9 residual dilated convs (dilation 2^i), a
  transposed-conv profile head per track at base resolution average-pooled to the bin size;
  softplus outputs (as Toneyan et al. 2022 trained it, with the Poisson loss), or with
  `count_head=True` BPNet's own output: softmax of the profile logits over the bins x the
  exponentiated log total count of the count head, divided by the bin size.
- `kmer-ridge`: the k-mer floor every network must beat: counts of every k-mer (found by a fixed
  one-hot convolution) summed within each bin, with the counts of `context` bins on each side,
  into one linear layer and a softplus. Trained with `train.loss=mse` and weight decay
  (`optim.weight_decay`) it is ridge regression on k-mer counts (through a softplus link).

`filters` scales the channel counts (1.0 = the published sizes; `residualbind-32` defaults to
0.25, which trains on CPU at 1-2 kb inputs; GPU runs can raise it). Where the max-pools cannot
reach the bin size exactly (a bin size with a prime factor above 8, or more pooling than the
stages hold) the remainder is average-pooled after the last stage. Every nonlinearity is a module
(nn.ReLU, nn.Softplus, ...), so the DeepLIFT rules of `regdna.interpret.deeplift` apply (BPNet's
count-head output, softmax x exp, has no rule of its own; DeepLIFT's summation check decides).
"""
from __future__ import annotations

import itertools
import math

import torch
from torch import nn
from torch.nn import functional as F

from regdna.data.profiles import check_bin_size
from regdna.errors import RegdnaError
from regdna.models.base import RegdnaModel
from regdna.models.cnn import DilatedResidualBlock, conv_block, first_activation, scaled

HEADS = ("single", "task")
_LARGEST_POOL = 8            # the widest max-pool one stage takes; the rest is average-pooled


class ProfileModel(RegdnaModel):
    """A profile model: `body` maps one-hot (N, 4, L) to coverage (N, T, L / bin_size) >= 0, and
    `forward` returns it positions first, (N, L / bin_size, T).

    Args:
        body: the network.
        n_outputs: T, the number of tracks.
        length: input length in bp the model was built for.
        bin_size: bp per output bin.
        min_length: shortest input the network accepts.
    """

    input_kind = "onehot"
    output_kind = "profile"

    def __init__(self, body: nn.Module, n_outputs: int, length: int, bin_size: int,
                 min_length: int = 1):
        super().__init__()
        self.body = body
        self.n_outputs, self.length, self.bin_size = int(n_outputs), int(length), int(bin_size)
        self.min_length = int(min_length)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 4, L) one-hot -> (N, L / bin_size, T) predicted coverage."""
        return self.body(x).transpose(1, 2)


def _check_geometry(name: str, length: int, bin_size: int) -> None:
    if int(length) < 1:
        raise RegdnaError(f"model '{name}' needs a positive input length, got {length}.")
    check_bin_size(int(length), int(bin_size))


def _check_heads(name: str, heads: str) -> None:
    if heads not in HEADS:
        raise RegdnaError(f"model '{name}' option heads={heads!r}: choose single (one output "
                          f"layer for every track) or task (a conv head per track).")


def stage_pools(bin_size: int, n_stages: int,
                largest: int = _LARGEST_POOL) -> tuple[list[int], int]:
    """Max-pool sizes of `n_stages` stages whose product reaches `bin_size`, and the remainder.

    The prime factors of `bin_size` are dealt, largest first, to the stage with the smallest
    pool so far (earlier stages first on ties) while a stage stays <= `largest`; what no stage
    can take is returned as the remainder, to be average-pooled after the last stage.
    32 -> ([4, 4, 2], 1); 1 -> ([1, 1, 1], 1); 2048 -> ([8, 8, 8], 4); 22 -> ([2, 1, 1], 11).
    """
    factors, rest, p = [], int(bin_size), 2
    while p * p <= rest:
        while rest % p == 0:
            factors.append(p)
            rest //= p
        p += 1
    if rest > 1:
        factors.append(rest)
    pools, remainder = [1] * n_stages, 1
    for factor in sorted(factors, reverse=True):
        stage = min((s for s in range(n_stages) if pools[s] * factor <= largest),
                    key=lambda s: pools[s], default=None)
        if stage is None:
            remainder *= factor
        else:
            pools[stage] *= factor
    return pools, remainder


def _pooled_length(length: int, pools) -> int:
    for pool in pools:                          # conv_block's max-pools use ceil mode
        length = math.ceil(length / pool)
    return length


def _residual_stage(c_in: int, c_out: int, width: int, n_dilated: int, pool: int,
                    dropout: float, activation: nn.Module) -> nn.Sequential:
    """Conv -> batch norm -> activation -> dilated residual block -> max-pool -> dropout."""
    layers: list[nn.Module] = [conv_block(c_in, c_out, width, 1, activation),
                               DilatedResidualBlock(c_out, n_dilated, dropout=0.1)]
    if pool > 1:
        layers.append(nn.MaxPool1d(pool, ceil_mode=True))
    layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class TaskHeads(nn.Module):
    """One head per track: a conv block (width 7, batch norm, ReLU, dropout 0.1) and a
    position-wise linear output with softplus. (N, C, B) -> (N, T, B)."""

    def __init__(self, c_in: int, n_outputs: int, channels: int):
        super().__init__()
        self.heads = nn.ModuleList(
            nn.Sequential(conv_block(c_in, channels, 7, 1, nn.ReLU(), dropout=0.1),
                          nn.Conv1d(channels, 1, 1))
            for _ in range(n_outputs))
        self.softplus = nn.Softplus()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.softplus(torch.cat([head(x) for head in self.heads], dim=1))


def _output_head(heads: str, c_in: int, n_outputs: int, filters: float) -> nn.Module:
    """`single`: a position-wise linear layer with softplus; `task`: `TaskHeads`."""
    if heads == "task":
        return TaskHeads(c_in, n_outputs, scaled(64, filters))
    return nn.Sequential(nn.Conv1d(c_in, n_outputs, 1), nn.Softplus())


class BinBottleneck(nn.Module):
    """The CNN-baseline bottleneck: flatten the trunk, a dense block (dense, batch norm, ReLU,
    dropout 0.3), then a dense block to `n_bins` x `width` reshaped to (N, width, n_bins).

    Dense layers fix the input length: another length is refused with a clear error."""

    def __init__(self, name: str, length: int, c_in: int, positions: int, hidden: int,
                 n_bins: int, width: int = 8):
        super().__init__()
        self.name, self.length, self.n_bins, self.width = name, length, n_bins, width
        self.dense = nn.Sequential(
            nn.Flatten(), nn.Linear(c_in * positions, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(hidden, n_bins * width), nn.BatchNorm1d(n_bins * width), nn.ReLU())
        self.dropout = nn.Dropout(0.1)

    def forward(self, trunk_out: torch.Tensor, input_length: int) -> torch.Tensor:
        if input_length != self.length:
            raise RegdnaError(f"model '{self.name}' was built for {self.length} bp windows (its "
                              f"dense layers fix the length) but got {input_length} bp.")
        out = self.dense(trunk_out).reshape(-1, self.n_bins, self.width)
        return self.dropout(out.transpose(1, 2))


class BottleneckBody(nn.Module):
    """trunk -> `BinBottleneck` -> the layers after it (`tail`)."""

    def __init__(self, trunk: nn.Module, bottleneck: BinBottleneck, tail: nn.Module):
        super().__init__()
        self.trunk, self.bottleneck, self.tail = trunk, bottleneck, tail

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tail(self.bottleneck(self.trunk(x), x.shape[-1]))


def cnn_baseline(n_outputs: int, length: int, bin_size: int, filters: float = 1.0,
                 exp_activation: bool = False, heads: str = "single") -> ProfileModel:
    """CNN-baseline, profile form (Toneyan et al. 2022): conv 192/256/512 of widths 19/7/7 with
    max-pools 8/4/4 and dropout 0.1/0.1/0.2, a dense bottleneck of 256, a dense layer to
    (bins x 8), a conv block of 256 (width 7, dropout 0.2), and the output head."""
    _check_geometry("cnn-baseline", length, bin_size)
    _check_heads("cnn-baseline", heads)
    c1, c2, c3, c4 = (scaled(n, filters) for n in (192, 256, 512, 256))
    pools = (8, 4, 4)
    trunk = nn.Sequential(
        conv_block(4, c1, 19, pools[0], first_activation(exp_activation), dropout=0.1),
        conv_block(c1, c2, 7, pools[1], nn.ReLU(), dropout=0.1),
        conv_block(c2, c3, 7, pools[2], nn.ReLU(), dropout=0.2))
    bottleneck = BinBottleneck("cnn-baseline", length, c3, _pooled_length(length, pools),
                               scaled(256, filters), length // bin_size)
    tail = nn.Sequential(conv_block(8, c4, 7, 1, nn.ReLU(), dropout=0.2),
                         _output_head(heads, c4, n_outputs, filters))
    return ProfileModel(BottleneckBody(trunk, bottleneck, tail), n_outputs, length, bin_size)


def residualbind_base(n_outputs: int, length: int, bin_size: int, filters: float = 1.0,
                      exp_activation: bool = False, heads: str = "single") -> ProfileModel:
    """ResidualBind-base (Toneyan et al. 2022): CNN-baseline (conv 192/256/512, max-pools
    4/4/4) with a dilated residual block of 5, 5 and 4 convolutions after each conv layer, a
    dense bottleneck of 512, a dense layer to (bins x 8), a conv block of 256 and a residual
    block of 5 dilated convolutions, then the output head."""
    _check_geometry("residualbind-base", length, bin_size)
    _check_heads("residualbind-base", heads)
    c1, c2, c3, c4 = (scaled(n, filters) for n in (192, 256, 512, 256))
    pools = (4, 4, 4)
    trunk = nn.Sequential(
        _residual_stage(4, c1, 19, 5, pools[0], 0.1, first_activation(exp_activation)),
        _residual_stage(c1, c2, 7, 5, pools[1], 0.1, nn.ReLU()),
        _residual_stage(c2, c3, 7, 4, pools[2], 0.2, nn.ReLU()))
    bottleneck = BinBottleneck("residualbind-base", length, c3, _pooled_length(length, pools),
                               scaled(512, filters), length // bin_size)
    tail = nn.Sequential(conv_block(8, c4, 7, 1, nn.ReLU(), dropout=0.1),
                         DilatedResidualBlock(c4, 5, dropout=0.1),
                         _output_head(heads, c4, n_outputs, filters))
    return ProfileModel(BottleneckBody(trunk, bottleneck, tail), n_outputs, length, bin_size)


def residualbind_32(n_outputs: int, length: int, bin_size: int, filters: float = 0.25,
                    exp_activation: bool = False, heads: str = "single") -> ProfileModel:
    """ResidualBind-32 (Toneyan et al. 2022): conv 256/512/1024 of widths 19/7/7, each followed by
    a dilated residual block (5, 5, 3 convolutions), max-pooled to the bin size (4/4/2 at 32 bp,
    `stage_pools`) with dropout 0.2/0.2/0.5; then a position-wise dense block of 256 (batch
    norm, ReLU, dropout 0.3) and a linear softplus output, or (`heads="task"`) a conv block of
    256 and a conv head per track. `filters` 0.25 (64/128/256 channels) by default."""
    _check_geometry("residualbind-32", length, bin_size)
    _check_heads("residualbind-32", heads)
    c1, c2, c3, c4 = (scaled(n, filters) for n in (256, 512, 1024, 256))
    pools, rest = stage_pools(bin_size, 3)
    layers: list[nn.Module] = [
        _residual_stage(4, c1, 19, 5, pools[0], 0.2, first_activation(exp_activation)),
        _residual_stage(c1, c2, 7, 5, pools[1], 0.2, nn.ReLU()),
        _residual_stage(c2, c3, 7, 3, pools[2], 0.5, nn.ReLU())]
    if rest > 1:
        layers.append(nn.AvgPool1d(rest))
    if heads == "task":
        layers += [conv_block(c3, c4, 7, 1, nn.ReLU(), dropout=0.2),
                   TaskHeads(c4, n_outputs, scaled(64, filters))]
    else:
        layers += [nn.Conv1d(c3, c4, 1), nn.BatchNorm1d(c4), nn.ReLU(), nn.Dropout(0.3),
                   nn.Conv1d(c4, n_outputs, 1), nn.Softplus()]
    return ProfileModel(nn.Sequential(*layers), n_outputs, length, bin_size)


class BasenjiBlock(nn.Module):
    """Basenji's dilated residual block: GELU, dilated conv (width 3) to half the channels, batch
    norm, GELU, width-1 conv back, batch norm (scale initialised to 0, so each block starts as
    the identity, as in Basenji), dropout; added to the block input. (N, C, L) -> (N, C, L)."""

    def __init__(self, channels: int, dilation: int, dropout: float = 0.3):
        super().__init__()
        half = max(1, channels // 2)
        self.body = nn.Sequential(
            nn.GELU(), nn.Conv1d(channels, half, 3, padding="same", dilation=dilation, bias=False),
            nn.BatchNorm1d(half),
            nn.GELU(), nn.Conv1d(half, channels, 1, bias=False), nn.BatchNorm1d(channels),
            nn.Dropout(dropout))
        nn.init.zeros_(self.body[5].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def basenji(n_outputs: int, length: int, bin_size: int, filters: float = 1.0,
            n_blocks: int = 11) -> ProfileModel:
    """Basenji as adapted by Toneyan et al. 2022 (Kelley et al. 2018): a conv block (GELU, conv
    256 of width 15, batch norm), max-pool 2 (1 at odd bin sizes such as base resolution),
    `n_blocks` (11) `BasenjiBlock`s with dilation 1, 2, 2, 3, 5, 8, ... (x1.5 per block,
    rounded), a final conv block (GELU, width-1 conv to 2048, batch norm, dropout 0.05),
    average-pooling to the bin size and a dense softplus output."""
    _check_geometry("basenji", length, bin_size)
    if int(n_blocks) < 0:
        raise RegdnaError(f"model 'basenji' option n_blocks={n_blocks}: use 0 or more residual "
                          "blocks (11 as published).")
    c1, c2 = scaled(256, filters), scaled(2048, filters)
    first_pool = 2 if bin_size % 2 == 0 else 1
    layers: list[nn.Module] = [nn.GELU(), nn.Conv1d(4, c1, 15, padding="same", bias=False),
                               nn.BatchNorm1d(c1)]
    if first_pool > 1:
        layers.append(nn.MaxPool1d(first_pool))
    layers += [BasenjiBlock(c1, int(round(1.5 ** i))) for i in range(int(n_blocks))]
    layers += [nn.GELU(), nn.Conv1d(c1, c2, 1, bias=False), nn.BatchNorm1d(c2), nn.Dropout(0.05)]
    if bin_size // first_pool > 1:
        layers.append(nn.AvgPool1d(bin_size // first_pool))
    layers += [nn.Conv1d(c2, n_outputs, 1), nn.Softplus()]
    return ProfileModel(nn.Sequential(*layers), n_outputs, length, bin_size)


class BPNetBody(nn.Module):
    """BPNet (Avsec et al. 2021): conv (width 25, ReLU), `n_dilated` residual dilated convs
    (width 3, dilation 2, 4, ..., ReLU), a transposed-conv profile head per track (one output
    channel each) at base resolution, average-pooled to the bin size; with the count head the
    output is softmax over the bins x exp(log total count) / bin_size, else softplus."""

    def __init__(self, n_outputs: int, bin_size: int, channels: int, kernel: int,
                 n_dilated: int, count_head: bool):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv1d(4, channels, 25, padding="same"), nn.ReLU())
        self.dilated = nn.ModuleList(
            nn.Sequential(nn.Conv1d(channels, channels, 3, padding="same", dilation=2 ** i),
                          nn.ReLU())
            for i in range(1, n_dilated + 1))
        # one output channel per track: the per-track heads; odd kernel keeps the length
        self.profile = nn.ConvTranspose1d(channels, n_outputs, kernel, padding=kernel // 2)
        self.pool = nn.AvgPool1d(bin_size) if bin_size > 1 else nn.Identity()
        self.counts = nn.Linear(channels, n_outputs) if count_head else None
        self.softplus = nn.Softplus()
        self.bin_size = bin_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        for layer in self.dilated:
            h = h + layer(h)
        logits = self.pool(self.profile(h))                          # (N, T, B)
        if self.counts is None:
            return self.softplus(logits)
        log_total = self.counts(h.mean(dim=-1)).clamp(max=30.0)      # (N, T) log total coverage
        return torch.softmax(logits, dim=-1) * torch.exp(log_total)[..., None] / self.bin_size


def bpnet(n_outputs: int, length: int, bin_size: int, filters: float = 1.0, kernel: int = 75,
          count_head: bool = False) -> ProfileModel:
    """BPNet (Avsec et al. 2021): 64 channels (x `filters`), profile heads of `kernel` (75,
    capped to the input length and made odd) and, with `count_head`, BPNet's count head (global
    average pool -> dense -> log total counts); see `BPNetBody`."""
    _check_geometry("bpnet", length, bin_size)
    if int(kernel) < 1:
        raise RegdnaError(f"model 'bpnet' option kernel={kernel}: use a positive width (75 as in "
                          "BPNet).")
    kernel = min(int(kernel), int(length))
    kernel -= 1 - kernel % 2
    body = BPNetBody(n_outputs, bin_size, scaled(64, filters), kernel, 9,
                     bool(count_head))
    return ProfileModel(body, n_outputs, length, bin_size)


def kmer_kernels(k: int) -> torch.Tensor:
    """One-hot filters (4**k, 4, k) of every k-mer, in the order of the code
    sum_j base[j] * 4**(k - 1 - j) (A, C, G, T = 0..3), as `regdna.models.kmer` counts them."""
    weight = torch.zeros(4 ** k, 4, k)
    for code, kmer in enumerate(itertools.product(range(4), repeat=k)):
        weight[code, list(kmer), list(range(k))] = 1.0
    return weight


class KmerBinCounts(nn.Module):
    """One-hot (N, 4, L) -> counts of every k-mer starting in each bin (N, 4**k, L / bin_size).

    A fixed (non-trainable) conv with the one-hot filter of each k-mer sums to k exactly where
    that k-mer occurs; relu(conv - (k - 1)) is 1 there and 0 elsewhere on one-hot input (a k-mer
    touching an N never matches). Memory: 4**k x L values per sequence."""

    def __init__(self, k: int, bin_size: int):
        super().__init__()
        self.k, self.bin_size = k, bin_size
        self.register_buffer("kernels", kmer_kernels(k), persistent=False)
        self.match = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hits = self.match(F.conv1d(x, self.kernels) - (self.k - 1))    # (N, 4**k, L - k + 1)
        hits = F.pad(hits, (0, self.k - 1))                             # no k-mer starts there
        n, channels, length = hits.shape
        return hits.reshape(n, channels, length // self.bin_size, self.bin_size).sum(dim=-1)


def kmer_ridge(n_outputs: int, length: int, bin_size: int, k: int = 4,
               context: int = 2) -> ProfileModel:
    """The k-mer floor: `KmerBinCounts` of each bin and of `context` bins on each side (zeros
    beyond the window) into one linear layer (a conv of width 2 x context + 1 over the bins) and
    a softplus. With `train.loss=mse` and weight decay this is ridge regression on k-mer counts
    (through the softplus link)."""
    _check_geometry("kmer-ridge", length, bin_size)
    if not 1 <= int(k) <= 6:
        raise RegdnaError(f"model 'kmer-ridge' option k={k} is out of range; use 1 <= k <= 6 "
                          f"(4**k counts per bin).")
    if int(context) < 0:
        raise RegdnaError(f"model 'kmer-ridge' option context={context}: use 0 or more bins.")
    k, context = int(k), int(context)
    if length < k:
        raise RegdnaError(f"model 'kmer-ridge' with k={k} needs windows of at least {k} bp; the "
                          f"input has {length}. Use a smaller k.")
    body = nn.Sequential(KmerBinCounts(k, bin_size),
                         nn.Conv1d(4 ** k, n_outputs, 2 * context + 1, padding=context),
                         nn.Softplus())
    return ProfileModel(body, n_outputs, length, bin_size, min_length=k)


PROFILE_BUILDERS = {"cnn-baseline": cnn_baseline, "residualbind-base": residualbind_base,
                    "residualbind-32": residualbind_32, "basenji": basenji, "bpnet": bpnet,
                    "kmer-ridge": kmer_ridge}
