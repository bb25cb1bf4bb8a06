"""ISM on the logit scale (the default) and on the probability scale: a confident model's
probabilities saturate at 1.0 in float32, so Δp is 0 where the logit still moves."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers import random_seqs, run_cli

from regdna.encode.onehot import one_hot
from regdna.errors import RegdnaError
from regdna.models.base import RegdnaModel
from regdna.runs.predictor import Predictor
from regdna.variants.ism import mutagenesis_with_path, run_ism, saturation_mutagenesis

L = 24


class SaturatedConv(RegdnaModel):
    """logit = sum over positions of a Conv1d (kernel 5, weights U(-0.02, 0.02) x 50) + 60: every
    reference and every mutant has a logit far above 17, where sigmoid is 1.0 in float32."""

    input_kind = "onehot"

    def __init__(self, n_outputs: int = 1, offset: float = 60.0, gain: float = 50.0, seed: int = 0):
        super().__init__()
        self.n_outputs = n_outputs
        gen = torch.Generator().manual_seed(seed)
        self.conv = torch.nn.Conv1d(4, n_outputs, kernel_size=5, padding=2)
        with torch.no_grad():
            self.conv.weight.copy_((torch.rand(self.conv.weight.shape, generator=gen) - 0.5) * 0.04 * gain)
            self.conv.bias.fill_(offset / L)

    def forward(self, x):
        return self.conv(x).sum(dim=-1)


def _predictor(model, task="binary"):
    labels = [f"y{i}" for i in range(model.n_outputs)]
    return Predictor(model.eval(), task=task, labels=labels, length=L, device="cpu", batch_size=64)


def _direct(model, seq: str, pos: int, base: str, output: int = 0, log_softmax: bool = False) -> float:
    """model(x') - model(x) by two forward passes in float64 (log-softmax of the class if asked)."""
    mutant = seq[:pos] + base + seq[pos + 1:]
    x = torch.as_tensor(one_hot([seq, mutant], dtype=np.float64, channels_first=True))
    with torch.no_grad():
        out = model.double()(x)
        model.float()
    if log_softmax:
        out = torch.log_softmax(out, dim=-1)
    return float(out[1, output] - out[0, output])


def test_probability_saturates_where_the_logit_moves():
    model = SaturatedConv()
    pred = _predictor(model)
    seqs = random_seqs(4, L, seed=1)
    assert np.all(pred.predict(seqs) == 1.0)  # saturated in float32
    prob = saturation_mutagenesis(pred, seqs, scale="probability", fast=False)
    logit = saturation_mutagenesis(pred, seqs, fast=False)  # the default scale is logit
    n_edits = 4 * L * 3
    assert np.count_nonzero(prob) / n_edits <= 0.01  # >= 99% exactly 0 (measured: all of them)
    assert np.count_nonzero(logit) == n_edits       # every substitution changes this logit
    assert np.abs(logit).max() > 3.0 and np.abs(logit[logit != 0]).mean() > 1.0
    # the mutants stay saturated: the smallest mutant logit is far above sigmoid's float32 ceiling
    ref = pred.logits(seqs)[:, 0]
    assert (ref[:, None, None] + logit).min() > 17.0
    # the logit scale is model(x') - model(x), checked by direct forward passes (both ends too)
    for i, pos, base in [(0, 0, "A"), (1, 11, "C"), (2, L - 1, "G"), (3, 5, "T"), (0, 13, "G")]:
        if seqs[i][pos] == base:
            base = "C" if base != "C" else "A"
        expected = _direct(model, seqs[i], pos, base)
        assert logit[i, pos, "ACGT".index(base)] == pytest.approx(expected, abs=2e-4)


def test_fast_path_equals_plain_on_the_logit_scale():
    pred = _predictor(SaturatedConv(n_outputs=2), task="multilabel")
    seqs = random_seqs(3, L, seed=2)
    seqs[2] = "NN" + seqs[2][2:]  # N positions get all 4 edits
    fast, path = mutagenesis_with_path(pred, seqs, output=1, group_size=2)
    plain, plain_path = mutagenesis_with_path(pred, seqs, output=1, fast=False)
    assert (path, plain_path) == ("fast", "plain")
    assert np.abs(plain).max() > 3.0  # the edits do move the logit, so the comparison can fail
    assert np.max(np.abs(fast - plain)) <= 1e-4
    assert np.count_nonzero(plain[2, :2]) == 8


def test_multiclass_uses_the_log_softmax_and_regression_the_raw_output():
    model = SaturatedConv(n_outputs=3, offset=0.0, gain=5.0, seed=3)  # not saturated
    seqs = random_seqs(2, L, seed=4)
    multi = saturation_mutagenesis(_predictor(model, "multiclass"), seqs, output=2, fast=False)
    prob = saturation_mutagenesis(_predictor(model, "multiclass"), seqs, output=2, fast=False,
                                  scale="probability")
    raw = saturation_mutagenesis(_predictor(model, "regression"), seqs, output=2, fast=False)
    raw_p = saturation_mutagenesis(_predictor(model, "regression"), seqs, output=2, fast=False,
                                   scale="probability")
    for i, pos, base in [(0, 3, "A"), (1, 20, "T"), (1, 0, "G")]:
        if seqs[i][pos] == base:
            base = "C"
        b = "ACGT".index(base)
        assert multi[i, pos, b] == pytest.approx(_direct(model, seqs[i], pos, base, 2, log_softmax=True),
                                                 abs=2e-4)
        assert raw[i, pos, b] == pytest.approx(_direct(model, seqs[i], pos, base, 2), abs=2e-4)
    # log p(class) is not the class logit: the other classes' logits move too
    assert np.abs(multi - raw).max() > 0.1
    # softmax probabilities: their change has the sign of the log-probability's change
    moved = np.abs(prob) > 1e-6
    assert moved.sum() > 100 and np.all(np.sign(prob[moved]) == np.sign(multi[moved]))
    np.testing.assert_array_equal(raw, raw_p)  # a regression output has one scale


def test_unknown_scale_is_one_error():
    with pytest.raises(RegdnaError, match="--scale 'log': use logit or probability"):
        saturation_mutagenesis(_predictor(SaturatedConv()), random_seqs(1, L), scale="log")


# -- the verb and the command line ------------------------------------------------------------------
@pytest.fixture(scope="module")
def saturated_run(tmp_path_factory):
    """A basset run dir whose last layer is scaled x 50 and shifted by +40: p = 1.0 in float32."""
    from regdna.data.dataset import DatasetInfo
    from regdna.models.registry import build_model
    from regdna.runs.config import DatasetRef, ModelConfig, RunConfig, save_config

    length, options = 120, {"filters": 0.05, "hidden": 8, "bins": 1}
    run = tmp_path_factory.mktemp("saturated") / "run"
    (run / "checkpoints").mkdir(parents=True)
    save_config(RunConfig(model=ModelConfig(spec="basset", options=options),
                          dataset=DatasetRef(task="binary", labels=["y"], length=length)),
                run / "config.yaml")
    torch.manual_seed(0)
    model = build_model("basset", DatasetInfo(task="binary", labels=["y"], length=length), **options).eval()
    last = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight.mul_(50.0)
        last.bias.add_(40.0)
    torch.save({"state_dict": {f"model.{k}": v for k, v in model.state_dict().items()}},
               run / "checkpoints" / "best.ckpt")
    fasta = run.parent / "x.fa"
    fasta.write_text("".join(f">r{i}\n{s}\n" for i, s in enumerate(random_seqs(2, length, seed=6))))
    return run, fasta




def test_run_ism_records_the_scale_in_every_output(saturated_run, tmp_path, capsys):
    import pandas as pd

    run, fasta = saturated_run
    common = ["ism", "--run", run, "--fasta", fasta, "--region", "50:70", "--top-k", "5", "--device", "cpu"]
    assert run_cli(*common, "--out", tmp_path / "logit") == 0
    said = capsys.readouterr().out
    assert "(Δ logit, fast path) ->" in said
    assert run_cli(*common, "--scale", "probability", "--out", tmp_path / "prob") == 0
    assert "(Δ probability, fast path) ->" in capsys.readouterr().out
    for name, scale in [("logit", "logit"), ("prob", "probability")]:
        out = tmp_path / name
        summary = json.loads((out / "summary.json").read_text())
        assert summary["scale"] == scale and summary["region"] == [50, 70] and summary["output"] == "y"
        with np.load(out / "ism.npz") as saved:
            assert str(saved["scale"]) == scale
        table = pd.read_csv(out / "ism.tsv", sep="\t")
        assert len(table) == 2 * 20 * 3 and set(table["scale"]) == {scale}
        assert set(pd.read_csv(out / "topk.tsv", sep="\t")["scale"]) == {scale}
    logit = pd.read_csv(tmp_path / "logit" / "ism.tsv", sep="\t")["delta"]
    prob = pd.read_csv(tmp_path / "prob" / "ism.tsv", sep="\t")["delta"]
    assert (prob == 0).mean() >= 0.99 and (logit != 0).mean() >= 0.9 and logit.abs().max() > 1e-3
    assert run_cli(*common, "--scale", "odds", "--out", tmp_path / "bad") == 2
    assert capsys.readouterr().err.strip() == "error: --scale 'odds': use logit or probability."
    assert not (tmp_path / "bad").exists()


def test_run_ism_python_default_is_logit(saturated_run, tmp_path):
    run, fasta = saturated_run
    result = run_ism(run, tmp_path / "o", fasta=fasta, region="60:62", top_k=3, device="cpu")
    assert result["scale"] == "logit" and result["label"] == "Δ logit"
    assert np.count_nonzero(result["delta"]) == 2 * 2 * 3
