"""Comparison figures across runs: metric bars with 95% interval error bars (Morenu n.d., Figs 1-2)
and the cost of each model (parameters, seconds per epoch, peak memory; Morenu n.d., Table VI)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from regdna.plot.style import pyplot, save

plt = pyplot()


def metric_bars(table: pd.DataFrame, path: Path) -> Path | None:
    """One panel per metric (AUROC, PR-AUC, or Pearson r); bars per run, grouped by split, with
    error bars from the bootstrap interval."""
    metrics = [(k, name) for k, name in (("auroc", "AUROC"), ("pr_auc", "PR-AUC"),
                                         ("pearson", "Pearson r")) if k in table and table[k].notna().any()]
    if not metrics:
        return None
    runs = list(dict.fromkeys(table["run"]))
    splits = list(dict.fromkeys(table["split"]))
    width = 0.8 / len(runs)
    colors = plt.cm.tab10(np.arange(len(runs)) % 10)
    fig, axes = plt.subplots(1, len(metrics), figsize=(max(5, 1.2 * len(runs) * len(splits) + 2) * len(metrics) / 1.3, 4.5))
    axes = np.atleast_1d(axes)
    for ax, (key, name) in zip(axes, metrics):
        for r, run in enumerate(runs):
            sub = table[table["run"] == run].set_index("split").reindex(splits)
            values = sub[key].to_numpy(dtype=float)
            lo = sub.get(f"{key}_lo", pd.Series(np.nan, index=sub.index)).to_numpy(dtype=float)
            hi = sub.get(f"{key}_hi", pd.Series(np.nan, index=sub.index)).to_numpy(dtype=float)
            # an interval that does not hold its value (rounded inputs) draws no bar past it
            err = np.clip(np.vstack([np.nan_to_num(values - lo), np.nan_to_num(hi - values)]), 0, None)
            x = np.arange(len(splits)) + (r - (len(runs) - 1) / 2) * width
            ax.bar(x, values, width * 0.9, yerr=err, capsize=4, color=colors[r], label=run,
                   edgecolor="black", linewidth=0.5)
            for xi, v, top in zip(x, values, hi):
                if not np.isnan(v):   # label above the error bar, not on it
                    ax.text(xi, np.nanmax([v, top]) + 0.01, f"{v:.3f}", ha="center",
                            va="bottom", fontsize=8)
        ax.set_xticks(np.arange(len(splits)), splits)
        low = np.nanmin(table[f"{key}_lo"]) if f"{key}_lo" in table else np.nanmin(table[key])
        ax.set_ylim(max(0.0, min(0.5, float(low) - 0.05)) if key != "pearson" else None, 1.05)
        ax.set(xlabel="Split", ylabel=name, title=f"{name} per model (95% bootstrap CI)")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    return save(fig, path)


def cost_bars(table: pd.DataFrame, path: Path) -> Path | None:
    """Parameters (log scale), seconds per epoch and peak memory per run."""
    columns = [(k, name) for k, name in (("n_params", "Parameters"),
                                         ("seconds_per_epoch", "Seconds per epoch"),
                                         ("peak_memory_mb", "Peak memory (MB)"))
               if k in table and table[k].notna().any()]
    if not columns:
        return None
    per_run = table.drop_duplicates("run").set_index("run")
    runs = list(per_run.index)
    colors = plt.cm.tab10(np.arange(len(runs)) % 10)
    fig, axes = plt.subplots(1, len(columns), figsize=(3.8 * len(columns), 3.8))
    axes = np.atleast_1d(axes)
    for ax, (key, name) in zip(axes, columns):
        values = per_run[key].to_numpy(dtype=float)
        ax.bar(np.arange(len(runs)), values, color=colors, edgecolor="black", linewidth=0.5)
        ax.set_xticks(np.arange(len(runs)), runs, rotation=20, ha="right")
        if key == "n_params":
            ax.set_yscale("log")
        ax.set(ylabel=name, title=name)
        ax.grid(axis="y", alpha=0.3)
    return save(fig, path)
