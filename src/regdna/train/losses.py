"""Losses with missing labels masked: the mean over observed entries only; and the losses of
profile models.

y is (N, T) float with NaN for a missing label (binary, multi-label, regression) or (N,) int64
class indices with -100 for a missing label (multi-class).

Profile losses (`profile_loss`) compare predicted coverage `rate` (N, B, T) >= 0 with binned
targets y (N, B, T) (Toneyan et al. 2022):
- poisson: the Poisson NLL rate - y log(rate), up to log y!, averaged over every bin;
- mse: the squared error averaged over every bin;
- multinomial (Avsec et al. 2021, BPNet): the multinomial NLL of the targets' shape under
  p = rate / sum(rate) over the B bins, including its normalising terms, averaged over (N, T),
  plus COUNT_WEIGHT x the squared error of log(1 + total counts);
- pearson: 1 - Pearson's r between predicted and measured profile along the bins, averaged over
  (N, T); a flat profile contributes r = 0.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("bce", "ce", "mse", "poisson")
PROFILE_LOSSES = ("poisson", "mse", "multinomial", "pearson")
COUNT_WEIGHT = 1.0          # multinomial: weight of the log total count term
_EPS = 1e-8


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    # a batch with no observed label contributes 0 (and no gradient), not NaN
    return (values * mask).sum() / mask.sum().clamp(min=1)


def masked_bce(logits: torch.Tensor, y: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Binary cross-entropy over observed entries; smoothing pulls targets towards 0.5."""
    mask = ~torch.isnan(y)
    target = torch.nan_to_num(y, nan=0.0)
    if label_smoothing:
        target = target * (1 - label_smoothing) + 0.5 * label_smoothing
    values = F.binary_cross_entropy_with_logits(logits.float(), target.float(), reduction="none")
    return _masked_mean(values, mask.float())


def masked_mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    mask = ~torch.isnan(y)
    values = (pred.float() - torch.nan_to_num(y, nan=0.0).float()) ** 2
    return _masked_mean(values, mask.float())


def masked_poisson(log_rate: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Poisson negative log-likelihood exp(z) - y z (up to log y!) with z the log rate."""
    mask = ~torch.isnan(y)
    values = F.poisson_nll_loss(log_rate.float(), torch.nan_to_num(y, nan=0.0).float(),
                                log_input=True, full=False, reduction="none")
    return _masked_mean(values, mask.float())


def cross_entropy(logits: torch.Tensor, y: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    if bool((y == -100).all()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits.float(), y.long(), ignore_index=-100,
                           label_smoothing=label_smoothing)


def compute_loss(name: str, logits: torch.Tensor, y: torch.Tensor,
                 label_smoothing: float = 0.0) -> torch.Tensor:
    """Dispatch on the loss name (bce, ce, mse, poisson)."""
    if name == "bce":
        return masked_bce(logits, y, label_smoothing)
    if name == "ce":
        return cross_entropy(logits, y, label_smoothing)
    if name == "mse":
        return masked_mse(logits, y)
    if name == "poisson":
        return masked_poisson(logits, y)
    raise ValueError(f"unknown loss {name}; one of {LOSSES}")


def profile_poisson(rate: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean of rate - y log(rate + eps) over every bin (the Poisson NLL without log y!)."""
    return F.poisson_nll_loss(rate.float(), y.float(), log_input=False, full=False, eps=_EPS)


def profile_mse(rate: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return ((rate.float() - y.float()) ** 2).mean()


def multinomial_nll(rate: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per (N, T): -log Multinomial(y | n = sum y, p = rate / sum rate) over the B bins
    (lgamma terms included, so non-integer coverage is allowed); shape (N, T)."""
    rate, y = rate.float(), y.float()
    log_p = torch.log(rate + _EPS) - torch.log(rate.sum(dim=1, keepdim=True) + rate.shape[1] * _EPS)
    total = y.sum(dim=1)
    log_pmf = torch.lgamma(total + 1) - torch.lgamma(y + 1).sum(dim=1) + (y * log_p).sum(dim=1)
    return -log_pmf


def profile_multinomial(rate: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """BPNet's loss: multinomial NLL of the shape + COUNT_WEIGHT x MSE of log(1 + total)."""
    counts = (torch.log1p(rate.float().sum(dim=1)) - torch.log1p(y.float().sum(dim=1))) ** 2
    return multinomial_nll(rate, y).mean() + COUNT_WEIGHT * counts.mean()


def profile_pearson_r(rate: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Pearson's r along the bins of each (sequence, track): (N, T); 0 where either is flat."""
    a = rate.float() - rate.float().mean(dim=1, keepdim=True)
    b = y.float() - y.float().mean(dim=1, keepdim=True)
    denominator = torch.sqrt((a * a).sum(dim=1) * (b * b).sum(dim=1))
    return torch.where(denominator > 0, (a * b).sum(dim=1) / denominator.clamp(min=_EPS),
                       torch.zeros_like(denominator))


def profile_pearson(rate: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return 1 - profile_pearson_r(rate, y).mean()


_PROFILE = {"poisson": profile_poisson, "mse": profile_mse, "multinomial": profile_multinomial,
            "pearson": profile_pearson}


def profile_loss(name: str, rate: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Dispatch on the profile loss name (poisson, mse, multinomial, pearson)."""
    if name not in _PROFILE:
        raise ValueError(f"unknown profile loss {name}; one of {PROFILE_LOSSES}")
    return _PROFILE[name](rate, y)
