"""QC figure of a coverage dataset (`prepare --bigwig` writes it to `DIR/figures/coverage.png`).

- `plot_coverage_distributions`: per track, the distribution of each window's total coverage
  (log1p) in every split: splits drawn from different coverage regimes (a test chromosome far
  quieter than training, many empty windows) show as shifted histograms.

Each function draws what it is given and writes one PNG (`regdna.plot.style`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from regdna.plot.style import pyplot, save

SPLIT_COLOURS = {"train": "#4C72B0", "val": "#DD8452", "test": "#55A868"}


def plot_coverage_distributions(totals: dict[str, dict[str, np.ndarray]], path: str | Path,
                                length: int) -> Path:
    """One panel per track: histograms (density) of log1p(window total) per split, split means
    marked by dashed lines.

    Parameters
    ----------
    totals : {track: {split: (N,) total coverage of each window's central `length` bp}};
        negative totals are drawn at 0.
    path : the PNG to write.
    length : the bp each total is summed over (axis label).

    Returns
    -------
    The path written.
    """
    plt = pyplot()
    tracks = list(totals)
    fig, axes = plt.subplots(1, len(tracks), figsize=(3.6 * len(tracks), 3.2), squeeze=False)
    for ax, track in zip(axes[0], tracks):
        logs = {split: np.log1p(np.maximum(np.asarray(v, dtype=np.float64), 0.0))
                for split, v in totals[track].items() if len(v)}
        top = max((float(v.max()) for v in logs.values()), default=1.0)
        bins = np.linspace(0.0, top if top > 0 else 1.0, 41)
        for split, values in logs.items():
            colour = SPLIT_COLOURS.get(split, "#8C8C8C")
            ax.hist(values, bins=bins, density=True, histtype="stepfilled", alpha=0.3, color=colour,
                    label=f"{split} (n={len(values)})")
            ax.hist(values, bins=bins, density=True, histtype="step", color=colour, linewidth=1.2)
            ax.axvline(values.mean(), color=colour, linestyle="--", linewidth=1)
        ax.set_title(track)
        ax.set_xlabel(f"log1p(coverage summed over {length} bp)")
        ax.legend(frameon=False, fontsize=7.5)
    axes[0][0].set_ylabel("density")
    fig.suptitle("Window coverage per track and split", fontsize=11)
    return save(fig, path)
