"""Bootstrap confidence intervals for any metric(y, p) (percentile method)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from regdna.evaluate.metrics import _clean


def bootstrap_ci(metric: Callable, y, p, n_boot: int = 1000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile interval of `metric` over `n_boot` resamples (with replacement) of the pairs.

    Resamples where the metric is undefined (e.g. one class only) are dropped. Returns
    (low, high), NaN when no resample is defined.
    """
    y, p = _clean(y, p)
    if len(y) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    values = np.empty(n_boot)
    for b in range(n_boot):
        take = rng.integers(0, len(y), len(y))
        values[b] = metric(y[take], p[take])
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)
