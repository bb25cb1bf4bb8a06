"""Saturation mutagenesis: definition checked by hand, fast path == plain for the real CNNs,
token models through re-tokenized strings."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from helpers import random_seqs
from var_helpers import gc_logit, gc_predictor, random_bn

from regdna.data.dataset import DatasetInfo
from regdna.errors import RegdnaError
from regdna.models.registry import build_model
from regdna.runs.predictor import Predictor
from regdna.variants.fast_ism import FastISM
from regdna.variants.ism import ism_table, mutagenesis_with_path, saturation_mutagenesis

L = 200


def _predictor(spec: str, n_out: int = 1, **options) -> Predictor:
    torch.manual_seed(0)
    labels = ["y"] if n_out == 1 else [f"y{i}" for i in range(n_out)]
    info = DatasetInfo(task="binary" if n_out == 1 else "multilabel", labels=labels, length=L)
    model = random_bn(build_model(spec, info, **options))
    return Predictor(model, task=info.task, labels=labels, length=L, device="cpu", batch_size=64)


def test_delta_definition_by_hand():
    seqs = ["ACGTACGTAAAAATTTTTGC"]
    delta = saturation_mutagenesis(gc_predictor(), seqs, fast=False, batch_size=13, scale="probability")
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    z = gc_logit(seqs[0])
    assert delta.shape == (1, 20, 4)
    # identity edits stay exactly 0: A at 0, C at 1, ...
    assert delta[0, 0, 0] == 0 and delta[0, 1, 1] == 0 and delta[0, 19, 1] == 0
    # A -> G at position 0: one more G/C in 20 bp -> logit + 0.5
    assert delta[0, 0, 2] == pytest.approx(sig(z + 0.5) - sig(z), abs=1e-6)
    assert delta[0, 1, 0] == pytest.approx(sig(z - 0.5) - sig(z), abs=1e-6)   # C -> A
    assert delta[0, 1, 2] == pytest.approx(0.0, abs=1e-7)                      # C -> G
    table = ism_table(delta, seqs, ["s"])
    assert len(table) == 60 and set(table.columns) == {"seq_id", "pos", "ref", "alt", "delta"}
    assert table.query("pos == 0 and alt == 'G'")["delta"].item() == pytest.approx(delta[0, 0, 2])


@pytest.mark.parametrize("spec,options,rc", [
    ("basset", {"filters": 0.1, "hidden": 32}, False),
    ("basset", {"filters": 0.1, "hidden": 32, "bins": 1}, True),
    ("residualbind", {"filters": 0.15, "hidden": 16}, False),
])
def test_fast_equals_plain_on_real_cnns(spec, options, rc):
    pred = _predictor(spec, n_out=2, **options)
    pred.rc_average = rc  # strand averaging: mutants of the reverse complement mirrored
    seqs = random_seqs(2, 120, seed=1)
    seqs[1] = "N" * 7 + seqs[1][7:]  # N positions get all 4 edits
    engine = FastISM.build(pred.model, (4, 120), pred.device)
    assert engine is not None and engine.receptive_field > 19  # the trunk goes past conv 1
    fast, path = mutagenesis_with_path(pred, seqs, 1, None, True, 400, True, 1)
    assert path == "fast"
    plain = saturation_mutagenesis(pred, seqs, output=1, fast=False, batch_size=400)
    assert np.abs(plain).max() > 1e-4  # a test that can fail: the model reacts to edits
    assert np.max(np.abs(fast - plain)) <= 1e-5
    assert np.count_nonzero(plain[1, :7]) > 0 and np.all(plain[0][_onehot_mask(seqs[0])] == 0)


def _onehot_mask(seq: str) -> np.ndarray:
    mask = np.zeros((len(seq), 4), dtype=bool)
    for i, b in enumerate(seq):
        if b in "ACGT":
            mask[i, "ACGT".index(b)] = True
    return mask


def test_region_and_errors():
    pred = _predictor("basset", filters=0.1, hidden=16)
    seqs = random_seqs(1, L, seed=2)
    delta = saturation_mutagenesis(pred, seqs, region=(50, 60))
    assert np.count_nonzero(delta[0, :50]) == 0 and np.count_nonzero(delta[0, 60:]) == 0
    assert np.count_nonzero(delta[0, 50:60]) >= 25  # 30 edits; a max-pool can hide one
    with pytest.raises(RegdnaError, match="region 60:50"):
        saturation_mutagenesis(pred, seqs, region=(60, 50))
    with pytest.raises(RegdnaError, match="output 3 out of range"):
        saturation_mutagenesis(pred, seqs, output=3)


def test_untraceable_model_falls_back_to_plain():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        delta, path = mutagenesis_with_path(gc_predictor(), random_seqs(2, 20), 0, None, True, 64, True, 8)
    assert path == "plain" and any("fast ISM disabled" in str(w.message) for w in caught)
    assert delta.shape == (2, 20, 4)


def test_token_model_mutants_are_retokenized():
    pred = _predictor("tinyformer", d_model=16, n_layers=1, n_heads=2, k=3)
    assert pred.input_kind == "tokens"
    seqs = random_seqs(2, 40, seed=3)
    delta = saturation_mutagenesis(pred, seqs, batch_size=50)
    f = pred.logits(seqs)[:, 0]
    mutant = seqs[1][:17] + ("A" if seqs[1][17] != "A" else "C") + seqs[1][18:]
    base = "ACGT".index(mutant[17])
    assert delta[1, 17, base] == pytest.approx(pred.logits([mutant])[0, 0] - f[1], abs=1e-6)
    # every entry is its re-tokenized mutant's change of logit: reference bases exactly 0, all
    # 2 x 40 x 3 mutants checked against a plain prediction of the mutated string
    ref = np.array([["ACGT".index(b) for b in s] for s in seqs])
    assert np.all(np.take_along_axis(delta, ref[..., None], axis=2) == 0)
    mutants = [s[:j] + b + s[j + 1:] for s in seqs for j in range(40) for b in "ACGT" if b != s[j]]
    expected = pred.logits(mutants)[:, 0].reshape(2, 40, 3) - f[:, None, None]
    alt = np.array([[[k for k in range(4) if k != r] for r in row] for row in ref])
    np.testing.assert_allclose(np.take_along_axis(delta, alt, axis=2), expected, atol=1e-6)
    assert np.count_nonzero(np.take_along_axis(delta, alt, axis=2)) > 0.9 * 2 * 40 * 3
