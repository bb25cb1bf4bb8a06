"""The numbers of a variant effect, from the logits of its two alleles (Morenu n.d.; Manzo et al.
n.d.).

Per variant and model output:

- `p_ref`, `p_alt`: the probability of the output, `regdna.models.base.activate` (sigmoid for
  binary / multilabel, softmax for multiclass, the value for regression, exp for Poisson).
- margin logit: the logit of a binary / multilabel output; of a multiclass output c,
  z_c - logsumexp(z_other), so sigmoid(margin) is the softmax probability of c (Manzo et al.
  n.d.: "margin logits ... transformed into probabilities using the sigmoid").
- `delta` = p_alt - p_ref (Morenu n.d.); `log2_ratio` = log2(p_alt / p_ref) (Manzo et al. n.d.),
  computed as a difference of log-sigmoids of the margins so it stays finite for saturated
  outputs (Poisson: a difference of log rates; regression: only where both values are positive);
  `logit_diff` = margin_alt - margin_ref.
- shift-robust (Toneyan et al. 2022): p_ref, p_alt, delta, log2_ratio of probabilities averaged
  over shifted windows (`averaged_scores`).
"""
from __future__ import annotations

import math

import numpy as np

from regdna.models.base import activate

SCORE_NAMES = ("p_ref", "p_alt", "delta", "log2_ratio", "logit_diff")
ROBUST_NAMES = ("p_ref", "p_alt", "delta", "log2_ratio")  # of averaged probabilities
_LN2 = math.log(2.0)


def margin_logits(logits: np.ndarray, task: str) -> np.ndarray:
    """Margin logits (see the module docstring).

    Parameters
    ----------
    logits : array, shape (N, T)
    task : the model's task ("binary", "multilabel", "multiclass", "regression", "poisson").

    Returns
    -------
    float64 array, shape (N, T); the logits themselves unless `task` is multiclass.
    """
    z = np.asarray(logits, dtype=np.float64)
    if task != "multiclass":
        return z
    out = np.empty_like(z)
    for c in range(z.shape[1]):
        others = np.delete(z, c, axis=1)
        out[:, c] = z[:, c] - np.logaddexp.reduce(others, axis=1)
    return out


def probabilities(logits: np.ndarray, task: str) -> np.ndarray:
    """`activate` in float64: logits (N, T) -> probabilities, values or rates (N, T)."""
    return activate(np.asarray(logits, dtype=np.float64), task)


def _log_sigmoid(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z)


def allele_scores(z_ref: np.ndarray, z_alt: np.ndarray, task: str) -> dict[str, np.ndarray]:
    """The five effect numbers of N variants from the logits of their alleles.

    Parameters
    ----------
    z_ref, z_alt : array, shape (N, T)
        Logits of the reference and alternative windows.
    task : the model's task.

    Returns
    -------
    dict of float64 arrays, shape (N, T)
        p_ref, p_alt (probability, value or rate), delta (same unit), log2_ratio (log2 units),
        logit_diff (margin logits, natural units).
    """
    p_ref, p_alt = probabilities(z_ref, task), probabilities(z_alt, task)
    m_ref, m_alt = margin_logits(z_ref, task), margin_logits(z_alt, task)
    if task in ("binary", "multilabel", "multiclass"):
        log2_ratio = (_log_sigmoid(m_alt) - _log_sigmoid(m_ref)) / _LN2
    elif task == "poisson":
        log2_ratio = (m_alt - m_ref) / _LN2
    else:  # regression: values; a ratio only means something for positive values
        with np.errstate(divide="ignore", invalid="ignore"):
            log2_ratio = np.where((p_ref > 0) & (p_alt > 0), np.log2(p_alt / p_ref), np.nan)
    return {"p_ref": p_ref, "p_alt": p_alt, "delta": p_alt - p_ref, "log2_ratio": log2_ratio,
            "logit_diff": m_alt - m_ref}


def averaged_scores(p_ref: np.ndarray, p_alt: np.ndarray) -> dict[str, np.ndarray]:
    """Effect numbers of probabilities already averaged over windows (the shift-robust score of
    Toneyan et al. 2022).

    Parameters
    ----------
    p_ref, p_alt : arrays, shape (N, T), mean probabilities (values, rates) of each allele.

    Returns
    -------
    dict of arrays, shape (N, T): p_ref, p_alt, delta = p_alt - p_ref, log2_ratio =
    log2(p_alt / p_ref) (NaN / inf where undefined).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        log2_ratio = np.log2(p_alt / p_ref)
    return {"p_ref": p_ref, "p_alt": p_alt, "delta": p_alt - p_ref, "log2_ratio": log2_ratio}
