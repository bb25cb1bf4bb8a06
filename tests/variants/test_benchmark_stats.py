"""The statistics `benchmark-models` adds, against hand computations: Steiger (1980) Z for two
dependent correlations, the paired bootstrap of a Spearman difference, Spearman of tied data,
intervals, and the strata of `benchmark-variants --stratify-by`."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from regdna.evaluate.correlation import coefficient
from regdna.variants.benchmark import (correlations_with_ci, paired_bootstrap, steiger_test,
                                       steiger_z, stratify_by_column)
from regdna.variants.benchmark_variants import run_benchmark_variants


def test_steiger_z_by_hand():
    # r_a = corr(A, Y) = 0.5, r_b = corr(B, Y) = 0.3, r_ab = corr(A, B) = 0.4, n = 103.
    # rbar = 0.4, rbar^2 = 0.16; psi = 0.4 (1 - 0.32) - 0.16 (1 - 0.32 - 0.16) / 2
    #                                 = 0.272 - 0.0416 = 0.2304
    # c = 0.2304 / (1 - 0.16)^2 = 0.2304 / 0.7056 = 16/49; 2 - 2c = 66/49
    # z_a - z_b = atanh(0.5) - atanh(0.3) = 0.549306 - 0.309520 = 0.239786
    # Z = 0.239786 * sqrt(100) / sqrt(66/49) = 2.39786 * 7 / 8.124038 = 2.0661
    z, p = steiger_z(0.5, 0.3, 0.4, 103)
    assert z == pytest.approx(2.39786 * 7 / math.sqrt(66), rel=1e-5)
    assert z == pytest.approx(2.0661, abs=1e-4)
    assert p == pytest.approx(2 * (1 - stats.norm.cdf(2.0661)), abs=1e-4)   # 0.0388
    assert p == pytest.approx(0.0388, abs=1e-4)
    z_swapped, p_swapped = steiger_z(0.3, 0.5, 0.4, 103)
    assert (z_swapped, p_swapped) == pytest.approx((-z, p))
    # the more the two models agree, the smaller the difference that is significant
    assert steiger_z(0.5, 0.3, 0.8, 103)[1] < p < steiger_z(0.5, 0.3, 0.0, 103)[1]
    assert all(math.isnan(v) for v in steiger_z(0.5, 0.3, 0.4, 3))


def test_steiger_test_on_data_uses_the_three_correlations_of_the_shared_rows():
    rng = np.random.default_rng(0)
    y = rng.normal(size=300)
    a = y + rng.normal(size=300)          # r ~ 0.7
    b = y + 2 * rng.normal(size=300)      # r ~ 0.45
    b[:20] = np.nan                       # B did not score 20 variants: both on 280
    res = steiger_test(a, b, y)
    keep = np.isfinite(b)
    assert res["n"] == 280
    assert res["pearson_a"] == pytest.approx(stats.pearsonr(a[keep], y[keep])[0])
    assert res["r_ab"] == pytest.approx(stats.pearsonr(a[keep], b[keep])[0])
    assert (res["steiger_z"], res["steiger_p"]) == pytest.approx(
        steiger_z(res["pearson_a"], res["pearson_b"], res["r_ab"], 280))
    assert res["steiger_z"] > 0 and res["steiger_p"] < 1e-4
    same = steiger_test(a, a, y)           # one model against itself: no difference
    assert (same["steiger_z"], same["steiger_p"]) == (0.0, 1.0)


def test_paired_bootstrap_sees_a_better_model_and_not_two_identical_ones():
    rng = np.random.default_rng(1)
    y = rng.normal(size=200)
    good = y + 0.3 * rng.normal(size=200)
    bad = y + 3.0 * rng.normal(size=200)
    res = paired_bootstrap(good, bad, y, n_boot=300, seed=0)
    assert res["r_a"] == pytest.approx(stats.spearmanr(good, y)[0])
    assert res["diff"] == pytest.approx(res["r_a"] - res["r_b"]) and res["diff"] > 0.4
    assert res["diff_low"] > 0 and res["n_boot"] == 300
    # every resample has good > bad: p = 2 (1 + 0) / 301
    assert res["bootstrap_p"] == pytest.approx(2 / 301)
    same = paired_bootstrap(good, good.copy(), y, n_boot=300, seed=0)
    assert same["diff"] == 0 and same["bootstrap_p"] == 1.0
    assert same["diff_low"] == same["diff_high"] == 0
    # the order of the two models flips the sign, not the evidence
    swapped = paired_bootstrap(bad, good, y, n_boot=300, seed=0)
    assert swapped["diff"] == pytest.approx(-res["diff"])
    assert swapped["bootstrap_p"] == res["bootstrap_p"]


def test_spearman_with_ties_is_scipys_and_the_intervals_bracket_it():
    x = np.array([1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 7, 7], dtype=float)
    y = np.array([2, 1, 3, 3, 5, 4, 4, 6, 8, 7, 7, 9], dtype=float)
    assert coefficient(x, y, "spearman") == pytest.approx(stats.spearmanr(x, y)[0])
    row = correlations_with_ci(x, y, n_boot=200, seed=0)
    assert row["spearman"] == pytest.approx(stats.spearmanr(x, y)[0])
    assert row["pearson"] == pytest.approx(stats.pearsonr(x, y)[0])
    assert row["spearman_low"] <= row["spearman"] <= row["spearman_high"] <= 1
    assert row["pearson_low"] <= row["pearson"] <= row["pearson_high"] <= 1
    assert row["spearman_high"] - row["spearman_low"] > 0.05     # 12 points: a wide interval
    flat = correlations_with_ci(np.ones(12), y, n_boot=50)
    assert math.isnan(flat["spearman"]) and math.isnan(flat["spearman_low"]) and flat["note"]


def test_stratify_by_column_picks_the_rows_of_each_quantile_bin():
    # spread 0..8 in shuffled order: bins {0,1,2}, {3,4,5}, {6,7,8}
    spread = np.array([4, 0, 8, 2, 6, 1, 7, 3, 5], dtype=float)
    measured = np.array([5, 1, 9, 3, 7, 2, 8, 4, 6], dtype=float)
    pred = measured.copy()
    pred[spread >= 6] = -measured[spread >= 6]           # the least confident third: reversed
    pred[(spread >= 3) & (spread < 6)] = [2, 1, 3]       # the middle third: 5, 4, 6 -> 2, 1, 3
    table = stratify_by_column(pred, measured, spread, 3)
    assert table["stratum"].tolist() == [1, 2, 3]
    assert table["n"].tolist() == [3, 3, 3]
    assert table["low"].tolist() == [0, 3, 6] and table["high"].tolist() == [2, 5, 8]
    assert table["spearman"].tolist() == pytest.approx([1.0, 1.0, -1.0])
    assert table["pearson"].tolist() == pytest.approx([1.0, 1.0, -1.0])
    # NaN spread: left out; heavy ties: fewer bins rather than a tie split across two
    spread[0] = np.nan
    assert stratify_by_column(pred, measured, spread, 3)["n"].sum() == 8
    tied = stratify_by_column(pred, measured, np.array([0, 0, 0, 0, 0, 0, 1, 1, 1.0]), 3)
    assert tied["n"].tolist() == [6, 3]


def test_benchmark_variants_stratify_by_writes_the_strata(tmp_path):
    rng = np.random.default_rng(2)
    n = 90
    measured = rng.normal(size=n)
    spread = rng.uniform(size=n)
    # the prediction's error grows with its spread: confident rows agree better
    pred = measured + 3 * spread * rng.normal(size=n)
    scores = pd.DataFrame({"id": [f"v{i}" for i in range(n)], "log2_ratio": pred,
                           "log2_ratio_std": spread, "reason": ""})
    truth = pd.DataFrame({"id": scores["id"], "measured": measured})
    metrics = run_benchmark_variants(scores, truth, tmp_path / "b", stratify_by="log2_ratio_std",
                                     n_strata=3)
    rows = metrics["strata"]["rows"]
    assert [r["n"] for r in rows] == [30, 30, 30]
    order = np.argsort(spread)
    low = order[:30]
    assert rows[0]["pearson"] == pytest.approx(stats.pearsonr(pred[low], measured[low])[0])
    assert rows[0]["high"] == pytest.approx(spread[low].max())
    assert rows[0]["spearman"] > rows[2]["spearman"] + 0.2
    saved = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert saved["strata"]["column"] == "log2_ratio_std"
    assert (tmp_path / "b" / "strata.png").stat().st_size > 0
    assert len(pd.read_csv(tmp_path / "b" / "strata.tsv", sep="\t")) == 3
    from regdna.errors import RegdnaError

    with pytest.raises(RegdnaError, match="--stratify-by nope: no such column"):
        run_benchmark_variants(scores, truth, tmp_path / "c", stratify_by="nope")
