"""Classification and regression metrics on numpy arrays (y, p) of one output.

Written out (rather than calling scikit-learn point by point) so that the bootstrap can call them
thousands of times quickly; the definitions match scikit-learn's:
- `auroc`: Mann-Whitney U / (n_pos * n_neg) with average ranks for ties (= roc_auc_score);
- `pr_auc`: average precision, sum_k (R_k - R_{k-1}) P_k over distinct thresholds
  (= average_precision_score; the step-wise area, no optimistic interpolation);
- threshold metrics call a sequence positive when p >= threshold.
A metric that is undefined (one class only, no predictions) is NaN. Pearson and Spearman r are
`regdna.evaluate.correlation.coefficient` (NaN below 3 finite pairs or for a constant side;
`correlation.correlation` says which).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from regdna.evaluate.correlation import coefficient


def _clean(y, p):
    y = np.asarray(y, dtype=np.float64).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    keep = ~(np.isnan(y) | np.isnan(p))
    return y[keep], p[keep]


def auroc(y, p) -> float:
    """Area under the ROC curve of binary labels y (0/1) and scores p."""
    y, p = _clean(y, p)
    n_pos = float((y == 1).sum())
    n_neg = float(len(y) - n_pos)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(p)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def pr_auc(y, p) -> float:
    """Average precision (area under the step-wise precision-recall curve)."""
    y, p = _clean(y, p)
    n_pos = (y == 1).sum()
    if n_pos == 0 or n_pos == len(y):
        return float("nan") if n_pos == 0 else 1.0
    order = np.argsort(-p, kind="mergesort")
    p_sorted, y_sorted = p[order], y[order]
    # one point per distinct score: the last index of each run of equal scores
    last = np.r_[np.nonzero(np.diff(p_sorted))[0], len(p_sorted) - 1]
    tp = np.cumsum(y_sorted)[last]
    fp = (last + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def confusion(y, p, threshold: float) -> dict:
    """Counts tp, fp, tn, fn with the call p >= threshold."""
    y, p = _clean(y, p)
    call = p >= threshold
    pos = y == 1
    return {"tp": int((call & pos).sum()), "fp": int((call & ~pos).sum()),
            "tn": int((~call & ~pos).sum()), "fn": int((~call & pos).sum())}


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else float("nan")


def threshold_metrics(y, p, threshold: float) -> dict:
    """f1, precision, recall, specificity and accuracy at one threshold (call p >= threshold)."""
    c = confusion(y, p, threshold)
    tp, fp, tn, fn = c["tp"], c["fp"], c["tn"], c["fn"]
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    return {"f1": _ratio(2 * tp, 2 * tp + fp + fn), "precision": precision, "recall": recall,
            "specificity": _ratio(tn, tn + fp), "accuracy": _ratio(tp + tn, tp + tn + fp + fn)}


def pearson(y, p) -> float:
    """Pearson r of labels y and predictions p (`correlation.coefficient`)."""
    return coefficient(y, p, "pearson")


def spearman(y, p) -> float:
    """Spearman r (average ranks for ties) of y and p (`correlation.coefficient`)."""
    return coefficient(y, p, "spearman")


def mse(y, p) -> float:
    y, p = _clean(y, p)
    return float(np.mean((y - p) ** 2)) if len(y) else float("nan")


def r2(y, p) -> float:
    """Coefficient of determination 1 - SS_res / SS_tot."""
    y, p = _clean(y, p)
    total = np.sum((y - y.mean()) ** 2) if len(y) else 0.0
    return float(1 - np.sum((y - p) ** 2) / total) if total > 0 else float("nan")


def macro_micro(y: np.ndarray, p: np.ndarray, metric) -> tuple[list[float], float, float]:
    """Per-column metric of (N, T) arrays (NaN = missing label), their macro mean (over defined
    columns) and the micro value (all observed entries pooled)."""
    per_label = [metric(y[:, t], p[:, t]) for t in range(y.shape[1])]
    defined = [v for v in per_label if not np.isnan(v)]
    macro = float(np.mean(defined)) if defined else float("nan")
    return per_label, macro, metric(y.ravel(), p.ravel())


def one_vs_rest(classes: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Integer classes (N,) (negative = missing) -> one-hot labels (N, C) with NaN rows for missing."""
    out = np.zeros(probs.shape, dtype=np.float64)
    known = classes >= 0
    out[np.nonzero(known)[0], classes[known]] = 1.0
    out[~known] = np.nan
    return out


def validation_scores(task: str, y: np.ndarray, probs: np.ndarray) -> dict:
    """The per-epoch validation summary: AUROC and PR-AUC (macro over labels / classes), or
    Pearson r for regression. y is (N, T) or (N,) class indices for multiclass."""
    if task == "regression":
        per, macro, _ = macro_micro(y, probs, pearson)
        return {"val_pearson": macro}
    if task == "multiclass":
        y = one_vs_rest(np.asarray(y), probs)
    return {"val_auroc": macro_micro(y, probs, auroc)[1], "val_pr_auc": macro_micro(y, probs, pr_auc)[1]}
