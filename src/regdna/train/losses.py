"""Losses with missing labels masked: the mean over observed entries only.

y is (N, T) float with NaN for a missing label (binary, multi-label, regression) or (N,) int64
class indices with -100 for a missing label (multi-class).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("bce", "ce", "mse", "poisson")


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
