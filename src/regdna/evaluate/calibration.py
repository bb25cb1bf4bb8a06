"""Calibration: expected calibration error and reliability-diagram bins (Tang 2024), temperature
scaling (Guo et al. 2017), negative log-likelihood and the Brier score.

Shapes, per task (the same as `regdna.evaluate.evaluate`):
- binary: logits / probabilities (N,) or (N, 1), y (N,) or (N, 1) in {0, 1}, NaN = missing;
- multilabel: (N, T) logits / probabilities and (N, T) targets, NaN = missing; every output is
  calibrated and scored on its own (one temperature per output; summaries are macro means);
- multiclass: (N, K) logits / softmax probabilities and y (N,) class indices, -1 = unknown; one
  temperature divides all K logits, and ECE is the top-label ECE of Guo et al. 2017 (confidence =
  the largest probability, outcome = whether that class is the true one).

Temperature scaling divides the logits by one T > 0 fitted on the validation split by minimising
the NLL (T > 1 softens an over-confident model, T < 1 sharpens an under-confident one); it never
changes a ranking, so AUROC, PR-AUC and accuracy stay the same.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import expit, log_softmax, softmax

from regdna.errors import RegdnaError
from regdna.evaluate.metrics import _clean

TASKS = ("binary", "multilabel", "multiclass")
LOG_T_BOUNDS = (np.log(1e-2), np.log(1e2))   # temperatures searched in [0.01, 100]
_EPS = 1e-12                      # the NLL clips probabilities to [eps, 1 - eps]


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


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise RegdnaError(f"calibration is for binary, multilabel and multiclass outputs, not "
                          f"'{task}'; regression and profile outputs use conformal intervals.")


def _columns(a) -> np.ndarray:
    """(N,) or (N, T) -> (N, T) float64."""
    a = np.asarray(a, dtype=np.float64)
    return a[:, None] if a.ndim == 1 else a


def _classes(y) -> np.ndarray:
    return np.asarray(y).reshape(-1).astype(np.int64)


def _binary_nll(y, z, t: float) -> float:
    """Mean NLL of labels y under sigmoid(z / t), from the logits (log-sigmoid, no clipping)."""
    s = z / t
    return float(np.mean(np.logaddexp(0.0, s) - y * s))


def _multiclass_nll(y, z, t: float) -> float:
    return float(-np.mean(log_softmax(z / t, axis=1)[np.arange(len(y)), y]))


def _fit_one(loss) -> float:
    """T = exp(argmin over log T of loss(T)), a bounded 1-D search."""
    found = minimize_scalar(lambda log_t: loss(np.exp(log_t)), bounds=LOG_T_BOUNDS,
                            method="bounded", options={"xatol": 1e-6})
    return float(np.exp(found.x))


def fit_temperature(logits, y, task: str) -> float | list[float]:
    """The temperature(s) minimising the validation NLL of `logits` (Guo et al. 2017).

    Parameters
    ----------
    logits : (N,) / (N, 1) (binary), (N, T) (multilabel) or (N, K) (multiclass) model logits.
    y : targets of the same rows (see the module docstring); missing ones are ignored.
    task : "binary", "multilabel" or "multiclass".

    Returns
    -------
    One float T for binary and multiclass, a list of T floats (one per output) for multilabel;
    each in [0.01, 100]. Probabilities are `apply_temperature(logits, T, task)`.
    """
    _check_task(task)
    if task == "multiclass":
        z = np.asarray(logits, dtype=np.float64)
        y = _classes(y)
        known = y >= 0
        if not known.any():
            raise RegdnaError("no labelled rows to fit a temperature on; the validation split "
                              "needs sequences with a known class.")
        return _fit_one(lambda t: _multiclass_nll(y[known], z[known], t))
    z, y = _columns(logits), _columns(y)
    temperatures = []
    for j in range(z.shape[1]):
        yj, zj = _clean(y[:, j], z[:, j])
        if not len(yj):
            raise RegdnaError(f"output {j} has no labelled rows to fit a temperature on; the "
                              f"validation split needs labels for every output.")
        temperatures.append(_fit_one(lambda t: _binary_nll(yj, zj, t)))
    return temperatures[0] if task == "binary" else temperatures


def apply_temperature(logits, temperature, task: str) -> np.ndarray:
    """Probabilities of `logits` divided by `temperature` (a float, or one per multilabel output):
    sigmoid for binary / multilabel, softmax over classes for multiclass; the logits' shape."""
    _check_task(task)
    z = np.asarray(logits, dtype=np.float64)
    if task == "multiclass":
        return softmax(z / float(temperature), axis=-1)
    t = np.asarray(temperature, dtype=np.float64)
    if z.ndim == 2 and t.ndim == 1 and t.size != z.shape[1]:
        raise RegdnaError(f"{t.size} temperatures for {z.shape[1]} outputs; fit the temperatures "
                          f"on the same model's validation logits.")
    return expit(z / t)


def _per_output(metric, y, p) -> float:
    """Macro mean over the columns of (N, T) y, p of metric(y_j, p_j) on the labelled rows."""
    y, p = _columns(y), _columns(p)
    values = []
    for j in range(y.shape[1]):
        yj, pj = _clean(y[:, j], p[:, j])
        values.append(metric(yj, pj) if len(yj) else float("nan"))
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def _known(y, p):
    y = _classes(y)
    p = np.asarray(p, dtype=np.float64)
    known = y >= 0
    return y[known], p[known]


def nll(y, p, task: str) -> float:
    """Mean negative log-likelihood of the targets under the probabilities p (natural log; p
    clipped to [1e-12, 1 - 1e-12]); multilabel: the macro mean over outputs."""
    _check_task(task)
    if task == "multiclass":
        y, p = _known(y, p)
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], _EPS, 1.0)))) \
            if len(y) else float("nan")

    def binary(yj, pj):
        pj = np.clip(pj, _EPS, 1 - _EPS)
        return float(-np.mean(yj * np.log(pj) + (1 - yj) * np.log(1 - pj)))
    return _per_output(binary, y, p)


def brier(y, p, task: str) -> float:
    """Brier score: mean squared difference between the probabilities and the 0/1 outcomes
    (multiclass: summed over the K classes per sequence, Brier 1950; multilabel: macro mean)."""
    _check_task(task)
    if task == "multiclass":
        y, p = _known(y, p)
        if not len(y):
            return float("nan")
        onehot = np.eye(p.shape[1])[y]
        return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))
    return _per_output(lambda yj, pj: float(np.mean((pj - yj) ** 2)), y, p)


def top_label(y, p) -> tuple[np.ndarray, np.ndarray]:
    """Multiclass -> the binary view of the top-label reliability diagram (Guo et al. 2017):
    outcome (N,) 1.0 where the most probable class is the true one, confidence (N,) its
    probability (unknown classes dropped)."""
    y, p = _known(y, p)
    return (p.argmax(axis=1) == y).astype(np.float64), p.max(axis=1)


def calibration_summary(y, p, task: str, n_bins: int = 10) -> dict:
    """{"ece", "brier", "nll"} of probabilities p (binary: one output; multilabel: macro means
    over outputs; multiclass: top-label ECE, multiclass Brier and NLL)."""
    _check_task(task)
    if task == "multiclass":
        ece = expected_calibration_error(*top_label(y, p), n_bins=n_bins)
    else:
        ece = _per_output(lambda yj, pj: expected_calibration_error(yj, pj, n_bins), y, p)
    return {"ece": ece, "brier": brier(y, p, task), "nll": nll(y, p, task)}
