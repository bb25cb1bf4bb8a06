"""`regdna robustness`: how much a model's predictions move when its input window shifts
(Toneyan et al. 2022, "Robustness test").

Each stored window of a coverage dataset carries `margin` bp on both sides of the input window.
From it, `n_shifts` contiguous sub-windows of the input length are cut (`shifted_windows` of
`regdna.evaluate.shifts`), their offsets evenly spread over [-margin, +margin] and rounded to
multiples of the run's bin size, so that the predicted profiles align bin for bin. Each
sub-window's predicted profile is aligned to the stored window, and only the bins every
sub-window covers are kept (the shared central region: the input length minus the spread of
the offsets). The variation score of a window and track is

    mean over the region of (the standard deviation over sub-windows at each bin, ddof 0)
    / (the mean predicted coverage over the region and the sub-windows),

scale-free, 0 for a prediction that follows the sequence exactly; higher is less robust (only
comparable between models of one bin size: binning itself moves with the offset). A window
whose mean prediction is 0 scores 0: coverage is never negative, so every prediction is 0 and
nothing varied. For a binary or multi-label run (on a coverage dataset, which has the margins)
the same score is computed from the probability of each sub-window (`Predictor.predict`), one
value per sub-window: its standard deviation over the sub-windows divided by its mean.

As Toneyan et al. 2022 do, only windows with a peak in the track's peak column are scored when
the dataset has peak columns (`peaks_only`; the probability of an output uses the peak column of
the track of the same name, or windows with a peak in any track).

Writes RUN/robustness_<split>.json (split, kind "profile" | "probability", n windows scored,
n_shifts used, region_bp, mean_variation and median_variation over all scored (window, track)
pairs, per_track means, offsets, peaks_only), RUN/robustness_<split>.tsv (id, track, variation)
and RUN/figures/robustness_<split>.png (`regdna.plot.profile.variation`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from regdna.errors import RegdnaError

TABLE_COLUMNS = ("id", "track", "variation")


def shift_offsets(n_shifts: int, margin: int, bin_size: int = 1) -> list[int]:
    """`n_shifts` offsets evenly spread over [-margin, +margin], rounded to multiples of
    `bin_size` within the margin; duplicates (a margin of few bins) are dropped
    (`regdna.data.windows.shift_offsets` over the margin rounded down to whole bins)."""
    from regdna.data.windows import shift_offsets as spread

    if n_shifts < 2:
        raise RegdnaError(f"--n-shifts {n_shifts}: the variation needs at least 2 sub-windows.")
    reach = (int(margin) // int(bin_size)) * int(bin_size)
    if reach == 0:
        raise RegdnaError(f"the stored windows carry a margin of {margin} bp, less than one bin "
                          f"({bin_size} bp): no shifted sub-window aligns bin for bin; prepare "
                          f"the dataset with --margin of at least {bin_size}.")
    return spread(int(n_shifts), reach, int(bin_size))


def variation(values: np.ndarray) -> np.ndarray:
    """Variation scores of aligned predictions (S sub-windows, N, R region bins, T) -> (N, T):
    mean over R of the std over S (ddof 0), divided by the mean over S and R (0 where the mean
    is 0)."""
    values = np.asarray(values, dtype=np.float64)
    spread = values.std(axis=0).mean(axis=1)
    mean = values.mean(axis=(0, 2))
    return np.divide(spread, mean, out=np.zeros_like(spread), where=mean != 0)


def aligned_profiles(predictor, seqs: Sequence[str], offsets: Sequence[int], margin: int) -> np.ndarray:
    """Predicted profiles of each sub-window, aligned to the stored window, on the bins all
    sub-windows share: (S, N, R, T).

    The sub-window of offset s holds stored bases from margin - s (`shifted_windows`); its bin b
    covers the input-window bin b - s / bin_size, so the shared bins are
    [-min(s), B * bin_size - max(s)) / bin_size of the input window."""
    from regdna.evaluate.shifts import shifted_windows

    bin_size = int(predictor.bin_size)
    low, high = min(offsets), max(offsets)
    n_bins = int(predictor.length) // bin_size
    region = n_bins - (high - low) // bin_size
    out = []
    for s in offsets:
        first = (s - low) // bin_size
        out.append(predictor.profile(shifted_windows(seqs, int(s), margin))[:, first:first + region])
    return np.stack(out)


def _peak_filters(info, names: Sequence[str], peaks_only: bool | None):
    """Per scored name (track or output), the peak column(s) a window needs a 1 in, or None."""
    from regdna.evaluate.profile import peak_column

    columns = list(info.profile.peak_columns)
    if peaks_only is False or (peaks_only is None and not columns):
        return {name: None for name in names}
    if not columns:
        raise RegdnaError("peaks_only: the dataset has no peak columns (prepare it with --bed "
                          "peaks); score every window with --all-windows.")
    return {name: [peak_column(info, name)] if peak_column(info, name) else columns
            for name in names}


def run_robustness(run_dir, data_dir=None, split: str = "test", n_shifts: int = 20,
                   peaks_only: bool | None = None, device=None, figures: bool = True,
                   chunk_size: int = 128) -> dict:
    """`regdna robustness`: the variation score of a run's predictions under shifts of the
    input window (see the module doc); the run dir is updated in place.

    Parameters
    ----------
    run_dir : path
        A run dir written by `regdna train`.
    data_dir : path, optional
        A coverage dataset dir (default: the one the run was trained on; a binary run needs
        one, for its margins).
    split : str, default "test"
    n_shifts : int, default 20
        Sub-windows per stored window (fewer when the margin holds fewer bin-aligned offsets).
    peaks_only : bool, optional
        Score only windows with a peak in the track's peak column (default: when the dataset
        has peak columns); False scores every window.
    device : torch device (default: CUDA when present, else CPU).
    figures : draw RUN/figures/robustness_<split>.png.
    chunk_size : stored windows predicted together (times the sub-windows: memory).

    Returns
    -------
    dict
        The JSON written to RUN/robustness_<split>.json: split, kind, n, n_shifts, region_bp,
        mean_variation, median_variation, per_track {track: mean}, offsets, peaks_only.
    """
    from regdna.data.dataset import load_info
    from regdna.data.profiles import central
    from regdna.evaluate.profile import split_chunks
    from regdna.evaluate.shifts import shifted_predictions
    from regdna.io.tables import write_tsv
    from regdna.runs import layout
    from regdna.runs.config import dataset_dir_of_run, read_run_config

    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    data_dir = dataset_dir_of_run(config, data_dir)
    info = load_info(data_dir)
    if info.task != "profile" or info.profile is None:
        raise RegdnaError(f"{data_dir} is not a coverage dataset: the robustness test cuts "
                          f"shifted sub-windows from stored windows with margins; pass one made "
                          f"with `regdna prepare --bigwig ...` (--data).")
    from regdna.runs import load_predictor

    predictor = load_predictor(run_dir, device=device)
    kind = "profile" if predictor.task == "profile" else "probability"
    if kind == "probability" and predictor.task not in ("binary", "multilabel"):
        raise RegdnaError(f"the robustness test scores profile runs and binary / multilabel "
                          f"runs; this run is {predictor.task}.")
    length = int(predictor.length or info.length)
    margin = min(info.profile.margin, (info.profile.stored_length - length) // 2)
    bin_size = int(predictor.bin_size) if kind == "profile" else 1
    offsets = shift_offsets(n_shifts, margin, bin_size)
    names = list(info.labels) if kind == "profile" else list(predictor.labels)
    if kind == "profile" and list(predictor.labels) != names:
        raise RegdnaError(f"{data_dir} has tracks {names} but the run predicts "
                          f"{list(predictor.labels)}; use a dataset with the run's tracks.")
    filters = _peak_filters(info, names, peaks_only)
    columns = ["id", "sequence", *dict.fromkeys(c for f in filters.values() if f for c in f)]
    rows, scored, per_name = [], 0, {name: [] for name in names}
    for frame, _ in split_chunks(data_dir, split, columns, chunk_size):
        keep = np.zeros((len(frame), len(names)), dtype=bool)
        for j, name in enumerate(names):
            needed = filters[name]
            keep[:, j] = True if needed is None else \
                (frame[needed].to_numpy(dtype=float) == 1).any(axis=1)
        used = keep.any(axis=1)
        if not used.any():
            continue
        seqs = central(frame["sequence"][used].tolist(), length + 2 * margin)
        if kind == "profile":
            scores = variation(aligned_profiles(predictor, seqs, offsets, margin))
        else:
            probs = shifted_predictions(predictor, seqs, offsets, margin, probabilities=True)
            scores = variation(probs[:, :, None, :])
        ids = frame["id"][used].astype(str).tolist()
        for i, (record, mask) in enumerate(zip(ids, keep[used])):
            for j, name in enumerate(names):
                if mask[j]:
                    rows.append((record, name, float(scores[i, j])))
                    per_name[name].append(float(scores[i, j]))
        scored += int(used.sum())
    if not scored:
        raise RegdnaError(f"{data_dir} [{split}]: no window to score (no window has a peak in "
                          f"the peak columns); score every window with --all-windows.")
    everything = np.array([r[2] for r in rows])
    region_bp = (length - (max(offsets) - min(offsets))) if kind == "profile" else length
    record = {"split": split, "kind": kind, "n": scored, "n_shifts": len(offsets),
              "region_bp": int(region_bp), "mean_variation": float(everything.mean()),
              "median_variation": float(np.median(everything)),
              "per_track": {n: float(np.mean(v)) if v else None for n, v in per_name.items()},
              "median_per_track": {n: float(np.median(v)) if v else None
                                   for n, v in per_name.items()},
              "offsets": offsets, "peaks_only": any(f is not None for f in filters.values())}
    suffix = layout.split_suffix(split, data_dir, config.dataset.path)
    write_tsv(layout.robustness_path(run_dir, suffix, "tsv"), TABLE_COLUMNS, rows)
    layout.write_robustness(run_dir, suffix, record)
    if figures:
        from regdna.plot.profile import variation as draw_variation

        draw_variation({n: np.array(v) for n, v in per_name.items()},
                       layout.robustness_figure(run_dir, suffix),
                       f"robustness to shifts ({suffix})\n{scored} windows, {len(offsets)} "
                       f"sub-windows within +-{max(offsets)} bp",
                       label="variation score" if kind == "profile"
                       else "variation score (probability)")
    return record
