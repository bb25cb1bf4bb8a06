"""Correlations that say why they are undefined (Morenu n.d. printed "Spearman: nan").

The one correlation module: `correlation(x, y, method)` is Pearson or Spearman (average ranks for
ties, as scipy) with its p-value over the finite pairs; it is NaN with a `note` when fewer than 3
pairs remain or when one side is constant (a correlation is undefined when a variance is zero),
`undefined_reason` says which. `coefficient` is the same r without the p-value, for the metrics
and the bootstrap that call it thousands of times (`regdna.evaluate.metrics`); `row_correlation`
correlates each row pair of two matrices (profiles of windows, attribution maps).
"""
from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.stats import rankdata

from regdna.errors import RegdnaError

METHODS = ("pearson", "spearman")


def finite_pairs(x, y) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of two aligned vectors where both values are finite.

    Parameters
    ----------
    x, y : array-like, shape (N,)

    Returns
    -------
    (x, y) : float64 arrays, shape (M,), M <= N, NaN / inf pairs dropped.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def undefined_reason(x: np.ndarray, y: np.ndarray,
                     names: tuple[str, str] = ("predicted scores", "measured effects")) -> str:
    """Why the correlation of finite pairs is undefined, or "" when it is defined.

    Parameters
    ----------
    x, y : float arrays, shape (M,)
        Finite pairs (`finite_pairs`).
    names : what x and y are, for the message.

    Returns
    -------
    str
        "" (defined), or the reason: fewer than 3 pairs, or one side constant.
    """
    n = len(x)
    if n < 3:
        return f"only {n} finite pairs (need >= 3)"
    for name, v in zip(names, (x, y)):
        if np.all(v == v[0]):
            return f"{name} are constant ({v[0]:g} for all {n}): correlation undefined"
    return ""


def coefficient(x, y, method: str = "pearson") -> float:
    """Pearson or Spearman r of the finite pairs, NaN where `correlation` gives a note; no
    p-value (fast enough for a bootstrap).

    Parameters
    ----------
    x, y : array-like, shape (N,)
        Aligned values (any unit); NaN / inf pairs are dropped.
    method : "pearson" or "spearman"

    Returns
    -------
    float
        r in [-1, 1], or NaN when undefined (`undefined_reason`).
    """
    if method not in METHODS:
        raise RegdnaError(f"correlation method '{method}': use pearson or spearman.")
    x, y = finite_pairs(x, y)
    if undefined_reason(x, y):
        return float("nan")
    if method == "spearman":
        x, y = rankdata(x), rankdata(y)
    return float(np.corrcoef(x, y)[0, 1])


def correlation(pred, measured, method: str = "pearson") -> dict:
    """Pearson or Spearman correlation of the finite pairs, NaN with a reason when undefined.

    Parameters
    ----------
    pred : array-like, shape (N,)
        Predicted scores (any unit).
    measured : array-like, shape (N,)
        Measured values, aligned with `pred`.
    method : "pearson" or "spearman"

    Returns
    -------
    dict
        r (float, NaN when undefined), p (two-sided p-value), n (finite pairs used) and note
        ("" or why r is NaN).
    """
    if method not in METHODS:
        raise RegdnaError(f"correlation method '{method}': use pearson or spearman.")
    x, y = finite_pairs(pred, measured)
    n = len(x)
    note = undefined_reason(x, y)
    if note:
        return {"r": np.nan, "p": np.nan, "n": n, "note": note}
    r, p = stats.pearsonr(x, y) if method == "pearson" else stats.spearmanr(x, y)
    return {"r": float(r), "p": float(p), "n": n, "note": ""}


def row_correlation(a: np.ndarray, b: np.ndarray, method: str = "pearson") -> np.ndarray:
    """Correlation of each row pair of (N, B) arrays over B: Pearson, or Spearman (Pearson of
    average ranks, as scipy); NaN where either row is flat (all B values equal) or B < 2."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    flat = (np.ptp(a, axis=1) == 0) | (np.ptp(b, axis=1) == 0) if a.shape[1] else \
        np.ones(len(a), dtype=bool)
    if method == "spearman":
        a, b = rankdata(a, axis=1), rankdata(b, axis=1)
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    norm = np.sqrt((a ** 2).sum(axis=1) * (b ** 2).sum(axis=1))
    ok = ~flat & (norm > 0)
    return np.where(ok, (a * b).sum(axis=1) / np.where(ok, norm, 1.0), np.nan)
