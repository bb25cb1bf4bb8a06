"""Sequence logos of interpretation: attribution logos of single sequences (tracks for token
models' base scores), discovered motifs beside their JASPAR match. One function per figure, drawing what it is given; each writes a PNG
through `regdna.plot.style`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from regdna.plot.style import pyplot, save

BOX_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


LETTERS = {"A": "#008000", "C": "#0000ff", "G": "#ffa500", "T": "#ff0000"}  # logomaker "classic"
TRACK_COLOUR = "#4c72b0"
LETTERS_UP_TO = 120     # a track's strip spells the bases of windows up to this many bp
BASES_PER_INCH = 12     # letters of a logo stay legible at this density
MAX_WIDTH = 24.0        # inches: a 1 kb window's letters would need 85; beyond, a track


def _frame(matrix: np.ndarray, start: int = 0) -> pd.DataFrame:
    matrix = np.asarray(matrix, dtype=float)
    return pd.DataFrame(matrix, columns=list("ACGT"), index=start + np.arange(len(matrix)))


def _site_boxes(ax, boxes: Sequence[tuple], start: int, bottom: float, top: float,
                label_at: float) -> None:
    """Known sites as dashed, labelled boxes spanning `bottom`..`top` in data units."""
    from matplotlib.patches import Rectangle

    colours = {}
    for lo, hi, label in boxes:
        colour = colours.setdefault(label, BOX_COLOURS[len(colours) % len(BOX_COLOURS)])
        ax.add_patch(Rectangle((start + lo - 0.5, bottom), hi - lo, top - bottom, fill=False,
                               edgecolor=colour, linewidth=1.4, linestyle="--"))
        ax.text(start + (lo + hi - 1) / 2, label_at, label, ha="center", va="bottom",
                fontsize=8, color=colour, fontweight="bold")


def attribution_logo(ax, attr: np.ndarray, seq: str, boxes: Sequence[tuple] = (),
                     title: str = "", start: int = 0) -> None:
    """Draw one attribution logo on `ax`: letters scaled by contribution (negative below 0),
    with known motif sites as labelled boxes.

    Parameters
    ----------
    ax : a matplotlib Axes.
    attr : (L, 4) contributions (one-hot models).
    seq : the sequence, L bases.
    boxes : (start, end, label) per site, 0-based half-open within `seq`.
    title : drawn at the top left.
    start : position of `seq`'s first base on the x axis (a zoomed window's offset).
    """
    import logomaker

    matrix = np.asarray(attr, dtype=float)
    logomaker.Logo(_frame(matrix, start), ax=ax, color_scheme="classic", flip_below=False)
    heights = matrix.sum(1)
    lo, hi = min(heights.min(), 0.0), max(heights.max(), 1e-6)
    pad = 0.12 * (hi - lo)
    ax.set_ylim(lo - pad * 0.3, hi + pad * 1.8)
    _site_boxes(ax, boxes, start, lo - pad * 0.2, hi + pad, hi + pad * 1.05)
    ax.axhline(0, color="0.6", linewidth=0.6)
    ax.set_xlim(start - 0.5, start + len(seq) - 0.5)
    ax.set_xlabel("position (bp)")
    ax.set_ylabel("attribution")
    if title:
        ax.set_title(title, loc="left")


def attribution_track(ax, strip, scores: np.ndarray, seq: str, boxes: Sequence[tuple] = (),
                      title: str = "", ylabel: str = "score", start: int = 0) -> None:
    """Draw one sequence's base scores (a token model's attention, rollout, GradCAM, LRP or
    gradient scores) as a filled step track on `ax`, the y axis spanning exactly the scores'
    range, known sites as labelled boxes, and the sequence as a strip of coloured bases on
    `strip` under it (spelled out up to `LETTERS_UP_TO` bp).

    Parameters
    ----------
    ax, strip : matplotlib Axes: the track, and a thin one under it for the sequence.
    scores : (L,) one score per base.
    seq : the sequence, L bases.
    boxes : (start, end, label) per site, 0-based half-open within `seq`.
    title : drawn at the top left.
    ylabel : what the scores are (e.g. the method).
    start : position of `seq`'s first base on the x axis (a zoomed window's offset).
    """
    from matplotlib.colors import ListedColormap

    scores = np.asarray(scores, dtype=float)
    x = start + np.arange(len(scores))
    lo, hi = float(scores.min()), float(scores.max())
    if hi <= lo:   # a flat track: a small band around its value
        lo, hi = lo - max(abs(lo), 1e-6) * 0.05, hi + max(abs(hi), 1e-6) * 0.05
    base = min(max(0.0, lo), hi)   # filled from 0 when 0 is in range, else from the bottom
    ax.fill_between(x, base, scores, step="mid", color=TRACK_COLOUR, alpha=0.35, linewidth=0)
    ax.plot(x, scores, drawstyle="steps-mid", color=TRACK_COLOUR, linewidth=1.0)
    ax.set_ylim(lo, hi)
    if lo < 0 < hi:
        ax.axhline(0, color="0.6", linewidth=0.6)
    _site_boxes(ax, boxes, start, lo, hi, hi)
    ax.set_xlim(start - 0.5, start + len(seq) - 0.5)
    ax.tick_params(labelbottom=False)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, loc="left", pad=14 if len(boxes) else 6)
    codes = [("ACGT".index(b) if b in "ACGT" else 4) for b in seq.upper()]
    strip.sharex(ax)
    strip.imshow([codes], aspect="auto", interpolation="nearest", vmin=0, vmax=4,
                 cmap=ListedColormap([*LETTERS.values(), "#bbbbbb"]),
                 extent=(start - 0.5, start + len(seq) - 0.5, 0, 1))
    if len(seq) <= LETTERS_UP_TO:
        for i, b in enumerate(seq):
            strip.text(start + i, 0.5, b, ha="center", va="center", fontsize=6, color="white")
    strip.set_yticks([])
    strip.set_xlabel("position (bp)")


def attribution_figure(attr: np.ndarray, seq: str, boxes: Sequence[tuple] = (),
                       title: str = "", zoom: tuple[int, int] | None = None,
                       ylabel: str = "attribution"):
    """One sequence's attribution figure: a letter logo of (L, 4) contributions (one-hot
    models), or a track of (L,) base scores (token models; their letters would be a few
    hundredths high), over the full width and, when `zoom` is a (start, end) window, zoomed.
    The figure is at most MAX_WIDTH inches wide: a panel with more bases than fit as legible
    letters (BASES_PER_INCH) draws its per-base sum as a track (a 1 kb window), and the zoom
    keeps the letters.

    Returns
    -------
    the matplotlib Figure (`plot_attribution_logo` writes it).
    """
    plt = pyplot()
    attr = np.asarray(attr)
    length = len(seq)
    panels = [(attr, seq, list(boxes), title, 0)]
    if zoom:
        lo, hi = max(zoom[0], 0), min(zoom[1], length)
        sub = [(s - lo, e - lo, lab) for s, e, lab in boxes if s >= lo and e <= hi]
        panels.append((attr[lo:hi], seq[lo:hi], sub, f"zoom: bases {lo}-{hi}", lo))
    width = min(MAX_WIDTH, max(10.0, length / BASES_PER_INCH))
    as_track = [values.ndim == 1 or len(bases) > width * BASES_PER_INCH
                for values, bases, *_ in panels]
    fig = plt.figure(figsize=(width, sum(2.9 if t else 2.6 for t in as_track)),
                     layout="constrained")
    grid = fig.add_gridspec(len(panels), 1)
    for i, (values, bases, sites, heading, start) in enumerate(panels):
        if as_track[i]:   # the strip of bases right under its track
            values = values if values.ndim == 1 else values.sum(axis=1)
            pair = grid[i].subgridspec(2, 1, height_ratios=[1, 0.12], hspace=0.02)
            attribution_track(fig.add_subplot(pair[0]), fig.add_subplot(pair[1]), values, bases,
                              sites, heading, ylabel, start)
        else:
            attribution_logo(fig.add_subplot(grid[i]), values, bases, sites, heading, start)
    return fig


def plot_attribution_logo(path, attr: np.ndarray, seq: str, boxes: Sequence[tuple] = (),
                          title: str = "", zoom: tuple[int, int] | None = None,
                          ylabel: str = "attribution") -> Path:
    """Write one sequence's attribution figure (`attribution_figure`: a logo of (L, 4)
    contributions, a track of (L,) base scores).

    Parameters
    ----------
    path : PNG to write.
    attr, seq, boxes, title : see `attribution_logo` and `attribution_track`.
    zoom : (start, end) bases of a zoomed panel, 0-based half-open; None: no zoom.
    ylabel : what a track's scores are (tracks only).

    Returns
    -------
    `path`.
    """
    return save(attribution_figure(attr, seq, boxes, title, zoom, ylabel), path,
                tight_layout=False)


def _information_logo(ax, ppm: np.ndarray, title: str) -> None:
    import logomaker

    ppm = np.asarray(ppm, dtype=float)
    ppm = ppm / ppm.sum(1, keepdims=True)
    ic = 2 + (ppm * np.log2(np.clip(ppm, 1e-9, 1))).sum(1)
    logomaker.Logo(_frame(ppm * ic[:, None]), ax=ax, color_scheme="classic")
    ax.set_ylim(0, 2)
    ax.set_ylabel("bits")
    ax.set_title(title, loc="left", fontsize=10)


def plot_motif_match(path, name: str, ppm: np.ndarray, cwm: np.ndarray | None, match_name: str,
                     match_ppm: np.ndarray | None, q_value: float | None = None,
                     strand: str = "+", offset: int = 0) -> Path:
    """A discovered motif (contribution logo and information logo) beside its best JASPAR
    match, aligned as Tomtom aligned them (the match reverse-complemented when on '-').

    Parameters
    ----------
    path : PNG to write.
    name : the motif's name.
    ppm : (W, 4) position probability matrix (drawn in bits).
    cwm : (W, 4) contribution weight matrix, or None (no contribution panel).
    match_name : label of the match ("NAME MATRIX_ID"); match_ppm: its (W', 4) PPM, or None.
    q_value, strand, offset : Tomtom's q-value, strand ("+", "-") and offset of the match.

    Returns
    -------
    `path`.
    """
    plt = pyplot()
    panels = (cwm is not None) + 1 + (match_ppm is not None)
    width = max(len(ppm), len(match_ppm) if match_ppm is not None else 0)
    fig, axes = plt.subplots(panels, 1, figsize=(max(4.5, 0.42 * (width + 4)), 1.9 * panels),
                             squeeze=False)
    i = 0
    if cwm is not None:
        import logomaker

        logomaker.Logo(_frame(cwm), ax=axes[i, 0], color_scheme="classic")
        axes[i, 0].set_title(f"{name}: contribution weight matrix", loc="left", fontsize=10)
        axes[i, 0].set_ylabel("contribution")
        i += 1
    _information_logo(axes[i, 0], ppm, f"{name}: sequence logo")
    if match_ppm is not None:
        target = np.asarray(match_ppm)[::-1, ::-1] if strand == "-" else np.asarray(match_ppm)
        q = f", q = {q_value:.2g}" if q_value is not None else ""
        _information_logo(axes[i + 1, 0], target,
                          f"best JASPAR match: {match_name} ({strand}){q}")
        # Tomtom's offset: where the query starts within the target
        for ax, shift in ((axes[i, 0], -min(offset, 0)), (axes[i + 1, 0], max(offset, 0))):
            ax.set_xlim(-0.5 - shift, width + abs(offset) - 0.5 - shift)
    for ax in axes[:, 0]:
        ax.set_xticks([])
    fig.tight_layout()
    return save(fig, path, tight_layout=False)
