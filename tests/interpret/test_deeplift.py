"""DeepLIFT (`regdna.interpret.deeplift`): contributions sum to f(x) - f(reference) for every
layer regdna's one-hot models use, and agree with tangermeme's `deep_lift_shap`.

Summation tolerance: |sum(m * (x - r)) - (f(x) - f(r))| <= 1e-5 * the largest |f(x) - f(r)| of
the batch (float32 rounding); every model is also checked to need its rule (the plain gradient
times x - r misses the difference by much more), so a model without the nonlinearity under
test cannot pass for the wrong reason.
"""
import copy
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from regdna.encode.onehot import one_hot_to_strings
from regdna.errors import RegdnaError
from regdna.interpret.attributions import _output_module, _references, attribute
from regdna.interpret.deeplift import deeplift_multipliers
from regdna.models.cnn import DilatedResidualBlock, Exponential, basset, deepsea, residualbind
from regdna.runs.predictor import Predictor

from helpers import random_seqs

TOL = 1e-5


def _onehot(n, length, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.eye(4)[torch.randint(0, 4, (n, length), generator=g)].permute(0, 2, 1).contiguous()


def _randomise(model, seed=0):
    """Random weights and batch-norm running statistics (so batch norm is not the identity);
    eval mode."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm1d):
                module.running_mean.normal_(0, 0.5, generator=g)
                module.running_var.uniform_(0.5, 2.0, generator=g)
                module.weight.uniform_(0.5, 1.5, generator=g)
                module.bias.normal_(0, 0.3, generator=g)
            elif isinstance(module, (nn.Conv1d, nn.Linear)):
                fan_in = module.weight[0].numel()
                module.weight.normal_(0, 1.5 / fan_in ** 0.5, generator=g)
                module.bias.normal_(0, 0.3, generator=g)
    return model.eval()


def _gaps(model, x, refs):
    """(summation gap of DeepLIFT, of the plain gradient, largest |f(x) - f(r)|) over the pairs."""
    mult = deeplift_multipliers(model, x, refs, check=False)
    xg = x.clone().requires_grad_(True)
    grad, = torch.autograd.grad(model(xg).sum(), xg)
    with torch.no_grad():
        delta = (model(x) - model(refs))[:, 0]

    def gap(m):
        return ((m * (x - refs)).sum((1, 2)) - delta).abs().max().item()

    return gap(mult), gap(grad), delta.abs().max().item()


def _assert_sums(model, x, refs, label):
    gap, plain, scale = _gaps(model, x, refs)
    print(f"{label}: DeepLIFT gap {gap:.2e}, gradient gap {plain:.2e}, largest delta {scale:.3g}")
    assert scale > 1e-2, (label, scale)                 # a difference worth explaining
    assert gap <= TOL * scale, (label, gap, scale)
    assert plain > 100 * TOL * scale, (label, plain)    # the nonlinearity needs its rule
    return gap / scale


# -- one tiny model per layer type ----------------------------------------------------------------
class Residual(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


class Twice(nn.Module):
    """One ReLU module called twice in a forward pass."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv1d(4, 6, 5, padding=2), nn.Conv1d(6, 6, 3, padding=1)
        self.relu = nn.ReLU()
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(6 * 40, 1))

    def forward(self, x):
        return self.head(self.relu(self.conv2(self.relu(self.conv1(x)))))


def _conv(c=6):
    return nn.Conv1d(4, c, 5, padding=2)


def _dense(c, length):
    return [nn.Flatten(), nn.Linear(c * length, 1)]


LENGTH = 40
LAYER_MODELS = {
    "conv-relu-maxpool(ceil)-linear": lambda: nn.Sequential(
        _conv(), nn.ReLU(), nn.MaxPool1d(3, ceil_mode=True), *_dense(6, 14)),
    "maxpool overlapping windows + padding": lambda: nn.Sequential(
        _conv(), nn.ReLU(), nn.MaxPool1d(4, stride=2, padding=1), *_dense(6, 20)),
    "maxpool dilated": lambda: nn.Sequential(
        _conv(), nn.ReLU(), nn.MaxPool1d(3, stride=3, dilation=2, ceil_mode=True),
        *_dense(6, 13)),
    "adaptive max pool": lambda: nn.Sequential(
        _conv(), nn.ReLU(), nn.AdaptiveMaxPool1d(3), *_dense(6, 3)),
    "global adaptive max pool": lambda: nn.Sequential(
        _conv(), nn.ReLU(), nn.AdaptiveMaxPool1d(1), *_dense(6, 1)),
    "exponential": lambda: nn.Sequential(_conv(), Exponential(), *_dense(6, LENGTH)),
    "exponential-maxpool": lambda: nn.Sequential(
        _conv(), Exponential(), nn.MaxPool1d(4, ceil_mode=True), *_dense(6, 10)),
    "batchnorm": lambda: nn.Sequential(
        _conv(), nn.BatchNorm1d(6), nn.ReLU(), nn.MaxPool1d(2), nn.Flatten(),
        nn.Linear(6 * 20, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1)),
    "dropout (eval)": lambda: nn.Sequential(
        _conv(), nn.ReLU(), nn.Dropout(0.5), nn.MaxPool1d(4), nn.Dropout(0.5), *_dense(6, 10)),
    "residual add": lambda: nn.Sequential(
        _conv(), nn.ReLU(), Residual(nn.Sequential(nn.Conv1d(6, 6, 3, padding=1), nn.ReLU())),
        nn.ReLU(), *_dense(6, LENGTH)),
    "dilated residual block": lambda: nn.Sequential(
        _conv(), nn.ReLU(), DilatedResidualBlock(6, 2), nn.MaxPool1d(10, ceil_mode=True),
        *_dense(6, 4)),
    "one module called twice": Twice,
    "in-place relu": lambda: nn.Sequential(
        _conv(), nn.ReLU(inplace=True), nn.MaxPool1d(2), *_dense(6, 20)),
    **{name: (lambda act=act: nn.Sequential(_conv(), act(), nn.Flatten(),
                                            nn.Linear(6 * LENGTH, 4), act(), nn.Linear(4, 1)))
       for name, act in [("elu", nn.ELU), ("gelu", nn.GELU), ("softplus", nn.Softplus),
                         ("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh)]},
}


@pytest.mark.parametrize("name", list(LAYER_MODELS))
def test_contributions_sum_to_the_difference_per_layer_type(name):
    torch.manual_seed(0)
    model = _randomise(LAYER_MODELS[name](), seed=1)
    x, refs = _onehot(16, LENGTH, 2), _onehot(16, LENGTH, 3)
    _assert_sums(model, x, refs, name)


def test_in_place_modules_are_restored():
    model = LAYER_MODELS["in-place relu"]()
    deeplift_multipliers(model.eval(), _onehot(2, LENGTH, 0), _onehot(2, LENGTH, 1))
    assert model[1].inplace is True
    assert not any(m._forward_hooks for m in model.modules())


# -- regdna's architectures -----------------------------------------------------------------------
ARCHITECTURES = {
    "basset": (lambda exp: basset(3, filters=0.05, hidden=16, exp_activation=exp), 200),
    "deepsea": (lambda exp: deepsea(3, filters=0.03, hidden=16, exp_activation=exp), 200),
    "residualbind": (lambda exp: residualbind(3, filters=0.1, hidden=16, exp_activation=exp),
                     120),
}


@pytest.mark.parametrize("exp", [False, True], ids=["relu", "exponential"])
@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_regdna_architectures_sum_to_the_difference(arch, exp):
    build, length = ARCHITECTURES[arch]
    torch.manual_seed(0)
    model = _randomise(build(exp), seed=4)
    x, refs = _onehot(8, length, 5), _onehot(8, length, 6)
    # the last of 3 outputs, through the head attributions differentiate
    _assert_sums(_output_module(model, 2), x, refs, f"{arch} exp={exp}")


# -- agreement with tangermeme --------------------------------------------------------------------
def _tangermeme(model, x, refs, hypothetical, target=0):
    tm = pytest.importorskip("tangermeme.deep_lift_shap",
                             reason="tangermeme (the `test` extra) is not installed")
    deterministic = torch.are_deterministic_algorithms_enabled()
    try:
        # its max-pool rule un-pools, which has no deterministic kernel; a training test in the
        # same process may have switched determinism on
        torch.use_deterministic_algorithms(False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # its convergence warnings: the test compares numbers
            return tm.deep_lift_shap(model, x, references=refs, target=target,
                                     hypothetical=hypothetical, device="cpu", batch_size=64,
                                     additional_nonlinear_ops={Exponential: tm._nonlinear}).numpy()
    finally:
        torch.use_deterministic_algorithms(deterministic)


def _regdna(model, x, n_references, hypothetical, output=0, seed=0):
    """regdna's attributions of `model`'s output `output` and the references they used,
    (N, 4, L) each."""
    with torch.no_grad():
        n_outputs = model(x[:1]).shape[1]
    predictor = Predictor(model, task="binary", labels=[f"y{i}" for i in range(n_outputs)],
                          device="cpu")
    seqs = one_hot_to_strings(x.numpy(), channels_first=True)
    attr = attribute(predictor, seqs, "deeplift_shap", output=output,
                     n_references=n_references, seed=seed, hypothetical=hypothetical)
    return attr.transpose(0, 2, 1), torch.from_numpy(_references(seqs, n_references, seed))


def _assert_agree(ours, theirs):
    scale = np.abs(theirs).max()
    print(f"largest attribution {scale:.3g}, largest difference {np.abs(ours - theirs).max():.2e}")
    assert scale > 1e-3
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL * scale)


def _with_fixed_pool(model, length):
    """`model` (a CNNClassifier) with its adaptive max-pool replaced by the equal fixed
    MaxPool1d, which tangermeme has a rule for (the trunk length must divide by the bins)."""
    trunk_length = model.trunk(torch.zeros(1, 4, length)).shape[-1]
    bins = model.pool.output_size
    assert trunk_length % bins == 0, (trunk_length, bins)
    fixed = copy.deepcopy(model)
    fixed.pool = nn.MaxPool1d(trunk_length // bins)
    x = _onehot(4, length, 9)
    with torch.no_grad():
        assert torch.equal(fixed(x), model(x))
    return fixed.eval()


@pytest.mark.parametrize("hypothetical", [True, False], ids=["hypothetical", "observed"])
def test_agrees_with_tangermeme_on_conv_relu_maxpool(hypothetical):
    torch.manual_seed(0)
    model = _randomise(LAYER_MODELS["conv-relu-maxpool(ceil)-linear"](), seed=7)
    x = _onehot(6, LENGTH, 8)
    ours, refs = _regdna(model, x, 8, hypothetical)
    theirs = _tangermeme(model, x, refs, hypothetical)
    _assert_agree(ours, theirs)


@pytest.mark.parametrize("arch, exp, length", [("basset", False, 192), ("basset", True, 192),
                                               ("residualbind", True, 100),
                                               ("deepsea", False, 280)])
def test_agrees_with_tangermeme_on_regdna_architectures(arch, exp, length):
    torch.manual_seed(0)
    model = _randomise(ARCHITECTURES[arch][0](exp), seed=10)
    x = _onehot(4, length, 11)
    ours, refs = _regdna(model, x, 4, hypothetical=True, output=1)
    theirs = _tangermeme(_with_fixed_pool(model, length), x, refs, True, target=1)
    _assert_agree(ours, theirs)


# -- regdna's attribute -----------------------------------------------------------------------------
def test_attribute_contributions_sum_to_mean_difference_on_trained_model(toy_predictor):
    """The trained planted-motif CNN (global adaptive max-pool): each sequence's observed-base
    contributions sum to f(x) - mean_r f(r) over its references."""
    seqs = random_seqs(6, toy_predictor.length, seed=12)
    contrib = attribute(toy_predictor, seqs, "deeplift_shap", n_references=8, seed=3)
    refs = _references(seqs, 8, 3)
    f_x = toy_predictor.logits(seqs)[:, 0]
    f_ref = toy_predictor.logits(refs.reshape(-1, *refs.shape[2:]))[:, 0].reshape(6, 8)
    expected = f_x - f_ref.mean(1)
    scale = np.abs(expected).max()
    print(f"largest f(x) - mean f(ref) {scale:.3f}, "
          f"gap {np.abs(contrib.sum((1, 2)) - expected).max():.2e}")
    assert scale > 0.1
    np.testing.assert_allclose(contrib.sum((1, 2)), expected, rtol=0, atol=TOL * scale)


def test_attribute_explains_the_forward_strand_of_an_rc_averaging_predictor(toy_predictor):
    rc = Predictor(toy_predictor.model, task="binary", labels=["active"],
                   length=toy_predictor.length, device="cpu", rc_average=True)
    seqs = random_seqs(3, toy_predictor.length, seed=13)
    plain = attribute(toy_predictor, seqs, "deeplift_shap", n_references=4)
    np.testing.assert_array_equal(attribute(rc, seqs, "deeplift_shap", n_references=4), plain)
    assert np.abs(rc.logits(seqs) - toy_predictor.logits(seqs)).max() > 1e-3


def test_a_nonlinearity_without_a_rule_is_refused():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.linear = _conv(), nn.Linear(6, 1)

        def forward(self, x):
            return self.linear(torch.relu(self.conv(x)).amax(-1))

    model = _randomise(Functional(), seed=14)
    with pytest.raises(RegdnaError, match="no DeepLIFT rule"):
        deeplift_multipliers(model, _onehot(8, LENGTH, 15), _onehot(8, LENGTH, 16))


def test_kmer_model_is_refused_by_deeplift_shap():
    """kmer-lr counts k-mers through an argmax: no gradient reaches the input, so DeepLIFT
    cannot explain it (ism can). k = 4: dinucleotide-shuffled references share every 2-mer
    frequency, so a 2-mer model has nothing to explain against them."""
    from regdna.models.kmer import KmerLinear

    model = _randomise(KmerLinear(1, k=4), seed=17)
    predictor = Predictor(model, task="binary", labels=["y"], length=LENGTH, device="cpu")
    with pytest.raises(RegdnaError, match="--method ism"):
        attribute(predictor, random_seqs(4, LENGTH, seed=18), "deeplift_shap", n_references=4)


# -- ism attributions share the logit units ---------------------------------------------------------
def test_ism_attributions_are_logit_differences(toy_predictor):
    """Between two bases at a position, the centred ISM hypothetical contributions differ by the
    difference of the two mutants' logits (not of their probabilities)."""
    seq = random_seqs(1, toy_predictor.length, seed=19)[0]
    hyp = attribute(toy_predictor, [seq], "ism", hypothetical=True)[0]
    positions = [3, 40, 77]
    mutants = [seq[:j] + b + seq[j + 1:] for j in positions for b in "ACGT"]
    logits = toy_predictor.logits(mutants)[:, 0].reshape(len(positions), 4)
    expected = logits - logits.mean(1, keepdims=True)
    np.testing.assert_allclose(hyp[positions], expected, rtol=0, atol=1e-4)
    probs = 1 / (1 + np.exp(-logits))
    assert np.abs((probs - probs.mean(1, keepdims=True)) - expected).max() > 1e-2
