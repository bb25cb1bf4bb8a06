"""Profile losses (Toneyan et al. 2022; the multinomial of BPNet, Avsec et al. 2021) against hand
computations with numpy and scipy on tiny arrays."""
import numpy as np
import pytest
import torch
from scipy import stats
from scipy.special import gammaln

from regdna.train.losses import COUNT_WEIGHT, multinomial_nll, profile_loss, profile_mse, \
    profile_multinomial, profile_pearson, profile_pearson_r, profile_poisson

rng = np.random.default_rng(0)
RATE = rng.uniform(0.1, 3.0, (2, 5, 3))                    # (N, B, T) predicted coverage
COUNTS = rng.poisson(2.0, (2, 5, 3)).astype(float)         # integer targets
COUNTS[0, :, 0] = [0, 0, 4, 1, 0]                          # zeros included


def _t(a):
    return torch.tensor(a, dtype=torch.float32)


def test_poisson_is_the_nll_without_log_factorial():
    by_scipy = -stats.poisson.logpmf(COUNTS, RATE) - gammaln(COUNTS + 1)   # rate - y log rate
    assert float(profile_poisson(_t(RATE), _t(COUNTS))) == pytest.approx(by_scipy.mean(), abs=1e-5)
    by_hand = np.mean(RATE - COUNTS * np.log(RATE))
    assert float(profile_loss("poisson", _t(RATE), _t(COUNTS))) == pytest.approx(by_hand, abs=1e-5)
    # non-integer coverage is allowed: the same formula
    y = COUNTS + 0.25
    assert float(profile_poisson(_t(RATE), _t(y))) == pytest.approx(np.mean(RATE - y * np.log(RATE)),
                                                                    abs=1e-5)


def test_mse():
    assert float(profile_mse(_t(RATE), _t(COUNTS))) == pytest.approx(np.mean((RATE - COUNTS) ** 2),
                                                                     abs=1e-5)
    assert float(profile_loss("mse", _t(COUNTS), _t(COUNTS))) == 0.0


def test_multinomial_nll_matches_scipy():
    nll = multinomial_nll(_t(RATE), _t(COUNTS)).numpy()               # (N, T)
    assert nll.shape == (2, 3)
    for n in range(2):
        for t in range(3):
            y = COUNTS[n, :, t]
            p = RATE[n, :, t] / RATE[n, :, t].sum()
            expected = -stats.multinomial.logpmf(y, n=int(y.sum()), p=p)
            assert nll[n, t] == pytest.approx(expected, abs=1e-4)
    # only the shape matters: scaling the rate leaves it unchanged
    assert np.allclose(multinomial_nll(_t(RATE * 7.0), _t(COUNTS)).numpy(), nll, atol=1e-4)


def test_profile_multinomial_adds_the_log_count_error():
    shape = np.mean([[-stats.multinomial.logpmf(COUNTS[n, :, t], n=int(COUNTS[n, :, t].sum()),
                                                p=RATE[n, :, t] / RATE[n, :, t].sum())
                      for t in range(3)] for n in range(2)])
    counts = np.mean((np.log1p(RATE.sum(axis=1)) - np.log1p(COUNTS.sum(axis=1))) ** 2)
    assert COUNT_WEIGHT == 1.0
    assert float(profile_multinomial(_t(RATE), _t(COUNTS))) == pytest.approx(shape + counts, abs=1e-4)
    assert float(profile_loss("multinomial", _t(RATE), _t(COUNTS))) == pytest.approx(shape + counts,
                                                                                     abs=1e-4)


def test_pearson_per_sequence_and_track_with_flat_profiles():
    y = COUNTS.copy()
    y[1, :, 2] = 3.0                                           # a flat measured profile
    rate = RATE.copy()
    rate[0, :, 1] = 1.5                                        # a flat prediction
    r = profile_pearson_r(_t(rate), _t(y)).numpy()
    for n in range(2):
        for t in range(3):
            if (n, t) in ((1, 2), (0, 1)):
                assert r[n, t] == 0.0                          # flat: r = 0, not NaN
            else:
                assert r[n, t] == pytest.approx(np.corrcoef(rate[n, :, t], y[n, :, t])[0, 1], abs=1e-5)
    assert float(profile_pearson(_t(rate), _t(y))) == pytest.approx(1 - r.mean(), abs=1e-6)
    # a perfect (scaled, shifted) prediction has loss 0
    assert float(profile_loss("pearson", _t(2 * COUNTS + 1), _t(COUNTS))) == pytest.approx(0.0, abs=1e-6)


def test_unknown_profile_loss():
    with pytest.raises(ValueError, match="unknown profile loss"):
        profile_loss("huber", _t(RATE), _t(COUNTS))
