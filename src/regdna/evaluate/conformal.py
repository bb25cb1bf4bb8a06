"""Split conformal prediction (Vovk et al. 2005; Angelopoulos & Bates 2021): prediction sets for
classification and intervals for regression and profile scalars, from a calibration split.

Recipe: score every calibration sequence by how badly the model fits it (a nonconformity score),
take `qhat`, the ceil((n + 1)(1 - alpha)) / n empirical quantile of the n calibration scores
(the finite-sample correction), and return for a new sequence every answer whose score is at most
`qhat`. When calibration and test sequences are exchangeable, the set or interval holds the true
answer with probability at least 1 - alpha (and, for LAC and residual scores without ties,
below 1 - alpha + 1 / (n + 1)).

Scores:
- classification, LAC ("least ambiguous set-valued classifier", Sadinle et al. 2019): 1 - p_true;
  the set is every class with p >= 1 - qhat (smallest mean set size; may be empty);
- classification, APS (adaptive prediction sets, Romano et al. 2020), not randomised: the
  probability mass of the classes ranked (by decreasing probability) up to and including the
  true one; the set is the most probable class plus every class whose mass so counted is at most
  qhat (never empty; coverage >= 1 - alpha, a little above it where the top class alone
  exceeds qhat);
- regression: |y - prediction|, or |y - prediction| / std ("normalised", e.g. an ensemble's
  spread), giving prediction -+ qhat (* std).
A binary output is the two classes (1 - p, p); a multilabel output is handled one output at a
time, as a binary one; (N, T) regression arrays get one qhat per output.

Own implementation rather than crepes or MAPIE (both maintained, both on PyPI): split conformal
on stored predictions is one quantile and one comparison. MAPIE is built around wrapping a
scikit-learn estimator, while our models are torch models whose validation predictions we
already hold; crepes does accept precomputed scores, but would be a new core dependency for that
same quantile, and its sets default to smoothed (randomised) p-values. Owning it keeps the exact
quantile convention visible, numpy-only, and one code path for classification sets, multi-output
regression and profile scalars.
"""
from __future__ import annotations

import math

import numpy as np

from regdna.errors import RegdnaError

SCORES = ("lac", "aps")


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise RegdnaError(f"miscoverage alpha {alpha} is not in (0, 1); ask for a coverage "
                          f"1 - alpha such as 0.9.")


def _quantile_1d(scores: np.ndarray, alpha: float) -> float:
    scores = scores[np.isfinite(scores)]
    n = len(scores)
    if n == 0:
        raise RegdnaError("no calibration scores (every calibration target is missing); the "
                          "validation split needs labelled sequences.")
    rank = math.ceil((n + 1) * (1 - alpha) - 1e-9)   # no float round-up past an integer
    if rank > n:            # too few calibration sequences for this coverage: the whole space
        return float("inf")
    return float(np.sort(scores)[rank - 1])


def conformal_quantile(scores, alpha: float):
    """qhat: the ceil((n + 1)(1 - alpha))-th smallest of the n finite calibration scores (= the
    ceil((n + 1)(1 - alpha)) / n empirical quantile); inf when that rank exceeds n (fewer than
    1 / alpha - 1 calibration sequences). scores (n,) -> float; (n, T) -> (T,) array, one per
    output, NaN (missing) scores ignored per output."""
    _check_alpha(alpha)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        return _quantile_1d(scores, alpha)
    return np.array([_quantile_1d(scores[:, j], alpha) for j in range(scores.shape[1])])


def class_probabilities(p) -> np.ndarray:
    """(N, K) class probabilities: a binary output's p (N,) or (N, 1) becomes (1 - p, p), so
    class 1 is the positive one; (N, K) with K >= 2 is returned as is."""
    p = np.asarray(p, dtype=np.float64)
    if p.ndim == 1 or p.shape[1] == 1:
        p = p.reshape(-1)
        return np.stack([1.0 - p, p], axis=1)
    return p


def _true_class(y, n: int) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if len(y) != n:
        raise RegdnaError(f"{len(y)} labels for {n} predictions; pass the labels of the same "
                          f"sequences.")
    return y


def _mass_before(p: np.ndarray) -> np.ndarray:
    """(N, K): for each class the probability mass of the classes ranked strictly before it (in
    decreasing probability, ties by class index)."""
    order = np.argsort(-p, axis=1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=1)
    before = np.cumsum(ranked, axis=1) - ranked
    out = np.empty_like(p)
    np.put_along_axis(out, order, before, axis=1)
    return out


def class_scores(p, y, score: str = "lac") -> np.ndarray:
    """Nonconformity score (N,) of the true class y (class indices, or 0/1 for a binary p);
    NaN where y is missing (NaN or negative). LAC: 1 - p_true; APS: the mass of the classes
    ranked before the true one (by decreasing probability, ties by class index) plus its own."""
    if score not in SCORES:
        raise RegdnaError(f"conformal score '{score}' is not one of {', '.join(SCORES)}.")
    p = class_probabilities(p)
    y = _true_class(y, len(p))
    known = np.isfinite(y) & (y >= 0)
    idx = np.where(known, y, 0).astype(np.int64)
    rows = np.arange(len(p))
    p_true = p[rows, idx]
    values = 1.0 - p_true if score == "lac" else _mass_before(p)[rows, idx] + p_true
    return np.where(known, values, np.nan)


def prediction_sets(p, qhat: float, score: str = "lac") -> np.ndarray:
    """Boolean (N, K) prediction sets at threshold qhat (from `conformal_quantile` of
    `class_scores` on calibration): LAC keeps every class with 1 - p <= qhat (possibly none); APS
    keeps the most probable class and every class whose APS score (mass up to and including it)
    is at most qhat."""
    if score not in SCORES:
        raise RegdnaError(f"conformal score '{score}' is not one of {', '.join(SCORES)}.")
    p = class_probabilities(p)
    if score == "lac":
        return 1.0 - p <= qhat
    sets = _mass_before(p) + p <= qhat
    sets[np.arange(len(p)), p.argmax(axis=1)] = True
    return sets


def calibrate_sets(p_cal, y_cal, alpha: float, score: str = "lac") -> float:
    """qhat of `prediction_sets` from calibration probabilities and labels at level 1 - alpha."""
    return conformal_quantile(class_scores(p_cal, y_cal, score), alpha)


def residual_scores(y, prediction, std=None) -> np.ndarray:
    """|y - prediction| (or divided by std > 0, the normalised score), elementwise; NaN y stay
    NaN. Any shape: (N,) or (N, T)."""
    y = np.asarray(y, dtype=np.float64)
    prediction = np.asarray(prediction, dtype=np.float64)
    if y.shape != prediction.shape:
        raise RegdnaError(f"targets {y.shape} and predictions {prediction.shape} differ in shape; "
                          f"pass the predictions of the same sequences and outputs.")
    residual = np.abs(y - prediction)
    if std is None:
        return residual
    std = np.asarray(std, dtype=np.float64)
    if np.any(std <= 0):
        raise RegdnaError("normalised conformal scores need a standard deviation > 0 for every "
                          "prediction; add a small floor to the ensemble's spread.")
    return residual / std


def intervals(prediction, qhat, std=None) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) = prediction -+ qhat (* std); qhat a float, or (T,) for (N, T)
    predictions."""
    prediction = np.asarray(prediction, dtype=np.float64)
    half = np.asarray(qhat, dtype=np.float64)
    if std is not None:
        half = half * np.asarray(std, dtype=np.float64)
    return prediction - half, prediction + half


def calibrate_intervals(y_cal, prediction_cal, alpha: float, std_cal=None):
    """qhat of `intervals` from calibration targets and predictions at level 1 - alpha (a float,
    or one per output for (N, T) arrays)."""
    return conformal_quantile(residual_scores(y_cal, prediction_cal, std_cal), alpha)


def empirical_coverage(y, region) -> float:
    """Fraction of the labelled sequences whose truth lies in its region: `region` is a boolean
    (N, K) set array with y class indices (or 0/1), or a (lower, upper) pair with y targets of
    the same shape (all outputs pooled). Missing y (NaN, or a negative class) are left out."""
    if isinstance(region, tuple):
        lower, upper = (np.asarray(a, dtype=np.float64) for a in region)
        y = np.asarray(y, dtype=np.float64)
        known = np.isfinite(y)
        inside = (lower <= y) & (y <= upper)
        return float(inside[known].mean()) if known.any() else float("nan")
    sets = np.asarray(region, dtype=bool)
    y = _true_class(y, len(sets))
    known = np.isfinite(y) & (y >= 0)
    if not known.any():
        return float("nan")
    rows = np.flatnonzero(known)
    return float(sets[rows, y[known].astype(np.int64)].mean())


def mean_set_size(sets) -> float:
    """Mean number of classes per prediction set."""
    return float(np.asarray(sets, dtype=bool).sum(axis=1).mean())


def mean_width(lower, upper) -> float:
    """Mean interval width (all outputs pooled); infinite when qhat was."""
    return float(np.mean(np.asarray(upper, dtype=np.float64) - np.asarray(lower, dtype=np.float64)))
