"""Sequence logos of interpretation: attribution logos of single sequences, discovered motifs
beside their JASPAR match. One function per figure, drawing what it is given; each writes a PNG
through `regdna.plot.style`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from regdna.encode.onehot import one_hot
from regdna.plot.style import pyplot, save

BOX_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def _frame(matrix: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(np.asarray(matrix, dtype=float), columns=list("ACGT"))


def _observed(scores: np.ndarray, seq: str) -> np.ndarray:
    """(L,) base scores -> (L, 4) with the score on the observed base only."""
    return one_hot([seq], length=len(scores))[0] * np.asarray(scores)[:, None]


def attribution_logo(ax, attr: np.ndarray, seq: str, boxes: Sequence[tuple] = (),
                     title: str = "") -> None:
    """Draw one attribution logo on `ax`: letters scaled by contribution (negative below 0),
    with known motif sites as labelled boxes.

    Parameters
    ----------
    ax : a matplotlib Axes.
    attr : (L, 4) contributions or (L,) base scores (drawn on the observed base).
    seq : the sequence, L bases.
    boxes : (start, end, label) per site, 0-based half-open within the sequence.
    title : drawn at the top left.
    """
    import logomaker
    from matplotlib.patches import Rectangle

    matrix = _observed(attr, seq) if np.ndim(attr) == 1 else np.asarray(attr)
    logomaker.Logo(_frame(matrix), ax=ax, color_scheme="classic", flip_below=False)
    heights = matrix.sum(1)
    lo, hi = min(heights.min(), 0.0), max(heights.max(), 1e-6)
    pad = 0.12 * (hi - lo)
    ax.set_ylim(lo - pad * 0.3, hi + pad * 1.8)
    labels = {}
    for start, end, label in boxes:
        colour = labels.setdefault(label, BOX_COLOURS[len(labels) % len(BOX_COLOURS)])
        ax.add_patch(Rectangle((start - 0.5, lo - pad * 0.2), end - start, hi - lo + pad * 1.2,
                               fill=False, edgecolor=colour, linewidth=1.4, linestyle="--"))
        ax.text((start + end - 1) / 2, hi + pad * 1.05, label, ha="center", va="bottom",
                fontsize=8, color=colour, fontweight="bold")
    ax.axhline(0, color="0.6", linewidth=0.6)
    ax.set_xlim(-0.5, len(seq) - 0.5)
    ax.set_xlabel("position (bp)")
    ax.set_ylabel("attribution")
    if title:
        ax.set_title(title, loc="left")


def plot_attribution_logo(path, attr: np.ndarray, seq: str, boxes: Sequence[tuple] = (),
                          title: str = "", zoom: tuple[int, int] | None = None) -> Path:
    """One sequence's attribution logo (full width; a second, zoomed panel when `zoom` is a
    (start, end) window, e.g. around the planted sites).

    Parameters
    ----------
    path : PNG to write.
    attr, seq, boxes, title : see `attribution_logo`.
    zoom : (start, end) bases of the zoomed panel, 0-based half-open; None: no zoom.

    Returns
    -------
    `path`.
    """
    plt = pyplot()
    length = len(seq)
    rows = 2 if zoom else 1
    fig, axes = plt.subplots(rows, 1, figsize=(max(10, length / 12), 2.6 * rows), squeeze=False)
    attribution_logo(axes[0, 0], attr, seq, boxes, title)
    if zoom:
        lo, hi = max(zoom[0], 0), min(zoom[1], length)
        sub = [(s - lo, e - lo, lab) for s, e, lab in boxes if s >= lo and e <= hi]
        attribution_logo(axes[1, 0], np.asarray(attr)[lo:hi], seq[lo:hi], sub,
                         f"zoom: bases {lo}-{hi}")
        axes[1, 0].set_xticks(np.arange(0, hi - lo, 5))
        axes[1, 0].set_xticklabels(np.arange(lo, hi, 5))
    fig.tight_layout()
    return save(fig, path, tight_layout=False)


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
