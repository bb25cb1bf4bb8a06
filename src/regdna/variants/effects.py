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

Profile models (coverage runs, task "profile"): the logit of a track is log(1 + its predicted
coverage summed over the scalar's bins, in coverage x bp; `regdna.models.scalar`), so `p_ref`
and `p_alt` are the summed coverage of the two alleles and `log2_ratio` =
log2((1 + S_alt) / (1 + S_ref)), the log ratio of summed coverage with a pseudocount of 1
(Toneyan et al. 2022), computed like a Poisson model's as the difference of logits / ln 2;
`logit_diff` is the same ratio in natural-log units. With several tracks the table gains the
output `mean` (`with_track_mean`): each score averaged over the tracks.
"""
from __future__ import annotations

import math

import numpy as np

from regdna.errors import RegdnaError
from regdna.models.base import activate

SCORE_NAMES = ("p_ref", "p_alt", "delta", "log2_ratio", "logit_diff")
ROBUST_NAMES = ("p_ref", "p_alt", "delta", "log2_ratio")  # of averaged probabilities
_LN2 = math.log(2.0)


def load_scored_predictor(run, scalar: str | None = None, **kwargs):
    """`regdna.runs.load_predictor(run, scalar=...)` for the verbs that score one number per
    output (`vep`, `ism`, `attribute`, `motifs`, `gia`): `scalar` ("sum" | "center:W",
    `regdna.models.scalar`) picks which number of a profile run's predicted coverage they
    explain (None: "sum"), and is refused in one line for a run that predicts no profile.

    Parameters
    ----------
    run : run dir.
    scalar : None, "sum" or "center:W".
    **kwargs : further `load_predictor` arguments (device, batch_size, ...).
    """
    from regdna.runs import load_predictor

    predictor = load_predictor(run, scalar=scalar or "sum", **kwargs)
    if scalar is not None and predictor.profile_model is None:
        raise RegdnaError(f"--scalar {scalar}: run {run} predicts one value per output "
                          f"(task {predictor.task}), not a coverage profile; drop --scalar.")
    return predictor


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
    elif task in ("poisson", "profile"):   # log rates / log(1 + summed coverage)
        log2_ratio = (m_alt - m_ref) / _LN2
    else:  # regression: values; a ratio only means something for positive values
        with np.errstate(divide="ignore", invalid="ignore"):
            log2_ratio = np.where((p_ref > 0) & (p_alt > 0), np.log2(p_alt / p_ref), np.nan)
    return {"p_ref": p_ref, "p_alt": p_alt, "delta": p_alt - p_ref, "log2_ratio": log2_ratio,
            "logit_diff": m_alt - m_ref}


def averaged_scores(p_ref: np.ndarray, p_alt: np.ndarray, task: str = "binary"
                    ) -> dict[str, np.ndarray]:
    """Effect numbers of probabilities already averaged over windows (the shift-robust score of
    Toneyan et al. 2022).

    Parameters
    ----------
    p_ref, p_alt : arrays, shape (N, T), mean probabilities (values, rates; profile models: the
        summed coverage of the region every window shares) of each allele.
    task : the model's task; "profile" takes the log ratio with a pseudocount of 1, as
        `allele_scores` does.

    Returns
    -------
    dict of arrays, shape (N, T): p_ref, p_alt, delta = p_alt - p_ref, log2_ratio =
    log2(p_alt / p_ref) (profile: log2((1 + p_alt) / (1 + p_ref))); NaN / inf where undefined.
    """
    pseudo = 1.0 if task == "profile" else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        log2_ratio = np.log2((p_alt + pseudo) / (p_ref + pseudo))
    return {"p_ref": p_ref, "p_alt": p_alt, "delta": p_alt - p_ref, "log2_ratio": log2_ratio}


def with_track_mean(labels: list[str], scores: dict[str, np.ndarray], task: str
                    ) -> tuple[list[str], dict[str, np.ndarray]]:
    """The outputs of a profile model with several tracks plus one more, `mean`: every score
    averaged over the tracks (other tasks and single tracks: unchanged).

    Parameters
    ----------
    labels : the T output names.
    scores : name -> (N, T) arrays.
    task : the model's task.

    Returns
    -------
    (labels, scores) : with "mean" appended and each array (N, T + 1).
    """
    if task != "profile" or len(labels) < 2:
        return list(labels), scores
    if "mean" in labels:
        raise RegdnaError("a track is named 'mean', the name of the column set averaged over "
                          "tracks; rename the track (dataset.json labels) to score variants.")
    return [*labels, "mean"], {name: np.concatenate([v, v.mean(axis=1, keepdims=True)], axis=1)
                               for name, v in scores.items()}
