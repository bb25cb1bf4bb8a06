"""Every benchmark statistic against a value computed by hand (Morenu n.d.; Manzo et al. n.d.)."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from regdna.evaluate.correlation import correlation
from regdna.variants.benchmark import (hypergeom_overlap, ld_block_topk, stratify_by_pvalue,
                                       topk_agreement, up_down_rates)
from regdna.variants.benchmark_variants import run_benchmark_variants


def test_pearson_and_spearman_with_ties_by_hand():
    # deviations (-1.5,-.5,.5,1.5) and (-1.5,.5,-.5,1.5): sum of products 4, sums of squares 5, 5
    assert correlation([1, 2, 3, 4], [1, 3, 2, 4], "pearson")["r"] == pytest.approx(0.8)
    # ties get average ranks: x ranks (1, 2.5, 2.5, 4), y ranks (1, 3, 2, 4): 4.5 / sqrt(4.5 * 5)
    res = correlation([1, 2, 2, 3], [1, 3, 2, 4], "spearman")
    assert res["r"] == pytest.approx(4.5 / math.sqrt(22.5)) and res["n"] == 4 and res["note"] == ""


def test_constant_input_is_nan_with_a_reason():
    res = correlation([0.5] * 70, np.arange(70), "spearman")
    assert math.isnan(res["r"]) and "predicted scores are constant (0.5 for all 70)" in res["note"]
    short = correlation([1, 2], [2, 1])
    assert math.isnan(short["r"]) and "only 2 finite pairs" in short["note"]
    # NaN pairs are dropped, not propagated
    assert correlation([1, 2, np.nan, 3, 4], [1, 3, 5, 2, 4])["r"] == pytest.approx(0.8)


def test_up_down_rates_by_hand():
    rates = up_down_rates([1, -1, 2, 0, -3, 1], [2, 1, 3, -1, -2, -5])
    assert rates["up_rate"] == pytest.approx(2 / 3)          # measured up: idx 0, 1, 2
    assert rates["down_rate"] == pytest.approx(1 / 3)        # measured down: idx 3 (0 = neither), 4, 5
    assert rates["up_predicted_down"] == pytest.approx(1 / 3)
    assert rates["down_predicted_up"] == pytest.approx(1 / 3)
    assert (rates["n_up"], rates["n_down"]) == (3, 3)


def test_pvalue_strata_thresholds():
    pred = np.array([1, -1, 2, 0.5, -3, 1])
    meas = np.array([2, 1, 3, -1, -2, -5])
    p = np.array([0.9, 0.3, 0.05, 1e-6, 4e-5, 0.2])
    strata = stratify_by_pvalue(pred, meas, p)
    assert strata["subset"].tolist() == ["all", "p < 0.5", "p < 0.1", "p < 5e-05", "p < 1e-05"]
    assert strata["n"].tolist() == [6, 5, 3, 2, 1]
    # p < 0.1: idx 2, 3, 4 -> up (idx 2) predicted up; down (3, 4): idx 4 predicted down
    row = strata.set_index("subset").loc["p < 0.1"]
    assert row["up_rate"] == 1.0 and row["down_rate"] == 0.5


def test_ld_block_topk_by_hand_with_pessimistic_ties():
    scores = [0.1, -0.9, 0.5, 0.3, 0.3, 0.8, 0.2, 0.1, 0.7]
    blocks = ["A", "A", "A", "B", "B", "B", "C", "C", "D"]
    causal = [0, 1, 0, 1, 0, 0, 0, 1, 0]
    res = ld_block_topk(scores, blocks, causal)
    # A: |-0.9| ranks 1; B: tied with another 0.3 -> rank 3; C: rank 2; D has no causal variant
    assert (res["n_blocks"], res["skipped_blocks"]) == (3, 1)
    assert (res["top1"], res["top2"], res["top3"]) == pytest.approx((1 / 3, 2 / 3, 1.0))
    assert res["random_top1"] == pytest.approx((1 / 3 + 1 / 3 + 1 / 2) / 3)
    assert res["random_top2"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    # a constant scorer recovers nothing (optimistic ties would claim 100%)
    assert ld_block_topk([1.0] * 9, blocks, causal)["top1"] == 0.0


def test_hypergeometric_overlap_by_hand():
    # N=10, K=3 both: P(X >= 2) = [C(3,2) C(7,1) + C(3,3)] / C(10,3) = 22 / 120
    res = hypergeom_overlap(2, 10, 3, 3)
    assert res["p"] == pytest.approx(22 / 120) and res["expected"] == pytest.approx(0.9)
    assert res["fold"] == pytest.approx(2 / 0.9)
    # the numbers of Morenu n.d.: 10 of 10 in N = 70 is p = 1 / C(70, 10), fold 7
    res = hypergeom_overlap(10, 70, 10, 10)
    assert res["p"] == pytest.approx(1 / math.comb(70, 10)) and res["fold"] == pytest.approx(7.0)
    assert res["p"] == pytest.approx(2.5207678232969037e-12)


def test_topk_agreement_by_hand_and_constant_score_pitfalls():
    a = np.arange(10, 0, -1).astype(float)           # top-3: idx 0, 1, 2
    b = np.array([9, 10, 1, 2, 3, 4, 5, 6, 7, 8.0])  # top-3: idx 1, 0, 9
    row = topk_agreement(a, b, ks=(3,)).iloc[0]
    assert row["overlap"] == 2 and row["p"] == pytest.approx(22 / 120) and not row["enriched"]
    # Morenu n.d.: two constant vectors of 70 "agree" 10 of 10 only because argsort keeps index
    # order
    const = topk_agreement(np.zeros(70), np.ones(70), ks=(10, 25, 50))
    assert const["overlap"].isna().all()
    assert "70 scores tie at the 10-th place: the top-10 set is undefined" in const["note"].iloc[0]
    # K >= N: the overlap is forced, so it is no enrichment
    forced = topk_agreement(a, b, ks=(10,)).iloc[0]
    assert forced["fold"] == 1.0 and forced["p"] == 1.0 and not forced["enriched"]
    assert "no enrichment possible" in forced["note"]
    # a real enrichment: same ranking, N = 70, K = 10 -> fold 7, p = 1 / C(70, 10)
    x = np.linspace(1, 2, 70)
    real = topk_agreement(x, x + 5, ks=(10,)).iloc[0]
    assert real["overlap"] == 10 and real["fold"] == pytest.approx(7.0) and real["enriched"]


def test_benchmark_variants_writes_everything(tmp_path):
    rng = np.random.default_rng(0)
    n = 120
    measured = rng.normal(size=n)
    scores = pd.DataFrame({"id": [f"v{i}" for i in range(n)], "log2_ratio": measured + rng.normal(size=n),
                           "reason": ""})
    meas = pd.DataFrame({"id": [f"v{i}" for i in range(n)], "log2fc": measured,
                         "pvalue": rng.uniform(0, 0.2, n) ** 4, "cell_line": np.where(np.arange(n) < 60, "K562", "HepG2"),
                         "block": np.repeat(np.arange(30), 4), "is_causal": np.tile([1, 0, 0, 0], 30)})
    other = pd.DataFrame({"id": scores["id"], "score": scores["log2_ratio"] * 2 + 0.01 * rng.normal(size=n)})
    metrics = run_benchmark_variants(scores, meas, tmp_path / "bench", other=other)
    expected = correlation(scores["log2_ratio"], measured)["r"]
    assert metrics["overall"]["pearson"] == pytest.approx(expected)
    assert set(metrics["per_group"]) == {"K562", "HepG2"}
    assert metrics["ld_blocks"]["n_blocks"] == 30
    assert metrics["agreement"]["spearman"]["r"] > 0.95
    saved = json.loads((tmp_path / "bench" / "metrics.json").read_text())
    assert saved["overall"]["pearson"] == pytest.approx(expected)
    for name in ("scatter_density.png", "updown_heatmap.png", "pvalue_strata.png", "ld_block_topk.png",
                 "summary.tsv", "pvalue_strata.tsv", "agreement_topk.tsv"):
        assert (tmp_path / "bench" / name).stat().st_size > 0


def test_profile_scores_are_benchmarked_on_their_track_mean(tmp_path):
    """vep on a profile run writes log2_ratio.<track> and log2_ratio.mean: the mean is used."""
    ids = [f"v{i}" for i in range(6)]
    a = np.array([-1.0, -2.0, -0.5, 0.0, 0.01, -0.02])
    b = np.array([0.0, -0.1, -0.4, 0.02, 0.0, 0.01])
    scores = pd.DataFrame({"id": ids, "log2_ratio.a": a, "log2_ratio.b": b,
                           "log2_ratio.mean": (a + b) / 2})
    measured = pd.DataFrame({"id": ids, "effect": [-1.2, -2.5, -0.9, 0.1, 0.0, 0.05]})
    result = run_benchmark_variants(scores, measured, tmp_path / "out")
    assert result["score_column"] == "log2_ratio.mean"
    assert result["overall"]["pearson"] == pytest.approx(np.corrcoef((a + b) / 2, measured.effect)[0, 1])
