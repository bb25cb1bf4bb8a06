"""Calibration: expected calibration error and reliability-diagram bins (Tang 2024, ch. 4)."""
from __future__ import annotations

import numpy as np

from regdna.evaluate.metrics import _clean


def reliability_bins(y, p, n_bins: int = 10) -> dict:
    """Equal-width probability bins on [0, 1]: per bin the mean predicted probability, the
    observed fraction of positives and the count (arrays of length n_bins; NaN for empty bins)."""
    y, p = _clean(y, p)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1], right=False), 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.bincount(which, weights=p, minlength=n_bins) / count
        observed = np.bincount(which, weights=y, minlength=n_bins) / count
    return {"edges": edges, "confidence": confidence, "observed": observed, "count": count}


def expected_calibration_error(y, p, n_bins: int = 10) -> float:
    """ECE = sum_b |B_b| / n * |mean(y in B_b) - mean(p in B_b)| over equal-width bins."""
    bins = reliability_bins(y, p, n_bins)
    n = bins["count"].sum()
    if n == 0:
        return float("nan")
    used = bins["count"] > 0
    gap = np.abs(bins["observed"][used] - bins["confidence"][used])
    return float(np.sum(bins["count"][used] / n * gap))
