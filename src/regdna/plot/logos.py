"""Figures for interpretation: attribution logos, faithfulness curves, motif vs JASPAR logos,
global importance plots. One function per figure; each writes a PNG (Agg backend, dpi 150).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from regdna.plot.style import pyplot, save

BOX_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def _frame(matrix: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(np.asarray(matrix, dtype=float), columns=list("ACGT"))


def _observed(scores: np.ndarray, seq: str) -> np.ndarray:
    """(L,) base scores -> (L, 4) with the score on the observed base only."""
    from regdna.encode.onehot import one_hot

    return one_hot([seq], length=len(scores))[0] * np.asarray(scores)[:, None]


def attribution_logo(ax, attr: np.ndarray, seq: str, boxes: Sequence[tuple] = (),
                     title: str = "") -> None:
    """Draw one attribution logo on `ax`: letters scaled by contribution (negative below 0),
    with known motif sites as labelled boxes.

    Args:
        attr: (L, 4) contributions or (L,) base scores (drawn on the observed base).
        boxes: (start, end, label) per site, 0-based half-open within the sequence.
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
    (start, end) window, e.g. around the planted sites)."""
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


def plot_faithfulness(path, table: pd.DataFrame, class_names: Sequence[str] | None = None,
                      title: str = "Mutagenesis faithfulness") -> Path:
    """Accuracy per class vs number of mutated positions (Consens et al. n.d., Fig. 1): one line per
    method, the random baseline with its 95% band, n = 0 as a dotted line."""
    plt = pyplot()
    classes = sorted(table["cls"].unique())
    fig, axes = plt.subplots(1, len(classes), figsize=(4.6 * len(classes), 3.8), squeeze=False,
                             sharey=True)
    methods = [m for m in table["method"].unique() if m not in ("none", "all", "random")]
    colours = plt.get_cmap("tab10")
    for ax, cls in zip(axes[0], classes):
        part = table[table.cls == cls]
        base = part.loc[part.method == "none", "accuracy"].iloc[0]
        start = pd.DataFrame({"n": [0], "accuracy": [base], "lo": [base], "hi": [base]})
        rnd = pd.concat([start, part[part.method == "random"].sort_values("n")])
        ax.fill_between(rnd.n, rnd.lo, rnd.hi, color="0.8", label="random (95% interval)")
        ax.plot(rnd.n, rnd.accuracy, color="0.35", linestyle="--", marker="o", markersize=3,
                label="random (mean)")
        for i, method in enumerate(methods):
            rows = pd.concat([start, part[part.method == method].sort_values("n")])
            ax.plot(rows.n, rows.accuracy, marker="o", markersize=4, color=colours(i),
                    label=method)
        ax.axhline(base, color="0.5", linestyle=":", linewidth=1, label="no mutation")
        name = class_names[cls] if class_names is not None else str(cls)
        ax.set_title(f"class {name} (n = {int(part.n_seqs.iloc[0])})")
        ax.set_xlabel("positions mutated (top-n)")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlim(left=0)
    axes[0, 0].set_ylabel("accuracy")
    axes[0, -1].legend(fontsize=8, frameon=False, loc="lower left")
    fig.suptitle(title)
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
    match, aligned as Tomtom aligned them (the match reverse-complemented when on '-')."""
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


def plot_gia_effects(path, effects: Sequence[dict], title: str = "Global importance") -> Path:
    """Bar chart of mean effects with 95% intervals (one bar per embedded pattern)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(4, 1.3 * len(effects) + 1.5), 3.6))
    names = [e["label"] for e in effects]
    means = np.array([e["mean"] for e in effects])
    err = np.array([[e["mean"] - e["lo"] for e in effects], [e["hi"] - e["mean"] for e in effects]])
    ax.bar(range(len(effects)), means, yerr=err, color="#4c72b0", capsize=4)
    ax.set_xticks(range(len(effects)))
    ax.set_xticklabels(names, rotation=20, ha="right")
    ax.axhline(0, color="0.4", linewidth=0.8)
    ax.set_ylabel("mean change of logit")
    ax.set_title(f"{title} (n = {effects[0]['n']} backgrounds)" if effects else title)
    fig.tight_layout()
    return save(fig, path, tight_layout=False)


def plot_gia_distance(path, table: pd.DataFrame, title: str) -> Path:
    """Global importance vs distance of motif 2 from motif 1 (one line per orientation, 95%
    bands), with the additive expectation dashed."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for i, (strand, rows) in enumerate(table.groupby("orientation")):
        rows = rows.sort_values("distance")
        colour = ["#c44e52", "#4c72b0"][i % 2]
        ax.fill_between(rows.distance, rows.lo, rows.hi, color=colour, alpha=0.2)
        ax.plot(rows.distance, rows["mean"], color=colour, marker="o", markersize=3,
                label=f"motif 2 on {strand} strand")
        ax.plot(rows.distance, rows.additive, color=colour, linestyle="--", linewidth=1,
                label=f"additive ({strand})")
    ax.axvline(0, color="0.5", linestyle=":", linewidth=1)
    ax.set_xlabel("distance of motif 2 from motif 1 (bp, start to start)")
    ax.set_ylabel("mean change of logit")
    ax.set_title(title)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return save(fig, path, tight_layout=False)


def plot_gia_flanks(path, table: pd.DataFrame, title: str) -> Path:
    """Ranked global importance of every flank combination (Tang 2024, Fig. 2.6a;
    Toneyan et al. 2022), the core with random flanks dashed; the best and worst flanks labelled."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ranks = np.arange(len(table))
    ax.fill_between(ranks, table.lo, table.hi, color="#4c72b0", alpha=0.2)
    ax.plot(ranks, table["mean"], color="#4c72b0", marker="o", markersize=2.5)
    ax.axhline(table.random_flanks.iloc[0], color="0.3", linestyle="--", linewidth=1,
               label="core motif, random flanks")
    for i in (0, len(table) - 1):
        ax.annotate(table.site.iloc[i], (ranks[i], table["mean"].iloc[i]), fontsize=8,
                    xytext=(5, 5), textcoords="offset points", family="monospace")
    ax.set_xlabel("flank combination (ranked)")
    ax.set_ylabel("mean change of logit")
    ax.set_title(title)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return save(fig, path, tight_layout=False)
