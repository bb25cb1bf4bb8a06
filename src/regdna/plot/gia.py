"""Global importance analysis figures (Koo et al. 2021; Toneyan et al. 2022): mean effects of
embedded motifs, distance / orientation sweeps, flank sweeps. Each draws the effects or table it
is given (`regdna.interpret.gia`)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from regdna.plot.style import pyplot, save


def plot_gia_effects(path, effects: Sequence[dict], title: str = "Global importance") -> Path:
    """Bar chart of mean effects with 95% intervals (one bar per embedded pattern).

    Parameters
    ----------
    path : PNG to write.
    effects : one dict per pattern: label, mean, lo, hi (change of the logit), n (backgrounds).
    title : the figure's title.

    Returns
    -------
    `path`.
    """
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
    bands), with the additive expectation dashed.

    Parameters
    ----------
    path : PNG to write.
    table : `regdna.interpret.gia.distance_sweep` rows: distance (bp), orientation, mean, lo,
        hi, additive (changes of the logit).
    title : the figure's title.

    Returns
    -------
    `path`.
    """
    fig, ax = _sweep_axes()
    for i, (strand, rows) in enumerate(table.groupby("orientation")):
        rows = rows.sort_values("distance")
        colour = ["#c44e52", "#4c72b0"][i % 2]
        ax.fill_between(rows.distance, rows.lo, rows.hi, color=colour, alpha=0.2)
        ax.plot(rows.distance, rows["mean"], color=colour, marker="o", markersize=3,
                label=f"motif 2 on {strand} strand")
        ax.plot(rows.distance, rows.additive, color=colour, linestyle="--", linewidth=1,
                label=f"additive ({strand})")
    ax.axvline(0, color="0.5", linestyle=":", linewidth=1)
    return _finish(fig, ax, path, "distance of motif 2 from motif 1 (bp, start to start)", title)


def plot_gia_flanks(path, table: pd.DataFrame, title: str) -> Path:
    """Ranked global importance of every flank combination (Toneyan et al. 2022), the core
    with random flanks dashed; the best and worst flanks labelled.

    Parameters
    ----------
    path : PNG to write.
    table : `regdna.interpret.gia.flank_sweep` rows, best first: site, mean, lo, hi,
        random_flanks (changes of the logit).
    title : the figure's title.

    Returns
    -------
    `path`.
    """
    fig, ax = _sweep_axes()
    ranks = np.arange(len(table))
    ax.fill_between(ranks, table.lo, table.hi, color="#4c72b0", alpha=0.2)
    ax.plot(ranks, table["mean"], color="#4c72b0", marker="o", markersize=2.5)
    ax.axhline(table.random_flanks.iloc[0], color="0.3", linestyle="--", linewidth=1,
               label="core motif, random flanks")
    for i in (0, len(table) - 1):
        ax.annotate(table.site.iloc[i], (ranks[i], table["mean"].iloc[i]), fontsize=8,
                    xytext=(5, 5), textcoords="offset points", family="monospace")
    return _finish(fig, ax, path, "flank combination (ranked)", title)


def _sweep_axes():
    """(figure, axes) of a sweep figure, 7 x 3.6 inches."""
    return pyplot().subplots(figsize=(7, 3.6))


def _finish(fig, ax, path, xlabel: str, title: str) -> Path:
    """Axis labels (y: mean change of logit), title and legend of a sweep figure; saved to `path`."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel("mean change of logit")
    ax.set_title(title)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return save(fig, path, tight_layout=False)
