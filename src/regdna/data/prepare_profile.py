"""`prepare --bigwig`: a coverage (profile) dataset from bigWig tracks and a genome (Toneyan et
al. 2022, the GOPHER framework).

Windows are chosen first, as coordinates only (`select_windows`), by one of two selections:
- peaks: a stored window (`length` + 2 * `margin` bp) centred on each peak's summit
  (narrowPeak column 10) or midpoint, the peaks of every BED pooled; after the filters below,
  windows whose central `length` bp overlap those of the last kept window by more than half are
  merged into it (the first by position is kept), so near-duplicate peaks of several tracks or
  replicates do not inflate the data (Toneyan et al. 2022 merge the peaks of all cell lines).
- coverage: each chromosome tiled from position 0 into non-overlapping stored windows; a tile
  is kept when the max coverage of any track in it exceeds `coverage_threshold` (Toneyan et al.
  2022: 3 kb tiles of which the central 2 kb are the input, threshold 2).
Both drop windows on chromosomes outside the chosen set, reaching past a chromosome end,
overlapping the blacklist, or with a fraction of N (of the stored window) above `max_n`, and
count every removal in `counts`. Splits are whole chromosomes (a random split of overlapping
windows would leak).

Each split is then written ~1000 windows at a time (`write_split`): Parquet rows (id
`chrom:start-end`, chrom, start, end, sequence = the stored window, one float column per track
= total coverage over the central `length` bp, and `peak_<track>` 0/1 when the central window
overlaps a peak of that track) and `{split}.coverage.npy`, float16 (N, stored_length, T) filled
through a memory map. Memory holds the window coordinates and one batch of coverage, never a
whole chromosome; coverage above the float16 maximum (65504) is clipped there (counted in `qc`;
the label columns keep the exact sums).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from regdna._version import __version__
from regdna.data.clean import base_composition
from regdna.data.dataset import SPLITS, DatasetInfo, ProfileInfo, coverage_path, write_info
from regdna.data.intervals import IntervalSet
from regdna.data.windows import window_bounds, window_centres
from regdna.errors import RegdnaError
from regdna.io.bed import read_bed
from regdna.utils.progress import progress

BATCH = 1000                                     # windows whose coverage is read at a time
FLOAT16_MAX = float(np.finfo(np.float16).max)    # 65504
QUANTILES = (0.0, 0.25, 0.5, 0.75, 0.95, 1.0)
# every step's count is present in dataset.json (0 where it removed nothing or did not apply)
COUNTED_STEPS = ("input", "removed_chroms", "removed_edge", "removed_blacklist", "removed_n",
                 "removed_threshold", "merged_peaks")


def build_profile(a, tmp: Path) -> None:
    """One `prepare --bigwig` run (`a`: `regdna.data.prepare_args.ProfileArgs`) inside the
    temporary dataset dir `tmp`."""
    counts = dict.fromkeys(COUNTED_STEPS, 0)
    peaks = read_peaks(a)
    windows = select_windows(a, peaks, counts)
    counts["final"] = len(windows)
    if not len(windows):
        raise RegdnaError(f"no windows left ({_count_text(counts)}); check --chroms, --blacklist, --max-n"
                          + (" and --coverage-threshold." if a.selection == "coverage" else " and the peak BEDs."))
    code = {c: i for i, split in enumerate(SPLITS) for c in a.split_chroms[split]}
    splits = np.array([code[c] for c in windows["chrom"]], dtype=np.int8)
    empty = [SPLITS[i] for i in range(3) if not (splits == i).any()]
    if empty:
        raise RegdnaError(f"split(s) {', '.join(empty)} would be empty ({len(windows)} windows kept, none on "
                          f"{', '.join(c for s in empty for c in a.split_chroms[s])}); hold out chromosomes with "
                          "windows (--test-chroms / --val-chroms) or loosen the selection.")
    peak_sets = {t: IntervalSet(pd.concat([f[f["chrom"].notna()] for label, f in peaks if label in (None, t)],
                                          ignore_index=True)) for t in a.peak_tracks}
    totals, clipped, negative = {}, {}, {}
    with progress(total=len(windows), desc="writing windows", unit="win", enabled=a.progress) as bar:
        for i, split in enumerate(SPLITS):
            part = windows[splits == i].reset_index(drop=True)
            totals[split], clipped[split], negative[split] = write_split(a, tmp, split, part, peak_sets, bar)
    info = _info(a, totals, clipped, negative, counts)
    write_info(tmp, info)
    if a.figures:
        from regdna.plot.coverage import plot_coverage_distributions

        per_track = {t: {s: totals[s][:, j] for s in SPLITS} for j, t in enumerate(a.tracks)}
        plot_coverage_distributions(per_track, tmp / "figures" / "coverage.png", a.length)


def _count_text(counts: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counts.items())


# -- selection ------------------------------------------------------------------------------------
def read_peaks(a) -> list[tuple[str | None, pd.DataFrame]]:
    """(track label or None, peaks) per `--bed`; peaks have columns chrom (the genome's name,
    None where the genome lacks the chromosome), start, end, summit (offset, -1 unknown)."""
    out = []
    for path, label in a.bed:
        frames = [f[["chrom", "start", "end", "summit"]] for f in read_bed(path)]
        frame = (pd.concat(frames, ignore_index=True) if frames else
                 pd.DataFrame({"chrom": pd.Series([], dtype=object), **{c: np.array([], np.int64)
                                                                         for c in ("start", "end", "summit")}}))
        names = {c: a.genome.resolve(c) for c in frame["chrom"].unique()}
        frame["chrom"] = frame["chrom"].map(names).astype(object)
        out.append((label, frame))
    return out


def select_windows(a, peaks: list[tuple[str | None, pd.DataFrame]], counts: dict) -> pd.DataFrame:
    """The kept stored windows (columns chrom, start), sorted by chromosome (genome order) and
    start; `counts` gets what each step removed."""
    if a.selection == "peaks":
        pooled = pd.concat([frame for _, frame in peaks], ignore_index=True)
        counts["input"] = len(pooled)
        inside = pooled["chrom"].isin(a.chroms).to_numpy()
        counts["removed_chroms"] = int((~inside).sum())
        pooled = pooled[inside]
        centres = window_centres(pooled["start"].to_numpy(), pooled["end"].to_numpy(), pooled["summit"].to_numpy())
        windows = _sorted(a, pooled["chrom"].to_numpy(object), window_bounds(centres, a.stored_length)[0])
    else:
        windows = _tiles(a, counts)
    windows = _filter(windows, counts, "removed_edge", _inside_chromosome(a, windows))
    for blacklist in a.blacklist:
        hit = blacklist.overlaps(windows["chrom"].tolist(), windows["start"].to_numpy(),
                                 windows["start"].to_numpy() + a.stored_length)
        windows = _filter(windows, counts, "removed_blacklist", ~hit)
    with progress(total=len(windows), desc="checking windows", unit="win", enabled=a.progress) as bar:
        windows = _filter(windows, counts, "removed_n", n_fractions(a, windows, bar) <= a.max_n)
        if a.selection == "coverage":
            bar.reset(total=len(windows))
            above = max_coverage(a, windows, bar) > a.coverage_threshold
            windows = _filter(windows, counts, "removed_threshold", above)
    if a.selection == "peaks":
        windows = _filter(windows, counts, "merged_peaks", merge_mask(windows["chrom"].to_numpy(object),
                                                                      windows["start"].to_numpy(), a.length))
    return windows


def _sorted(a, chroms: np.ndarray, starts: np.ndarray) -> pd.DataFrame:
    rank = {c: i for i, c in enumerate(a.chroms)}
    order = np.lexsort((starts, np.array([rank[c] for c in chroms], dtype=np.int64)))
    return pd.DataFrame({"chrom": chroms[order], "start": np.asarray(starts, dtype=np.int64)[order]})


def _tiles(a, counts: dict) -> pd.DataFrame:
    """Every chromosome of `a.chroms` cut from 0 into stored windows; the last, partial tile of a
    chromosome reaches past its end (counted as input, removed as `removed_edge`)."""
    chroms, starts = [], []
    for chrom in a.chroms:
        size = a.genome.chrom_sizes[chrom]
        n = -(-size // a.stored_length)
        counts["input"] += n
        chroms.append(np.full(n, chrom, dtype=object))
        starts.append(np.arange(n, dtype=np.int64) * a.stored_length)
    return pd.DataFrame({"chrom": np.concatenate(chroms), "start": np.concatenate(starts)})


def _inside_chromosome(a, windows: pd.DataFrame) -> np.ndarray:
    size = windows["chrom"].map(a.genome.chrom_sizes).to_numpy(np.int64)
    start = windows["start"].to_numpy()
    return (start >= 0) & (start + a.stored_length <= size)


def _filter(windows: pd.DataFrame, counts: dict, step: str, keep: np.ndarray) -> pd.DataFrame:
    counts[step] += int((~keep).sum())
    return windows[keep].reset_index(drop=True)


def merge_mask(chroms: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """(N,) bool: the windows kept when those whose central `length` bp overlap the last kept
    window's by more than half are merged into it. Windows are sorted by chromosome and start
    and share one length, so the overlap is `length - d` for a start distance d < length: a
    window is kept when 2 d >= length."""
    keep = np.zeros(len(starts), dtype=bool)
    last_chrom, last_start = None, 0
    for i, (chrom, start) in enumerate(zip(chroms.tolist(), np.asarray(starts).tolist())):
        if chrom != last_chrom or 2 * (start - last_start) >= length:
            keep[i] = True
            last_chrom, last_start = chrom, start
    return keep


def _batches(chroms: np.ndarray, size: int):
    """(chrom, slice) runs of at most `size` consecutive rows on one chromosome (rows sorted by
    chromosome)."""
    if not len(chroms):
        return
    edges = [0, *(np.flatnonzero(chroms[1:] != chroms[:-1]) + 1).tolist(), len(chroms)]
    for lo, hi in zip(edges[:-1], edges[1:]):
        for first in range(lo, hi, size):
            yield chroms[lo], slice(first, min(first + size, hi))


def n_fractions(a, windows: pd.DataFrame, bar=None) -> np.ndarray:
    """(N,) fraction of non-ACGT bases of each stored window."""
    out = np.zeros(len(windows))
    chroms, starts = windows["chrom"].to_numpy(object), windows["start"].to_numpy()
    for chrom, rows in _batches(chroms, _batch_size(a)):
        seqs = a.genome.fetch_many([chrom] * len(starts[rows]), starts[rows], starts[rows] + a.stored_length)
        out[rows] = base_composition(seqs)[1]
        if bar is not None:
            bar.update(len(seqs))
    return out


def max_coverage(a, windows: pd.DataFrame, bar=None) -> np.ndarray:
    """(N,) the largest coverage of any track anywhere in each stored window."""
    out = np.zeros(len(windows), dtype=np.float32)
    chroms, starts = windows["chrom"].to_numpy(object), windows["start"].to_numpy()
    for chrom, rows in _batches(chroms, _batch_size(a)):
        values = window_coverage(a.bigwigs, chrom, starts[rows], a.stored_length)
        out[rows] = values.max(axis=(1, 2)) if values.size else 0.0
        if bar is not None:
            bar.update(len(values))
    return out


def _batch_size(a) -> int:
    return max(1, min(a.chunk_size, BATCH))


def window_coverage(bigwigs, chrom: str, starts: np.ndarray, length: int) -> np.ndarray:
    """Coverage of the windows [start, start + length) of one chromosome: float32 (n, length, T),
    track t from `bigwigs[t]` (`regdna.io.bigwig.BigWig`: 0 where uncovered or absent). Windows
    that cover at least half of their span (tiles, clustered peaks) are cut from one read of
    the span, others read one by one."""
    starts = np.asarray(starts, dtype=np.int64)
    out = np.zeros((len(starts), length, len(bigwigs)), dtype=np.float32)
    if not len(starts):
        return out
    lo, hi = int(starts.min()), int(starts.max()) + length
    dense = hi - lo <= 2 * len(starts) * length
    index = (starts - lo)[:, None] + np.arange(length)[None, :]
    for t, bigwig in enumerate(bigwigs):
        if dense:
            out[:, :, t] = bigwig.values(chrom, lo, hi)[index]
        else:
            for i, start in enumerate(starts.tolist()):
                out[i, :, t] = bigwig.values(chrom, start, start + length)
    return out


# -- writing --------------------------------------------------------------------------------------
def write_split(a, tmp: Path, split: str, windows: pd.DataFrame, peak_sets: dict[str, IntervalSet],
                bar=None) -> tuple[np.ndarray, int, int]:
    """Write `{split}.parquet` and `{split}.coverage.npy` for the windows of one split.

    Returns
    -------
    (totals (N, T) float64: each track's coverage summed over the central `length` bp,
     the number of coverage values clipped to the float16 range, the number of negative values).
    """
    from numpy.lib.format import open_memmap

    n, size, width = len(windows), a.stored_length, len(a.tracks)
    lo, hi = a.margin, a.margin + a.length
    schema = pa.schema([("id", pa.string()), ("chrom", pa.string()), ("start", pa.int64()), ("end", pa.int64()),
                        ("sequence", pa.string())] + [(t, pa.float64()) for t in a.tracks] +
                       [(f"peak_{t}", pa.float64()) for t in a.peak_tracks])
    cover = open_memmap(coverage_path(tmp, split), mode="w+", dtype=np.float16, shape=(n, size, width))
    totals = np.zeros((n, width), dtype=np.float64)
    clipped = negative = 0
    chroms, starts = windows["chrom"].to_numpy(object), windows["start"].to_numpy()
    with pq.ParquetWriter(tmp / f"{split}.parquet", schema) as writer:
        for chrom, rows in _batches(chroms, _batch_size(a)):
            begin = starts[rows]
            end = begin + size
            values = window_coverage(a.bigwigs, chrom, begin, size)
            totals[rows] = values[:, lo:hi].sum(axis=1, dtype=np.float64)
            negative += int((values < 0).sum())
            over = np.abs(values) > FLOAT16_MAX
            if over.any():
                clipped += int(over.sum())
                np.clip(values, -FLOAT16_MAX, FLOAT16_MAX, out=values)
            cover[rows] = values
            k = len(begin)
            columns = {"id": [f"{chrom}:{s}-{e}" for s, e in zip(begin.tolist(), end.tolist())],
                       "chrom": [chrom] * k, "start": begin, "end": end,
                       "sequence": a.genome.fetch_many([chrom] * k, begin, end)}
            for j, track in enumerate(a.tracks):
                columns[track] = totals[rows, j]
            for track in a.peak_tracks:
                hit = peak_sets[track].overlaps([chrom] * k, begin + lo, begin + hi)
                columns[f"peak_{track}"] = hit.astype(np.float64)
            writer.write_table(pa.Table.from_pydict(columns, schema=schema))
            if bar is not None:
                bar.update(k)
    cover.flush()
    del cover
    return totals, clipped, negative


def coverage_qc(totals: np.ndarray) -> dict:
    """QC of one track in one split from its window totals (N,): quantiles (0, 25, 50, 75, 95,
    100 %), the fraction of windows without any coverage, and the mean."""
    if not len(totals):
        return {"n": 0}
    values = np.quantile(totals, QUANTILES)
    return {"n": int(len(totals)), "quantiles": {f"{q:g}": float(v) for q, v in zip(QUANTILES, values)},
            "zero_fraction": float((totals == 0).mean()), "mean": float(totals.mean())}


def _info(a, totals: dict[str, np.ndarray], clipped: dict[str, int], negative: dict[str, int],
          counts: dict) -> DatasetInfo:
    """The `dataset.json` of the run."""
    splits = {s: {"n": int(len(totals[s])),
                  "per_class": {t: float(totals[s][:, j].mean()) for j, t in enumerate(a.tracks)}}
              for s in SPLITS}
    qc: dict = {"coverage": {t: {s: coverage_qc(totals[s][:, j]) for s in SPLITS} for j, t in enumerate(a.tracks)},
                "clipped_float16": clipped, "negative_values": negative, "warnings": []}
    if sum(clipped.values()):
        detail = ", ".join(f"{s} {n}" for s, n in clipped.items() if n)
        qc["warnings"].append(f"{sum(clipped.values())} coverage values beyond +-{FLOAT16_MAX:g} (the float16 "
                              f"range of {{split}}.coverage.npy) were clipped ({detail}); the label columns keep "
                              "the exact sums. Scale the tracks down (e.g. fold change over control) to avoid it.")
    if sum(negative.values()):
        qc["warnings"].append(f"{sum(negative.values())} coverage values are negative (e.g. a log-ratio "
                              "track): train with --set train.loss=mse or pearson (the Poisson and multinomial "
                              "losses need coverage >= 0).")
    profile = ProfileInfo(
        tracks=a.tracks, bigwigs=[str(p.resolve()) for p, _ in a.tracks_spec], margin=a.margin,
        stored_length=a.stored_length, bin_size=a.bin_size, selection=a.selection,
        coverage_threshold=a.coverage_threshold if a.selection == "coverage" else None,
        peak_columns=[f"peak_{t}" for t in a.peak_tracks], genome=str(a.genome.path.resolve()),
        chroms=a.split_chroms, blacklist=[str(p.resolve()) for p in a.blacklist_paths], max_n=a.max_n)
    provenance = dict(a.provenance)
    provenance.update({"regdna_version": __version__, "input_kind": a.kind,
                       "genome_chrom_count": len(a.genome.chrom_sizes)})
    return DatasetInfo(task="profile", labels=a.tracks, length=a.length, splits=splits, provenance=provenance,
                       counts=counts, qc=qc, profile=profile)
