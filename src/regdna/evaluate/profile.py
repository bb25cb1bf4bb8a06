"""Evaluation on coverage datasets (Toneyan et al. 2022): profile runs, and binary / multi-label
runs converted to coverage.

A profile run (`profile_report`), per track, on the split's stored windows (their central
`length` bp, `regdna.data.profiles.central`; targets: the stored coverage's central part binned at
the run's bin size by the mean within each bin, `regdna.data.profiles.bin_mean`):
- `pearson`, `spearman`: the correlation over the bins of each window, averaged over windows. A
  window whose measured or predicted profile is flat (one value in every bin) has no correlation:
  it is skipped and counted (`flat_windows`);
- `mse`: the mean squared error over all bins of all windows;
- `auroc`, `pr_auc` (task conversion): each window's summed predicted coverage against the
  track's peak column (0/1), when the dataset has peak columns.

Whole chromosome (`whole_chromosome`; Toneyan et al. 2022's "Pearson's r (whole)"): every
chromosome of the split (dataset.json `profile.chroms`) is cut from the genome into
non-overlapping windows of the input length from position 0 (the remainder at the chromosome's
end is left out); windows overlapping the blacklist or with an N fraction above `profile.max_n`
(unmappable) are skipped. The predicted bins of the kept windows, concatenated, are compared
with the bigWigs' coverage binned the same way: `pearson_whole`, `mse_whole`, the global
`scale` = mean measured / mean predicted coverage, and `mse_whole_scaled` (predictions times
`scale`). Pearson r is invariant to this scale (a positive factor on one side changes neither
the centring nor the normalisation): scaling changes the MSE only. Memory is flat in the
chromosome length: windows are predicted in batches and only the sufficient statistics of each
track's correlation are kept (`Moments`); the predicted bins are streamed to disk and written as
one bigWig per track (`RUN/predictions_<split>/<track>.bw`).

A binary or multi-label run on a coverage dataset (`conversion_report`): its logits against each
track's total coverage per window (`conversion.per_track` pearson, spearman) and over the same
tiled whole chromosomes (`pearson_whole`); its usual metrics against the peak columns where each
output has one.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from regdna.errors import RegdnaError
from regdna.evaluate import metrics as M
from regdna.evaluate.correlation import row_correlation

TILE_BATCH = 256           # tiled windows predicted together (memory: this many windows)
N_FIGURE_WINDOWS = 3       # windows drawn in the track figure by default


# -- correlations ---------------------------------------------------------------------------------
class Moments:
    """Streaming sufficient statistics of paired values per track: count, means, centred sums of
    squares and of cross products (batches merged as Chan et al. 1979, stable for millions of
    values); enough for Pearson r and the MSE at any scale, never the values themselves.

    `add(x, y)`: x measured, y predicted, (M, T) each."""

    def __init__(self, n_tracks: int):
        self.n = 0
        self.mean_x, self.mean_y = np.zeros(n_tracks), np.zeros(n_tracks)
        self.sxx, self.syy, self.sxy = np.zeros(n_tracks), np.zeros(n_tracks), np.zeros(n_tracks)

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float64).reshape(-1, len(self.mean_x))
        y = np.asarray(y, dtype=np.float64).reshape(-1, len(self.mean_y))
        m = len(x)
        if m == 0:
            return
        mx, my = x.mean(axis=0), y.mean(axis=0)
        dx, dy = x - mx, y - my
        n = self.n + m
        delta_x, delta_y = mx - self.mean_x, my - self.mean_y
        weight = self.n * m / n
        self.sxx += (dx * dx).sum(axis=0) + delta_x ** 2 * weight
        self.syy += (dy * dy).sum(axis=0) + delta_y ** 2 * weight
        self.sxy += (dx * dy).sum(axis=0) + delta_x * delta_y * weight
        self.mean_x += delta_x * m / n
        self.mean_y += delta_y * m / n
        self.n = n

    def pearson(self) -> np.ndarray:
        """Pearson r per track (NaN when a side is constant or fewer than 3 pairs)."""
        ok = (self.sxx > 0) & (self.syy > 0) & (self.n >= 3)
        return np.where(ok, self.sxy / np.sqrt(np.where(ok, self.sxx * self.syy, 1.0)), np.nan)

    def scale(self) -> np.ndarray:
        """mean measured / mean predicted per track (NaN where the mean prediction is 0)."""
        ok = self.mean_y != 0
        return np.where(ok, self.mean_x / np.where(ok, self.mean_y, 1.0), np.nan)

    def mse(self, scale=1.0) -> np.ndarray:
        """Mean of (measured - scale * predicted)^2 per track."""
        if self.n == 0:
            return np.full(len(self.mean_x), np.nan)
        s = np.asarray(scale, dtype=np.float64)
        centred = self.sxx - 2 * s * self.sxy + s ** 2 * self.syy
        return centred / self.n + (self.mean_x - s * self.mean_y) ** 2


# -- the dataset's files --------------------------------------------------------------------------
def peak_column(info, track: str) -> str | None:
    """The peak column (0/1) of a track: `peak_<track>` when the dataset has it, else the column
    at the track's position in `profile.peak_columns` (listed in track order), else None."""
    columns = list(info.profile.peak_columns) if info.profile is not None else []
    if f"peak_{track}" in columns:
        return f"peak_{track}"
    if len(columns) == len(info.labels) and track in info.labels:
        return columns[info.labels.index(track)]
    return None


def _central_offset(info, length: int) -> int:
    stored = info.profile.stored_length
    if length > stored:
        raise RegdnaError(f"the model takes {length} bp windows but the dataset stores "
                          f"{stored} bp windows; evaluate on a dataset prepared with --length "
                          f"{length} or longer windows.")
    return (stored - length) // 2


def split_chunks(data_dir, split: str, columns: Sequence[str], chunk_size: int = 1024):
    """The split's Parquet rows in chunks with the matching rows of its coverage:
    yields (frame, coverage (n, stored_length, T) float16, memory-mapped)."""
    from regdna.data.dataset import iter_split, read_coverage

    coverage = read_coverage(data_dir, split)
    offset = 0
    for frame in iter_split(data_dir, split, batch_size=chunk_size, columns=list(columns)):
        yield frame, coverage[offset:offset + len(frame)]
        offset += len(frame)
    if offset != len(coverage):
        raise RegdnaError(f"{data_dir}: {split}.parquet has {offset} rows but "
                          f"{split}.coverage.npy has {len(coverage)}; re-run `regdna prepare`.")


def _resolve(text: str | None, data_dir) -> Path | None:
    if not text:
        return None
    path = Path(text)
    for candidate in ([path] if path.is_absolute() else [path, Path(data_dir) / path]):
        if candidate.is_file():
            return candidate
    return None


def whole_sources(info, data_dir, split: str, whole: bool | None) -> tuple[dict | None, list[str]]:
    """What whole-chromosome evaluation reads, or None with the reason as a warning.

    `whole` False: None; None: the sources when the genome, every bigWig and blacklist recorded
    in dataset.json still exist (a one-line warning otherwise); True: the sources, or an error.

    Returns ({"genome", "bigwigs", "blacklist", "chroms"} or None, warnings).
    """
    if whole is False:
        return None, []
    profile = info.profile
    problem = None
    genome = _resolve(profile.genome, data_dir)
    bigwigs = [_resolve(p, data_dir) for p in profile.bigwigs]
    blacklist = [_resolve(p, data_dir) for p in profile.blacklist]
    chroms = list(profile.chroms.get(split) or [])
    if not chroms:
        problem = f"dataset.json records no chromosomes for split '{split}'"
    elif genome is None:
        problem = (f"the genome {profile.genome} recorded in dataset.json is gone (moved?)"
                   if profile.genome else "dataset.json records no genome")
    elif len(bigwigs) != len(info.labels) or None in bigwigs:
        gone = [p for p, found in zip(profile.bigwigs, bigwigs) if found is None]
        problem = (f"the bigWig {gone[0]} recorded in dataset.json is gone (moved?)" if gone
                   else "dataset.json records no bigWig for every track")
    elif None in blacklist:
        problem = (f"the blacklist {profile.blacklist[blacklist.index(None)]} recorded in "
                   f"dataset.json is gone (moved?)")
    if problem is None:
        return {"genome": genome, "bigwigs": bigwigs, "blacklist": blacklist, "chroms": chroms}, []
    line = (f"whole-chromosome evaluation of {data_dir} [{split}]: {problem}; restore the file "
            f"(or fix the path in dataset.json) or evaluate with --no-whole.")
    if whole:
        raise RegdnaError(line)
    return None, [f"whole-chromosome evaluation skipped: {line}"]


# -- tiling whole chromosomes ---------------------------------------------------------------------
class ChromosomeTiles:
    """Non-overlapping windows of `length` bp tiling chromosomes from position 0, without those
    overlapping the blacklist or with an N fraction above `max_n`.

    Iterating yields batches (chrom, starts (n,) int64, sequences); afterwards `n_windows` (kept),
    `skipped` ({"blacklist", "n"}) and `chrom_sizes` ({genome name: size}, tiling order) say what
    was tiled. Chromosome names are the genome's (`chr` prefix harmonised,
    `regdna.io.genome.Genome.require`).
    """

    def __init__(self, genome_path, chroms: Sequence[str], length: int, blacklist=(),
                 max_n: float = 0.0, batch: int = TILE_BATCH):
        self.genome_path, self.chroms, self.length = genome_path, list(chroms), int(length)
        self.blacklist, self.max_n, self.batch = list(blacklist), float(max_n), int(batch)
        self.n_windows, self.skipped, self.chrom_sizes = 0, {"blacklist": 0, "n": 0}, {}

    def _excluded(self):
        if not self.blacklist:
            return None
        import pandas as pd

        from regdna.data.intervals import IntervalSet
        from regdna.io.bed import read_bed_all

        return IntervalSet(pd.concat([read_bed_all(p) for p in self.blacklist], ignore_index=True))

    def __iter__(self) -> Iterator[tuple[str, np.ndarray, list[str]]]:
        from regdna.io.genome import Genome

        excluded = self._excluded()
        with Genome(self.genome_path) as genome:
            for chrom in self.chroms:
                name = genome.require(chrom, "dataset.json profile.chroms")
                size = genome.chrom_sizes[name]
                self.chrom_sizes[name] = size
                starts = np.arange(0, size - self.length + 1, self.length, dtype=np.int64)
                if excluded is not None and len(starts):
                    hit = excluded.overlaps([name] * len(starts), starts, starts + self.length)
                    self.skipped["blacklist"] += int(hit.sum())
                    starts = starts[~hit]
                for first in range(0, len(starts), self.batch):
                    chunk = starts[first:first + self.batch]
                    seqs = genome.fetch_many([name] * len(chunk), chunk, chunk + self.length)
                    n_fraction = np.array([s.count("N") / self.length for s in seqs])
                    keep = n_fraction <= self.max_n
                    self.skipped["n"] += int((~keep).sum())
                    if keep.any():
                        self.n_windows += int(keep.sum())
                        yield name, chunk[keep], [s for s, k in zip(seqs, keep) if k]


def measured_windows(bigwigs, chrom: str, starts: np.ndarray, length: int) -> np.ndarray:
    """Base-resolution coverage (n, length, T) float32 of windows of one chromosome from open
    `BigWig`s (the bigWig's name of the chromosome: `chr` prefix harmonised; a chromosome a
    bigWig lacks reads as 0 coverage)."""
    from regdna.data.intervals import bare_chrom

    out = np.zeros((len(starts), length, len(bigwigs)), dtype=np.float32)
    for t, bigwig in enumerate(bigwigs):
        name = {bare_chrom(c): c for c in bigwig.chrom_sizes}.get(bare_chrom(chrom), chrom)
        for i, start in enumerate(starts):
            out[i, :, t] = bigwig.values(name, int(start), int(start) + length)
    return out


def _open_bigwigs(paths):
    from regdna.io.bigwig import BigWig

    return [BigWig(p) for p in paths]


def whole_chromosome(predictor, info, sources: dict, out_dir: Path | None = None,
                     batch: int = TILE_BATCH) -> dict:
    """Whole-chromosome evaluation of a profile run (see the module doc).

    Parameters
    ----------
    predictor : a profile-run Predictor (`profile`, `bin_size`, `length`).
    info : the DatasetInfo evaluated (tracks = labels, profile.max_n).
    sources : `whole_sources`' dict (genome, bigwigs, blacklist, chroms).
    out_dir : the dir the predicted bigWigs replace (`<track>.bw`,
        `regdna.runs.layout.prediction_bigwig_name`), or None to write none.

    Returns
    -------
    dict
        "per_track" {track: {"pearson_whole", "mse_whole", "mse_whole_scaled", "scale"}},
        "whole" {"chroms", "n_windows", "n_bins", "skipped_windows"}, "bigwigs" {track: path}.
    """
    from regdna.data.profiles import bin_mean
    from regdna.runs import layout

    length, bin_size, tracks = int(predictor.length), int(predictor.bin_size), list(info.labels)
    tiles = ChromosomeTiles(sources["genome"], sources["chroms"], length, sources["blacklist"],
                            info.profile.max_n, batch)
    moments = Moments(len(tracks))
    windows: list[tuple[str, int]] = []
    bigwigs = _open_bigwigs(sources["bigwigs"])
    tmp = Path(tempfile.mkdtemp(prefix=".predicted-", dir=out_dir.parent)) if out_dir else None
    raw = [open(tmp / f"{t}.f32", "wb") for t in range(len(tracks))] if tmp else []
    try:
        for chrom, starts, seqs in tiles:
            predicted = predictor.profile(seqs).astype(np.float32)               # (n, B, T)
            measured = bin_mean(measured_windows(bigwigs, chrom, starts, length), bin_size)
            moments.add(measured.reshape(-1, len(tracks)), predicted.reshape(-1, len(tracks)))
            for t, handle in enumerate(raw):
                handle.write(np.ascontiguousarray(predicted[:, :, t]).tobytes())
            windows += [(chrom, int(s)) for s in starts]
        for handle in raw:
            handle.close()
        paths = {}
        if tmp is not None:
            from regdna.utils.atomic import atomic_dir

            with atomic_dir(out_dir) as build:
                for t, track in enumerate(tracks):
                    path = build / layout.prediction_bigwig_name(track)
                    _write_prediction_bigwig(path, tmp / f"{t}.f32", windows, tiles.chrom_sizes,
                                             length // bin_size, bin_size)
                    paths[track] = out_dir / path.name
    finally:
        for handle in raw:
            handle.close()
        for bigwig in bigwigs:
            bigwig.close()
        if tmp is not None:
            for name in os.listdir(tmp):
                os.remove(tmp / name)
            os.rmdir(tmp)
    scale = moments.scale()
    pearson, mse, scaled = moments.pearson(), moments.mse(), moments.mse(np.nan_to_num(scale))
    per_track = {track: {"pearson_whole": float(pearson[t]), "mse_whole": float(mse[t]),
                         "mse_whole_scaled": float(scaled[t]) if np.isfinite(scale[t]) else None,
                         "scale": float(scale[t])} for t, track in enumerate(tracks)}
    return {"per_track": per_track,
            "whole": {"chroms": list(tiles.chrom_sizes), "n_windows": tiles.n_windows,
                      "n_bins": int(moments.n), "skipped_windows": dict(tiles.skipped)},
            "bigwigs": paths}


def _write_prediction_bigwig(path: Path, raw: Path, windows, chrom_sizes: dict, n_bins: int,
                             bin_size: int) -> None:
    """One track's predicted bins (float32, window after window in `raw`) as a bigWig, streamed."""
    from regdna.io.bigwig import write_bigwig

    values = np.memmap(raw, dtype=np.float32, mode="r", shape=(len(windows), n_bins)) \
        if windows else np.zeros((0, n_bins), dtype=np.float32)

    def intervals():
        for (chrom, start), row in zip(windows, values):
            for b, value in enumerate(row.tolist()):
                yield chrom, start + b * bin_size, start + (b + 1) * bin_size, value

    write_bigwig(path, chrom_sizes, intervals())
    del values


# -- the split's windows --------------------------------------------------------------------------
def figure_rows(data_dir, split: str, info, length: int, regions: Sequence[str] | None = None,
                n: int = N_FIGURE_WINDOWS) -> list[int]:
    """Rows of the split drawn in the track figure: the `n` windows with the highest measured
    total coverage (summed over tracks), or for each region ("chr8:1000-3000") the window whose
    central `length` bp overlap it most."""
    from regdna.data.dataset import read_split
    from regdna.data.intervals import bare_chrom
    from regdna.io.fasta import parse_region

    if not regions:
        totals = read_split(data_dir, split, columns=list(info.labels)).to_numpy(dtype=float)
        order = np.argsort(-np.nan_to_num(totals, nan=0.0).sum(axis=1), kind="stable")
        return sorted(int(i) for i in order[:n])
    meta = read_split(data_dir, split, columns=["chrom", "start", "end"])
    offset = _central_offset(info, length)
    chroms = np.array([bare_chrom(str(c)) for c in meta["chrom"]])
    starts = meta["start"].to_numpy(dtype=float) + offset
    rows = []
    for text in regions:
        region = parse_region(str(text).strip())
        if region is None:
            raise RegdnaError(f"--region {text}: give chrom:start-end, e.g. chr8:1000-3000.")
        chrom, lo, hi = region
        overlap = np.minimum(starts + length, hi) - np.maximum(starts, lo)
        overlap = np.where((chroms == bare_chrom(chrom)) & np.isfinite(overlap), overlap, 0)
        if not len(overlap) or overlap.max() <= 0:
            raise RegdnaError(f"--region {text} overlaps no window of split '{split}' of "
                              f"{data_dir}; choose a region inside the split's windows (its "
                              f"Parquet columns chrom, start, end).")
        rows.append(int(np.argmax(overlap)))
    return list(dict.fromkeys(rows))


def profile_report(predictor, data_dir, info, split: str, run_dir=None, suffix: str | None = None,
                   whole: bool | None = None, regions: Sequence[str] | None = None,
                   figures: bool = True, chunk_size: int = 1024) -> dict:
    """Every metric of a profile run on one split of a coverage dataset (see the module doc).

    Parameters
    ----------
    predictor : regdna.runs.predictor.Predictor of a profile model (task "profile").
    data_dir, info : the coverage dataset dir and its DatasetInfo (tracks = the run's labels).
    split : the split evaluated.
    run_dir, suffix : where the predicted bigWigs (RUN/predictions_<suffix>/) and the track
        figure (RUN/figures/tracks_<suffix>.png) go; None writes neither.
    whole : whole-chromosome evaluation: None = when the genome and bigWigs still exist, True
        (an error when they do not), False.
    regions : "chrom:start-end" regions choosing the track figure's windows.
    figures : draw the track figure.

    Returns
    -------
    dict
        "n", "bin_size", "tracks", "per_track" {track: pearson, spearman, mse, flat_windows,
        pearson_whole, mse_whole, mse_whole_scaled, scale, auroc, pr_auc}, the means over
        tracks "pearson", "spearman", "mse", "pearson_whole", "auroc", "pr_auc", "whole",
        "bigwigs" (paths relative to the run dir) and "warnings" (one-line strings).
    """
    import pandas as pd

    from regdna.data.profiles import bin_mean, central
    from regdna.runs import layout

    tracks, length, bin_size = list(info.labels), int(predictor.length), int(predictor.bin_size)
    offset = _central_offset(info, length)
    peaks = {t: peak_column(info, t) for t in tracks}
    shown = figure_rows(data_dir, split, info, length, regions) if figures and run_dir else []
    pearson, spearman, totals, labels, panels = [], [], [], [], {}
    sse, n_values, row = np.zeros(len(tracks)), 0, 0
    columns = ["id", "start", "sequence", *dict.fromkeys(c for c in peaks.values() if c)]
    for frame, coverage in split_chunks(data_dir, split, columns, chunk_size):
        predicted = predictor.profile(central(frame["sequence"].tolist(), length))   # (n, B, T)
        measured = bin_mean(np.asarray(coverage[:, offset:offset + length], dtype=np.float32),
                            bin_size)
        pearson.append(np.stack([row_correlation(measured[..., t], predicted[..., t])
                                 for t in range(len(tracks))], axis=1))
        spearman.append(np.stack([row_correlation(measured[..., t], predicted[..., t], "spearman")
                                  for t in range(len(tracks))], axis=1))
        sse += ((measured.astype(np.float64) - predicted) ** 2).sum(axis=(0, 1))
        n_values += measured.shape[0] * measured.shape[1]
        totals.append(bin_size * predicted.astype(np.float64).sum(axis=1))
        labels.append(np.stack([frame[c].to_numpy(dtype=float) if c else
                                np.full(len(frame), np.nan) for c in peaks.values()], axis=1))
        for i in (r for r in shown if row <= r < row + len(frame)):
            start = frame["start"].iloc[i - row]
            panels[i] = {"name": str(frame["id"].iloc[i - row]), "measured": measured[i - row],
                         "predicted": predicted[i - row],
                         "start": None if pd.isna(start) else int(start) + offset}
        row += len(frame)
    if not row:
        raise RegdnaError(f"{data_dir}: split '{split}' is empty; nothing to evaluate.")
    pearson, spearman = np.concatenate(pearson), np.concatenate(spearman)
    totals, labels = np.concatenate(totals), np.concatenate(labels)
    per_track = {}
    for t, track in enumerate(tracks):
        per_track[track] = {
            "pearson": _nanmean(pearson[:, t]), "spearman": _nanmean(spearman[:, t]),
            "mse": float(sse[t] / n_values), "flat_windows": int(np.isnan(pearson[:, t]).sum()),
            "pearson_whole": None, "mse_whole": None, "mse_whole_scaled": None, "scale": None,
            "auroc": M.auroc(labels[:, t], totals[:, t]) if peaks[track] else None,
            "pr_auc": M.pr_auc(labels[:, t], totals[:, t]) if peaks[track] else None}
    sources, warnings = whole_sources(info, data_dir, split, whole)
    whole_part, bigwigs = None, {}
    if sources is not None:
        out_dir = layout.predictions_dir(run_dir, suffix) if run_dir is not None else None
        result = whole_chromosome(predictor, info, sources, out_dir)
        for track, values in result["per_track"].items():
            per_track[track].update(values)
        whole_part = result["whole"]
        bigwigs = {track: str(Path(p).relative_to(run_dir)) for track, p in result["bigwigs"].items()}
    report = {"n": row, "bin_size": bin_size, "tracks": tracks, "per_track": per_track}
    for key in ("pearson", "spearman", "mse", "pearson_whole", "auroc", "pr_auc"):
        report[key] = _nanmean([v[key] for v in per_track.values()])
    report.update(whole=whole_part, bigwigs=bigwigs, warnings=warnings)
    if shown:
        from regdna.plot.profile import tracks as draw_tracks

        draw_tracks([panels[i] for i in shown if i in panels], tracks, bin_size,
                    layout.tracks_figure(run_dir, suffix),
                    f"measured and predicted coverage ({suffix}, {bin_size} bp bins)")
    return report


def _nanmean(values) -> float | None:
    """Mean of the defined (finite) values, None when there are none."""
    values = np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else None


# -- binary / multi-label runs on coverage datasets -----------------------------------------------
def track_outputs(labels: Sequence[str], tracks: Sequence[str]) -> list[int]:
    """The run output compared with each track: the output of the same name when every track is
    one, else the run's single output for every track, else output t for track t when the
    counts agree; otherwise an error."""
    labels, tracks = list(labels), list(tracks)
    if all(t in labels for t in tracks):
        return [labels.index(t) for t in tracks]
    if len(labels) == 1:
        return [0] * len(tracks)
    if len(labels) == len(tracks):
        return list(range(len(tracks)))
    raise RegdnaError(f"the run predicts {len(labels)} outputs ({', '.join(labels)}) and the "
                      f"coverage dataset has {len(tracks)} tracks ({', '.join(tracks)}): name the "
                      f"outputs after the tracks, or evaluate on a dataset with as many tracks.")


def conversion_report(predictor, data_dir, info, split: str, whole: bool | None = None,
                      chunk_size: int = 1024) -> dict:
    """A binary / multi-label run on a coverage dataset: its logits against coverage.

    Per track, the logit of the output `track_outputs` pairs with it against the track's total
    coverage over the window the model sees (the central `predictor.length` bp of each stored
    window; the dataset's length for a model of any length): Pearson and Spearman r over the
    split's windows, and `pearson_whole` over the tiled whole chromosomes (`ChromosomeTiles`,
    totals from the bigWigs) when `whole_sources` allows.

    Returns
    -------
    dict
        "conversion" {"per_track": {track: {"output", "pearson", "spearman", "pearson_whole"}},
        "whole": {...} or None}; "y" (N, K) 0/1 peak labels of the run's outputs (NaN where an
        output has no peak column; None when no output has one), "probs" (N, K) probabilities
        (`activate`d logits), "warnings".
    """
    from regdna.data.profiles import central
    from regdna.models.base import activate

    tracks = list(info.labels)
    length = int(predictor.length or info.length)
    offset = _central_offset(info, length)
    outputs = track_outputs(predictor.labels, tracks)
    # an output's peak labels: the track it is named after, else the one track it alone faces
    label_of = {k: peak_column(info, t) for t, k in zip(tracks, outputs)
                if outputs.count(k) == 1 or len(tracks) == 1}
    label_of.update({k: peak_column(info, name) for k, name in enumerate(predictor.labels)
                     if name in tracks})
    columns = ["sequence", *dict.fromkeys(c for c in label_of.values() if c)]
    logits, totals, y = [], [], []
    for frame, coverage in split_chunks(data_dir, split, columns, chunk_size):
        logits.append(predictor.logits(central(frame["sequence"].tolist(), length)))
        totals.append(np.asarray(coverage[:, offset:offset + length], dtype=np.float64).sum(axis=1))
        y.append(np.stack([frame[label_of[k]].to_numpy(dtype=float) if label_of.get(k)
                           else np.full(len(frame), np.nan)
                           for k in range(predictor.n_outputs)], axis=1))
    if not logits:
        raise RegdnaError(f"{data_dir}: split '{split}' is empty; nothing to evaluate.")
    logits, totals, y = np.concatenate(logits), np.concatenate(totals), np.concatenate(y)
    per_track = {track: {"output": predictor.labels[k],
                         "pearson": M.pearson(logits[:, k], totals[:, t]),
                         "spearman": M.spearman(logits[:, k], totals[:, t]),
                         "pearson_whole": None}
                 for t, (track, k) in enumerate(zip(tracks, outputs))}
    sources, warnings = whole_sources(info, data_dir, split, whole)
    whole_part = None
    if sources is not None:
        tiles = ChromosomeTiles(sources["genome"], sources["chroms"], length, sources["blacklist"],
                                info.profile.max_n)
        moments = Moments(len(tracks))
        bigwigs = _open_bigwigs(sources["bigwigs"])
        try:
            for chrom, starts, seqs in tiles:
                measured = measured_windows(bigwigs, chrom, starts, length).sum(axis=1)   # (n, T)
                moments.add(measured, predictor.logits(seqs)[:, outputs])
        finally:
            for bigwig in bigwigs:
                bigwig.close()
        for track, r in zip(tracks, moments.pearson()):
            per_track[track]["pearson_whole"] = float(r)
        whole_part = {"chroms": list(tiles.chrom_sizes), "n_windows": tiles.n_windows,
                      "skipped_windows": dict(tiles.skipped)}
    has_labels = bool(np.isfinite(y).any())
    return {"conversion": {"per_track": per_track, "whole": whole_part},
            "y": y if has_labels else None, "probs": activate(logits, predictor.task),
            "warnings": warnings}
