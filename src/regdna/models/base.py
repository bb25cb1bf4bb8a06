"""What every regdna model is: the contract the Predictor and all analyses rely on.

A regdna model is a `torch.nn.Module` with

- `input_kind`: "onehot" or "tokens";
- `n_outputs`: number of output logits T;
- `forward(x) -> logits (N, T)`, where `x` is a float one-hot tensor (N, 4, L) for "onehot"
  models, or the dict returned by `tokenize` for "tokens" models;
- "tokens" models also implement `tokenize(seqs) -> dict[str, Tensor]` (at least `input_ids`
  and `attention_mask`, (N, S)) and `token_spans(seqs) -> list[list[tuple[int, int]]]`, the
  half-open base interval each token covers ((0, 0) for special tokens);
- models that expose attention implement `forward(x, return_attentions=True)` returning
  `(logits, attentions)` with one (N, H, S, S) tensor of attention probabilities per layer, and
  set `has_attention = True`.

The one task -> probability map is `activate`: every verb turns logits into probabilities with it.
"""
from __future__ import annotations

import numpy as np
import torch


class RegdnaModel(torch.nn.Module):
    input_kind: str = "onehot"
    has_attention: bool = False
    n_outputs: int = 1


def activate(logits: torch.Tensor | np.ndarray, task: str):
    """Logits -> probabilities: sigmoid (binary, multilabel), softmax (multiclass), identity
    (regression, or exp for a Poisson model whose logits are log rates)."""
    t = torch.as_tensor(logits)
    if task in ("binary", "multilabel"):
        out = torch.sigmoid(t)
    elif task == "multiclass":
        out = torch.softmax(t, dim=-1)
    elif task == "poisson":
        out = torch.exp(t)
    else:
        out = t
    return out.numpy() if isinstance(logits, np.ndarray) else out
