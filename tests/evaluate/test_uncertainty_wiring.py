"""Temperature scaling (Guo et al. 2017) and split conformal prediction (Angelopoulos & Bates
2021) wired into a run: calibration.json written by `fit`, the `calibration` / `conformal`
sections of `evaluate`, the CLI lines, and the two-curve reliability diagram."""
import json
import shutil

import numpy as np
import pytest
import torch
from scipy.stats import binom

from regdna.cli import main
from regdna.data.dataset import load_info
from regdna.evaluate import uncertainty as U
from regdna.runs import layout

SCALE = 4.0      # the toy model reports SCALE x the trained model's logits: over-confident


class _Scaled(torch.nn.Module):
    def __init__(self, model, scale):
        super().__init__()
        self.model, self.scale = model, scale

    def forward(self, x):
        return self.scale * self.model(x)


def _coverage_interval(n_test: int, level: float = 0.9) -> tuple[float, float]:
    """The binomial 99% interval of the coverage of n_test sequences at `level` (for the
    example's 659 test windows: [0.870, 0.929])."""
    lo, hi = binom.interval(0.99, n_test, level)
    return lo / n_test, hi / n_test


@pytest.fixture(scope="module")
def overconfident(basset_run):
    from regdna.runs import Predictor, load_predictor

    base = load_predictor(basset_run, device="cpu")
    return Predictor(_Scaled(base.model, SCALE), task="binary", labels=base.labels,
                     length=base.length, device="cpu", batch_size=256,
                     rc_average=base.rc_average)


def test_fit_writes_calibration_before_threshold(basset_run):
    record = layout.read_calibration(basset_run)
    assert record["task"] == "binary" and record["split"] == "val" and record["n"] > 100
    assert 0.01 <= record["temperature"] <= 100
    # the temperature minimises the validation NLL, so it cannot be worse than T = 1
    assert record["after"]["nll"] <= record["before"]["nll"] + 1e-9
    written = (basset_run / layout.CALIBRATION).stat().st_mtime_ns
    assert written <= (basset_run / layout.THRESHOLD).stat().st_mtime_ns   # threshold.json last
    metrics = json.loads((basset_run / "metrics_test.json").read_text())  # fixture's evaluate
    assert metrics["calibration"]["source"] == layout.CALIBRATION
    assert metrics["calibration"]["temperature"] == pytest.approx(record["temperature"])
    assert metrics["conformal"]["coverage"] == 0.9


def test_overconfident_model_is_softened_and_covered(overconfident, basset_run, basset_train_dir,
                                                     tmp_path):
    info = load_info(basset_train_dir)
    record = U.fit_uncertainty(overconfident, basset_train_dir, info)
    # NLL(z * s / T) is minimised at T = s x the trained model's temperature
    trained = layout.read_calibration(basset_run)["temperature"]
    assert record["temperature"] == pytest.approx(SCALE * trained, rel=1e-3)
    assert record["temperature"] > 1.5
    assert record["after"]["ece"] < record["before"]["ece"]
    layout.write_calibration(tmp_path, record)
    sections, calibrated = U.uncertainty_report(overconfident, tmp_path, basset_train_dir, info,
                                                "test", None, None, coverage=0.9)
    calibration, conformal = sections["calibration"], sections["conformal"]
    assert calibration["source"] == layout.CALIBRATION and not calibration["notes"]
    assert calibration["after"]["ece"] < calibration["before"]["ece"]      # on test
    assert calibration["after"]["nll"] < calibration["before"]["nll"]
    assert calibrated.shape[1] == 1 and np.all((calibrated > 0) & (calibrated < 1))
    n_test = calibrated.shape[0]
    assert n_test >= 200
    lo, hi = _coverage_interval(n_test)
    assert lo <= conformal["empirical_coverage"] <= hi, (conformal, lo, hi)
    assert 0.5 < conformal["mean_set_size"] < 2.0
    # a run dir without calibration.json: the same temperature, fitted now, with a note
    empty = tmp_path / "old_run"
    empty.mkdir()
    sections, _ = U.uncertainty_report(overconfident, empty, basset_train_dir, info, "test",
                                       None, None, coverage=0.9)
    assert sections["calibration"]["temperature"] == pytest.approx(record["temperature"])
    assert sections["calibration"]["source"] != layout.CALIBRATION
    assert "calibration.json is absent" in sections["calibration"]["notes"][0]


def test_conformal_report_regression_and_multiclass():
    rng = np.random.default_rng(0)
    n = 3000
    truth = rng.normal(size=(2 * n, 2))
    y = truth + rng.normal(scale=[0.5, 2.0], size=(2 * n, 2))   # two outputs, two noise levels
    out = U.conformal_report(y[:n], truth[:n], y[n:], truth[n:], "regression", ["a", "b"], 0.9)
    assert out["qhat"] == pytest.approx([1.645 * 0.5, 1.645 * 2.0], rel=0.08)
    assert abs(out["empirical_coverage"] - 0.9) < 0.015
    assert out["mean_width"] == pytest.approx(2 * 1.645 * 1.25, rel=0.08)
    logits = rng.normal(size=(2 * n, 3)) * 2
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    classes = np.array([rng.choice(3, p=row) for row in p])
    out = U.conformal_report(classes[:n], p[:n], classes[n:], p[n:], "multiclass", ["c"], 0.8)
    assert abs(out["empirical_coverage"] - 0.8) < 0.02
    assert 1.0 < out["mean_set_size"] < 3.0


def test_cli_prints_calibration_and_conformal(basset_run, tmp_path, capsys):
    run = shutil.copytree(basset_run, tmp_path / "run")
    try:
        main(["evaluate", "--run", str(run), "--no-figures", "--no-shifts", "--n-boot", "20",
              "--coverage", "0.8"])
    except SystemExit as done:
        assert done.code in (0, None)
    lines = capsys.readouterr().out.splitlines()
    calibration = [line for line in lines if line.strip().startswith("calibration: ECE")]
    conformal = [line for line in lines if line.strip().startswith("conformal 80%: empirical")]
    assert len(calibration) == 1 and "from calibration.json" in calibration[0]
    assert len(conformal) == 1 and "mean set size" in conformal[0]
    metrics = json.loads((run / "metrics_test.json").read_text())
    assert metrics["conformal"]["coverage"] == 0.8
    assert f"{metrics['conformal']['empirical_coverage']:.3f}" in conformal[0]


def test_reliability_figure_draws_both_curves(monkeypatch, tmp_path):
    from regdna.evaluate.figures import reliability_figure
    from regdna.plot import curves

    drawn = {}
    monkeypatch.setattr(curves, "save", lambda fig, path: drawn.setdefault("fig", fig) and path)
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-z))).astype(float)
    reliability_figure(y, 1 / (1 + np.exp(-4 * z)), tmp_path / "r.png",
                       calibrated=1 / (1 + np.exp(-z)))
    labels = [line.get_label() for line in drawn["fig"].axes[0].get_lines()]
    assert any(label.startswith("before scaling, ECE") for label in labels)
    assert any(label.startswith("after temperature scaling, ECE") for label in labels)
