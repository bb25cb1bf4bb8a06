"""The decision threshold: the best-F1 cut-off chosen on validation and carried unchanged to test
(as in King et al. n.d.: sweep every predicted probability, keep the one that maximises F1)."""
from __future__ import annotations

import numpy as np

from regdna.evaluate.metrics import _clean


def best_f1_threshold(y, p) -> tuple[float, float]:
    """(threshold, F1) maximising F1 over every distinct score used as threshold (call p >= t).

    Ties in F1 go to the highest threshold. With no positives the threshold is 0.5 and F1 NaN.
    """
    y, p = _clean(y, p)
    n_pos = (y == 1).sum()
    if n_pos == 0 or len(y) == 0:
        return 0.5, float("nan")
    order = np.argsort(-p, kind="mergesort")
    p_sorted, y_sorted = p[order], y[order]
    last = np.r_[np.nonzero(np.diff(p_sorted))[0], len(p_sorted) - 1]
    tp = np.cumsum(y_sorted)[last]
    fp = (last + 1) - tp
    f1 = 2 * tp / (2 * tp + fp + (n_pos - tp))
    best = int(np.argmax(f1))          # first maximum = highest threshold among ties
    return float(p_sorted[last[best]]), float(f1[best])
