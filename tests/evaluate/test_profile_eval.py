"""Evaluation of profile runs (regdna.evaluate.profile): per-window metrics, whole-chromosome
Pearson over the tiled test chromosome and the predicted bigWigs, task conversion, a binary run
evaluated on a coverage dataset, and `run_evaluate` writing metrics_<split>.json.

The coverage dataset and toy models come from `profile_helpers` (shared with other tests).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import spearmanr

from profile_helpers import (BIN, BLACKLIST, CHROMS, LENGTH, MARGIN, MeanLogit, profile_predictor,
                             use_predictor, write_coverage_dataset, write_run)
from regdna.runs.predictor import Predictor


@pytest.fixture(scope="module")
def coverage_data(tmp_path_factory):
    return write_coverage_dataset(tmp_path_factory.mktemp("coverage"))


def _test_windows(data_dir):
    from regdna.data.dataset import read_coverage, read_split

    frame = read_split(data_dir, "test")
    central = [s[MARGIN:MARGIN + LENGTH] for s in frame["sequence"]]
    cover = np.asarray(read_coverage(data_dir, "test"), dtype=np.float32)[:, MARGIN:MARGIN + LENGTH]
    measured = cover.reshape(len(cover), LENGTH // BIN, BIN, -1).mean(axis=2)
    return frame, central, measured


def _expected_tiles(genome):
    chrom, lo, hi = BLACKLIST
    size = CHROMS[chrom][1]
    return [s for s in range(0, size - LENGTH + 1, LENGTH)
            if not (s < hi and s + LENGTH > lo) and "N" not in genome[chrom][s:s + LENGTH]]


def test_per_window_metrics_and_conversion_equal_direct_numpy(coverage_data, tmp_path):
    from sklearn.metrics import average_precision_score, roc_auc_score

    from regdna.data.dataset import load_info
    from regdna.evaluate.profile import profile_report

    data_dir, _, _ = coverage_data
    predictor = profile_predictor()
    report = profile_report(predictor, data_dir, load_info(data_dir), "test", whole=False,
                            figures=False, chunk_size=7)       # chunks of 7: streaming joins up
    frame, seqs, measured = _test_windows(data_dir)
    predicted = predictor.profile(seqs)
    assert report["n"] == len(frame) == 23 and report["whole"] is None
    for t, track in enumerate(["a", "b"]):
        got = report["per_track"][track]
        r = [np.corrcoef(measured[i, :, t], predicted[i, :, t])[0, 1] for i in range(len(frame))]
        rho = [spearmanr(measured[i, :, t], predicted[i, :, t])[0] for i in range(len(frame))]
        assert got["pearson"] == pytest.approx(np.mean(r), abs=1e-9)
        assert got["spearman"] == pytest.approx(np.mean(rho), abs=1e-9)
        assert got["mse"] == pytest.approx(np.mean((measured[..., t] - predicted[..., t]) ** 2),
                                           rel=1e-6)
        assert got["flat_windows"] == 0
        summed = BIN * predicted[..., t].astype(np.float64).sum(axis=1)
        # the summed predicted coverage is what Predictor.predict gives (expm1 of the scalar logit)
        assert np.allclose(summed, predictor.predict(seqs)[:, t], rtol=1e-4)
        peaks = frame[f"peak_{track}"].to_numpy()
        assert got["auroc"] == pytest.approx(roc_auc_score(peaks, summed), abs=1e-12)
        assert got["pr_auc"] == pytest.approx(average_precision_score(peaks, summed), abs=1e-12)
    assert report["pearson"] == pytest.approx(np.mean([report["per_track"][t]["pearson"]
                                                       for t in "ab"]))


def test_flat_windows_are_skipped_and_counted():
    from regdna.evaluate.correlation import row_correlation

    a = np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0], [1.0, 0.0, 1.0]])
    b = np.array([[1.0, 2.0, 4.0], [1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])
    r = row_correlation(a, b)
    assert r[0] == pytest.approx(np.corrcoef(a[0], b[0])[0, 1]) and np.isnan(r[1:]).all()
    assert row_correlation(a[:1], b[:1], "spearman")[0] == pytest.approx(1.0)


def test_moments_merge_batches_as_one_pass():
    from regdna.evaluate.profile import Moments

    rng = np.random.default_rng(3)
    x = 1e4 + rng.random((5000, 2))                   # a large mean: no cancellation
    y = 0.5 * x + rng.random((5000, 2))
    moments = Moments(2)
    for lo in range(0, 5000, 333):
        moments.add(x[lo:lo + 333], y[lo:lo + 333])
    for t in range(2):
        assert moments.pearson()[t] == pytest.approx(np.corrcoef(x[:, t], y[:, t])[0, 1], abs=1e-9)
        scale = x[:, t].mean() / y[:, t].mean()
        assert moments.mse(scale)[t] == pytest.approx(np.mean((x[:, t] - scale * y[:, t]) ** 2),
                                                      rel=1e-8)


def test_whole_chromosome_equals_the_concatenated_chromosome_and_the_bigwig_reads_back(
        coverage_data, tmp_path, monkeypatch):
    import pybigtools

    from regdna.evaluate.evaluate import run_evaluate

    data_dir, genome, coverage = coverage_data
    predictor = profile_predictor()
    run = write_run(tmp_path / "run", data_dir)
    use_predictor(monkeypatch, predictor)
    report = run_evaluate(run, split="test", regions=["chr3:500-560"])
    saved = json.loads((run / "metrics_test.json").read_text())
    assert saved["task"] == "profile" and saved["bin_size"] == BIN and saved["tracks"] == ["a", "b"]
    starts = _expected_tiles(genome)
    assert len(starts) == 13
    assert report["whole"] == {"chroms": ["chr3"], "n_windows": 13, "n_bins": 13 * LENGTH // BIN,
                               "skipped_windows": {"blacklist": 1, "n": 1}}
    predicted = predictor.profile([genome["chr3"][s:s + LENGTH] for s in starts])   # (13, B, T)
    measured = np.stack([coverage["chr3"][s:s + LENGTH] for s in starts])
    measured = measured.reshape(13, LENGTH // BIN, BIN, 2).mean(axis=2)
    for t, track in enumerate(["a", "b"]):
        m, p = measured[..., t].ravel(), predicted[..., t].ravel().astype(np.float64)
        got = saved["per_track"][track]
        assert got["pearson_whole"] == pytest.approx(np.corrcoef(m, p)[0, 1], abs=1e-6)
        scale = m.mean() / p.mean()
        assert got["scale"] == pytest.approx(scale, rel=1e-5)
        assert got["mse_whole"] == pytest.approx(np.mean((m - p) ** 2), rel=1e-5)
        assert got["mse_whole_scaled"] == pytest.approx(np.mean((m - scale * p) ** 2), rel=1e-5)
        # Pearson is invariant to the global scale
        assert np.corrcoef(m, scale * p)[0, 1] == pytest.approx(got["pearson_whole"], abs=1e-6)
        assert saved["bigwigs"][track] == f"predictions_test/{track}.bw"
        with pybigtools.open(str(run / saved["bigwigs"][track])) as bigwig:
            for i, s in enumerate(starts):
                back = bigwig.values("chr3", s, s + LENGTH, fillna=0.0)
                assert np.allclose(back, np.repeat(predicted[i, :, t], BIN), rtol=1e-6)
            assert np.all(bigwig.values("chr3", 64, 128, fillna=0.0) == 0)     # blacklisted tile
    assert saved["pearson_whole"] == pytest.approx(
        np.mean([saved["per_track"][t]["pearson_whole"] for t in "ab"]))
    assert (run / "figures" / "tracks_test.png").stat().st_size > 10_000


def test_whole_is_skipped_with_a_warning_when_the_genome_moved(tmp_path, monkeypatch):
    from regdna.errors import RegdnaError
    from regdna.evaluate.evaluate import run_evaluate

    data_dir, _, _ = write_coverage_dataset(tmp_path / "moved")
    (tmp_path / "moved" / "genome.fa").rename(tmp_path / "moved" / "elsewhere.fa")
    run = write_run(tmp_path / "run", data_dir)
    use_predictor(monkeypatch, profile_predictor())
    report = run_evaluate(run, split="test", figures=False)
    assert report["whole"] is None and report["per_track"]["a"]["pearson_whole"] is None
    assert len(report["warnings"]) == 1 and "genome" in report["warnings"][0] \
        and "--no-whole" in report["warnings"][0] and "\n" not in report["warnings"][0]
    assert report["per_track"]["a"]["pearson"] is not None
    with pytest.raises(RegdnaError, match="genome .* is gone"):
        run_evaluate(run, split="test", figures=False, whole=True)
    with pytest.raises(RegdnaError, match="overlaps no window"):
        run_evaluate(run, split="test", whole=False, regions=["chr1:0-50"])


def test_binary_run_on_a_coverage_dataset_gets_the_conversion_section(tmp_path, monkeypatch):
    from sklearn.metrics import roc_auc_score

    from regdna.evaluate.evaluate import run_evaluate

    data_dir, genome, coverage = write_coverage_dataset(tmp_path / "one", tracks=("a",))
    predictor = Predictor(MeanLogit(), task="binary", labels=["a"], length=LENGTH, device="cpu")
    run = write_run(tmp_path / "run", data_dir.parent / "elsewhere", task="binary", labels=["a"],
                    threshold=0.5)
    use_predictor(monkeypatch, predictor)
    report = run_evaluate(run, split="test", data_dir=data_dir, n_boot=20, figures=False)
    assert (run / "metrics_test_data.json").is_file()
    frame, seqs, _ = _test_windows(data_dir)
    logits = predictor.logits(seqs)[:, 0]
    totals = frame["a"].to_numpy()
    got = report["conversion"]["per_track"]["a"]
    assert got["output"] == "a"
    assert got["pearson"] == pytest.approx(np.corrcoef(logits, totals)[0, 1], abs=1e-6)
    assert got["spearman"] == pytest.approx(spearmanr(logits, totals)[0], abs=1e-6)
    starts = _expected_tiles(genome)
    whole_logits = predictor.logits([genome["chr3"][s:s + LENGTH] for s in starts])[:, 0]
    whole_totals = [coverage["chr3"][s:s + LENGTH, 0].sum() for s in starts]
    assert got["pearson_whole"] == pytest.approx(np.corrcoef(whole_logits, whole_totals)[0, 1],
                                                 abs=1e-6)
    # the usual binary metrics, against the track's peak column
    assert report["auroc"] == pytest.approx(roc_auc_score(frame["peak_a"], logits), abs=1e-9)
    assert report["threshold"] == 0.5 and report["n"] == len(frame)


def test_a_binary_output_named_after_one_of_two_tracks_is_scored_on_its_peaks(
        coverage_data, tmp_path, monkeypatch):
    """A classifier of track b's peaks, evaluated on a two-track coverage dataset: its logit is
    compared with both tracks' coverage, and its AUROC is taken on peak_b."""
    from sklearn.metrics import roc_auc_score

    from regdna.evaluate.evaluate import run_evaluate

    data_dir = coverage_data[0]
    predictor = Predictor(MeanLogit(), task="binary", labels=["b"], length=LENGTH, device="cpu")
    run = write_run(tmp_path / "run", data_dir.parent / "elsewhere", task="binary", labels=["b"],
                    threshold=0.5)
    use_predictor(monkeypatch, predictor)
    report = run_evaluate(run, split="test", data_dir=data_dir, n_boot=20, figures=False,
                          whole=False)
    frame, seqs, _ = _test_windows(data_dir)
    logits = predictor.logits(seqs)[:, 0]
    assert set(report["conversion"]["per_track"]) == {"a", "b"}
    assert report["auroc"] == pytest.approx(roc_auc_score(frame["peak_b"], logits), abs=1e-9)


def test_cli_evaluate_prints_each_track(coverage_data, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from regdna.cli import app

    data_dir, _, _ = coverage_data
    run = write_run(tmp_path / "run", data_dir)
    use_predictor(monkeypatch, profile_predictor())
    result = CliRunner().invoke(app, ["evaluate", "--run", str(run), "--no-whole", "--region",
                                      "chr3:500-560", "--region", "chr3:20-30"])
    assert result.exit_code == 0, result.output
    saved = json.loads((run / "metrics_test.json").read_text())
    assert saved["whole"] is None and not (run / "predictions_test").exists()
    for track in ("a", "b"):
        assert f"  {track}: pearson={saved['per_track'][track]['pearson']:.4g}," in result.output
    assert (run / "figures" / "tracks_test.png").is_file()
