"""Training-time augmentation: random reverse complement and random shift (Toneyan et al. 2022).

One-hot functions work on batches (N, 4, L) on any device and draw from torch's global RNG (the
harness reseeds it every epoch, so a resumed run draws the same augmentations). String
functions serve token models, whose batches are built from strings.
"""
from __future__ import annotations

import random
from typing import Sequence

import torch

from regdna.encode.onehot import reverse_complement


def reverse_complement_onehot(x: torch.Tensor) -> torch.Tensor:
    """Reverse complement of one-hot DNA (N, 4, L) with channels A, C, G, T: flip both axes."""
    return torch.flip(x, dims=(1, 2))


def random_reverse_complement(x: torch.Tensor, p: float = 0.5) -> torch.Tensor:
    """Reverse-complement each sequence of (N, 4, L) with probability `p`."""
    flip = torch.rand(x.shape[0], device=x.device) < p
    if not bool(flip.any()):
        return x
    out = x.clone()
    out[flip] = reverse_complement_onehot(x[flip])
    return out


def random_shift(x: torch.Tensor, max_shift: int) -> torch.Tensor:
    """Translate each sequence of (N, 4, L) by a random offset in [-max_shift, max_shift].

    Bases shifted in from outside the window are N (all-zero columns); the length is unchanged.
    """
    if max_shift <= 0:
        return x
    n, _, length = x.shape
    shifts = torch.randint(-max_shift, max_shift + 1, (n, 1), device=x.device)
    source = torch.arange(length, device=x.device).unsqueeze(0) - shifts      # (N, L)
    inside = (source >= 0) & (source < length)
    index = source.clamp(0, length - 1).unsqueeze(1).expand(-1, x.shape[1], -1)
    return torch.gather(x, 2, index) * inside.unsqueeze(1).to(x.dtype)


def augment_onehot(x: torch.Tensor, rc: bool, max_shift: int) -> torch.Tensor:
    """Random shift then random reverse complement of a one-hot batch (N, 4, L)."""
    if max_shift > 0:
        x = random_shift(x, max_shift)
    if rc:
        x = random_reverse_complement(x)
    return x


def shift_string(seq: str, shift: int) -> str:
    """`seq` moved by `shift` bp inside its window, N at the vacated end (shift > 0: right)."""
    if shift > 0:
        return "N" * shift + seq[:-shift]
    if shift < 0:
        return seq[-shift:] + "N" * (-shift)
    return seq


def augment_strings(seqs: Sequence[str], rc: bool, max_shift: int,
                    rng: random.Random | None = None) -> list[str]:
    """String version for token models: random shift (trim one end by up to `max_shift` bases and
    pad the other with N) and random reverse complement with probability 0.5."""
    rng = rng or random
    out = []
    for seq in seqs:
        if max_shift > 0 and len(seq) > 2 * max_shift:
            seq = shift_string(seq, rng.randint(-max_shift, max_shift))
        if rc and rng.random() < 0.5:
            seq = reverse_complement(seq)
        out.append(seq)
    return out
