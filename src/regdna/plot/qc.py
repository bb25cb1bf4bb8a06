"""QC figures of a dataset dir (written by `prepare` into `DIR/figures/`).

- `qc_class_balance.png`: sequences per class in each split, with shares and the balance effect size;
- `qc_gc.png`: GC-content distribution per class, one panel per split (confounding by GC shows
  as shifted curves);
- `qc_length.png`: sequence length distribution per class.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

SPLITS = ("train", "val", "test")
_COLOURS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C"]


def _style():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10,
                         "axes.spines.top": False, "axes.spines.right": False, "figure.dpi": 150})
    return plt


def plot_class_balance(per_split: dict[str, dict[str, int]], balance: dict, path: Path, title: str = "",
                       split_sizes: dict[str, int] | None = None, prefix: str = "class") -> Path:
    """Grouped bars: count per class (bars) within each split (groups), share printed on bars.

    With `split_sizes` (multi-label data) the printed share is count / split size, the
    positive rate of each label."""
    plt = _style()
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
            total = (split_sizes[split] if split_sizes else sum(per_split[split].values())) or 1
            ax.text(bar.get_x() + bar.get_width() / 2, v + top * 0.01, f"{v}\n{100 * v / total:.0f}%",
                    ha="center", va="bottom", fontsize=7.5)
    labels = []
    for s in splits:
        effect = balance.get(s, {})
        tag = f"h={effect['cohens_h']:+.2f}" if "cohens_h" in effect else (
            f"w={effect['cohens_w']:.2f}" if "cohens_w" in effect else "")
        labels.append(f"{s}\n{tag}" if tag else s)
    ax.set_xticks(x, labels)
    ax.set_ylabel("sequences")
    ax.set_ylim(0, top * 1.25)
    ax.set_title(title or "Class balance per split (effect size: Cohen's h / w)")
    ax.legend(frameon=False, fontsize=8, ncols=min(4, len(classes)))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_distribution(values: np.ndarray, classes: np.ndarray, splits: np.ndarray, class_names: list[str],
                      path: Path, xlabel: str, title: str, bins=None, per_split: bool = True) -> Path:
    """Per-split panels of overlaid class histograms (density), class means marked by dashed lines."""
    plt = _style()
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
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_lengths(lengths: np.ndarray, classes: np.ndarray, splits: np.ndarray, class_names: list[str],
                 path: Path) -> Path:
    """Sequence lengths: histograms of counts per class (variable lengths) or, when every
    sequence has the same length, the count per class and split at that length."""
    plt = _style()
    lengths = np.asarray(lengths)
    if len(lengths) and lengths.min() == lengths.max():
        fig, ax = plt.subplots(figsize=(5.2, 3.4))
        present = [c for c in range(3) if (splits == c).any()]
        width = 0.8 / max(1, len(class_names))
        for j, name in enumerate(class_names):
            values = [int(((splits == c) & (classes == j)).sum()) for c in present]
            ax.bar(np.arange(len(present)) + (j - (len(class_names) - 1) / 2) * width, values, width * 0.95,
                   color=_COLOURS[j % len(_COLOURS)], label=f"class {name}" if name != "all" else "sequences")
        ax.set_xticks(np.arange(len(present)), [SPLITS[c] for c in present])
        ax.set_ylabel(f"sequences of {int(lengths[0])} bp")
        ax.set_title(f"Sequence length: every sequence is {int(lengths[0])} bp")
        ax.legend(frameon=False, fontsize=8)
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        return path
    return plot_distribution(lengths, classes, splits, class_names, path, "length (bp)",
                             "Sequence length per class and split")


def plot_dataset_qc(data_dir: str | Path, info, gc: np.ndarray, length: np.ndarray, classes: np.ndarray,
                    splits: np.ndarray, class_names: list[str]) -> list[Path]:
    """All QC figures of one dataset into `data_dir/figures/`; returns their paths.

    Args:
        info: the `DatasetInfo` (split sizes per class, balance tests).
        gc, length, classes, splits: (N,) per kept sequence: GC fraction, length, class index
            (0 for multilabel / regression), split code (0 train, 1 val, 2 test).
    """
    out = Path(data_dir) / "figures"
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    per_split = {s: info.splits[s].get("per_class", {}) for s in SPLITS if s in info.splits}
    if info.task in ("binary", "multiclass", "multilabel") and all(per_split.values()):
        multilabel = info.task == "multilabel"
        title = ("Positives per label and split (% = positive rate)" if multilabel
                 else "Class balance per split (effect size: Cohen's h / w)")
        paths.append(plot_class_balance(per_split, info.qc.get("class_balance", {}), out / "qc_class_balance.png",
                                        title, split_sizes={s: info.splits[s]["n"] for s in per_split}
                                        if multilabel else None, prefix="label" if multilabel else "class"))
    finite = np.asarray(gc, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    lo, hi = (np.quantile(finite, [0.001, 0.999]) if len(finite) else (0.0, 1.0))
    lo, hi = max(0.0, lo - 0.03), min(1.0, hi + 0.03)
    paths.append(plot_distribution(gc, classes, splits, class_names, out / "qc_gc.png", "GC fraction",
                                   "GC content per class and split", bins=np.linspace(lo, hi, 41)))
    paths.append(plot_lengths(np.asarray(length), classes, splits, class_names, out / "qc_length.png"))
    return paths
