"""The uncertainty library against numbers: temperature scaling (Guo et al. 2017) on toy models
made over-confident on purpose, split conformal coverage on exchangeable synthetic data
(Angelopoulos & Bates 2021), the Mahalanobis distance (Lee et al. 2018) against a direct
computation, and the sequence-statistics OOD score on GC-shifted and N-rich sequences."""
import json

import numpy as np
import pytest
from scipy.special import expit, softmax
from scipy.stats import binom
from sklearn.covariance import LedoitWolf, ledoit_wolf

from regdna.data.shuffle import dinucleotide_shuffle
from regdna.errors import RegdnaError
from regdna.evaluate import conformal as C
from regdna.evaluate.calibration import (apply_temperature, brier, calibration_summary,
                                         fit_temperature, nll, top_label)
from regdna.evaluate.metrics import auroc
from regdna.evaluate.ood import Mahalanobis, StatsOOD, kmer_spectrum, ood_flags, sequence_stats
from regdna.utils.jsonio import to_jsonable


# ---------- calibration ----------

def _binary_toy(rng, n, scale):
    """Calibrated logits z (labels drawn from sigmoid(z)); the model reports scale * z."""
    z = rng.normal(0.0, 2.0, n)
    return scale * z, (rng.random(n) < expit(z)).astype(float)


def test_nll_and_brier_by_hand():
    y, p = np.array([1.0, 0.0, np.nan]), np.array([0.8, 0.4, 0.9])
    assert nll(y, p, "binary") == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)
    assert brier(y, p, "binary") == pytest.approx((0.2 ** 2 + 0.4 ** 2) / 2)
    # multiclass: class 2 then class 0; the unknown (-1) row is left out
    y, p = np.array([2, 0, -1]), np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25], [1, 0, 0]])
    assert nll(y, p, "multiclass") == pytest.approx(-(np.log(0.7) + np.log(0.5)) / 2)
    assert brier(y, p, "multiclass") == pytest.approx(
        ((0.1 ** 2 + 0.2 ** 2 + 0.3 ** 2) + (0.5 ** 2 + 0.25 ** 2 + 0.25 ** 2)) / 2)
    correct, confidence = top_label(y, p)
    assert correct.tolist() == [1.0, 1.0] and confidence.tolist() == [0.7, 0.5]
    # multilabel: macro mean over outputs, each on its own labelled rows
    y = np.array([[1.0, np.nan], [0.0, 1.0]])
    p = np.array([[0.8, 0.3], [0.4, 0.9]])
    assert brier(y, p, "multilabel") == pytest.approx(((0.04 + 0.16) / 2 + 0.01) / 2)


def test_temperature_softens_an_over_confident_binary_model():
    rng = np.random.default_rng(0)
    z_val, y_val = _binary_toy(rng, 20000, 5.0)
    z_test, y_test = _binary_toy(rng, 20000, 5.0)
    t = fit_temperature(z_val, y_val, "binary")
    assert isinstance(t, float) and t == pytest.approx(5.0, rel=0.1)
    before = calibration_summary(y_test, expit(z_test), "binary")
    after = calibration_summary(y_test, apply_temperature(z_test, t, "binary"), "binary")
    assert after["nll"] < before["nll"] - 0.3          # measured: 1.00 -> 0.46
    assert after["ece"] < before["ece"] / 5            # measured: 0.167 -> 0.007
    assert after["brier"] < before["brier"]
    # a calibrated model keeps T near 1 and gains nothing
    assert fit_temperature(z_val / 5, y_val, "binary") == pytest.approx(1.0, abs=0.1)


def test_multilabel_gets_one_temperature_per_output():
    rng = np.random.default_rng(1)
    scales = [5.0, 1.0, 0.5]          # over-confident, calibrated, under-confident
    cols = [_binary_toy(rng, 20000, s) for s in scales]
    z, y = np.column_stack([c[0] for c in cols]), np.column_stack([c[1] for c in cols])
    y[::7, 1] = np.nan                  # missing labels are skipped
    t = fit_temperature(z, y, "multilabel")
    assert len(t) == 3 and t == pytest.approx(scales, rel=0.1)
    before = calibration_summary(y, expit(z), "multilabel")
    after = calibration_summary(y, apply_temperature(z, t, "multilabel"), "multilabel")
    assert after["nll"] < before["nll"] and after["ece"] < before["ece"]


def test_multiclass_one_temperature_on_the_softmax():
    rng = np.random.default_rng(2)
    z = rng.normal(0.0, 1.5, (20000, 4))
    y = np.array([rng.choice(4, p=row) for row in softmax(z, axis=1)])
    t = fit_temperature(3.0 * z, y, "multiclass")
    assert t == pytest.approx(3.0, rel=0.1)
    p_after = apply_temperature(3.0 * z, t, "multiclass")
    assert np.allclose(p_after.sum(axis=1), 1.0)
    assert (p_after.argmax(axis=1) == z.argmax(axis=1)).all()     # rankings unchanged
    before = calibration_summary(y, softmax(3.0 * z, axis=1), "multiclass")
    after = calibration_summary(y, p_after, "multiclass")
    assert after["nll"] < before["nll"] and after["ece"] < before["ece"] / 3


def test_calibration_refuses_other_tasks_and_empty_labels():
    with pytest.raises(RegdnaError, match="conformal"):
        fit_temperature(np.zeros(3), np.zeros(3), "regression")
    with pytest.raises(RegdnaError, match="no labelled rows"):
        fit_temperature(np.zeros(3), np.full(3, np.nan), "binary")


# ---------- conformal ----------

N_CAL, N_TEST, SEEDS, ALPHA = 4000, 500, 20, 0.1
LOW, HIGH = (np.array(binom.interval(0.99, SEEDS * N_TEST, 1 - ALPHA)) / (SEEDS * N_TEST))


def _classes(rng, n, k=5):
    """True class probabilities, labels drawn from them, and a worse model's probabilities."""
    logits = rng.normal(0.0, 2.0, (n, k))
    truth = softmax(logits, axis=1)
    y = (rng.random(n)[:, None] > np.cumsum(truth, axis=1)).sum(axis=1)
    worse = softmax(logits + rng.normal(0.0, 2.0, (n, k)), axis=1)
    return truth, worse, y


def test_finite_sample_quantile_by_hand():
    scores = np.arange(1.0, 11.0)                              # n = 10
    assert C.conformal_quantile(scores, 0.1) == 10.0           # ceil(11 * 0.9) = 10th smallest
    assert C.conformal_quantile(scores, 0.2) == 9.0            # ceil(11 * 0.8) = 9th
    assert C.conformal_quantile(scores[:5], 0.1) == np.inf     # ceil(6 * 0.9) = 6 > 5
    per_output = C.conformal_quantile(np.column_stack([scores, scores * 2]), 0.2)
    assert per_output.tolist() == [9.0, 18.0]
    with pytest.raises(RegdnaError, match="alpha"):
        C.conformal_quantile(scores, 1.5)


def test_prediction_sets_by_hand():
    p = np.array([[0.6, 0.3, 0.1], [0.2, 0.45, 0.35]])
    assert C.class_scores(p, [1, 2]).tolist() == pytest.approx([0.7, 0.65])
    assert C.class_scores(p, [1, 2], "aps").tolist() == pytest.approx([0.9, 0.8])
    assert C.prediction_sets(p, 0.7).tolist() == [[True, True, False], [False, True, True]]
    # APS: the top class, then every class whose mass up to and including it is <= qhat
    # (row 0: 0.6, 0.9, 1.0; row 1: 0.45, 0.8, 1.0)
    assert C.prediction_sets(p, 0.9, "aps").tolist() == [[True, True, False], [False, True, True]]
    assert C.prediction_sets(p, 0.85, "aps").tolist() == [[True, False, False], [False, True, True]]
    assert C.prediction_sets(p, 0.3, "aps").tolist() == [[True, False, False], [False, True, False]]
    # a binary p is the two classes (1 - p, p)
    assert C.class_probabilities(np.array([0.8])).tolist() == [[pytest.approx(0.2), 0.8]]
    assert C.class_scores(np.array([0.8, 0.8]), [1, 0]).tolist() == pytest.approx([0.2, 0.8])
    assert C.empirical_coverage([1, 0, -1], np.array([[0, 1], [0, 1], [1, 1]], bool)) == 0.5
    assert C.mean_set_size(C.prediction_sets(p, 0.7)) == 2.0


def test_conformal_sets_reach_the_coverage_and_a_better_model_gives_smaller_sets():
    covered = {"truth": [], "worse": [], "aps": []}
    sizes = {"truth": [], "worse": []}
    for seed in range(SEEDS):
        rng = np.random.default_rng(seed)
        truth, worse, y = _classes(rng, N_CAL + N_TEST)
        cal, test = slice(0, N_CAL), slice(N_CAL, None)
        for name, p in (("truth", truth), ("worse", worse)):
            qhat = C.calibrate_sets(p[cal], y[cal], ALPHA)
            sets = C.prediction_sets(p[test], qhat)
            covered[name].append(C.empirical_coverage(y[test], sets))
            sizes[name].append(C.mean_set_size(sets))
        qhat = C.calibrate_sets(truth[cal], y[cal], ALPHA, "aps")
        covered["aps"].append(C.empirical_coverage(y[test], C.prediction_sets(truth[test], qhat, "aps")))
    # pooled over 20 seeds x 500 test sequences: inside the binomial 99% interval around 0.9
    assert LOW <= np.mean(covered["truth"]) <= HIGH
    assert LOW <= np.mean(covered["worse"]) <= HIGH
    # APS never returns an empty set, which makes it a little conservative (measured 0.925)
    assert LOW <= np.mean(covered["aps"]) < 0.95
    assert min(min(v) for v in covered.values()) > 0.85
    assert np.mean(sizes["truth"]) < np.mean(sizes["worse"]) - 0.5   # measured 2.13 vs 3.24


def test_binary_conformal_sets_cover():
    covered = []
    for seed in range(SEEDS):
        rng = np.random.default_rng(100 + seed)
        p = expit(rng.normal(0.0, 2.0, N_CAL + N_TEST))
        y = (rng.random(len(p)) < p).astype(float)
        qhat = C.calibrate_sets(p[:N_CAL], y[:N_CAL], ALPHA)
        covered.append(C.empirical_coverage(y[N_CAL:], C.prediction_sets(p[N_CAL:], qhat)))
    assert LOW <= np.mean(covered) <= HIGH


def test_regression_intervals_width_by_hand_and_coverage():
    rng = np.random.default_rng(3)
    y_cal, pred_cal = rng.normal(size=19), np.zeros(19)
    qhat = C.calibrate_intervals(y_cal, pred_cal, ALPHA)
    assert qhat == np.sort(np.abs(y_cal))[17]                  # (19 + 1) * 0.9 = 18th smallest
    lower, upper = C.intervals(np.array([1.0, -2.0]), qhat)
    assert np.allclose(upper - lower, 2 * qhat) and C.mean_width(lower, upper) == pytest.approx(2 * qhat)
    # normalised by a known spread: half-width qhat * std per sequence
    std = np.array([0.5, 2.0])
    lower, upper = C.intervals(np.array([1.0, -2.0]), 1.5, std)
    assert upper.tolist() == [1.75, 1.0] and lower.tolist() == [0.25, -5.0]

    covered, covered_norm = [], []
    for seed in range(SEEDS):
        rng = np.random.default_rng(200 + seed)
        x = rng.normal(size=N_CAL + N_TEST)
        spread = 0.2 + np.abs(x)                              # heteroscedastic noise
        y = 2 * x + rng.normal(size=len(x)) * spread
        pred = 2 * x
        cal, test = slice(0, N_CAL), slice(N_CAL, None)
        q = C.calibrate_intervals(y[cal], pred[cal], ALPHA)
        covered.append(C.empirical_coverage(y[test], C.intervals(pred[test], q)))
        q = C.calibrate_intervals(y[cal], pred[cal], ALPHA, spread[cal])
        covered_norm.append(C.empirical_coverage(y[test], C.intervals(pred[test], q, spread[test])))
    assert LOW <= np.mean(covered) <= HIGH
    assert LOW <= np.mean(covered_norm) <= HIGH


def test_multi_output_intervals_one_qhat_per_output():
    rng = np.random.default_rng(4)
    y = rng.normal(size=(2000, 2)) * np.array([1.0, 10.0])
    y[::5, 0] = np.nan
    q = C.calibrate_intervals(y, np.zeros_like(y), ALPHA)
    assert q.shape == (2,) and 8 < q[1] / q[0] < 12
    lower, upper = C.intervals(np.zeros((3, 2)), q)
    assert np.allclose(upper - lower, 2 * q)


# ---------- OOD ----------

def test_mahalanobis_equals_the_direct_computation(tmp_path):
    rng = np.random.default_rng(5)
    mix = rng.normal(size=(8, 8))
    train = rng.normal(size=(300, 8)) @ mix + 3.0
    x = rng.normal(size=(50, 8)) @ mix
    model = Mahalanobis.fit(train)
    cov, shrinkage = ledoit_wolf(train - train.mean(axis=0), assume_centered=True)
    diff = x - train.mean(axis=0)
    direct = np.array([d @ np.linalg.inv(cov) @ d for d in diff])
    assert 0 < model.shrinkage == pytest.approx(shrinkage)
    assert np.allclose(model.score(x), direct, rtol=1e-8)
    assert np.allclose(model.score(x), LedoitWolf().fit(train).mahalanobis(x), rtol=1e-8)

    # class-conditional means, one shared covariance of the class-centred embeddings
    classes = rng.integers(0, 3, len(train))
    train_c = train + 5.0 * classes[:, None]
    model = Mahalanobis.fit(train_c, classes)
    means = np.stack([train_c[classes == c].mean(axis=0) for c in range(3)])
    cov, _ = ledoit_wolf(train_c - means[classes], assume_centered=True)
    prec = np.linalg.inv(cov)
    direct = np.array([min((v - m) @ prec @ (v - m) for m in means) for v in x])
    assert np.allclose(model.score(x), direct, rtol=1e-8)

    # stored as JSON or NPZ and read back: the same scores
    back = Mahalanobis.from_dict(json.loads(json.dumps(to_jsonable(model.to_dict()))))
    assert np.allclose(back.score(x), model.score(x), rtol=1e-12)
    np.savez(tmp_path / "ood.npz", **model.to_dict())
    back = Mahalanobis.from_dict(dict(np.load(tmp_path / "ood.npz")))
    assert np.array_equal(back.score(x), model.score(x))
    with pytest.raises(RegdnaError, match="dimensions"):
        model.score(x[:, :4])


def test_sequence_stats_by_hand():
    stats = sequence_stats(["ACGTNN", "acgt"], k=2)
    assert stats.shape == (2, 3 + 16)
    assert stats[0, :3].tolist() == pytest.approx([6, 0.5, 2 / 6])
    spectrum = np.zeros(16)
    spectrum[[1, 6, 11]] = 1 / 3                               # AC, CG, GT (GT N, NN skipped)
    assert stats[0, 3:] == pytest.approx(spectrum) and stats[1, 3:] == pytest.approx(spectrum)
    assert kmer_spectrum(["NNNN"], 2).sum() == 0


def _windows(rng, n, gc_mean, length=200, n_frac=0.0):
    """Windows with a per-window GC around gc_mean (sd 0.04) and one planted AP-1-like site."""
    out = []
    for _ in range(n):
        gc = np.clip(rng.normal(gc_mean, 0.04), 0.2, 0.8)
        bases = np.array(list("ACGT"))[rng.choice(4, length, p=[(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])]
        bases[rng.random(length) < n_frac] = "N"
        at = rng.integers(0, length - 10)
        bases[at:at + 10] = list("TGACTCAGCA")
        out.append("".join(bases))
    return out


def test_stats_ood_separates_gc_shifted_and_n_rich_sequences():
    rng = np.random.default_rng(6)
    train, test = _windows(rng, 1000, 0.42), _windows(rng, 300, 0.42)
    model = StatsOOD.fit(train, k=4)
    in_scores = model.score(test)

    def separation(seqs):
        scores = model.score(seqs)
        return auroc(np.r_[np.zeros(len(in_scores)), np.ones(len(scores))], np.r_[in_scores, scores])

    assert separation(_windows(rng, 300, 0.62)) >= 0.9           # measured 0.994
    assert separation(_windows(rng, 300, 0.22)) >= 0.9           # measured 0.994
    assert separation(_windows(rng, 300, 0.42, n_frac=0.05)) >= 0.9   # measured 0.998
    # every training window carries the AP-1 site, a 10-mer a shuffle breaks: the Markov
    # likelihood ratio sees it (measured 0.990)
    shuffled = [dinucleotide_shuffle(s, rng) for s in test]
    assert separation(shuffled) >= 0.9

    train_scores = model.score(train)
    assert ood_flags(in_scores, train_scores).mean() < 0.05      # measured 0.003
    assert ood_flags(model.score(_windows(rng, 100, 0.62)), train_scores).mean() > 0.75  # 0.92
    parts = model.parts(["N" * 200])
    assert parts["n"][0] == pytest.approx((1.0 / 0.01) ** 2) and parts["gc"][0] == 0.0

    back = StatsOOD.from_dict(json.loads(json.dumps(to_jsonable(model.to_dict()))))
    assert np.allclose(back.score(test), in_scores, rtol=1e-12)


def test_ood_flags_by_hand():
    train_scores = np.arange(101.0)                             # 0.99 quantile = 99
    assert ood_flags([98.0, 99.0, 99.5, np.nan], train_scores).tolist() == [False, False, True, False]
    with pytest.raises(RegdnaError, match="quantile"):
        ood_flags([1.0], train_scores, quantile=1.0)
