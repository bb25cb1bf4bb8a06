"""One-hot encoding of DNA strings.

Layout: arrays on disk and in NPZ files are (N, L, 4) as in Morenu n.d.; tensors fed to models are
(N, 4, L) (channels first, as PyTorch convolutions, captum and tangermeme expect). Columns are
A, C, G, T. N and other IUPAC codes encode as all zeros. Lower-case (soft-masked) bases encode
like upper case.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

ALPHABET = "ACGT"

_LOOKUP = np.full(256, 4, dtype=np.uint8)  # 4 = "no base" (N, IUPAC, padding)
for _i, _b in enumerate(ALPHABET):
    _LOOKUP[ord(_b)] = _i
    _LOOKUP[ord(_b.lower())] = _i

_COMPLEMENT = str.maketrans("ACGTNacgtnRYKMSWBDHVrykmswbdhv", "TGCANtgcanYRMKSWVHDByrmkswvhdb")


def reverse_complement(seq: str) -> str:
    """Reverse complement of a DNA string; keeps case and IUPAC codes."""
    return seq.translate(_COMPLEMENT)[::-1]


def base_indices(seqs: Sequence[str], length: int | None = None) -> np.ndarray:
    """Map strings to integer codes (N, L) uint8 with A,C,G,T = 0..3 and 4 for anything else.

    Sequences shorter than `length` are padded with 4 (N) on the right; longer ones are an error
    (windows are cut to length when datasets are made, never silently here).
    """
    if length is None:
        length = max((len(s) for s in seqs), default=0)
    out = np.full((len(seqs), length), 4, dtype=np.uint8)
    for i, seq in enumerate(seqs):
        if len(seq) > length:
            raise ValueError(f"sequence {i} has length {len(seq)} > {length}")
        out[i, : len(seq)] = _LOOKUP[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]
    return out


def one_hot(seqs: Sequence[str], length: int | None = None, dtype=np.float32,
            channels_first: bool = False) -> np.ndarray:
    """One-hot encode strings: (N, L, 4), or (N, 4, L) with `channels_first=True`."""
    idx = base_indices(seqs, length)
    eye = np.concatenate([np.eye(4, dtype=dtype), np.zeros((1, 4), dtype=dtype)])
    x = eye[idx]
    return np.ascontiguousarray(x.transpose(0, 2, 1)) if channels_first else x


def one_hot_to_strings(x: np.ndarray, channels_first: bool = False) -> list[str]:
    """Decode one-hot arrays (N, L, 4) (or (N, 4, L)) back to strings; all-zero columns are N."""
    x = np.asarray(x)
    if channels_first:
        x = x.transpose(0, 2, 1)
    letters = np.frombuffer(b"ACGTN", dtype=np.uint8)
    idx = np.where(x.max(axis=-1) > 0, x.argmax(axis=-1), 4)
    return [letters[row].tobytes().decode("ascii") for row in idx]
