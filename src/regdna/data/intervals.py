"""Interval filters for candidate sets: canonical contigs, blacklist, and interval algebra.

`--intersect B` keeps intervals overlapping at least one interval of B (bedtools `-u`);
`--exclude B` drops intervals within `--exclude-window` bp of any interval of B (bedtools
`window -v`). Together they build the enhancer set of Manzo et al. n.d. (DNase peaks intersect
H3K27ac peaks, minus exons, minus promoters within a window of TSSs, minus the blacklist) and its
controls. Overlaps are computed with bioframe; chromosome names are compared without the `chr`
prefix.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from regdna.io.bed import read_bed_all

CANONICAL = re.compile(r"^(chr)?([1-9]|1[0-9]|2[0-2]|X|Y|M|MT)$", re.IGNORECASE)


def bare_chrom(chrom: str) -> str:
    """Chromosome name without `chr` and with MT spelled M: the key used to compare names."""
    bare = chrom[3:] if chrom[:3].lower() == "chr" else chrom
    return "M" if bare.upper() == "MT" else bare


def canonical_mask(chroms, pattern: str | re.Pattern | None = None) -> np.ndarray:
    """True for canonical contigs: 1-22, X, Y, M (with or without `chr`) or a custom regex."""
    regex = re.compile(pattern) if isinstance(pattern, str) else (pattern or CANONICAL)
    cache: dict[str, bool] = {}
    out = np.empty(len(chroms), dtype=bool)
    for i, chrom in enumerate(chroms):
        hit = cache.get(chrom)
        if hit is None:
            hit = cache[chrom] = bool(regex.match(chrom))
        out[i] = hit
    return out


def _with_bare(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[["chrom", "start", "end"]].copy()
    out["chrom"] = [bare_chrom(c) for c in out["chrom"]]
    return out.reset_index(drop=True)


class IntervalSet:
    """A reference interval set (blacklist, peaks, exons) held in memory for overlap queries."""

    def __init__(self, frame: pd.DataFrame, window: int = 0, name: str = ""):
        import bioframe

        table = _with_bare(frame)
        if window:
            table["start"] = (table["start"] - window).clip(lower=0)
            table["end"] = table["end"] + window
        self.name = name
        self.frame = bioframe.merge(table, min_dist=0)[["chrom", "start", "end"]] if len(table) else table

    @classmethod
    def from_bed(cls, path: str | Path, window: int = 0) -> "IntervalSet":
        return cls(read_bed_all(path), window=window, name=str(path))

    def overlaps(self, chroms, starts, ends) -> np.ndarray:
        """True where [start, end) overlaps at least one interval of the set (N,) bool."""
        import bioframe

        query = pd.DataFrame({"chrom": [bare_chrom(c) for c in chroms],
                              "start": np.asarray(starts, dtype=np.int64),
                              "end": np.asarray(ends, dtype=np.int64)})
        if len(query) == 0 or len(self.frame) == 0:
            return np.zeros(len(query), dtype=bool)
        counts = bioframe.count_overlaps(query, self.frame)["count"].to_numpy()
        return counts > 0
