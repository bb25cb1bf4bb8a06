"""Attribution methods: which bases drive a prediction (the verb `attribute` that writes them is
`regdna.interpret.attribute`).

One entry point, `attribute(predictor, x, method, output=0)`, for every model:

one-hot models (CNNs), (N, L, 4) maps:
  - `saliency`: the gradient of the output logit, with the correction of Majdandzic et al.
    (2023): the per-position mean across the 4 bases is subtracted, which removes the
    off-simplex gradient component that one-hot inputs can never move along;
  - `grad_x_input`: the corrected gradient times the one-hot input;
  - `integrated_gradients` (captum): path gradients from dinucleotide-shuffled references;
  - `deeplift_shap`: DeepLIFT (Shrikumar et al. 2017, rescale rule, with exact rules for
    max-pooling: `regdna.interpret.deeplift`) averaged over dinucleotide-shuffled references
    (the DeepSHAP recipe, Lundberg & Lee 2017); the observed-base contributions of a sequence
    sum to f(x) - mean_r f(r_r) over its references;
  - `ism`: saturation mutagenesis (`regdna.variants.ism`) on the logit scale, delta centred
    per position.
token models (transformers), (N, L) base scores:
  - `saliency`, `grad_x_input`, `integrated_gradients` through the token embedding layer
    (`model.token_embedding()`, `regdna.models.base`; captum layer methods; each token's score
    is summed over the embedding dimension), then
    mapped to bases (`regdna.interpret.token_map`); `ism` on the re-tokenized strings;
  - `attention`, `rollout`, `gradcam`, `lrp`: `regdna.interpret.attention`.

Contributions and hypothetical contributions: for the one-hot methods `attribute` returns the
contribution of each observed base (zero at the other three bases) unless `hypothetical=True`,
in which case it returns what each of the 4 bases would contribute at each position (the
corrected gradient, the DeepLIFT/IG multipliers projected against the references as in
DeepSHAP's `combine_mult_and_diffref`, or the centred ISM deltas); TF-MoDISco needs both.
Every method is in logit units of output `output` (before the sigmoid / softmax; ism on a
multiclass model: the class's log-softmax, `regdna.variants.ism`). The gradient methods
explain the model's plain forward (`predictor.model`): for a predictor that averages the
reverse complement (`rc_average`) they explain the forward strand alone, while `ism` scores the
predictor's own (averaged) predictions.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from regdna.data.shuffle import dinucleotide_shuffles
from regdna.encode.onehot import one_hot, one_hot_to_strings
from regdna.errors import RegdnaError
from regdna.interpret.attention import attention_scores
from regdna.interpret.token_map import token_batch, tokens_to_bases
from regdna.variants.ism import saturation_mutagenesis

GRADIENT_METHODS = ("saliency", "grad_x_input", "integrated_gradients", "deeplift_shap")
ATTENTION_METHODS = ("attention", "rollout", "gradcam", "lrp")
ONEHOT_METHODS = GRADIENT_METHODS + ("ism",)
TOKEN_METHODS = ("saliency", "grad_x_input", "integrated_gradients", "ism")


def available_methods(predictor) -> list[str]:
    """The attribution methods that apply to the predictor's model (its `input_kind` and
    `has_attention`, `regdna.models.base`)."""
    if predictor.input_kind == "tokens":
        methods = list(TOKEN_METHODS)
        if predictor.model.has_attention:
            methods += list(ATTENTION_METHODS)
        return methods
    return list(ONEHOT_METHODS)


def check_method(predictor, method: str) -> None:
    """Raise a RegdnaError naming the methods that apply when `method` does not."""
    methods = available_methods(predictor)
    if method not in methods:
        kind = "a transformer" if predictor.input_kind == "tokens" else "a one-hot (CNN) model"
        why = ""
        if method in ATTENTION_METHODS:
            why = " (it needs attention probabilities, i.e. a model with has_attention)"
        raise RegdnaError(f"method '{method}' does not apply to {kind}{why}; "
                          f"methods for this model: {', '.join(methods)}")


def attribute(predictor, x: Sequence[str] | np.ndarray, method: str, output: int = 0,
              batch_size: int = 32, n_references: int = 8, n_steps: int = 20, seed: int = 0,
              hypothetical: bool = False) -> np.ndarray:
    """Attribution maps of `predictor`'s output `output` for each input sequence.

    Parameters
    ----------
    predictor : regdna.runs.predictor.Predictor
    x : N DNA strings of the model's length, or one-hot (N, 4, L) (one-hot models).
    method : one of `available_methods(predictor)`.
    output : index of the output logit to explain.
    batch_size : sequences per backward pass.
    n_references : dinucleotide shuffles per sequence (deeplift_shap, integrated_gradients).
    n_steps : integration steps per reference (integrated_gradients).
    seed : seed of the shuffled references.
    hypothetical : one-hot models: return hypothetical contributions (see module doc).

    Returns
    -------
    (N, L, 4) float32 for one-hot models, (N, L) float32 for token models; logit units (see
    the module doc).
    """
    check_method(predictor, method)
    if not 0 <= output < predictor.n_outputs:
        raise RegdnaError(f"output {output} out of range: the model has {predictor.n_outputs} "
                          f"outputs ({', '.join(predictor.labels)})")
    seqs = one_hot_to_strings(np.asarray(x), channels_first=True) \
        if isinstance(x, np.ndarray) or hasattr(x, "detach") else list(x)
    if method == "ism":
        return _ism(predictor, seqs, output, hypothetical)
    if predictor.input_kind == "tokens":
        if method in ATTENTION_METHODS:
            return attention_scores(predictor, seqs, method, output=output,
                                    batch_size=batch_size)
        return _token_gradients(predictor, seqs, method, output, batch_size, n_steps)
    chunks = [_onehot_batch(predictor, seqs[i:i + batch_size], method, output,
                            n_references, n_steps, seed + i, hypothetical)
              for i in range(0, len(seqs), batch_size)]
    if not chunks:
        return np.zeros((0, predictor.length or 0, 4), dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32)


# -- one-hot models -------------------------------------------------------------------------------
def _output_module(model, output: int):
    """Wrap `model` so that it returns the logit of one output, (N, 1): the scalar that is
    differentiated, and a Module (DeepLIFT hooks the model's submodules)."""
    import torch

    class _Head(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):
            out = self.model(x)
            out = out[0] if isinstance(out, tuple) else out
            return out[:, output:output + 1]

    return _Head().eval()


def _references(seqs: Sequence[str], n: int, seed: int) -> np.ndarray:
    """(N, n, 4, L) one-hot dinucleotide shuffles of each sequence."""
    length = max(len(s) for s in seqs)
    refs = [one_hot(dinucleotide_shuffles(s, n, seed=seed + i), length=length,
                    channels_first=True) for i, s in enumerate(seqs)]
    return np.stack(refs)


def _project(multipliers, refs):
    """DeepSHAP's hypothetical contributions: for each candidate base b at a position, the
    contribution it would make against reference r is sum_c m_c (e_b - r)_c = m_b - sum_c m_c r_c.
    multipliers, refs: (N, R, 4, L) -> (N, 4, L) averaged over the R references."""
    return (multipliers - (multipliers * refs).sum(axis=2, keepdims=True)).mean(axis=1)


def _onehot_batch(predictor, seqs, method, output, n_references, n_steps, seed, hypothetical):
    """One batch of one-hot attributions -> (n, L, 4)."""
    import torch

    x_np = one_hot(seqs, length=predictor.length or None, channels_first=True)
    x = torch.from_numpy(x_np).to(predictor.device)
    head = _output_module(predictor.model, output)
    if method in ("saliency", "grad_x_input"):
        x.requires_grad_(True)
        with torch.enable_grad():
            grad, = torch.autograd.grad(head(x).sum(), x)
        hyp = grad - grad.mean(dim=1, keepdim=True)  # Majdandzic et al. correction
        hyp = hyp.detach().cpu().numpy()
        if method == "saliency":
            return hyp.transpose(0, 2, 1)
    else:
        n, r = len(seqs), n_references
        refs_np = _references(seqs, r, seed).astype(np.float32)  # (n, R, 4, L)
        refs = torch.from_numpy(refs_np.reshape(n * r, *x_np.shape[1:])).to(predictor.device)
        inputs = x.repeat_interleave(r, dim=0)
        mult = _multipliers(head, method, inputs, refs, n_steps)
        hyp = _project(mult.reshape(n, r, *x_np.shape[1:]), refs_np)
    if hypothetical:
        return hyp.transpose(0, 2, 1)
    return (hyp * x_np).transpose(0, 2, 1)


def _multipliers(head, method, inputs, refs, n_steps):
    """Multipliers (not multiplied by input - reference) of each (input, reference) pair,
    (n*R, 4, L) numpy: DeepLIFT (`regdna.interpret.deeplift`) or captum's integrated
    gradients."""
    import torch

    from regdna.interpret.deeplift import deeplift_multipliers

    deterministic = torch.are_deterministic_algorithms_enabled()
    try:
        # DeepLIFT's max-pool rules scatter-add and integrated gradients backpropagates through
        # max-pooling, neither of which has a deterministic CUDA kernel; a training run in the
        # same process may have switched determinism on
        torch.use_deterministic_algorithms(False)
        if method == "deeplift_shap":
            mult = deeplift_multipliers(head, inputs, refs)
        else:
            mult = _integrated_gradients(head, inputs, refs, n_steps)
    finally:
        torch.use_deterministic_algorithms(deterministic)
    return mult.detach().cpu().numpy()


def _integrated_gradients(head, inputs, refs, n_steps):
    import warnings

    import torch
    from captum.attr import IntegratedGradients

    with torch.enable_grad(), warnings.catch_warnings():
        # captum announces the inputs it marks as requiring grad
        warnings.simplefilter("ignore", UserWarning)
        explainer = IntegratedGradients(head, multiply_by_inputs=False)
        return explainer.attribute(inputs, baselines=refs, target=0, n_steps=n_steps,
                                   internal_batch_size=max(len(inputs), 1) * 4)


def _ism(predictor, seqs, output, hypothetical):
    """Saturation mutagenesis deltas on the logit scale (`regdna.variants.ism`; unlike the
    probability it does not saturate on a confident prediction), centred per position like the
    gradient correction: the hypothetical contribution of base b is delta_b - mean_c delta_c,
    so the observed base scores minus the mean effect of mutating it. Token models get that
    observed-base score, (N, L)."""
    delta = np.asarray(saturation_mutagenesis(predictor, seqs, output=output,
                                              scale="logit"), dtype=np.float32)
    hyp = delta - delta.mean(axis=-1, keepdims=True)
    if hypothetical and predictor.input_kind == "onehot":
        return hyp
    contrib = hyp * one_hot(seqs, length=hyp.shape[1])
    return contrib.sum(-1) if predictor.input_kind == "tokens" else contrib


# -- token models ---------------------------------------------------------------------------------
def _token_gradients(predictor, seqs, method, output, batch_size, n_steps):
    """Layer attributions at the token embedding (`model.token_embedding()`) -> token scores ->
    (N, L) base scores."""
    import torch
    from captum.attr import LayerGradientXActivation, LayerIntegratedGradients

    model = predictor.model
    layer = model.token_embedding()
    length = predictor.length or max(len(s) for s in seqs)
    out = []
    for start in range(0, len(seqs), batch_size):
        chunk = seqs[start:start + batch_size]
        batch = token_batch(predictor, chunk)
        keys = [k for k in batch if k != "input_ids"]

        def forward(input_ids, *rest):
            inputs = {"input_ids": input_ids, **dict(zip(keys, rest))}
            logits = model(inputs)
            logits = logits[0] if isinstance(logits, tuple) else logits
            return logits[:, output]

        extra = tuple(batch[k] for k in keys)
        with torch.enable_grad():
            if method == "integrated_gradients":
                explainer = LayerIntegratedGradients(forward, layer)
                # the reference replaces every token by padding
                baseline = torch.full_like(batch["input_ids"], model.pad_token_id)
                attr = explainer.attribute(batch["input_ids"], baselines=baseline,
                                           additional_forward_args=extra, n_steps=n_steps)
                scores = attr.sum(-1)
            else:
                explainer = LayerGradientXActivation(forward, layer,
                                                     multiply_by_inputs=method == "grad_x_input")
                attr = explainer.attribute(batch["input_ids"], additional_forward_args=extra)
                # saliency: the gradient's norm per token (no sign: its direction is arbitrary)
                scores = attr.sum(-1) if method == "grad_x_input" else attr.norm(dim=-1)
        scores = scores.detach().float().cpu().numpy()
        mask = batch.get("attention_mask")
        if mask is not None:
            scores = scores * mask.cpu().numpy()
        out.append(tokens_to_bases(scores, model.token_spans(chunk), length))
    return np.concatenate(out) if out else np.zeros((0, length), dtype=np.float32)
