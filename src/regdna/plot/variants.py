"""Figures for variant effects: ISM heatmaps, top-K bars and benchmark plots
(Morenu n.d.; Manzo et al. n.d.).

One function per figure; each takes plain arrays / DataFrames, writes a PNG (dpi 150) and
returns its path. Matplotlib runs with the Agg backend.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from regdna.plot.style import pyplot, save

BASES = "ACGT"


def ism_heatmap(delta: np.ndarray, sequence: str, path, title: str = "", region=None,
                label: str = "Δ = f(x') − f(x)") -> Path:
    """Heatmap of one sequence's ISM (L, 4): bases on rows, positions on columns, a diverging
    colour scale centred on 0, and above it the largest |Δ| per position (mutation sensitivity).
    """
    plt = pyplot()
    start, end = region if region is not None else (0, delta.shape[0])
    block = delta[start:end].T  # (4, W)
    limit = float(np.max(np.abs(block))) or 1e-9
    width = min(16.0, max(6.0, (end - start) / 18))
    fig, (ax_top, ax) = plt.subplots(2, 1, figsize=(width, 3.6), sharex=True,
                                     gridspec_kw={"height_ratios": [1, 1.6]})
    positions = np.arange(start, end)
    sensitivity = np.abs(block).max(axis=0)
    ax_top.fill_between(positions, sensitivity, step="mid", color="#555555")
    ax_top.set_ylabel("max |Δ|")
    ax_top.set_title(title or "Saturation mutagenesis")
    image = ax.imshow(block, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit,
                      extent=(start - 0.5, end - 0.5, 3.5, -0.5), interpolation="nearest")
    ref_rows = [BASES.find(b) for b in sequence[start:end].upper()] if sequence else []
    if ref_rows and min(ref_rows) >= 0 and end - start <= 400:
        # dots mark the reference base (identity edit, Δ = 0)
        ax.scatter(positions, ref_rows, s=3 if end - start > 120 else 8, color="black", marker="o",
                   linewidths=0)
    ax.set_yticks(range(4), list(BASES))
    ax.set_ylabel("alt base")
    ax.set_xlabel("position (bp)")
    if end - start <= 60 and sequence:
        ax.set_xticks(positions, list(sequence[start:end]), fontsize=7)
        ax.set_xlabel("reference sequence")
    bar = fig.colorbar(image, ax=[ax_top, ax], pad=0.01, fraction=0.03)
    bar.set_label(label)
    return save(fig, path, tight_layout=False)  # the colour bar spans two axes


def topk_bar(table: pd.DataFrame, path, k: int = 25, title: str = "") -> Path:
    """Horizontal bars of the given edits (columns seq_id, pos, ref, alt, delta), the first row on
    top, signed and coloured by direction; the caller picks and orders them (e.g. the K largest
    |delta|); `k` caps the number of bars."""
    plt = pyplot()
    top = table.head(k)[::-1]
    labels = [f"{s} {p} {r}>{a}" for s, p, r, a in zip(top["seq_id"], top["pos"], top["ref"], top["alt"])]
    fig, ax = plt.subplots(figsize=(7, max(3.0, 0.25 * len(top) + 1)))
    colors = np.where(top["delta"] > 0, "#c0392b", "#2c7fb8")
    ax.barh(range(len(top)), top["delta"], color=colors)
    ax.set_yticks(range(len(top)), labels, fontsize=8)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("Δ = f(x') − f(x)")
    ax.set_title(title or f"Top {len(top)} mutations by |Δ|")
    return save(fig, path)


def scatter_density(pred, measured, path, pearson: float = float("nan"),
                    spearman: float = float("nan"), title: str = "",
                    xlabel: str = "predicted score", ylabel: str = "measured effect") -> Path:
    """Scatter (left) and hexbin density (right) of predicted vs measured, annotated with the
    given correlations.

    Parameters
    ----------
    pred, measured : array-like, shape (N,)
        Predicted scores and measured effects (pairs with a NaN are not drawn).
    path : path of the PNG.
    pearson, spearman : float
        Pearson r and Spearman rho to print (computed by the caller; NaN prints "nan").
    """
    plt = pyplot()
    x, y = np.asarray(pred, float), np.asarray(measured, float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    axes[0].scatter(x, y, s=8, alpha=0.5, color="#2c7fb8", edgecolors="none")
    if len(x):
        hexes = axes[1].hexbin(x, y, gridsize=30, cmap="viridis", mincnt=1)
        fig.colorbar(hexes, ax=axes[1], label="variants per hexagon")
    for ax in axes:
        ax.axhline(0, color="grey", linewidth=0.6)
        ax.axvline(0, color="grey", linewidth=0.6)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    text = f"Pearson r = {pearson:.3f}\nSpearman ρ = {spearman:.3f}\nn = {len(x)}"
    axes[0].text(0.02, 0.98, text, transform=axes[0].transAxes, va="top", fontsize=9,
                 bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
    axes[0].set_title("scatter")
    axes[1].set_title("density")
    fig.suptitle(title or "Predicted vs measured variant effects")
    return save(fig, path)


def updown_heatmap(rates: pd.DataFrame, path, title: str = "") -> Path:
    """Manzo et al. n.d., Fig. 2: rows = scorers / datasets, columns = P(pred+|meas+),
    P(pred−|meas−), P(pred−|meas+), P(pred+|meas−); red = high (wanted in the first two columns)."""
    plt = pyplot()
    cols = ["up_rate", "down_rate", "up_predicted_down", "down_predicted_up"]
    names = ["pred + | meas +", "pred − | meas −", "pred − | meas +", "pred + | meas −"]
    values = rates[cols].to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.45 * len(rates)))
    image = ax.imshow(values, cmap="RdBu_r", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(4), names, rotation=20, ha="right")
    ax.set_yticks(range(len(rates)), [str(v) for v in rates.index])
    for i in range(values.shape[0]):
        for j in range(4):
            if np.isfinite(values[i, j]):
                ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=9,
                        color="white" if abs(values[i, j] - 0.5) > 0.3 else "black")
    fig.colorbar(image, ax=ax, label="fraction")
    ax.set_title(title or "Direction of predicted vs measured effects")
    return save(fig, path)


def pvalue_strata(strata: pd.DataFrame, path, title: str = "") -> Path:
    """Pearson / Spearman and up/down rates per measured p-value threshold
    (Manzo et al. n.d., Fig. 4)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    x = np.arange(len(strata))
    labels = [f"{s}\n(n={n})" for s, n in zip(strata["subset"], strata["n"])]
    axes[0].plot(x, strata["pearson"], "o-", label="Pearson r")
    axes[0].plot(x, strata["spearman"], "s-", label="Spearman ρ")
    axes[0].set_ylabel("correlation")
    axes[1].plot(x, strata["up_rate"], "o-", color="#c0392b", label="up predicted up")
    axes[1].plot(x, strata["down_rate"], "s-", color="#2c7fb8", label="down predicted down")
    axes[1].set_ylabel("fraction")
    axes[1].set_ylim(0, 1)
    for ax in axes:
        ax.set_xticks(x, labels, fontsize=8)
        ax.set_xlabel("measured p-value threshold")
        ax.legend(fontsize=8)
    fig.suptitle(title or "Agreement by measured significance")
    return save(fig, path)


def ld_topk_bar(result: dict, path, title: str = "") -> Path:
    """Top-1/2/3 causal recovery within LD blocks, with the random-ranking expectation."""
    plt = pyplot()
    ks = [k for k in (1, 2, 3) if f"top{k}" in result]
    fig, ax = plt.subplots(figsize=(5, 3.6))
    x = np.arange(len(ks))
    ax.bar(x - 0.18, [result[f"top{k}"] for k in ks], 0.36, label="model", color="#2c7fb8")
    ax.bar(x + 0.18, [result[f"random_top{k}"] for k in ks], 0.36, label="random ranking",
           color="#bbbbbb")
    ax.set_xticks(x, [f"top-{k}" for k in ks])
    ax.set_ylabel("fraction of LD blocks")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title(title or f"Causal variant recovered in {result['n_blocks']} LD blocks")
    return save(fig, path)


def direction_bars(frame: pd.DataFrame, score: str, path, title: str = "") -> Path:
    """Distribution of a score per variant kind (e.g. motif_breaking vs neutral)."""
    plt = pyplot()
    kinds = sorted(frame["kind"].dropna().unique())
    data = [frame.loc[frame["kind"] == k, score].dropna().to_numpy(float) for k in kinds]
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.boxplot(data, showfliers=False)
    for i, values in enumerate(data, start=1):
        jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(values))
        ax.scatter(np.full(len(values), i) + jitter, values, s=8, alpha=0.5)
    ax.set_xticks(range(1, len(kinds) + 1), kinds)
    ax.axhline(0, color="grey", linewidth=0.6)
    ax.set_ylabel(score)
    ax.set_title(title or f"{score} by variant kind")
    return save(fig, path)


def strata_correlation(strata: pd.DataFrame, column: str, path, title: str = "") -> Path:
    """Pearson and Spearman per quantile bin of a per-variant column (stratum 1 = lowest values,
    e.g. the most confident predictions when the column is the spread of an ensemble)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    x = np.arange(len(strata))
    ax.plot(x, strata["pearson"], "o-", label="Pearson r")
    ax.plot(x, strata["spearman"], "s-", label="Spearman ρ")
    labels = [f"{lo:.3g}–{hi:.3g}\n(n={n})" for lo, hi, n in
              zip(strata["low"], strata["high"], strata["n"])]
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_xlabel(f"{column} (quantile bins)")
    ax.set_ylabel("correlation with measured")
    ax.axhline(0, color="grey", linewidth=0.6)
    ax.legend(fontsize=8)
    ax.set_title(title or f"Agreement by {column}")
    return save(fig, path)


def correlation_intervals(table: pd.DataFrame, path, title: str = "") -> Path:
    """Dots and bootstrap intervals of Pearson (left) and Spearman (right) per model (rows) and
    dataset (colours). `table` columns: model, dataset, pearson, pearson_low, pearson_high,
    spearman, spearman_low, spearman_high."""
    plt = pyplot()
    models = list(dict.fromkeys(table["model"]))
    datasets = list(dict.fromkeys(table["dataset"]))
    fig, axes = plt.subplots(1, 2, figsize=(10, 1.4 + 0.45 * len(models) * max(1, len(datasets) / 2)),
                             sharey=True)
    step = 0.7 / max(1, len(datasets))
    for d, dataset in enumerate(datasets):
        rows = table[table["dataset"] == dataset].set_index("model").reindex(models)
        y = np.arange(len(models)) + (d - (len(datasets) - 1) / 2) * step
        for ax, method in zip(axes, ("pearson", "spearman")):
            r = rows[method].to_numpy(float)
            err = np.abs(np.vstack([r - rows[f"{method}_low"].to_numpy(float),
                                    rows[f"{method}_high"].to_numpy(float) - r]))
            ax.errorbar(r, y, xerr=np.nan_to_num(err), fmt="o", capsize=3, label=str(dataset))
    for ax, name in zip(axes, ("Pearson r", "Spearman ρ")):
        ax.axvline(0, color="grey", linewidth=0.6)
        ax.set_xlabel(f"{name} (95% bootstrap interval)")
    axes[0].set_yticks(range(len(models)), models)
    axes[0].invert_yaxis()
    if len(datasets) > 1:
        axes[1].legend(fontsize=8, title="dataset", loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.suptitle(title or "Predicted vs measured variant effects per model")
    return save(fig, path)


def pairwise_pvalues(models: list[str], upper: np.ndarray, lower: np.ndarray, path,
                     upper_name: str = "paired bootstrap p (Spearman)",
                     lower_name: str = "Steiger p (Pearson)", title: str = "") -> Path:
    """Models x models heatmap of -log10 p: `upper[i, j]` (row model vs column model) drawn
    above the diagonal, `lower[i, j]` below it, each cell annotated with p."""
    plt = pyplot()
    k = len(models)
    p = np.full((k, k), np.nan)
    iu, il = np.triu_indices(k, 1), np.tril_indices(k, -1)
    p[iu], p[il] = np.asarray(upper, float)[iu], np.asarray(lower, float)[il]
    fig, ax = plt.subplots(figsize=(1.6 + 0.9 * k, 1.2 + 0.8 * k))
    # colours saturate at p = 1e-10 so that one tiny p does not wash out the others
    image = ax.imshow(-np.log10(np.clip(p, 1e-10, 1)), cmap="viridis", vmin=0, vmax=10, aspect="auto")
    for i in range(k):
        for j in range(k):
            if np.isfinite(p[i, j]):
                ax.text(j, i, f"{p[i, j]:.2g}", ha="center", va="center", fontsize=8, color="white")
    ax.set_xticks(range(k), models, rotation=30, ha="right")
    ax.set_yticks(range(k), models)
    fig.colorbar(image, ax=ax, label="−log10 p (capped at 10)")
    ax.set_title(title or f"above: {upper_name}\nbelow: {lower_name}", fontsize=9)
    return save(fig, path)


def cost_accuracy(table: pd.DataFrame, path, metric: str = "spearman", title: str = "") -> Path:
    """Seconds per 1,000 variants (log x) against a correlation per model; models whose cost is
    unknown (precomputed scores) are listed in the title instead of drawn."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    known = table[np.isfinite(table["seconds_per_1000"].astype(float))]
    ax.scatter(known["seconds_per_1000"], known[metric], s=30, color="#2c7fb8")
    for _, row in known.iterrows():
        ax.annotate(str(row["model"]), (row["seconds_per_1000"], row[metric]), fontsize=8,
                    xytext=(4, 4), textcoords="offset points")
    if len(known):
        ax.set_xscale("log")
    ax.set_xlabel("seconds per 1,000 variants")
    ax.set_ylabel(metric)
    unknown = [str(m) for m in table.loc[~table.index.isin(known.index), "model"]]
    ax.set_title(title or ("Cost vs accuracy" + (f"\n(cost unknown: {', '.join(unknown)})"
                                                  if unknown else "")), fontsize=9)
    return save(fig, path)
