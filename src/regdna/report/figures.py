"""Figures the report draws itself: training curves of every run on shared axes, and metric bars."""
from __future__ import annotations

import io
import math

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
           "#e377c2", "#7f7f7f", "#bcbd22"]


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _series(history: list[dict], key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for i, row in enumerate(history):
        value = row.get(key)
        if isinstance(value, float) and not math.isnan(value):
            epoch = row.get("epoch")
            xs.append(epoch if isinstance(epoch, float) and not math.isnan(epoch) else float(i))
            ys.append(value)
    return xs, ys


def training_curves(histories: dict[str, list[dict]]) -> bytes | None:
    """One PNG with loss, validation AUROC / PR-AUC and learning rate per epoch for every run.

    Args:
        histories: run name -> rows of its metrics.csv.
    Returns:
        PNG bytes, or None when no run has a curve to draw.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("Loss", [("train_loss", "-", "train"), ("val_loss", "--", "val")]),
              ("Validation AUROC", [("val_auroc", "-", None)]),
              ("Validation PR-AUC", [("val_pr_auc", "-", None)]),
              ("Learning rate", [("lr", "-", None)])]
    present = [(title, lines) for title, lines in panels
               if any(_series(h, key)[0] for h in histories.values() for key, _, _ in lines)]
    if not present:
        return None
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, len(present), figsize=(4.2 * len(present), 3.4), squeeze=False)
    for ax, (title, lines) in zip(axes[0], present):
        for i, history in enumerate(histories.values()):
            for key, style, _ in lines:
                xs, ys = _series(history, key)
                if xs:
                    ax.plot(xs, ys, style, color=PALETTE[i % len(PALETTE)], lw=1.8, marker="o", ms=3)
        ax.set_title(title, fontsize=11)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if title == "Learning rate":
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    # colour = run, line style = train / validation
    handles = [Line2D([], [], color=PALETTE[i % len(PALETTE)], lw=2.5, label=run)
               for i, run in enumerate(histories)]
    handles += [Line2D([], [], color="#555", ls="-", label="train"),
                Line2D([], [], color="#555", ls="--", label="validation")]
    fig.legend(handles=handles, loc="upper center", ncol=min(len(handles), 6), frameon=False,
               bbox_to_anchor=(0.5, 0.0), fontsize=9)
    fig.tight_layout()
    return _png(fig)


def metric_bars(split: str, rows: list[tuple[str, dict]], keys=("auroc", "pr_auc")) -> bytes | None:
    """Grouped bars of `keys` per run for one split, with 95 % intervals when present."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    keys = [k for k in keys if any(isinstance(m.get(k), (int, float)) for _, m in rows)]
    if not keys or not rows:
        return None
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(rows) * len(keys) + 1.5), 3.4))
    width = 0.8 / len(keys)
    x = np.arange(len(rows))
    for j, key in enumerate(keys):
        values = np.array([float(m.get(key, np.nan)) if isinstance(m.get(key), (int, float))
                           else np.nan for _, m in rows])
        lo, hi = [], []
        for (_, m), v in zip(rows, values):
            ci = m.get(f"{key}_ci95")
            ok = isinstance(ci, list) and len(ci) == 2 and all(isinstance(c, (int, float)) for c in ci)
            lo.append(v - ci[0] if ok else 0.0)
            hi.append(ci[1] - v if ok else 0.0)
        bars = ax.bar(x + (j - (len(keys) - 1) / 2) * width, values, width, label=key.replace("_", "-").upper(),
                      color=PALETTE[j], yerr=[np.maximum(lo, 0), np.maximum(hi, 0)], capsize=3)
        for bar, v in zip(bars, values):
            if not np.isnan(v) and v > 0.12:  # the value inside the bar, clear of the interval
                ax.text(bar.get_x() + bar.get_width() * 0.5, v / 2, f"{v:.3f}", ha="center",
                        va="center", fontsize=8, color="white", fontweight="bold", rotation=90)
    ax.set_xticks(x)
    ax.set_xticklabels([name for name, _ in rows], rotation=20 if len(rows) > 3 else 0, ha="right" if len(rows) > 3 else "center")
    ax.set_ylim(0, 1.0)
    ax.set_ylabel("score")
    ax.set_title(f"{split}: " + " and ".join(k.replace("_", "-").upper() for k in keys)
                 + " with 95% intervals", fontsize=11)
    ax.legend(frameon=False, fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.12 if len(rows) <= 3 else -0.3), ncol=len(keys))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return _png(fig)
