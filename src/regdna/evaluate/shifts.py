"""Shortcut diagnostics: does a model read the sequence, or positions in its window?

A model can reach a high AUROC on summit-centred peaks by learning where the summit sits in the
window rather than which motif is there (a flatten + dense head sees positions; global pooling
does not). Two measurements tell them apart, both on a fixed random subsample of a split:

- shift sensitivity (`shift_table`): the sequences moved by s bp inside their window (the
  convention of training's shift augmentation, `regdna.data.augment`: N fill at the vacated
  end), and per shift the mean |delta logit|, the mean |delta probability|, the fraction of
  calls that flip at the run's threshold and the AUROC of the shifted subsample;
- positional importance (`position_profile`): gradient x input with the corrected gradient
  (Majdandzic et al. 2023; `Predictor.input_gradients`), |.| per position, normalised to sum 1
  per sequence and averaged per class: a profile over window positions with its central mass
  (the share in the central 20% of positions, and its ratio to 0.2). The decisive test: each
  sequence is shifted by +s and -s and its map compared with the original map moved by s
  (the map *follows* the sequence: motif-driven) and with the original map in place (it
  *stays* at the same window positions: position-driven).

`shortcut_report` gathers both with a `warnings` list (one line each) that names what to do
when importance is position-locked. `regdna.evaluate.evaluate.run_evaluate` calls it.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from regdna.data.augment import shift_string
from regdna.errors import RegdnaError
from regdna.evaluate import metrics as M
from regdna.evaluate.correlation import row_correlation
from regdna.models.base import activate

SHIFT_SIZES = (1, 2, 5, 10, 20)      # each applied as +s and -s
ATTRIBUTION_SHIFT = 10               # the profile test shifts by +10 and -10 bp
CENTRAL_FRACTION = 0.2
TABLE_COLUMNS = ("shift", "mean_abs_delta_logit", "mean_abs_delta_prob", "flip_fraction", "auroc")


def shift_sequences(seqs: Sequence[str], shift: int) -> list[str]:
    """Each sequence moved by `shift` bp inside its window, N at the vacated end: the base at
    window position p becomes the original base at p - shift (shift > 0 moves the sequence
    right, as in training's augmentation, `regdna.data.augment`)."""
    seqs = list(seqs)
    shortest = min((len(s) for s in seqs), default=0)
    if shift and 2 * abs(shift) >= shortest:
        raise RegdnaError(f"a shift of {shift} bp needs sequences longer than {2 * abs(shift)} bp "
                          f"(the shortest is {shortest} bp); choose smaller shifts.")
    return [shift_string(seq, shift) for seq in seqs]


def shifted_windows(seqs: Sequence[str], shift: int, margin: int = 0) -> list[str]:
    """The window of each sequence moved by `shift`: N-filled (`margin` = 0, `shift_sequences`),
    or, when each stored sequence carries `margin` extra bases on both sides, the sub-window
    whose position p holds stored base margin + p - shift (real bases, no N; |shift| <= margin)."""
    if not margin:
        return shift_sequences(seqs, shift)
    if abs(shift) > margin:
        raise RegdnaError(f"a shift of {shift} bp does not fit in the {margin} bp margin of the "
                          f"stored sequences; choose shifts within +-{margin}.")
    start = margin - shift
    return [s[start:len(s) - 2 * margin + start] for s in seqs]


def shifted_predictions(predictor, seqs: Sequence[str], shifts: Sequence[int], margin: int = 0,
                        probabilities: bool = False) -> np.ndarray:
    """Predictions of each sequence's window moved by each shift: THE one implementation of
    "predict a set of shifted windows", for shift sensitivity here and for a profile model's
    robustness score (Toneyan et al. 2022: 20 contiguous sub-windows of each stored window
    through the model, then the per-position standard deviation over the predictions aligned
    to the stored sequence: give the stored sequences with `margin=10` and
    `shifts=range(-10, 10)`; for a profile output, T is positions and the caller moves each
    shift's (N, T) block back by its shift, at the output's resolution, before the std).

    Parameters
    ----------
    predictor : regdna.runs.predictor.Predictor
    seqs : N DNA strings (of the window length, or of it + 2 * margin).
    shifts : shifts in bp (0 = the sequence as given, or the central sub-window).
    margin : bases carried on each side of the window (0: N fill at the vacated end).
    probabilities : return `activate`d probabilities instead of logits.

    Returns
    -------
    numpy.ndarray
        (n_shifts, N, T) float32: logits (or probabilities) of each shifted window.
    """
    seqs = list(seqs)
    out = np.stack([predictor.logits(shifted_windows(seqs, int(s), margin)) for s in shifts]) \
        if len(shifts) else np.zeros((0, len(seqs), predictor.n_outputs), dtype=np.float32)
    return activate(out, predictor.task) if probabilities else out


def _auroc(y: np.ndarray, p: np.ndarray) -> float:
    """Binary AUROC of (N, 1) arrays, the macro mean over outputs of (N, T) ones."""
    return M.auroc(y[:, 0], p[:, 0]) if y.shape[1] == 1 else M.macro_micro(y, p, M.auroc)[1]


def shift_table(predictor, seqs: Sequence[str], y: np.ndarray, threshold,
                sizes: Sequence[int] = SHIFT_SIZES) -> list[dict]:
    """Prediction change of binary / multi-label outputs under shifts of +-size bp.

    Parameters
    ----------
    predictor : regdna.runs.predictor.Predictor
    seqs : N DNA strings.
    y : (N, T) 0/1 labels (NaN = missing).
    threshold : the run's validation threshold (float, or one per output; None = 0.5).
    sizes : shift sizes in bp; each is applied as -size and +size.

    Returns
    -------
    list of dict
        One row per shift, in increasing order, 0 first among them: `shift`,
        `mean_abs_delta_logit`, `mean_abs_delta_prob` (means over sequences and outputs),
        `flip_fraction` (calls p >= threshold that change), `auroc` (of the shifted
        subsample; multi-label: macro mean).
    """
    shifts = sorted({0, *(int(s) for s in sizes), *(-int(s) for s in sizes)})
    logits = shifted_predictions(predictor, seqs, shifts)
    probs = activate(logits, predictor.task)
    t = np.broadcast_to(np.asarray(0.5 if threshold is None else threshold, dtype=float),
                        (probs.shape[2],))
    base = shifts.index(0)
    calls = probs >= t
    return [{"shift": s, "mean_abs_delta_logit": float(np.abs(logits[i] - logits[base]).mean()),
             "mean_abs_delta_prob": float(np.abs(probs[i] - probs[base]).mean()),
             "flip_fraction": float((calls[i] != calls[base]).mean()),
             "auroc": _auroc(y, probs[i])} for i, s in enumerate(shifts)]


def attribution_mass(predictor, seqs: Sequence[str], output: int = 0) -> np.ndarray:
    """|gradient x input| per position (corrected gradient, Majdandzic et al. 2023) of output
    `output`, normalised to sum 1 per sequence (an all-zero map stays zero): (N, L)."""
    from regdna.encode.onehot import one_hot

    x = one_hot(list(seqs), dtype=np.float32, channels_first=True)
    grad = predictor.input_gradients(x, output=output)                 # (N, L, 4)
    mass = np.abs((grad * x.transpose(0, 2, 1)).sum(axis=2))
    total = mass.sum(axis=1, keepdims=True)
    return np.divide(mass, total, out=np.zeros_like(mass), where=total > 0)


def follows_or_stays(original: np.ndarray, shifted: np.ndarray, shift: int) -> np.ndarray:
    """Whether each attribution map moved with its sequence: +1 follows, -1 stays, 0 neither.

    Over the window positions p that hold sequence in both windows, the shifted map is
    correlated (Pearson) with the original map moved by `shift` (original[p - shift]: it
    follows the sequence) and with the original map in place (original[p]: it stays at the
    same window positions); the better match decides (an undefined correlation, of a flat map,
    matches nothing; a tie is neither). Unlike the top position alone, this is stable when a model spreads
    importance evenly over a block of positions.

    original, shifted : (N, L) attribution mass of the sequences and of them shifted by `shift`.
    """
    length = original.shape[1]
    kept = slice(shift, length) if shift >= 0 else slice(0, length + shift)
    moved = slice(0, length - shift) if shift >= 0 else slice(-shift, length)
    follow = np.nan_to_num(row_correlation(shifted[:, kept], original[:, moved]), nan=-2.0)
    stay = np.nan_to_num(row_correlation(shifted[:, kept], original[:, kept]), nan=-2.0)
    return (follow > stay).astype(int) - (stay > follow).astype(int)


def central_mass(profile: np.ndarray, fraction: float = CENTRAL_FRACTION) -> tuple[float, float]:
    """Share of a profile's mass (L,) in its central `fraction` of positions, and that share
    divided by the positions' share of the window (1 = uniform, > 1 = concentrated there)."""
    length = len(profile)
    width = max(1, int(round(fraction * length)))
    start = (length - width) // 2
    total = float(profile.sum())
    share = float(profile[start:start + width].sum()) / total if total > 0 else float("nan")
    return share, share / (width / length)


def position_profile(predictor, seqs: Sequence[str], classes: np.ndarray, output: int = 0,
                     shift: int = ATTRIBUTION_SHIFT) -> dict:
    """Attribution mass by window position and the follows / stays test (3 gradient passes).

    Parameters
    ----------
    predictor : a one-hot Predictor.
    seqs : N DNA strings of one length L.
    classes : (N,) 0/1 labels of output `output` (NaN = missing: in the overall profile only).
    output : the output logit explained.
    shift : the sequences are shifted by +shift and -shift for the follows / stays test.

    Returns
    -------
    dict
        `profile` {"all", "positive", "negative"}: mean mass per position, arrays (L,) (a class
        without sequences is left out); `central_mass`, `central_ratio` of the overall profile
        (`central_mass`); `peak_position` (0-based) of the overall profile; `follows`, `stays`,
        `neither`: fractions of the 2N shifted maps (`follows_or_stays`); `shift`; `output`.
    """
    seqs = list(seqs)
    mass = attribution_mass(predictor, seqs, output)
    verdicts = np.concatenate([follows_or_stays(mass, attribution_mass(
        predictor, shift_sequences(seqs, s), output), s) for s in (shift, -shift)])
    classes = np.asarray(classes, dtype=float)
    profile = {"all": mass.mean(axis=0)}
    for name, value in (("positive", 1), ("negative", 0)):
        if (classes == value).any():
            profile[name] = mass[classes == value].mean(axis=0)
    share, ratio = central_mass(profile["all"])
    return {"output": int(output), "shift": int(shift),
            "follows": float((verdicts == 1).mean()), "stays": float((verdicts == -1).mean()),
            "neither": float((verdicts == 0).mean()),
            "central_mass": share, "central_ratio": ratio,
            "peak_position": int(np.argmax(profile["all"])),
            "profile": profile}


def position_warnings(profile: dict) -> list[str]:
    """One line when importance is position-locked: more maps stay than follow, or fewer than
    half follow the sequence."""
    follows, stays = profile["follows"], profile["stays"]
    if stays <= follows and follows >= 0.5:
        return []
    return [f"importance is position-locked: shifted by +-{profile['shift']} bp, the attribution "
            f"map stays at the same window positions for {stays:.0%} of sequences and follows "
            f"the sequence for {follows:.0%} (central {CENTRAL_FRACTION:.0%} of positions hold "
            f"{profile['central_mass']:.0%} of the mass); the model learned positions, not "
            f"sequence: train with global pooling (model option bins=1) and shift augmentation "
            f"(data.max_shift)."]


def shortcut_report(predictor, seqs: Sequence[str], y: np.ndarray, threshold,
                    sizes: Sequence[int] = SHIFT_SIZES, output: int = 0) -> dict:
    """Shift sensitivity and positional importance of one subsample (see the module doc).

    Parameters
    ----------
    predictor : regdna.runs.predictor.Predictor of a binary or multi-label model.
    seqs : N DNA strings of one length L (sizes of L / 2 or more are left out).
    y : (N, T) 0/1 labels (NaN = missing).
    threshold : the run's validation threshold (float or one per output).
    sizes : shift sizes in bp (each as -size and +size).
    output : the output whose attributions are profiled.

    Returns
    -------
    dict
        `n`, `shifts` (the `shift_table` rows), `attribution` (`position_profile`, or a
        `note` for token models and models without input gradients), `warnings` (list of
        one-line strings), `notes`.
    """
    seqs = list(seqs)
    length = min((len(s) for s in seqs), default=0)
    kept = [int(s) for s in sizes if 0 < int(s) and 2 * int(s) < length]
    notes = [f"shifts of {', '.join(str(s) for s in sizes if int(s) not in kept)} bp left out "
             f"(sequences of {length} bp)"] if len(kept) < len(sizes) else []
    report = {"n": len(seqs), "shifts": shift_table(predictor, seqs, y, threshold, kept)}
    attribution, warnings = {"note": "token model: attribution by position needs one-hot "
                                     "input gradients"}, []
    if predictor.input_kind != "tokens":
        shift = min(ATTRIBUTION_SHIFT, max(1, length // 10))
        try:
            attribution = position_profile(predictor, seqs, y[:, output], output, shift)
            warnings = position_warnings(attribution)
        except RegdnaError as why:         # no input gradients (k-mer counts): shifts only
            attribution = {"note": f"attribution by position skipped: {why}"}
    report.update(attribution=attribution, warnings=warnings)
    report["notes"] = notes
    return report


def sample_split(data_dir, split: str, n_total: int, n: int = 500, seed: int = 0,
                 chunk_size: int = 8192) -> tuple[np.ndarray, list[str]]:
    """A fixed random subsample of min(n, n_total) rows of a split, read chunk by chunk.

    Returns the sorted row indices (into the split's order, as `predict_split`'s arrays) and
    the sequences of those rows.
    """
    from regdna.data.dataset import iter_split

    rows = np.sort(np.random.default_rng(seed).choice(n_total, size=min(n, n_total),
                                                      replace=False))
    seqs, offset = [], 0
    for frame in iter_split(data_dir, split, batch_size=chunk_size, columns=["sequence"]):
        inside = rows[(rows >= offset) & (rows < offset + len(frame))] - offset
        seqs += frame["sequence"].iloc[inside].tolist()
        offset += len(frame)
    return rows, seqs
