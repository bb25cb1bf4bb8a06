"""Attention-based token relevance for transformers (Consens et al. n.d.), mapped to bases.

For any regdna model with `has_attention` (tinyformer, native DNABERT-2, HF BERT/ESM wrappers),
whose `forward(x, return_attentions=True)` returns `(logits, [A_l (N, H, S, S)])`:

- `attention`: the attention each token receives from the query, summed over heads and layers
  (the DNABERT visualisation);
- `rollout` (Abnar & Zuidema 2020): per layer the head-mean attention plus the identity (the
  residual path), rows renormalised, multiplied through the layers;
- `gradcam` (Consens et al. n.d.): ReLU(sum over heads of dy/dA * A) on the last layer's attention
  map;
- `lrp`: the gradient-weighted attention relevance of Chefer et al. (2021, "Generic
  attention-model explainability"), the rule that extends their LRP to any transformer:
  R = I, then for each layer R <- R + mean_h[(dy/dA * A)^+] R; the query row of R - I.

The query is the [CLS] token when the first token is special (span (0, 0)) and the model pools
on it (`model.pooling` is "cls", `regdna.models.base`), as in BERT-style classifiers; otherwise (mean-pooled
models such as tinyformer) the mean over the rows of the real tokens. Token
scores become base scores with `regdna.interpret.token_map`.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from regdna.errors import RegdnaError
from regdna.interpret.token_map import token_batch, tokens_to_bases

METHODS = ("attention", "rollout", "gradcam", "lrp")


def attention_scores(predictor, seqs: Sequence[str], method: str, output: int = 0,
                     batch_size: int = 16) -> np.ndarray:
    """Base relevance of `method` for each sequence, explaining logit `output`.

    Parameters
    ----------
    predictor : a `Predictor` whose model has `has_attention` (`regdna.models.base`).
    seqs : N DNA strings.
    method : one of `METHODS`.
    output : index of the output logit to explain.
    batch_size : sequences per forward (and backward) pass.

    Returns
    -------
    (N, L) float32 base relevance (L: the model's length, else the longest sequence).
    """
    model = predictor.model
    if not model.has_attention:
        raise RegdnaError(f"{type(model).__name__} does not expose attention probabilities; "
                          f"{', '.join(METHODS)} need a transformer with has_attention")
    if method not in METHODS:
        raise RegdnaError(f"unknown attention method '{method}'; choose from {', '.join(METHODS)}")
    length = predictor.length or max(len(s) for s in seqs)
    out = []
    for start in range(0, len(seqs), batch_size):
        chunk = list(seqs[start:start + batch_size])
        spans = model.token_spans(chunk)
        token_scores = _token_relevance(predictor, chunk, spans, method, output)
        out.append(tokens_to_bases(token_scores, spans, length))
    return np.concatenate(out) if out else np.zeros((0, length), dtype=np.float32)


def _token_relevance(predictor, chunk, spans, method, output) -> np.ndarray:
    """(n, S) token relevance for one batch."""
    import torch

    model = predictor.model
    batch = token_batch(predictor, chunk)
    need_grad = method in ("gradcam", "lrp")
    hook = None
    if need_grad:
        # a frozen encoder (probe modes) builds no graph: start one at the token embeddings
        hook = model.token_embedding().register_forward_hook(
            lambda module, inputs, output: output.requires_grad_(True)
            if not output.requires_grad and output.is_floating_point() else None)
    try:
        with torch.set_grad_enabled(need_grad):
            logits, attentions = model(batch, return_attentions=True)
            if need_grad:
                grads = _attention_gradients(model, logits, attentions, output, method)
    finally:
        if hook is not None:
            hook.remove()
    attns = [a.detach().float() for a in attentions]
    mask = batch["attention_mask"].float() if "attention_mask" in batch else \
        torch.ones(attns[0].shape[0], attns[0].shape[-1], device=attns[0].device)
    # the [CLS] row explains a [CLS]-pooled model; a mean-pooled one reads every token's row
    query = _query_weights(spans, mask, model.pooling == "cls")  # (n, S)
    if method == "attention":
        relevance = sum(a.sum(dim=1) for a in attns)                  # (n, S, S)
    elif method == "rollout":
        relevance = rollout_matrices([a.mean(dim=1) for a in attns])
    elif method == "gradcam":
        relevance = (grads[-1] * attns[-1]).sum(dim=1).clamp(min=0)
    else:
        cams = [(g * a).clamp(min=0).mean(dim=1) for g, a in zip(grads, attns)]
        relevance = relevance_rollout(cams)
    scores = torch.einsum("ns,nst->nt", query, relevance) * mask
    return scores.cpu().numpy()


def _attention_gradients(model, logits, attentions, output, method):
    """d logit[output] / d A for every layer's attention probabilities."""
    import torch

    for a in attentions:
        if not a.requires_grad:
            raise RegdnaError(f"{type(model).__name__} returns attention maps outside the "
                              f"autograd graph; {method} needs their gradients")
    grads = torch.autograd.grad(logits[:, output].sum(), attentions)
    return [g.detach().float() for g in grads]


def _query_weights(spans, mask, cls_pooled: bool = True):
    """(n, S) weights over query rows: one-hot on [CLS] if token 0 is special and the model
    pools on it, else uniform over the real (non-special, non-padding) tokens."""
    import torch

    n, s = mask.shape
    query = torch.zeros(n, s, device=mask.device)
    for i, sp in enumerate(spans):
        real = [j for j, (a, b) in enumerate(sp[:s]) if b > a]
        if cls_pooled and sp and sp[0][1] <= sp[0][0]:
            query[i, 0] = 1.0
        elif real:
            query[i, real] = 1.0 / len(real)
    return query


def rollout_matrices(mean_attentions):
    """Attention rollout: prod_l normalise(0.5 A_l + 0.5 I), first layer applied first."""
    import torch

    eye = torch.eye(mean_attentions[0].shape[-1], device=mean_attentions[0].device)
    result = eye.expand_as(mean_attentions[0]).clone()
    for a in mean_attentions:
        a = 0.5 * a + 0.5 * eye
        a = a / a.sum(dim=-1, keepdim=True).clamp(min=1e-12)
        result = a @ result
    return result


def relevance_rollout(cams):
    """Chefer et al. (2021) rule: R = I; R <- R + cam_l R for each layer; returns R - I."""
    import torch

    eye = torch.eye(cams[0].shape[-1], device=cams[0].device)
    relevance = eye.expand_as(cams[0]).clone()
    for cam in cams:
        relevance = relevance + cam @ relevance
    return relevance - eye
