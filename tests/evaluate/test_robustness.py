"""`regdna robustness` (regdna.evaluate.robustness): the variation score under shifted
sub-windows is 0 for a translation-equivariant model, clearly above 0 for a position-dependent
one, equals a hand alignment, scores only peak windows, and the CLI prints it."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from regdna.runs.predictor import Predictor
from profile_helpers import (BIN, LENGTH, MARGIN, MeanLogit, profile_predictor, use_predictor,
                               write_coverage_dataset, write_run)


@pytest.fixture(scope="module")
def coverage_data(tmp_path_factory):
    return write_coverage_dataset(tmp_path_factory.mktemp("robust"))[0]


def _tsv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_offsets_are_whole_bins_within_the_margin():
    from regdna.errors import RegdnaError
    from regdna.evaluate.robustness import shift_offsets

    assert shift_offsets(20, 16, 4) == [-16, -12, -8, -4, 0, 4, 8, 12, 16]   # 9 distinct
    assert shift_offsets(3, 50, 32) == [-32, 0, 32]                          # never past 50
    assert shift_offsets(5, 512, 1) == [-512, -256, 0, 256, 512]
    with pytest.raises(RegdnaError, match="less than one bin"):
        shift_offsets(20, 3, 4)


def test_equivariant_model_scores_zero_and_a_position_ramp_does_not(coverage_data, tmp_path,
                                                                    monkeypatch):
    from regdna.evaluate.robustness import run_robustness

    run = write_run(tmp_path / "run", coverage_data)
    use_predictor(monkeypatch, profile_predictor())
    flat = run_robustness(run, peaks_only=False, chunk_size=5)
    assert flat["kind"] == "profile" and flat["n"] == 23 and flat["n_shifts"] == 9
    assert flat["region_bp"] == LENGTH - 2 * MARGIN and flat["peaks_only"] is False
    assert flat["mean_variation"] == pytest.approx(0.0, abs=1e-6)
    assert max(float(r["variation"]) for r in _tsv(run / "robustness_test.tsv")) < 1e-6
    use_predictor(monkeypatch, profile_predictor(ramp=True))
    ramp = run_robustness(run, peaks_only=False)
    assert ramp["mean_variation"] > 0.05 and min(ramp["per_track"].values()) > 0.05
    assert json.loads((run / "robustness_test.json").read_text())["mean_variation"] == \
        pytest.approx(ramp["mean_variation"])
    assert (run / "figures" / "robustness_test.png").stat().st_size > 10_000


def test_variation_equals_a_hand_alignment(coverage_data):
    """Two windows, every offset: predictions placed at their stored-window positions by hand."""
    from regdna.data.dataset import read_split
    from regdna.evaluate.robustness import aligned_profiles, shift_offsets, variation

    predictor = profile_predictor(ramp=True)
    seqs = read_split(coverage_data, "test")["sequence"].tolist()[:2]
    offsets = shift_offsets(5, MARGIN, BIN)                     # -16, -8, 0, 8, 16
    got = variation(aligned_profiles(predictor, seqs, offsets, MARGIN))
    for i, seq in enumerate(seqs):
        by_position = {}                                        # stored position -> predictions
        for s in offsets:
            start = MARGIN - s                                  # stored base at window position 0
            profile = predictor.profile([seq[start:start + LENGTH]])[0]
            for b in range(LENGTH // BIN):
                by_position.setdefault(start + b * BIN, []).append(profile[b])
        shared = np.array([v for v in by_position.values() if len(v) == len(offsets)])  # (R, S, T)
        assert len(shared) == (LENGTH - 2 * MARGIN) // BIN
        expected = shared.std(axis=1).mean(axis=0) / shared.mean(axis=(0, 1))
        assert np.allclose(got[i], expected, rtol=1e-5)


def test_peak_windows_only_and_the_probability_of_a_binary_run(coverage_data, tmp_path,
                                                               monkeypatch):
    from regdna.data.dataset import read_split
    from regdna.evaluate.robustness import run_robustness

    frame = read_split(coverage_data, "test")
    run = write_run(tmp_path / "run", coverage_data)
    use_predictor(monkeypatch, profile_predictor(ramp=True))
    peaks = run_robustness(run, figures=False)                 # default: peak columns exist
    rows = _tsv(run / "robustness_test.tsv")
    for track in ("a", "b"):
        expected = set(frame["id"][frame[f"peak_{track}"] == 1])
        assert {r["id"] for r in rows if r["track"] == track} == expected
    assert peaks["peaks_only"] is True
    assert peaks["n"] == int(((frame["peak_a"] == 1) | (frame["peak_b"] == 1)).sum())

    binary = write_run(tmp_path / "binary", coverage_data, task="binary", labels=["a"],
                       threshold=0.5)
    predictor = Predictor(MeanLogit(), task="binary", labels=["a"], length=LENGTH, device="cpu")
    use_predictor(monkeypatch, predictor)
    record = run_robustness(binary, data_dir=coverage_data, n_shifts=3, figures=False)
    assert record["kind"] == "probability" and record["n_shifts"] == 3
    first = frame[frame["peak_a"] == 1]["sequence"].iloc[0]
    probs = np.array([predictor.predict([first[MARGIN - s:MARGIN - s + LENGTH]])[0, 0]
                      for s in (-MARGIN, 0, MARGIN)])
    row = _tsv(binary / "robustness_test.tsv")[0]
    assert float(row["variation"]) == pytest.approx(probs.std() / probs.mean(), rel=1e-5)


def test_cli_prints_mean_and_median_per_track(coverage_data, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from regdna.cli import app

    run = write_run(tmp_path / "run", coverage_data)
    use_predictor(monkeypatch, profile_predictor(ramp=True))
    result = CliRunner().invoke(app, ["robustness", "--run", str(run), "--all-windows",
                                      "--n-shifts", "5", "--no-figures"])
    assert result.exit_code == 0, result.output
    record = json.loads((run / "robustness_test.json").read_text())
    assert f"mean {record['per_track']['a']:.4g}, median" in result.output
    assert "b: mean" in result.output and "23 windows" in result.output
