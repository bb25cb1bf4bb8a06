"""Negatives for a dataset that has only positives.

- `shuffled_negatives`: one dinucleotide-shuffled copy per positive (exact dinucleotide counts,
  `regdna.data.shuffle`), seeded; a copy keeps its source's chromosome so it lands in the same
  split (a shuffle of a test positive never trains the model).
- `gc_matched_negatives`: random genomic windows of the positives' length whose GC fraction lies
  within `tolerance` of one positive's GC, on the positives' contigs, free of N and not
  overlapping any positive. Matching is by GC bins of width `tolerance`, so every matched pair
  differs by less than `tolerance`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from regdna.data.clean import gc_fraction, n_fraction
from regdna.data.intervals import bare_chrom
from regdna.data.shuffle import dinucleotide_shuffle
from regdna.errors import RegdnaError
from regdna.io.genome import Genome


def shuffled_negatives(positives: pd.DataFrame, rng: np.random.Generator, per_positive: int = 1) -> pd.DataFrame:
    """Dinucleotide shuffles of `positives` (columns id, chrom, start, end, sequence, optionally
    padded).

    Returns a frame with the same columns; ids are `<id>_shuf<k>`. A shuffle keeps its source's
    count of padding N (`padded`), so the max-N filter treats both alike.
    """
    rows = {"id": [], "chrom": [], "start": [], "end": [], "sequence": [], "padded": []}
    for rec in positives.itertuples(index=False):
        for k in range(per_positive):
            rows["id"].append(f"{rec.id}_shuf{k}")
            rows["chrom"].append(rec.chrom)
            rows["start"].append(rec.start)
            rows["end"].append(rec.end)
            rows["sequence"].append(dinucleotide_shuffle(rec.sequence, rng))
            rows["padded"].append(int(getattr(rec, "padded", 0)))
    return pd.DataFrame(rows)


class _Occupied:
    """Positive intervals per contig, merged and sorted, for fast 'does it overlap' tests."""

    def __init__(self, chroms, starts, ends):
        frame = pd.DataFrame({"chrom": [bare_chrom(c) for c in chroms],
                              "start": np.asarray(starts, np.int64), "end": np.asarray(ends, np.int64)})
        self.by_chrom: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for chrom, group in frame.groupby("chrom", sort=False):
            group = group.sort_values("start")
            s, e = group["start"].to_numpy(), np.maximum.accumulate(group["end"].to_numpy())
            self.by_chrom[chrom] = (s, e)

    def overlaps(self, chrom: str, start: int, end: int) -> bool:
        table = self.by_chrom.get(bare_chrom(chrom))
        if table is None:
            return False
        s, e = table
        idx = np.searchsorted(s, end, side="left") - 1   # last positive starting before `end`
        return bool(idx >= 0 and e[idx] > start)


def gc_matched_negatives(genome: Genome, positives: pd.DataFrame, gc: np.ndarray, length: int,
                         rng: np.random.Generator, tolerance: float = 0.02, max_n: float = 0.0,
                         occupied: pd.DataFrame | None = None,
                         max_draws_per_positive: int = 200) -> tuple[pd.DataFrame, dict]:
    """One GC-matched genomic window per positive.

    Args:
        genome: the genome the positives come from.
        positives: frame with `id`, `chrom` (N rows); `gc` (N,) their GC fractions. Each
            negative comes from its positive's contig.
        length: window length (bp).
        tolerance: largest allowed |GC(negative) - GC(positive)|.
        occupied: intervals (chrom, start, end) negatives must not overlap (the positives).

    Returns:
        (frame with id, chrom, start, end, sequence, matched_to (the positive's id);
        {"requested", "matched", "unmatched", "draws", "tolerance", "max_gc_difference"}).
    """
    if not 0 < tolerance < 1:
        raise RegdnaError(f"--gc-tolerance {tolerance} must be between 0 and 1 (e.g. 0.02).")
    if positives is None or len(positives) == 0:
        return _empty_negatives(), {"requested": 0, "matched": 0, "unmatched": 0, "draws": 0,
                                    "tolerance": tolerance, "max_gc_difference": 0.0}
    # Each negative is drawn from its positive's contig, so chromosome splits stay balanced.
    contigs = [genome.require(c) for c in positives["chrom"]]
    blocked = _Occupied(occupied["chrom"], occupied["start"], occupied["end"]) if occupied is not None else None

    gc = np.asarray(gc, dtype=np.float64)
    waiting: dict[tuple[str, int], list[int]] = {}
    for i, contig in enumerate(contigs):
        if np.isfinite(gc[i]) and genome.chrom_sizes[contig] >= length:
            waiting.setdefault((contig, int(np.floor(gc[i] / tolerance))), []).append(i)
    n_wanted = sum(len(v) for v in waiting.values())
    picked: dict[int, tuple[str, int, int, str, float]] = {}
    draws, budget = 0, max_draws_per_positive * max(1, n_wanted)
    while waiting and draws < budget:
        per_contig: dict[str, int] = {}
        for (contig, _), slot in waiting.items():
            per_contig[contig] = per_contig.get(contig, 0) + len(slot)
        names = list(per_contig)
        weights = np.array([per_contig[c] for c in names], dtype=np.float64)
        batch = max(256, 4 * int(weights.sum()))
        for ci in rng.choice(len(names), size=batch, p=weights / weights.sum()):
            draws += 1
            chrom = names[ci]
            start = int(rng.integers(0, genome.chrom_sizes[chrom] - length + 1))
            end = start + length
            if blocked is not None and blocked.overlaps(chrom, start, end):
                continue
            seq = genome.fetch(chrom, start, end)
            if n_fraction(seq) > max_n:
                continue
            value = gc_fraction(seq)
            if not np.isfinite(value):
                continue
            key = (chrom, int(np.floor(value / tolerance)))
            slot = waiting.get(key)
            if not slot:
                continue
            picked[slot.pop()] = (chrom, start, end, seq, value)
            if not slot:
                del waiting[key]
                if not waiting:
                    break
    order = sorted(picked)
    ids = positives["id"].to_numpy()
    frame = pd.DataFrame({
        "id": [f"{chrom}:{s}-{e}" for chrom, s, e, _, _ in (picked[i] for i in order)],
        "chrom": [picked[i][0] for i in order],
        "start": np.array([picked[i][1] for i in order], dtype=np.int64),
        "end": np.array([picked[i][2] for i in order], dtype=np.int64),
        "sequence": [picked[i][3] for i in order],
        "matched_to": [ids[i] for i in order],
    })
    if not len(frame):
        frame = _empty_negatives()
    diffs = np.array([abs(picked[i][4] - gc[i]) for i in order])
    stats = {"requested": int(len(gc)), "matched": len(order), "unmatched": int(len(gc) - len(order)),
             "draws": int(draws), "tolerance": tolerance,
             "max_gc_difference": float(diffs.max()) if len(diffs) else 0.0}
    return frame, stats


def _empty_negatives() -> pd.DataFrame:
    return pd.DataFrame({"id": pd.Series([], dtype=object), "chrom": pd.Series([], dtype=object),
                         "start": np.array([], np.int64), "end": np.array([], np.int64),
                         "sequence": pd.Series([], dtype=object), "matched_to": pd.Series([], dtype=object)})
