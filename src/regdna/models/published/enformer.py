"""Enformer (Avsec et al. 2021) and Borzoi (Linder et al. 2025), loaded from their PyTorch ports.

How they load. regdna defines both networks itself, module for module as the PyTorch ports define
them (enformer-pytorch, Wang 2021, for `EleutherAI/enformer-official-rough`; borzoi-pytorch,
Hingerl 2024, for `johahi/borzoi-replicate-0..3`), with the same state-dict key names, so the
released `pytorch_model.bin` (read with `torch.load(weights_only=True)`) or `model.safetensors`
loads into them without installing either package. Neither package is a dependency: enformer-pytorch
0.8.12 pins transformers==4.56.2 exactly and borzoi-pytorch 0.5.1 needs transformers<5, both for
their `PreTrainedModel` base class only, which would force every regdna user onto an old
transformers; the networks themselves are plain torch. The state dict's own shapes size the
network (widths, depth, heads, tracks); config.json gives what the weights cannot say (Enformer's
`target_length`, Borzoi's `bins_to_return` and `return_center_bins_only`); the input length is
the published one (196,608 / 524,288 bp) unless config.json has a `sequence_length` key (regdna's
own, for other input lengths; the hub configs have none). A state dict that does not
fit fails naming its first mismatching key.

Two details of the ports are kept as they compute: Enformer's gamma positional features of the
TensorFlow release are normalised over positions (config `use_tf_gamma`, on unless config.json
turns it off: the weights are the TensorFlow ones; enformer-pytorch reads a precomputed table
for 196,608 bp, regdna computes the same features for any length, within 2e-3 of that table;
off, they are normalised over features as enformer-pytorch computes them), and Borzoi's
relative positions span the transformer's own length (4,096 positions at 524,288 bp). Only the
human head is built; a mouse head in the file is ignored. Flash-attention Borzoi weights
(`flashed: true`, "Flashzoi") are not supported.

The regdna model (`TrackScalar`) gives one number per selected track: logit = log(1 + predicted
coverage aggregated over output bins), "center" (default: the bin holding base L // 2, the
variant's base in `regdna.variants.windows`) or "sum" (all output bins); task "profile"
(`activate` = expm1). Borzoi predicts coverage on a squashed scale; when the track table gives
`clip_soft`, `scale` and `sum_stat`, the squashing is undone per bin before aggregation (as
borzoi-pytorch's `undo_squashed_scale`, Linder et al. 2025). Outputs are forward strand; the
Predictor's `rc_average` averages a track with the same track of the reverse complement, which
for stranded tracks (Borzoi RNA identifiers ending in + / -) is the other strand's track.

Tracks are named by the published track table next to the weights (`targets_human.txt`, the
Basenji format: index, identifier, file, clip, scale, sum_stat, description), else `track_<i>`.
On CUDA the forward pass runs in bfloat16 autocast (the output heads in float32); CPU stays
float32.
"""
from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path

import torch
from torch import nn

from regdna.errors import RegdnaError, RegdnaWarning
from regdna.models.published import Published
from regdna.models.scalar import Log1p

CITATIONS = {
    "enformer": "Avsec et al. 2021, Nature Methods 18:1196 (Enformer)",
    "borzoi": "Linder et al. 2025, Nature Genetics 57:949 (Borzoi)",
}
PUBLISHED_LENGTH = {"enformer": 196_608, "borzoi": 524_288}
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
TRACK_FILES = ("targets_human.txt", "targets.txt")
AGGREGATIONS = ("center", "sum")


# -- shared blocks --------------------------------------------------------------------------------
class Residual(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x) + x


class SigmoidGELU(nn.Module):
    """Enformer's GELU approximation x * sigmoid(1.702 x)."""

    def forward(self, x):
        return torch.sigmoid(1.702 * x) * x


class Transpose(nn.Module):
    """(N, A, B) <-> (N, B, A), as the ports' einops Rearrange (no parameters)."""

    def forward(self, x):
        return x.transpose(1, 2)


def crop_center(x: torch.Tensor, target: int) -> torch.Tensor:
    """x (N, positions, C) cropped to its central `target` positions, as the ports'
    TargetLengthCrop (-1: no crop)."""
    n = x.shape[1]
    if target == -1 or n == target:
        return x
    if n < target:
        raise RegdnaError(f"the network's {n} output positions are fewer than its target length "
                          f"{target}: the input is too short for this model.")
    if (n - target) % 2:
        raise RegdnaError(f"{n} output positions cannot be cropped evenly to the target length "
                          f"{target}; check target_length / bins_to_return in config.json.")
    trim = (n - target) // 2
    return x[:, trim:n - trim]


def relative_shift(x: torch.Tensor) -> torch.Tensor:
    """(N, H, n, 2n - 1) logits over relative distances -> (N, H, n, n): out[i, j] is x at
    distance j - i (index n - 1 + j - i)."""
    to_pad = torch.zeros_like(x[..., :1])
    x = torch.cat((to_pad, x), dim=-1)
    _, h, t1, t2 = x.shape
    x = x.reshape(-1, h, t2, t1)[:, :, 1:, :].reshape(-1, h, t1, t2 - 1)
    return x[..., :(t2 + 1) // 2]


class Attention(nn.Module):
    """Multi-head attention with relative positional logits (Avsec et al. 2021; Borzoi keeps it
    with central-mask features only). `features(n, device, dtype)` gives the (2n - 1, F)
    positional features of one length."""

    def __init__(self, dim, heads, dim_key, dim_value, num_rel_pos_features, features):
        super().__init__()
        self.scale = dim_key ** -0.5
        self.heads = heads
        self.features = features
        self.to_q = nn.Linear(dim, dim_key * heads, bias=False)
        self.to_k = nn.Linear(dim, dim_key * heads, bias=False)
        self.to_v = nn.Linear(dim, dim_value * heads, bias=False)
        self.to_out = nn.Linear(dim_value * heads, dim)
        self.to_rel_k = nn.Linear(num_rel_pos_features, dim_key * heads, bias=False)
        self.rel_content_bias = nn.Parameter(torch.randn(1, heads, 1, dim_key))
        self.rel_pos_bias = nn.Parameter(torch.randn(1, heads, 1, dim_key))

    def forward(self, x):
        b, n, _ = x.shape
        h = self.heads
        q, k, v = (f(x).reshape(b, n, h, -1).transpose(1, 2)
                   for f in (self.to_q, self.to_k, self.to_v))
        q = q * self.scale
        content = torch.einsum("bhid,bhjd->bhij", q + self.rel_content_bias, k)
        positions = self.features(n, x.device, self.to_rel_k.weight.dtype)
        rel_k = self.to_rel_k(positions).reshape(2 * n - 1, h, -1).transpose(0, 1)
        rel = relative_shift(torch.einsum("bhid,hjd->bhij", q + self.rel_pos_bias, rel_k))
        attn = (content + rel).softmax(dim=-1)
        out = torch.einsum("bhij,bhjd->bhid", attn, v)
        return self.to_out(out.transpose(1, 2).reshape(b, n, -1))


def transformer_layer(dim, attention, eps):
    """One pre-norm transformer layer: Residual(LayerNorm, attention, Dropout), Residual(MLP)."""
    return nn.Sequential(
        Residual(nn.Sequential(nn.LayerNorm(dim, eps=eps), attention, nn.Dropout())),
        Residual(nn.Sequential(nn.LayerNorm(dim, eps=eps), nn.Linear(dim, dim * 2), nn.Dropout(),
                               nn.ReLU(), nn.Linear(dim * 2, dim), nn.Dropout())))


# -- Enformer -------------------------------------------------------------------------------------
def _exponential_features(distances, n_features, seq_len):
    half_life = 2 ** torch.linspace(3.0, math.log2(seq_len), n_features, device=distances.device)
    return torch.exp(-math.log(2.0) / half_life[None] * distances.abs()[:, None])


def _central_mask_features(distances, n_features, seq_len):
    widths = 2 ** torch.arange(1, n_features + 1, device=distances.device).float() - 1
    return (widths[None] > distances.abs()[:, None]).float()


def _gamma_features(distances, n_features, seq_len, over_positions):
    stddev = seq_len / (2 * n_features)
    mean = torch.linspace(seq_len / n_features, seq_len, n_features, device=distances.device)[None]
    concentration, rate = (mean / stddev) ** 2, mean / stddev ** 2
    x = distances.float().abs()[:, None]
    log_prob = torch.xlogy(concentration - 1.0, x) - rate * x \
        - (torch.lgamma(concentration) - concentration * torch.log(rate))
    prob = torch.exp(log_prob) + 1e-8
    return prob / prob.amax(dim=0 if over_positions else -1, keepdim=True)


def enformer_features(n, device, dtype, n_features, tf_gamma):
    """Enformer's relative positional features (2n - 1, n_features): exponential, central mask
    and gamma basis functions, each also signed by the direction."""
    distances = torch.arange(-n + 1, n, device=device)
    per = n_features // 6
    parts = [_exponential_features(distances, per, n), _central_mask_features(distances, per, n),
             _gamma_features(distances, per, n, over_positions=tf_gamma)]
    features = torch.cat(parts, dim=-1)
    return torch.cat((features, torch.sign(distances)[:, None] * features), dim=-1).to(dtype)


class AttentionPool(nn.Module):
    """Enformer's softmax-weighted pooling over pairs of positions."""

    def __init__(self, dim, pool_size=2):
        super().__init__()
        self.pool_size = pool_size
        self.to_attn_logits = nn.Conv2d(dim, dim, 1, bias=False)

    def forward(self, x):
        b, d, n = x.shape
        x = x.reshape(b, d, n // self.pool_size, self.pool_size)
        attn = self.to_attn_logits(x).softmax(dim=-1)
        return (x * attn).sum(dim=-1)


def _enformer_conv(dim_in, dim_out, kernel_size=1):
    return nn.Sequential(nn.BatchNorm1d(dim_in), SigmoidGELU(),
                         nn.Conv1d(dim_in, dim_out, kernel_size, padding=kernel_size // 2))


class Enformer(nn.Module):
    """The Enformer network (Avsec et al. 2021), keys as enformer-pytorch's `Enformer` without
    its `_trunk` aliases: (N, 4, L) one-hot -> human-head coverage (N, target_length, T)."""

    def __init__(self, filters, depth, heads, dim_key, n_tracks, target_length, tf_gamma=True):
        super().__init__()
        dim = filters[-1]
        half = filters[0]
        self.num_downsamples = len(filters)
        self.target_length = target_length
        self.stem = nn.Sequential(nn.Conv1d(4, half, 15, padding=7),
                                  Residual(_enformer_conv(half, half)), AttentionPool(half))
        self.conv_tower = nn.Sequential(*[
            nn.Sequential(_enformer_conv(a, b, 5), Residual(_enformer_conv(b, b)), AttentionPool(b))
            for a, b in zip(filters[:-1], filters[1:])])
        n_features = dim // heads

        def features(n, device, dtype):
            return enformer_features(n, device, dtype, n_features, tf_gamma)

        self.transformer = nn.Sequential(*[
            transformer_layer(dim, Attention(dim, heads, dim_key, dim // heads, n_features,
                                             features), eps=1e-5) for _ in range(depth)])
        self.final_pointwise = nn.Sequential(Transpose(), _enformer_conv(dim, dim * 2), Transpose(),
                                             nn.Dropout(), SigmoidGELU())
        self._heads = nn.ModuleDict({"human": nn.Sequential(nn.Linear(dim * 2, n_tracks),
                                                            nn.Softplus())})

    def forward(self, x):
        x = self.conv_tower(self.stem(x)).transpose(1, 2)
        x = self.final_pointwise(crop_center(self.transformer(x), self.target_length))
        with torch.autocast("cuda", enabled=False):
            return self._heads["human"](x.float())


def _enformer_from(state, config) -> Enformer:
    _refuse(config, "use_convnext", "ConvNeXt Enformer variants")
    filters = [state["stem.0.weight"].shape[0]]
    i = 0
    while f"conv_tower.{i}.0.2.weight" in state:
        filters.append(state[f"conv_tower.{i}.0.2.weight"].shape[0])
        i += 1
    depth = _count(state, "transformer.{}.0.fn.1.to_q.weight")
    heads, dim_key = state["transformer.0.0.fn.1.rel_content_bias"].shape[1::2] if depth else (1, 1)
    if (filters[-1] // heads) % 6:
        raise RegdnaError(f"Enformer's width per head {filters[-1] // heads} must be a multiple of "
                          f"6 (its six positional basis functions).")
    return Enformer(filters, depth, int(heads), int(dim_key),
                    n_tracks=state["_heads.human.0.weight"].shape[0],
                    target_length=int(config.get("target_length", 896)),
                    tf_gamma=_tf_gamma(config))


def _tf_gamma(config: dict) -> bool:
    """TensorFlow gamma features for the TensorFlow release's weights (enformer-pytorch's
    `from_pretrained` turns them on for enformer-official-rough whatever its config says), and
    unless config.json says otherwise (weights trained with enformer-pytorch)."""
    if "enformer-official-rough" in str(config.get("_name_or_path", "")):
        return True
    return bool(config.get("use_tf_gamma", True))


def _enformer_keys(state: dict) -> dict:
    """enformer-pytorch saves each trunk module twice (`stem.*` and `_trunk.1.*`, ...); keep the
    named copy, taking it from the `_trunk` alias where only that one was saved."""
    aliases = {"_trunk.1.": "stem.", "_trunk.2.": "conv_tower.", "_trunk.4.": "transformer.",
               "_trunk.6.": "final_pointwise."}
    out = {}
    for key, value in state.items():
        for alias, name in aliases.items():
            if key.startswith(alias):
                key = name + key[len(alias):]
                break
        out.setdefault(key, value)
    return {k: v for k, v in out.items() if not k.startswith("_heads.mouse.")}


# -- Borzoi ---------------------------------------------------------------------------------------
def borzoi_features(n, device, dtype, n_features, seq_len):
    """Borzoi's relative positional features (2n - 1, n_features): central masks whose widths
    grow geometrically to `seq_len`, also signed by the direction."""
    distances = torch.arange(-n + 1, n, device=device)
    per = n_features // 2
    rate = math.exp(math.log(seq_len + 1) / per)
    widths = torch.pow(rate, torch.arange(1, per + 1, device=device)).float() - 1
    features = (widths[None] > distances.abs()[:, None]).float()
    return torch.cat((features, torch.sign(distances)[:, None] * features), dim=-1).to(dtype)


class BorzoiConv(nn.Module):
    """Borzoi's conv block: BatchNorm, tanh-GELU, Conv1d ('same'); or a separable conv."""

    def __init__(self, dim_in, dim_out, kernel_size=1, separable=False):
        super().__init__()
        if separable:
            self.norm, self.activation = nn.Identity(), nn.Identity()
            self.conv_layer = nn.Sequential(
                nn.Conv1d(dim_in, dim_out, kernel_size, groups=dim_in, padding="same", bias=False),
                nn.Conv1d(dim_in, dim_out, 1))
        else:
            self.norm = nn.BatchNorm1d(dim_in, eps=0.001)
            self.activation = nn.GELU(approximate="tanh")
            self.conv_layer = nn.Conv1d(dim_in, dim_out, kernel_size, padding="same")

    def forward(self, x):
        return self.conv_layer(self.activation(self.norm(x)))


class ConvDna(nn.Module):
    def __init__(self, dim_out):
        super().__init__()
        self.conv_layer = nn.Conv1d(4, dim_out, 15, padding="same")
        self.max_pool = nn.MaxPool1d(2)

    def forward(self, x):
        return self.max_pool(self.conv_layer(x))


class Borzoi(nn.Module):
    """The Borzoi network (Linder et al. 2025), keys as borzoi-pytorch's `Borzoi`:
    (N, 4, L) one-hot -> human-head coverage (N, bins, T) on the squashed scale, 32 bp bins.

    widths: the stem and the five res-tower convs (published: 512, 608, 736, 896, 1056, 1280);
    dim: the transformer width; crop: the output bins kept (centred)."""

    def __init__(self, widths, dim, depth, heads, dim_key, dim_value, head_dim, n_tracks, crop,
                 length):
        super().__init__()
        self.crop = crop
        pool = nn.MaxPool1d(2)
        self.conv_dna = ConvDna(widths[0])
        tower = []
        for a, b in zip(widths[:-1], widths[1:]):
            tower += [BorzoiConv(a, b, 5), pool]
        self.res_tower = nn.Sequential(*tower[:-1])
        self.unet1 = nn.Sequential(pool, BorzoiConv(widths[-1], dim, 5))
        self._max_pool = pool
        n_positions = length // 128

        def features(n, device, dtype):
            return borzoi_features(n, device, dtype, 32, n_positions)

        self.transformer = nn.Sequential(*[
            transformer_layer(dim, Attention(dim, heads, dim_key, dim_value, 32, features),
                              eps=0.001) for _ in range(depth)])
        self.horizontal_conv0 = BorzoiConv(widths[-1], dim)
        self.horizontal_conv1 = BorzoiConv(dim, dim)
        self.upsample = nn.Upsample(scale_factor=2)
        self.upsampling_unet1 = nn.Sequential(BorzoiConv(dim, dim), self.upsample)
        self.separable1 = BorzoiConv(dim, dim, 3, separable=True)
        self.upsampling_unet0 = nn.Sequential(BorzoiConv(dim, dim), self.upsample)
        self.separable0 = BorzoiConv(dim, dim, 3, separable=True)
        self.final_joined_convs = nn.Sequential(BorzoiConv(dim, head_dim), nn.Dropout(),
                                                nn.GELU(approximate="tanh"))
        self.human_head = nn.Conv1d(head_dim, n_tracks, 1)
        self.final_softplus = nn.Softplus()

    def forward(self, x):
        x_unet0 = self.res_tower(self.conv_dna(x))
        x_unet1 = self.unet1(x_unet0)
        x = self._max_pool(x_unet1)
        x_unet1 = self.horizontal_conv1(x_unet1)
        x_unet0 = self.horizontal_conv0(x_unet0)
        x = self.transformer(x.transpose(1, 2)).transpose(1, 2)
        x = self.separable1(self.upsampling_unet1(x) + x_unet1)
        x = self.separable0(self.upsampling_unet0(x) + x_unet0)
        x = crop_center(x.transpose(1, 2), self.crop).transpose(1, 2)
        x = self.final_joined_convs(x)
        with torch.autocast("cuda", enabled=False):
            return self.final_softplus(self.human_head(x.float())).transpose(1, 2)


def _borzoi_from(state, config, length) -> Borzoi:
    _refuse(config, "flashed", "flash-attention Borzoi weights (Flashzoi)")
    if "human_head.weight" not in state:
        raise RegdnaError("the Borzoi weights have no human head (human_head.weight); use the "
                          "human replicates (johahi/borzoi-replicate-0..3).")
    widths = [state["conv_dna.conv_layer.weight"].shape[0]] + [
        state[f"res_tower.{2 * i}.conv_layer.weight"].shape[0]
        for i in range(_count(state, "res_tower.{}.conv_layer.weight", step=2))]
    depth = _count(state, "transformer.{}.0.fn.1.to_q.weight")
    heads, dim_key = (int(s) for s in state["transformer.0.0.fn.1.rel_content_bias"].shape[1::2])
    dim_value = state["transformer.0.0.fn.1.to_v.weight"].shape[0] // heads
    crop = int(config.get("bins_to_return", 6144)) if config.get("return_center_bins_only", True) \
        else length // 32 - 32
    return Borzoi(widths, dim=state["unet1.1.conv_layer.weight"].shape[0], depth=depth,
                  heads=heads, dim_key=dim_key, dim_value=dim_value,
                  head_dim=state["human_head.weight"].shape[1],
                  n_tracks=state["human_head.weight"].shape[0], crop=crop, length=length)


def _borzoi_keys(state: dict) -> dict:
    return {k: v for k, v in state.items() if not k.startswith("mouse_head.")}


def undo_squash(x: torch.Tensor, scale, clip_soft, exponent) -> torch.Tensor:
    """Borzoi's squashed coverage (N, B, T) back to coverage (Linder et al. 2025, as
    borzoi-pytorch's `undo_squashed_scale`): divide by the track's scale, unsquash above
    clip_soft ((x - c)^2 + c), then power 1 / exponent (3/4 for sum_sqrt tracks)."""
    x = x / scale
    x = torch.where(x > clip_soft, (x - clip_soft) ** 2 + clip_soft, x)
    return x ** (1.0 / exponent)


# -- the regdna model -----------------------------------------------------------------------------
class TrackScalar(nn.Module):
    """(N, 4, L) -> (N, T): log(1 + coverage of each selected track aggregated over the chosen
    output bins (`first`..`last`)) of an Enformer or Borzoi network.

    squash: None, or (scale, clip_soft, exponent) tensors (T,) of the selected tracks to undo
    Borzoi's squashed scale before aggregating."""

    input_kind = "onehot"
    output_kind = "scalar"

    def __init__(self, network, tracks, length, first, last, squash=None):
        super().__init__()
        self.network = network
        self.length = length
        self.first, self.last = first, last
        self.register_buffer("tracks", torch.as_tensor(tracks, dtype=torch.long), persistent=False)
        self.n_outputs = len(tracks)
        self.squash = squash is not None
        for name, value in zip(("scale", "clip_soft", "exponent"), squash or (None,) * 3):
            self.register_buffer(name, None if value is None else
                                 torch.as_tensor(value, dtype=torch.float32), persistent=False)
        self.log1p = Log1p()

    def coverage(self, x):
        """(N, B, T) predicted coverage of the selected tracks (squashing undone)."""
        if x.shape[-1] != self.length:
            raise RegdnaError(f"{type(self.network).__name__} takes windows of exactly "
                              f"{self.length} bp, got {x.shape[-1]} bp.")
        if x.is_cuda:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                y = self.network(x)
        else:
            y = self.network(x)
        y = y.float()[:, self.first:self.last].index_select(2, self.tracks)
        return undo_squash(y, self.scale, self.clip_soft, self.exponent) if self.squash else y

    def forward(self, x):
        return self.log1p(self.coverage(x).sum(dim=1))


# -- loading --------------------------------------------------------------------------------------
def load(family: str, path: Path, targets=None, aggregation: str | None = None) -> Published:
    """An Enformer or Borzoi checkpoint -> Published (module doc).

    Parameters
    ----------
    family : "enformer" or "borzoi".
    path : a directory with config.json and model.safetensors or pytorch_model.bin (the hub
        repo's layout), or the weights file itself (config.json, if any, next to it).
    targets : tracks to keep: indices, labels, identifiers, or "ASSAY:TEXT" (descriptions
        starting with ASSAY: and containing TEXT, case-insensitive; e.g. "CAGE:K562"); None:
        all of them.
    aggregation : "center" (default) or "sum".
    """
    aggregation = aggregation or "center"
    if aggregation not in AGGREGATIONS:
        raise RegdnaError(f"aggregation '{aggregation}' is not one of {', '.join(AGGREGATIONS)} "
                          f"(center: the bin holding the window centre; sum: all output bins).")
    weights = _weights_file(path)
    config = _read_config(weights.parent / "config.json")
    length = int(config.get("sequence_length", PUBLISHED_LENGTH[family]))
    state = _read_state_dict(weights)
    try:
        if family == "enformer":
            state = _enformer_keys(state)
            network = _enformer_from(state, config)
        else:
            state = _borzoi_keys(state)
            network = _borzoi_from(state, config, length)
    except KeyError as err:
        raise RegdnaError(f"{weights}: no key {err} in the state dict; is this a {family} "
                          f"checkpoint (enformer-pytorch / borzoi-pytorch layout)?") from err
    _load_strict(network, state, weights)
    network.eval()

    bin_size = 2 ** network.num_downsamples if family == "enformer" else 32
    n_bins = network.target_length if family == "enformer" else network.crop
    if n_bins == -1:
        n_bins = length // bin_size
    crop = (length - n_bins * bin_size) // 2
    if crop < 0 or length % bin_size:
        raise RegdnaError(f"{weights.parent / 'config.json'}: sequence_length {length} does not "
                          f"fit {n_bins} output bins of {bin_size} bp.")
    centre = (length // 2 - crop) // bin_size
    first, last = (centre, centre + 1) if aggregation == "center" else (0, n_bins)

    n_tracks = network._heads["human"][0].out_features if family == "enformer" \
        else network.human_head.out_channels
    table = read_track_table(weights.parent, n_tracks)
    labels = _labels(table, n_tracks)
    chosen = select_tracks(labels, table, targets)
    squash = _squash(table, chosen) if family == "borzoi" else None
    model = TrackScalar(network, chosen, length, first, last, squash)
    conventions = {
        "bin_size": bin_size, "output_bins": n_bins, "crop_bp": crop, "center_bin": centre,
        "aggregation": aggregation, "aggregated_bins": [first, last],
        "strand": "forward (rc_average averages with the reverse complement's same track)",
        "logit": "log1p(predicted coverage summed over the aggregated bins)",
        "squash_undone": squash is not None, "tracks": chosen,
        "track_table": str(table["path"]) if table else None,
    }
    return Published(model=model, task="profile", labels=[labels[i] for i in chosen],
                     length=length, family=family, source=Path(path),
                     citation=CITATIONS[family], conventions=conventions)


def default_batch_size(length: int, device) -> int:
    """Windows per forward pass when none was asked for: on CUDA, half the free memory at about
    8 KB per input bp (bfloat16 activations; Enformer's 196,608 bp about 1.6 GB), at most 64;
    on CPU a few (2 for Enformer, 1 for Borzoi)."""
    device = torch.device(device)
    if device.type == "cuda" and torch.cuda.is_available():
        free, _ = torch.cuda.mem_get_info(device)
        return max(1, min(64, int(free * 0.5 // (length * 8192))))
    return max(1, min(8, 400_000 // length))


def _weights_file(path: Path) -> Path:
    path = Path(path)
    if path.is_dir():
        for name in WEIGHT_FILES:
            if (path / name).is_file():
                return path / name
        raise RegdnaError(f"{path} has none of {', '.join(WEIGHT_FILES)}; download the hub repo's "
                          f"weights and config.json into it (docs/MODELS.md).")
    return path


def _read_config(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise RegdnaError(f"cannot read {path}: {err}; re-download config.json.") from err


def _read_state_dict(path: Path) -> dict:
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch / safetensors raise many types for unreadable files
        raise RegdnaError(f"cannot read weights {path}: {err}. Give a pytorch_model.bin or "
                          f"model.safetensors as released.") from err
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise RegdnaError(f"{path} holds a {type(state).__name__}, not a state dict.")
    return state


def _load_strict(network: nn.Module, state: dict, where: Path) -> None:
    """Every parameter and buffer from `state`, same shapes; else one line naming the first
    mismatching key."""
    own = network.state_dict()
    optional = ("num_batches_tracked",)
    for key, value in own.items():
        if key not in state and not key.endswith(optional):
            raise RegdnaError(f"{where}: key '{key}' is missing from the state dict; the file is "
                              f"not a {type(network).__name__} checkpoint of this layout.")
        if key in state and tuple(state[key].shape) != tuple(value.shape):
            raise RegdnaError(f"{where}: key '{key}' has shape {tuple(state[key].shape)}, the "
                              f"network built from it expects {tuple(value.shape)}.")
    extra = [k for k in state if k not in own]
    if extra:
        raise RegdnaError(f"{where}: unexpected key '{extra[0]}' ({len(extra)} in all) for a "
                          f"{type(network).__name__} network; is config.json from the same repo?")
    network.load_state_dict(state, strict=False)     # strict but for num_batches_tracked


def read_track_table(folder: Path, n_tracks: int) -> dict | None:
    """The published track table next to the weights (`TRACK_FILES`, tab-separated, Basenji
    format) as {"path", "columns": {name: list}}; None when there is none."""
    import pandas as pd

    for name in TRACK_FILES:
        path = Path(folder) / name
        if path.is_file():
            break
    else:
        return None
    try:
        frame = pd.read_table(path)
    except Exception as err:  # pandas raises many types for malformed tables
        raise RegdnaError(f"cannot read track table {path}: {err}.") from err
    if "description" not in frame.columns:
        raise RegdnaError(f"track table {path} has no 'description' column (Basenji format: "
                          f"index, identifier, file, clip, scale, sum_stat, description).")
    if len(frame) != n_tracks:
        raise RegdnaError(f"track table {path} lists {len(frame)} tracks but the weights' human "
                          f"head has {n_tracks}; use the table released with these weights.")
    return {"path": path, "columns": {c: frame[c].tolist() for c in frame.columns}}


def _labels(table, n_tracks: int) -> list[str]:
    """Track names: descriptions, with the identifier appended where a description repeats."""
    if table is None:
        return [f"track_{i}" for i in range(n_tracks)]
    cols = table["columns"]
    desc = [str(d) for d in cols["description"]]
    ident = [str(v) for v in cols.get("identifier", range(n_tracks))]
    counts: dict[str, int] = {}
    for d in desc:
        counts[d] = counts.get(d, 0) + 1
    return [d if counts[d] == 1 else f"{d} [{i}]" for d, i in zip(desc, ident)]


def select_tracks(labels: list[str], table, targets) -> list[int]:
    """Indices of the tracks `targets` names (see `load`), in the order given; all when None."""
    n = len(labels)
    if targets is None or (not isinstance(targets, str) and len(targets) == 0):
        if n > 100:
            warnings.warn(f"all {n} tracks selected: vep writes {n} columns per score; pick "
                          f"tracks with --target (e.g. CAGE:K562).", RegdnaWarning, stacklevel=3)
        return list(range(n))
    desc = [str(d) for d in table["columns"]["description"]] if table else labels
    ident = [str(v) for v in table["columns"].get("identifier", [])] if table else []

    def matches(item) -> list[int]:
        text = str(item).strip()
        if isinstance(item, int) or text.isdigit():
            if not 0 <= int(text) < n:
                raise RegdnaError(f"--target {text}: track index out of range (0..{n - 1}).")
            return [int(text)]
        if text in labels:
            return [labels.index(text)]
        if text in ident:
            return [ident.index(text)]
        assay, sep, rest = text.partition(":")
        pattern = re.compile(re.escape(rest if sep else text), re.IGNORECASE)
        return [i for i, d in enumerate(desc)
                if (not sep or d.upper().startswith(assay.upper() + ":")) and pattern.search(d)]

    items = [targets] if isinstance(targets, (str, int)) else list(targets)
    chosen: list[int] = []
    for item in items:
        hits = matches(item)
        if not hits and isinstance(item, str) and "," in item:   # "CAGE:K562,DNASE:K562"
            hits = [i for part in item.split(",") if part.strip()
                    for i in _require(matches(part), part, labels)]
        _require(hits, item, labels)
        chosen += [i for i in hits if i not in chosen]
    return chosen


def _require(hits: list[int], item, labels: list[str]) -> list[int]:
    if not hits:
        raise RegdnaError(f"--target '{str(item).strip()}' matches no track; give an index, a "
                          f"track name or ASSAY:TEXT (e.g. CAGE:K562; tracks look like "
                          f"'{labels[0]}').")
    return hits


def _squash(table, chosen):
    """(scale, clip_soft, exponent) of the chosen tracks from a Borzoi track table, or None
    when it lacks those columns."""
    if table is None or not {"scale", "clip_soft", "sum_stat"} <= set(table["columns"]):
        return None
    cols = table["columns"]
    return ([float(cols["scale"][i]) for i in chosen],
            [float(cols["clip_soft"][i]) for i in chosen],
            [0.75 if cols["sum_stat"][i] == "sum_sqrt" else 1.0 for i in chosen])


def _count(state: dict, pattern: str, step: int = 1) -> int:
    i = 0
    while pattern.format(i * step) in state:
        i += 1
    return i


def _refuse(config: dict, key: str, what: str) -> None:
    if config.get(key):
        raise RegdnaError(f"config.json sets {key}: {what} are not supported.")
