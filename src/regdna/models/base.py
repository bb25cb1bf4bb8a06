"""What every regdna model is: the contract the Predictor and all analyses rely on.

A regdna model is a `torch.nn.Module` with

- `input_kind`: "onehot" or "tokens";
- `n_outputs`: number of output logits T;
- `forward(x) -> logits (N, T)`, where `x` is a float one-hot tensor (N, 4, L) for "onehot"
  models, or the dict returned by `tokenize` for "tokens" models;
- "tokens" models also implement `tokenize(seqs) -> dict[str, Tensor]` (at least `input_ids`
  and `attention_mask`, (N, S)) and `token_spans(seqs) -> list[list[tuple[int, int]]]`, the
  half-open base interval each token covers ((0, 0) for special tokens);
- profile models (coverage datasets, `regdna.models.profile`) set `output_kind = "profile"` and
  `bin_size`, and their `forward(x)` returns predicted coverage (N, L / bin_size, T) >= 0, the
  mean coverage per base within each bin of each track (the unit of the binned targets,
  `regdna.data.profiles.bin_mean`); `ProfileScalar` (`regdna.models.scalar`) turns one into a
  model of the (N, T) contract, which is how every analysis sees it;
- models that expose attention implement `forward(x, return_attentions=True)` returning
  `(logits, attentions)` with one (N, H, S, S) tensor of attention probabilities per layer, and
  set `has_attention = True`.

What interpretation (`regdna.interpret`) needs of a "tokens" model (TinyFormer and
HFSequenceModel implement each; the defaults here are only what holds for every model):

- `token_inputs(seqs)`: like `tokenize`, but always real tokens (`input_ids`,
  `attention_mask`), never a cached summary embedding: gradients and attention start there
  (default: `tokenize`, right for every model without an embedding cache);
- `token_embedding()`: the `nn.Embedding` of the token ids (output (N, S, D)), where the
  gradient methods attach (default: the model's first `nn.Embedding`, the token table of a
  model that registers it first; a model without one raises NotImplementedError);
- `pad_token_id`: the id of padding, the reference input of integrated gradients (default 0);
- `pooling`: how token states become the sequence's ("cls", "mean", "max"; default "cls"):
  the [CLS] row of attention explains a "cls"-pooled model, every real token's row another.

The one task -> probability map is `activate`: every verb turns logits into probabilities with it;
the one task -> output count map is `n_outputs_for`: every architecture sizes its head with it.
"""
from __future__ import annotations

import numpy as np
import torch

from regdna.errors import RegdnaError


class RegdnaModel(torch.nn.Module):
    input_kind: str = "onehot"
    output_kind: str = "scalar"         # "profile": forward -> (N, L / bin_size, T) coverage
    has_attention: bool = False
    n_outputs: int = 1
    pad_token_id: int = 0
    pooling: str = "cls"

    def token_inputs(self, seqs: list[str]) -> dict:
        """Real token tensors of `seqs`, {"input_ids", "attention_mask"} (N, S).

        Default: `tokenize`; a model whose `tokenize` may answer from an embedding cache
        overrides it."""
        return self.tokenize(list(seqs))

    def token_embedding(self) -> torch.nn.Module:
        """The token embedding layer (`nn.Embedding`, ids (N, S) -> (N, S, D)).

        Default: the model's first `nn.Embedding` (the token table of a model that registers it
        before any position table); a model whose token table is elsewhere overrides it."""
        for module in self.modules():
            if isinstance(module, torch.nn.Embedding):
                return module
        raise NotImplementedError(
            f"{type(self).__name__} has no token embedding layer (nn.Embedding) and does not "
            "implement token_embedding(); gradient methods on token models need one. Use ism or "
            "an attention method.")

def activate(logits: torch.Tensor | np.ndarray, task: str):
    """Logits -> probabilities: sigmoid (binary, multilabel), softmax (multiclass), identity
    (regression, or exp for a Poisson model whose logits are log rates); for a profile model,
    whose logit is log(1 + summed coverage) (`regdna.models.scalar`), the summed coverage."""
    t = torch.as_tensor(logits)
    if task in ("binary", "multilabel"):
        out = torch.sigmoid(t)
    elif task == "multiclass":
        out = torch.softmax(t, dim=-1)
    elif task == "poisson":
        out = torch.exp(t)
    elif task == "profile":
        out = torch.expm1(t)
    else:
        out = t
    return out.numpy() if isinstance(logits, np.ndarray) else out


def n_outputs_for(info) -> int:
    """Number of logits T a model needs for the task of a dataset.

    Parameters
    ----------
    info : DatasetInfo (or any object with `task`, `labels`, `classes`)
        `task` "binary" needs exactly one label, "multiclass" at least two `classes`.

    Returns
    -------
    int
        T: the number of classes (multiclass) or of label columns (otherwise).
    """
    if info.task == "multiclass":
        if not info.classes or len(info.classes) < 2:
            raise RegdnaError("dataset.json says task 'multiclass' but lists fewer than 2 classes; "
                              "re-run `regdna prepare` so that `classes` names every class.")
        return len(info.classes)
    if not info.labels:
        raise RegdnaError(f"dataset.json (task '{info.task}') names no label columns; "
                          "re-run `regdna prepare`.")
    if info.task == "binary" and len(info.labels) != 1:
        raise RegdnaError(f"dataset.json says task 'binary' but has {len(info.labels)} labels "
                          f"({', '.join(info.labels)}); use task 'multilabel' for several labels.")
    return len(info.labels)
