"""A profile model behind the Predictor: the profile itself, and the (N, T) scalar view every
analysis uses (log1p of the summed coverage)."""
import numpy as np
import pytest
import torch

from regdna.encode.onehot import one_hot, reverse_complement
from regdna.errors import RegdnaError
from regdna.models.base import RegdnaModel
from regdna.runs.predictor import Predictor

rng = np.random.default_rng(0)
SEQS = ["".join(rng.choice(list("ACGT"), 32)) for _ in range(5)]


class PositionalProfile(RegdnaModel):
    """Coverage = softplus of a fixed conv of the input + a position ramp (not RC-symmetric)."""

    output_kind = "profile"
    n_outputs = 2

    def __init__(self, bin_size=4):
        super().__init__()
        torch.manual_seed(0)
        self.bin_size = bin_size
        self.conv = torch.nn.Conv1d(4, 2, 5, padding=2)

    def forward(self, x):
        y = torch.nn.functional.softplus(self.conv(x)).transpose(1, 2)       # (N, L, T)
        y = y + torch.linspace(0, 1, x.shape[-1])[None, :, None]
        n, length, t = y.shape
        return y.reshape(n, length // self.bin_size, self.bin_size, t).mean(2)


def _raw(model, seqs):
    with torch.no_grad():
        return model(torch.from_numpy(one_hot(seqs, dtype=np.float32, channels_first=True))).numpy()


def test_profile_and_its_rc_average():
    model = PositionalProfile()
    plain = Predictor(model, "profile", ["a", "b"], length=32, device="cpu")
    assert plain.bin_size == 4 and plain.profile_model is model
    assert np.allclose(plain.profile(SEQS), _raw(model, SEQS), atol=1e-6)
    averaged = Predictor(model, "profile", ["a", "b"], length=32, device="cpu", rc_average=True)
    rc = _raw(model, [reverse_complement(s) for s in SEQS])[:, ::-1]
    expected = (_raw(model, SEQS) + rc) / 2
    assert np.allclose(averaged.profile(SEQS), expected, atol=1e-6)
    assert not np.allclose(expected, _raw(model, SEQS), atol=1e-3)   # the ramp is not symmetric


def test_scalar_view_is_log1p_of_summed_coverage():
    model = PositionalProfile()
    whole = Predictor(model, "profile", ["a", "b"], length=32, device="cpu")
    total = _raw(model, SEQS).sum(axis=1) * 4
    assert np.allclose(whole.logits(SEQS), np.log1p(total), atol=1e-5)
    assert np.allclose(whole.predict(SEQS), total, rtol=1e-5)
    centre = Predictor(model, "profile", ["a", "b"], length=32, device="cpu", scalar="center:8")
    assert np.allclose(centre.predict(SEQS), _raw(model, SEQS)[:, 3:5].sum(axis=1) * 4, rtol=1e-5)
    grads = whole.input_gradients(SEQS, output=1)
    assert grads.shape == (5, 32, 4) and np.abs(grads).sum() > 0


def test_profile_model_refuses_other_lengths():
    predictor = Predictor(PositionalProfile(), "profile", ["a", "b"], length=32, device="cpu")
    with pytest.raises(RegdnaError, match="exactly 32 bp"):
        predictor.logits([SEQS[0] + "AC"])
    with pytest.raises(RegdnaError, match="center:W"):
        Predictor(PositionalProfile(), "profile", ["a", "b"], length=32, scalar="middle")
    label_model = Predictor(torch.nn.Conv1d(4, 1, 32), "binary", ["y"], length=32, device="cpu")
    with pytest.raises(RegdnaError, match="not a coverage profile"):
        label_model.profile(SEQS)


def test_center_scalar_covers_the_central_bases_rounded_out_to_whole_bins():
    from regdna.models.scalar import scalar_bins

    # the central 200 bp of 512 are bp 156-356: bins 4 (128-160) to 11 (352-384) inclusive
    assert scalar_bins("center:200", 512, 32) == (4, 12)
    assert scalar_bins("center:50", 500, 10) == (22, 28)       # bp 225-275
    assert scalar_bins("center:64", 512, 32) == (7, 9)          # exactly two bins
    assert scalar_bins("sum", 512, 32) == (0, 16)
