"""DeepLIFT multipliers whose contributions sum to the difference they explain.

DeepLIFT (Shrikumar et al. 2017, rescale rule) explains f(x) - f(r) for an input x and a
reference r by multipliers m with sum(m * (x - r)) == f(x) - f(r); DeepSHAP (Lundberg & Lee
2017) averages the contributions over several references (done by the caller,
`regdna.interpret.attributions`). The multipliers come from one backward pass in which every
nonlinear module passes back, instead of its local gradient, its DeepLIFT multiplier between
the input and the reference activations:

  - elementwise activations (ReLU, the `Exponential` of `regdna.models.cnn`, the `Log1p` of a
    profile model's scalar (`regdna.models.scalar`), ELU, GELU,
    Softplus, Sigmoid, Tanh, ...): the secant (f(a) - f(a_ref)) / (a - a_ref); where the two
    activations are closer than 1e-6 the secant is all rounding, so the derivative at their
    midpoint is used (its contribution is then below rounding anyway);
  - max-pooling (MaxPool1d with any kernel, stride, padding, dilation or ceil_mode,
    AdaptiveMaxPool1d): each window's change y - y_ref goes to the position that holds the
    larger of the two maxima (the input's argmax when y >= y_ref, else the reference's) and
    is divided by that position's own change, shares of overlapping windows accumulating; a
    position that does not change keeps the plain gradient (it contributes nothing). This is
    the rule of tangermeme's `deep_lift_shap` (Schreiber, tangermeme 1.6) and sums exactly;
  - linear modules (Conv1d, Linear, BatchNorm1d in eval, Dropout in eval, Flatten, additions
    such as residual connections) keep their gradient, which is exact for them.

Inputs and references go through the model as one batch (inputs first), so every rule sees
both activations. Each rule works on the input half of the batch and the gradient that reaches
it; the reference half carries no gradient. A model whose forward uses a nonlinearity outside
these modules (a functional call, an argmax) breaks the summation; `deeplift_multipliers`
measures it and refuses such a model instead of returning wrong numbers.
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn

from regdna.errors import RegdnaError
from regdna.models.cnn import Exponential
from regdna.models.scalar import Log1p

# closer activations than this take the midpoint derivative instead of the secant
SECANT_EPS = 1e-6

ELEMENTWISE = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU,
               nn.Mish, nn.Softplus, nn.Sigmoid, nn.Tanh, nn.LogSigmoid, Exponential, Log1p)
MAX_POOLS = (nn.MaxPool1d, nn.AdaptiveMaxPool1d)


def deeplift_multipliers(model: nn.Module, inputs: torch.Tensor, refs: torch.Tensor,
                         check: bool = True) -> torch.Tensor:
    """DeepLIFT multipliers of `model`'s single output for each (input, reference) pair.

    Parameters
    ----------
    model : module mapping (B, 4, L) to (B, 1) (or (B,)), in eval mode.
    inputs, refs : (B, 4, L) float tensors on the model's device, paired row by row.
    check : refuse (RegdnaError) when the contributions do not sum to f(input) - f(reference),
        i.e. the model has a nonlinearity without a rule here.

    Returns
    -------
    (B, 4, L) multipliers m with sum over (4, L) of m * (input - reference) equal to
    f(input) - f(reference) up to float32 rounding.
    """
    n = len(inputs)
    x = inputs.detach().clone().requires_grad_(True)
    both = torch.cat([x, refs.detach().to(x.dtype)])
    with torch.enable_grad(), _rules_on(model):
        out = model(both).reshape(2 * n, -1)
        if out.shape[1] != 1:
            raise RegdnaError(f"DeepLIFT explains one output at a time; the model returned "
                              f"{out.shape[1]} per sequence")
        f_x, f_ref = out[:n, 0], out[n:, 0]
        # an input no gradient reaches (behind an argmax) gets zero multipliers: the check
        # below then refuses the model
        mult, = torch.autograd.grad(f_x.sum(), x, allow_unused=True, materialize_grads=True)
    if check:
        _check_summation(mult, inputs, refs, f_x.detach(), f_ref.detach())
    return mult.detach()


def _check_summation(mult, inputs, refs, f_x, f_ref) -> None:
    """Refuse multipliers whose contributions miss f(x) - f(ref) by more than 1% of the
    typical difference (and by more than float32 rounding of the outputs)."""
    delta = f_x - f_ref
    gap = ((mult * (inputs - refs)).flatten(1).sum(1) - delta).abs()
    delta = delta.abs()
    rounding = 1e-5 * (1.0 + torch.maximum(f_x.abs(), f_ref.abs()).max())
    if gap.max() > rounding and gap.mean() > 0.01 * delta.mean():
        raise RegdnaError(
            f"deeplift_shap: the contributions miss f(x) - f(reference) by up to "
            f"{gap.max().item():.3g} (mean difference {delta.mean().item():.3g}): the model "
            f"uses a nonlinearity with no DeepLIFT rule (rules exist for the modules "
            f"{', '.join(t.__name__ for t in ELEMENTWISE + MAX_POOLS)}); use "
            f"--method ism for this model, which needs no gradients")


# -- the rules ------------------------------------------------------------------------------------
class _Rule(torch.autograd.Function):
    """The module's own output forward; backward, the rule's gradient for the module's input."""

    @staticmethod
    def forward(ctx, inp, out, backward):
        ctx.rule_backward = backward
        return out.view_as(out)

    @staticmethod
    def backward(ctx, grad):
        return ctx.rule_backward(grad), None, None


def _half(grad_in: torch.Tensor) -> torch.Tensor:
    """The input half's gradient, with a zero gradient for the reference half."""
    return torch.cat([grad_in, torch.zeros_like(grad_in)])


def _elementwise_rule(module, inp, out):
    a, a_ref = inp.detach().chunk(2)
    y, y_ref = out.detach().chunk(2)
    delta = a - a_ref
    far = delta.abs() > SECANT_EPS
    with torch.enable_grad():
        mid = ((a + a_ref) / 2).requires_grad_(True)
        slope, = torch.autograd.grad(module.forward(mid.clone()).sum(), mid)
    mult = torch.where(far, (y - y_ref) / torch.where(far, delta, torch.ones_like(delta)), slope)
    return lambda grad: _half(grad.chunk(2)[0] * mult)


def _pool_indices(module, inp):
    """The module's pooled values and argmax indices (into the last axis of `inp`)."""
    import torch.nn.functional as F

    if isinstance(module, nn.AdaptiveMaxPool1d):
        return F.adaptive_max_pool1d(inp, module.output_size, return_indices=True)
    return F.max_pool1d(inp, module.kernel_size, module.stride, module.padding, module.dilation,
                        ceil_mode=module.ceil_mode, return_indices=True)


def _max_pool_rule(module, inp, out):
    inp = inp.detach()
    if inp.dim() != 3:
        raise RegdnaError(f"deeplift_shap: {type(module).__name__} got a {inp.dim()}-d input; "
                          f"the max-pool rule needs (batch, channels, length)")
    pooled, idx = _pool_indices(module, inp)
    a, a_ref = inp.chunk(2)
    (y, y_ref), (idx_a, idx_ref) = pooled.chunk(2), idx.chunk(2)
    delta_y = y - y_ref
    winner = torch.where(y >= y_ref, idx_a, idx_ref)
    delta = a - a_ref
    still = delta == 0
    denominator = delta.masked_fill(still, 1.0)

    def backward(grad):
        g = grad.chunk(2)[0]
        routed = torch.zeros_like(a).scatter_add_(-1, winner, g * delta_y)
        plain = torch.zeros_like(a).scatter_add_(-1, idx_a, g)
        return _half(torch.where(still, plain, routed / denominator))

    return backward


def _rule_for(module):
    if isinstance(module, MAX_POOLS):
        return _max_pool_rule
    if isinstance(module, ELEMENTWISE):
        return _elementwise_rule
    return None


def _hook(module, inputs, output):
    inp = inputs[0]
    if not (torch.is_tensor(inp) and torch.is_tensor(output)) or len(inp) % 2:
        return None
    return _Rule.apply(inp, output.detach(), _rule_for(module)(module, inp, output))


@contextlib.contextmanager
def _rules_on(model: nn.Module):
    """Hook every module that has a rule (in-place ones run out of place meanwhile)."""
    handles, inplace = [], []
    try:
        for module in model.modules():
            if _rule_for(module) is None:
                continue
            if getattr(module, "inplace", False):
                module.inplace = False
                inplace.append(module)
            handles.append(module.register_forward_hook(_hook))
        yield
    finally:
        for handle in handles:
            handle.remove()
        for module in inplace:
            module.inplace = True
