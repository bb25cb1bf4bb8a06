"""Motif discovery from attribution maps: TF-MoDISco (modisco-lite)
clusters high-attribution seqlets into motifs (PPM, contribution weight matrix) from
contribution + hypothetical contribution maps (`regdna.interpret.attributions.attribute`)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from regdna.errors import RegdnaError


@dataclass
class DiscoveredMotif:
    """One motif found in attribution maps.

    ppm, cwm: (W, 4) position probability and contribution weight matrices, trimmed to the
    columns carrying at least `trim` of the peak contribution.
    """

    name: str
    sign: int
    n_seqlets: int
    ppm: np.ndarray
    cwm: np.ndarray
    matches: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def consensus(self) -> str:
        return "".join("ACGT"[i] for i in self.ppm.argmax(1))


def discover_motifs(onehot: np.ndarray, hypothetical: np.ndarray, max_seqlets: int = 2000,
                    window: int = 15, flank: int = 5, min_metacluster_size: int = 50,
                    final_min_cluster_size: int = 20, n_leiden_runs: int = 4, trim: float = 0.3,
                    seed: int = 0) -> list[DiscoveredMotif]:
    """TF-MoDISco on attribution maps.

    Args:
        onehot: (N, L, 4) one-hot sequences.
        hypothetical: (N, L, 4) hypothetical contributions (`attribute(..., hypothetical=True)`).
        max_seqlets: seqlets kept per sign (modisco's max_seqlets_per_metacluster).
        window, flank: seqlet core width and flank in bp.
        min_metacluster_size: fewest seqlets of one sign worth clustering.
        final_min_cluster_size: fewest seqlets a reported motif needs.
        n_leiden_runs: Leiden clusterings (modisco default 50; a few suffice for clear motifs).

    Returns:
        motifs sorted by number of seqlets, positive patterns first ("pos_0", "neg_0", ...).
    """
    import modiscolite

    onehot = np.asarray(onehot, dtype=np.float32)
    hypothetical = np.asarray(hypothetical, dtype=np.float32)
    if onehot.shape != hypothetical.shape or onehot.ndim != 3 or onehot.shape[-1] != 4:
        raise RegdnaError(f"motif discovery needs one-hot and hypothetical contributions of the "
                          f"same shape (N, L, 4); got {onehot.shape} and {hypothetical.shape}. "
                          "Run `regdna attribute` with a one-hot model and a gradient method.")
    np.random.seed(seed)
    pos, neg = modiscolite.tfmodisco.TFMoDISco(
        one_hot=onehot, hypothetical_contribs=hypothetical, sliding_window_size=window,
        flank_size=flank, min_metacluster_size=min_metacluster_size,
        max_seqlets_per_metacluster=max_seqlets, target_seqlet_fdr=0.05,
        n_leiden_runs=n_leiden_runs, final_min_cluster_size=final_min_cluster_size,
        trim_to_window_size=window + 2 * flank, initial_flank_to_add=flank)
    motifs = []
    for sign, patterns in ((1, pos), (-1, neg)):
        for i, pattern in enumerate(patterns or []):
            ppm, cwm = _trimmed(np.asarray(pattern.sequence), np.asarray(pattern.contrib_scores),
                                trim)
            motifs.append(DiscoveredMotif(name=f"{'pos' if sign > 0 else 'neg'}_{i}", sign=sign,
                                          n_seqlets=len(pattern.seqlets), ppm=ppm, cwm=cwm))
    return motifs


def _trimmed(ppm: np.ndarray, cwm: np.ndarray, trim: float):
    """Keep the span of columns whose |contribution| reaches `trim` x the peak column's."""
    score = np.abs(cwm).sum(1)
    keep = np.flatnonzero(score >= trim * score.max())
    lo, hi = keep.min(), keep.max() + 1
    return ppm[lo:hi], cwm[lo:hi]
