"""Building blocks shared by regdna's transformers (`tinyformer`, DNABERT-2, `hf:` models):
ALiBi biases, rotary position embeddings, the key-padding bias, one attention function with two
paths: fused `scaled_dot_product_attention` (training, prediction) and an explicit softmax that
also returns the attention probabilities (interpretation; both compute the same numbers), and
`pool`, the hidden states -> sequence summary map.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from regdna.errors import RegdnaError

# Added to the scores of padded keys, as in BERT / DNABERT-2: exp(-10000) underflows to 0, so
# real tokens never attend to padding.
MASKED_SCORE = -10000.0
POOLINGS = ("cls", "mean", "max")


def alibi_slopes(n_heads: int) -> list[float]:
    """Per-head ALiBi slopes of Press et al. (2022): a geometric sequence starting at
    2**(-8 / n) for n a power of two; otherwise the slopes of the closest smaller power of two
    followed by every other slope of the next power of two (the paper's interleaving rule).

    >>> alibi_slopes(4)
    [0.25, 0.0625, 0.015625, 0.00390625]
    """
    def power_of_2(n: int) -> list[float]:
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start ** i for i in range(n)]

    if math.log2(n_heads).is_integer():
        return power_of_2(n_heads)
    closest = 2 ** math.floor(math.log2(n_heads))
    return power_of_2(closest) + alibi_slopes(2 * closest)[0::2][:n_heads - closest]


def alibi_bias(n_heads: int, size: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """Symmetric (bidirectional) ALiBi bias (1, H, size, size): -slope_h * |i - j|."""
    pos = torch.arange(size, device=device)
    distance = (pos[None, :] - pos[:, None]).abs().to(dtype)                  # (S, S)
    slopes = torch.tensor(alibi_slopes(n_heads), device=device, dtype=dtype)  # (H,)
    return (-slopes[:, None, None] * distance)[None]


def padding_bias(attention_mask: torch.Tensor, dtype=torch.float32) -> torch.Tensor:
    """Key-padding bias (N, 1, 1, S): 0 for real tokens, MASKED_SCORE for padding."""
    return ((1.0 - attention_mask[:, None, None, :].to(dtype)) * MASKED_SCORE)


def rotary(x: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """Rotary position embedding (Su et al.) of queries or keys x (N, H, S, d), d even."""
    d = x.shape[-1]
    inv_freq = 1.0 / (base ** (torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d))
    angles = torch.arange(x.shape[-2], device=x.device, dtype=torch.float32)[:, None] * inv_freq
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)             # (S, d/2)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)
    return out.flatten(-2)


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor | None,
           dropout: float = 0.0, return_probs: bool = False):
    """Softmax(q k^T / sqrt(d) + bias) v.

    Args:
        q, k, v: (N, H, S, d).
        bias: additive bias broadcastable to (N, H, S, S) (ALiBi + padding), or None.
        dropout: dropout on the attention probabilities (training only).
        return_probs: compute the scores explicitly and also return the probabilities.

    Returns:
        context (N, H, S, d), and with `return_probs` the probabilities (N, H, S, S).
    """
    if not return_probs:
        if bias is not None:
            bias = bias.to(q.dtype)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=dropout)
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if bias is not None:
        scores = scores + bias.to(scores.dtype)
    probs = torch.softmax(scores.float(), dim=-1).to(q.dtype)
    dropped = F.dropout(probs, p=dropout) if dropout > 0 else probs
    return torch.matmul(dropped, v), probs


def pool(hidden: torch.Tensor, pool_mask: torch.Tensor, how: str) -> torch.Tensor:
    """Sequence summary (N, D) of hidden states (N, S, D): the first token ("cls"), or the mean
    ("mean") or maximum ("max") over positions where `pool_mask` (N, S) is 1 (real, non-special
    tokens). Max pooling reports whether a feature occurs anywhere (motif presence)."""
    if how == "cls":
        return hidden[:, 0]
    if how == "mean":
        weights = pool_mask.to(hidden.dtype).unsqueeze(-1)
        return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
    if how == "max":
        masked = hidden.masked_fill(~pool_mask.bool().unsqueeze(-1), torch.finfo(hidden.dtype).min)
        return masked.amax(1)
    raise RegdnaError(f"pooling '{how}' is unknown; use one of {', '.join(POOLINGS)}")
