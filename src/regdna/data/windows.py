"""Fixed-length windows: centred on the narrowPeak summit when known, else on the interval
midpoint; the part of a window past a chromosome end is filled with N, so every window keeps its
length and its centre.

A padded window keeps its genome coordinates: `start` is negative (or `end` past the chromosome
end), so base i of the sequence is always genome position start + i. The number of padding
bases is returned beside it (`padded`), so the max-N filter counts only the genome's own N.

`shift_offsets` spreads shifted windows evenly around a centred one, in whole bins: the
shift-robust variant score and the robustness test both cut them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from regdna.io.genome import Genome


def window_centres(start: np.ndarray, end: np.ndarray, summit: np.ndarray) -> np.ndarray:
    """Window centre per interval (N,): `start + summit` where summit >= 0, else the midpoint."""
    start, end, summit = (np.asarray(a, dtype=np.int64) for a in (start, end, summit))
    return np.where(summit >= 0, start + summit, (start + end) // 2)


def window_bounds(centres: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) of `length`-bp windows around `centres` (the same rule as `Genome.window`);
    they may reach below 0 or past a chromosome end, where `fetch_windows` pads with N."""
    starts = np.asarray(centres, dtype=np.int64) - length // 2
    return starts, starts + length


def fetch_windows(genome: Genome, chroms, starts, ends) -> tuple[list[str], np.ndarray]:
    """Sequences of [start, end) windows, upper-case, N-padded past contig ends.

    Returns:
        sequences (list of N strings) and the number of padded bases per window (N,) int.
    """
    starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    seqs = genome.fetch_many(chroms, starts, ends)
    sizes = {c: genome.chrom_sizes[genome.resolve(c)] for c in set(chroms)}
    size = np.array([sizes[c] for c in chroms], dtype=np.int64)
    padded = np.maximum(0, -starts) + np.maximum(0, ends - size)
    return seqs, padded


def make_windows(genome: Genome, intervals: pd.DataFrame, length: int | None) -> pd.DataFrame:
    """Windows for a chunk of intervals (columns chrom, start, end, summit).

    With `length` None the intervals are taken as they are (variable length). Returns a copy
    with `start`, `end` replaced by the window, `sequence` and `padded` (N bases added) columns.
    """
    out = intervals.copy()
    if length is not None:
        centres = window_centres(out["start"].to_numpy(), out["end"].to_numpy(), out["summit"].to_numpy())
        out["start"], out["end"] = window_bounds(centres, length)
    seqs, padded = fetch_windows(genome, out["chrom"].tolist(), out["start"].to_numpy(), out["end"].to_numpy())
    out["sequence"] = pd.Series(seqs, index=out.index, dtype=object)   # object: fast to iterate
    out["padded"] = padded
    return out


def fit_length(seq: str, length: int) -> str:
    """Centre-crop or symmetrically N-pad a sequence to `length` (for FASTA and table input).

    The centre base stays the centre: a sequence longer by k loses k//2 bases on the left and
    the rest on the right; one shorter by k gains k//2 Ns on the left and the rest on the right.
    """
    diff = len(seq) - length
    if diff > 0:
        left = diff // 2
        return seq[left:left + length]
    if diff < 0:
        left = (-diff) // 2
        return "N" * left + seq + "N" * (-diff - left)
    return seq


def shift_offsets(k: int, max_shift: int, step: int = 1) -> list[int]:
    """K window offsets in bp, evenly spaced in [-max_shift, max_shift] (K <= 1: [0]); the shifts
    of the shift-robust score (Toneyan et al. 2022).

    `step` rounds each offset to a multiple of it (a profile model's bin size, so the shifted
    windows' bins line up on the genome) within +-max_shift; offsets that round to the same value
    are kept once."""
    if k <= 1:
        return [0]
    limit = (max_shift // step) * step
    return sorted({int(np.clip(round(v / step) * step, -limit, limit))
                   for v in np.linspace(-max_shift, max_shift, k)})
