"""Every metric against a value computed by hand (and scikit-learn where it defines the metric)."""
import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from regdna.evaluate import metrics as M
from regdna.evaluate.bootstrap import bootstrap_ci
from regdna.evaluate.calibration import expected_calibration_error, reliability_bins
from regdna.evaluate.threshold import best_f1_threshold

Y = np.array([0, 0, 1, 1])
P = np.array([0.1, 0.4, 0.35, 0.8])


def test_auroc_by_hand():
    # 4 positive-negative pairs: (0.35 > 0.1), (0.35 < 0.4), (0.8 > 0.1), (0.8 > 0.4) -> 3 / 4
    assert M.auroc(Y, P) == pytest.approx(0.75)
    assert M.auroc([0, 1, 1, 0], [0.5, 0.5, 0.9, 0.1]) == pytest.approx((1 + 0.5 + 1 + 1) / 4)


def test_pr_auc_by_hand():
    # ranked 0.8 (+), 0.4 (-), 0.35 (+), 0.1 (-): precision at the positives 1/1 and 2/3
    assert M.pr_auc(Y, P) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_ranking_metrics_match_sklearn_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = np.round(rng.random(500) * 0.5 + 0.3 * y, 1)      # heavy ties
    assert M.auroc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert M.pr_auc(y, p) == pytest.approx(average_precision_score(y, p), abs=1e-12)


def test_threshold_metrics_by_hand():
    # call p >= 0.5: only 0.8 -> tp 1, fp 0, fn 1, tn 2
    got = M.threshold_metrics(Y, P, 0.5)
    assert got == pytest.approx({"f1": 2 / 3, "precision": 1.0, "recall": 0.5,
                                 "specificity": 1.0, "accuracy": 0.75})
    assert M.confusion(Y, P, 0.35) == {"tp": 2, "fp": 1, "tn": 1, "fn": 0}


def test_best_f1_threshold_by_hand():
    # t=0.8: F1 2/3; t=0.4: 1/2; t=0.35: 2*2/(4+1)=0.8; t=0.1: 4/6 -> 0.35
    threshold, f1 = best_f1_threshold(Y, P)
    assert threshold == pytest.approx(0.35)
    assert f1 == pytest.approx(0.8)


def test_ece_by_hand():
    y = np.array([0, 1, 0, 0])
    p = np.array([0.1, 0.9, 0.9, 0.3])
    # bins: {0.1}: |0-0.1|*1/4, {0.3}: |0-0.3|*1/4, {0.9, 0.9}: |0.5-0.9|*2/4
    assert expected_calibration_error(y, p) == pytest.approx(0.025 + 0.075 + 0.2)
    bins = reliability_bins(y, p)
    assert bins["count"].sum() == 4 and bins["observed"][9] == pytest.approx(0.5)


def test_regression_metrics_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.0, 2.0, 3.0, 5.0])
    assert M.mse(y, p) == pytest.approx(0.25)
    assert M.r2(y, p) == pytest.approx(1 - 1 / 5)              # SS_res 1, SS_tot 5
    assert M.spearman(y, p) == pytest.approx(1.0)
    # Pearson by hand: centred y (-1.5, -0.5, 0.5, 1.5), p (-1.75, -0.75, 0.25, 2.25)
    yc, pc = y - y.mean(), p - p.mean()
    assert M.pearson(y, p) == pytest.approx((yc @ pc) / np.sqrt((yc @ yc) * (pc @ pc)))
    assert M.pearson(y, p) == pytest.approx(6.5 / np.sqrt(5 * 8.75))


def test_missing_labels_are_ignored():
    y = np.array([0, np.nan, 1, 1, 0])
    p = np.array([0.1, 0.99, 0.35, 0.8, 0.4])
    assert M.auroc(y, p) == pytest.approx(0.75)


def test_bootstrap_interval_contains_estimate_and_shrinks_with_n():
    rng = np.random.default_rng(1)

    def sample(n):
        y = rng.integers(0, 2, n)
        return y, rng.normal(size=n) + y

    widths = []
    for n in (100, 2000):
        y, p = sample(n)
        low, high = bootstrap_ci(M.auroc, y, p, n_boot=300, seed=0)
        assert low <= M.auroc(y, p) <= high
        widths.append(high - low)
    # width ~ 1/sqrt(n): 20x the data -> about 4.5x narrower; demand at least 3x
    assert widths[1] < widths[0] / 3


def test_macro_micro():
    y = np.array([[0, 1], [1, np.nan], [1, 0], [0, 1]])
    p = np.array([[0.2, 0.9], [0.7, 0.1], [0.6, 0.3], [0.1, 0.8]])
    per, macro, micro = M.macro_micro(y, p, M.auroc)
    assert per == pytest.approx([1.0, 1.0]) and macro == pytest.approx(1.0)
    # pooled observed entries: positives {0.9, 0.7, 0.6, 0.8}, negatives {0.2, 0.1, 0.3}
    assert micro == pytest.approx(1.0)
