"""QC figures of a dataset (`prepare` writes them to `DIR/figures/` through `regdna.data.qc`).

- `plot_class_balance`: sequences per class in each split, with shares and the balance effect size;
- `plot_distribution`: a value's distribution per class, one panel per split (GC content:
  confounding by GC shows as shifted curves; variable sequence lengths);
- `plot_length_counts`: sequences per class and split when every sequence has the same length.

Each function draws what it is given and writes one PNG (`regdna.plot.style`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from regdna.plot.style import pyplot, save

SPLITS = ("train", "val", "test")     # split codes 0, 1, 2
_COLOURS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C"]


def plot_class_balance(per_split: dict[str, dict[str, int]], split_sizes: dict[str, int], path: str | Path,
                       effects: dict[str, str] | None = None, title: str = "", prefix: str = "class") -> Path:
    """Grouped bars: count per class (bars) within each split (groups), count and share on the bars.

    Parameters
    ----------
    per_split : {split: {class or label: number of sequences}}.
    split_sizes : {split: the number the share is taken of} (the split's total; for multi-label
        data the split size, so the share is each label's positive rate).
    path : the PNG to write.
    effects : {split: effect-size text shown under the split name, e.g. "h=+0.02"}.
    title, prefix : figure title; word before each legend entry ("class", "label").

    Returns
    -------
    The path written.
    """
    plt = pyplot()
    effects = effects or {}
    classes = list(next(iter(per_split.values())).keys())
    splits = [s for s in SPLITS if s in per_split]
    fig, ax = plt.subplots(figsize=(1.6 + 1.4 * len(splits) * max(1, len(classes)) / 2, 3.8))
    width = 0.8 / max(1, len(classes))
    x = np.arange(len(splits))
    top = max((v for s in splits for v in per_split[s].values()), default=1)
    for j, cls in enumerate(classes):
        values = [per_split[s].get(cls, 0) for s in splits]
        bars = ax.bar(x + (j - (len(classes) - 1) / 2) * width, values, width * 0.95,
                      label=f"{prefix} {cls}", color=_COLOURS[j % len(_COLOURS)])
        for bar, split, v in zip(bars, splits, values):
            total = split_sizes.get(split) or 1
            ax.text(bar.get_x() + bar.get_width() / 2, v + top * 0.01, f"{v}\n{100 * v / total:.0f}%",
                    ha="center", va="bottom", fontsize=7.5)
    ax.set_xticks(x, [f"{s}\n{effects[s]}" if effects.get(s) else s for s in splits])
    ax.set_ylabel("sequences")
    ax.set_ylim(0, top * 1.25)
    ax.set_title(title or "Class balance per split (effect size: Cohen's h / w)")
    ax.legend(frameon=False, fontsize=8, ncols=min(4, len(classes)))
    return save(fig, path)


def plot_distribution(values: np.ndarray, classes: np.ndarray, splits: np.ndarray, class_names: list[str],
                      path: str | Path, xlabel: str, title: str, bins=None, per_split: bool = True) -> Path:
    """Per-split panels of overlaid class histograms (density), class means marked by dashed lines.

    Parameters
    ----------
    values : (N,) the value per sequence (e.g. GC fraction, length in bp); NaN are left out.
    classes : (N,) class index into `class_names` ("all" names a single group).
    splits : (N,) split code (0 train, 1 val, 2 test).
    path : the PNG to write.
    xlabel, title : axis label and figure title.
    bins : histogram bin edges (default: 40 bins over the range of `values`).
    per_split : one panel per split present (else one panel of all splits).

    Returns
    -------
    The path written.
    """
    plt = pyplot()
    values = np.asarray(values, dtype=np.float64)
    present = [c for c in range(3) if (splits == c).any()] if per_split else [None]
    fig, axes = plt.subplots(1, len(present), figsize=(3.6 * len(present), 3.2), sharex=True, squeeze=False)
    finite = values[np.isfinite(values)]
    if bins is None:
        lo, hi = (finite.min(), finite.max()) if len(finite) else (0, 1)
        bins = np.linspace(lo, hi if hi > lo else lo + 1, 41)
    for ax, code in zip(axes[0], present):
        in_split = np.ones(len(values), bool) if code is None else splits == code
        for j, name in enumerate(class_names):
            sel = in_split & (classes == j) & np.isfinite(values)
            if not sel.any():
                continue
            colour = _COLOURS[j % len(_COLOURS)]
            ax.hist(values[sel], bins=bins, density=True, histtype="stepfilled", alpha=0.35, color=colour,
                    label=f"class {name} (n={int(sel.sum())})" if name != "all" else f"n={int(sel.sum())}")
            ax.hist(values[sel], bins=bins, density=True, histtype="step", color=colour, linewidth=1.2)
            ax.axvline(values[sel].mean(), color=colour, linestyle="--", linewidth=1)
        ax.set_title(SPLITS[code] if code is not None else "all splits")
        ax.set_xlabel(xlabel)
        ax.legend(frameon=False, fontsize=7.5)
    axes[0][0].set_ylabel("density")
    fig.suptitle(title, fontsize=11)
    return save(fig, path)


def plot_length_counts(counts: dict[str, dict[str, int]], length: int, path: str | Path) -> Path:
    """Bars of the number of sequences per class and split, all of one length.

    Parameters
    ----------
    counts : {split: {class name: number of sequences}} ("all" names a single group).
    length : the length of every sequence, bp.
    path : the PNG to write.

    Returns
    -------
    The path written.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    splits = [s for s in SPLITS if s in counts]
    class_names = list(next(iter(counts.values()))) if counts else []
    width = 0.8 / max(1, len(class_names))
    for j, name in enumerate(class_names):
        values = [counts[s].get(name, 0) for s in splits]
        ax.bar(np.arange(len(splits)) + (j - (len(class_names) - 1) / 2) * width, values, width * 0.95,
               color=_COLOURS[j % len(_COLOURS)], label=f"class {name}" if name != "all" else "sequences")
    ax.set_xticks(np.arange(len(splits)), splits)
    ax.set_ylabel(f"sequences of {length} bp")
    ax.set_title(f"Sequence length: every sequence is {length} bp")
    ax.legend(frameon=False, fontsize=8)
    return save(fig, path)
