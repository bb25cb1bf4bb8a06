"""One number per track from a profile model: the scalar every analysis explains.

A profile model predicts coverage (N, B, T) (`regdna.models.base`); variant scoring, ISM,
attribution, motifs and GIA work on (N, T) logits. `ProfileScalar` wraps the profile model into
that contract: its logit is log(1 + the predicted coverage summed over a window of the input), so
`activate(logit, "profile")` is the summed coverage and a difference of logits is the log ratio of
summed coverage with a pseudocount of 1 (the variant score of Toneyan et al. 2022).

Scalar specs (`--scalar`): "sum" (the whole window) or "center:W" (the central W bp, rounded out
to whole bins).
"""
from __future__ import annotations

import torch

from regdna.errors import RegdnaError

SCALARS = ("sum", "center:W")


def scalar_bins(scalar: str, length: int, bin_size: int) -> tuple[int, int]:
    """The half-open bin range [first, last) a scalar spec sums over."""
    n_bins = length // bin_size
    text = str(scalar).strip()
    if text == "sum":
        return 0, n_bins
    if text.startswith("center:"):
        try:
            width = int(text.split(":", 1)[1])
        except ValueError:
            width = -1
        if not 0 < width <= length:
            raise RegdnaError(f"--scalar {scalar}: W must be a whole number of bp between 1 and "
                              f"the input length {length}, e.g. center:{min(length, 200)}.")
        start = (length - width) // 2                        # the central W bp ...
        return start // bin_size, -(-(start + width) // bin_size)   # ... rounded out to bins
    raise RegdnaError(f"--scalar {scalar}: choose sum (the whole window) or center:W (the "
                      f"central W bp, e.g. center:200).")


class Log1p(torch.nn.Module):
    """log(1 + x) as a module, so DeepLIFT's elementwise rule (`regdna.interpret.deeplift`)
    sees it and contributions still add up to the scalar's difference."""

    def forward(self, x):
        return torch.log1p(x)


class ProfileScalar(torch.nn.Module):
    """(N, 4, L) -> (N, T): log(1 + bin_size * sum of the predicted coverage over the chosen bins).

    Args:
        profile_model: a profile model (`output_kind == "profile"`).
        length: the input length in bp.
        scalar: "sum" or "center:W" (see the module docstring).
    """

    input_kind = "onehot"
    output_kind = "scalar"

    def __init__(self, profile_model: torch.nn.Module, length: int, scalar: str = "sum"):
        super().__init__()
        self.profile_model = profile_model
        self.bin_size = int(profile_model.bin_size)
        self.first, self.last = scalar_bins(scalar, length, self.bin_size)
        self.scalar = scalar
        self.n_outputs = getattr(profile_model, "n_outputs", None)
        # modules, not functions: attribution rules attach to them (the sum is linear)
        self.nonnegative = torch.nn.ReLU()
        self.log1p = Log1p()

    def forward(self, x):
        coverage = self.nonnegative(self.profile_model(x)[:, self.first:self.last, :])
        return self.log1p(coverage.sum(dim=1) * self.bin_size)
