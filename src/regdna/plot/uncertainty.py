"""Uncertainty figures across runs: the expected calibration error before and after temperature
scaling (Guo et al. 2017) as paired bars, and the empirical coverage of split conformal sets or
intervals (Angelopoulos & Bates 2021) against the level asked for."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from regdna.plot.style import pyplot, save


def calibration_bars(table: pd.DataFrame, path: Path) -> Path | None:
    """Up to two panels, bars per run: ECE before / after scaling side by side, and the empirical
    coverage with the nominal level marked by a black tick; each panel shows the runs that have
    its numbers, and the figure is None when no run has either.

    Parameters
    ----------
    table : one row per run: run, ece_before, ece_after, level, coverage (NaN = not computed).
    path : PNG to write.
    """
    panels = [(name, table[table[list(keys)].notna().any(axis=1)])
              for name, keys in (("ece", ("ece_before", "ece_after")), ("coverage", ("coverage",)))
              if all(k in table for k in keys)]
    panels = [(name, rows) for name, rows in panels if len(rows)]
    if not panels:
        return None
    plt = pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(
        sum(max(3.5, 0.9 * len(rows) + 2.0) for _, rows in panels), 3.8))
    for ax, (panel, rows) in zip(np.atleast_1d(axes), panels):
        runs = list(rows["run"])
        x = np.arange(len(runs))
        if panel == "ece":
            for offset, key, color, label in ((-0.2, "ece_before", "tab:grey", "before scaling"),
                                              (0.2, "ece_after", "tab:green", "after scaling")):
                values = rows[key].to_numpy(dtype=float)
                ax.bar(x + offset, values, 0.38, color=color, edgecolor="black", linewidth=0.5,
                       label=label)
                for xi, v in zip(x + offset, values):
                    if not np.isnan(v):
                        ax.text(xi, v, f"{v:.3g}", ha="center", va="bottom", fontsize=7)
            top = np.nanmax(rows[["ece_before", "ece_after"]].to_numpy(dtype=float))
            ax.set_ylim(0, 1.3 * top if top > 0 else 1)
            ax.set(ylabel="ECE", title="Expected calibration error")
            ax.legend(fontsize=7, loc="upper right")
        else:
            values, levels = rows["coverage"].to_numpy(dtype=float), rows["level"].to_numpy(dtype=float)
            ax.bar(x, values, 0.6, color="tab:blue", edgecolor="black", linewidth=0.5,
                   label="empirical coverage")
            ax.scatter(x, levels, marker="_", s=600, color="black", linewidths=2, zorder=3,
                       label="level asked for")
            for xi, v in zip(x, values):
                ax.text(xi + 0.32, v, f"{v:.3g}", ha="left", va="center", fontsize=7)
            ax.set_ylim(max(0.0, float(np.nanmin(np.r_[values, levels])) - 0.15), 1.08)
            ax.set(ylabel="Coverage", title="Conformal coverage")
            ax.legend(fontsize=7, loc="upper left", ncol=2)
        ax.set_xlim(-0.7, len(runs) - 0.3)
        ax.set_xticks(x, runs, rotation=20 if len(runs) > 2 else 0,
                      ha="right" if len(runs) > 2 else "center")
        ax.grid(axis="y", alpha=0.3)
    return save(fig, path)
