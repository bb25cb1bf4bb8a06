"""Evaluation and training figures of a run (PNG through `regdna.plot.style`).

One function per figure; each draws the numbers it is given (`regdna.evaluate.figures` computes
them from predictions and decides the file names):
- `roc_pr`: ROC and precision-recall curves with operating points marked (0.5 and the
  validation threshold; King et al. n.d., Figs 7-8);
- `confusion_pair`: 2 x 2 confusion matrices at 0.5 and at the validation threshold (Figs 9-10);
- `multiclass_confusion`: the argmax confusion matrix;
- `reliability`: reliability diagram with the ECE (Tang 2024, ch. 4), before and after
  temperature scaling when both are given;
- `regression_scatter`: predicted against measured values;
- `training_curves`: train / validation loss and validation metrics per epoch of one run;
- `training_curves_compared`: loss, validation AUROC / PR-AUC and learning rate of several runs
  on shared axes;
- `lr_schedule`: the learning rate at every optimiser step.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from regdna.plot.style import pyplot, save

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
           "#e377c2", "#7f7f7f", "#bcbd22"]


def roc_pr(roc: tuple, pr: tuple, auroc: float, pr_auc: float, prevalence: float,
           points: list[dict], path: Path, title: str = "") -> Path:
    """ROC and PR curves of one binary output, with operating points marked.

    Parameters
    ----------
    roc : (fpr, tpr), arrays (K,) of the ROC curve.
    pr : (recall, precision), arrays (K',) of the precision-recall curve.
    auroc, pr_auc : the areas, shown in the legends.
    prevalence : fraction of positives (the PR chance line).
    points : operating points, each {"name", "fpr", "tpr", "precision"}; the first is drawn as
        an orange circle, the second as a red square.
    path : PNG to write.
    """
    plt = pyplot()
    fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(10, 4.5))
    ax_roc.plot(*roc, color="tab:blue", lw=2, label=f"AUROC = {auroc:.3f}")
    ax_roc.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="chance")
    ax_pr.plot(*pr, color="tab:blue", lw=2, label=f"PR-AUC = {pr_auc:.3f}")
    ax_pr.axhline(prevalence, ls="--", color="grey", lw=1, label=f"prevalence = {prevalence:.2f}")
    for point, (marker, color) in zip(points, [("o", "tab:orange"), ("s", "tab:red")]):
        label = f"threshold {point['name']}"
        ax_roc.plot(point["fpr"], point["tpr"], marker, color=color, ms=9, mec="black", label=label)
        ax_pr.plot(point["tpr"], point["precision"], marker, color=color, ms=9, mec="black",
                   label=label)
    ax_roc.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC curve",
               xlim=(0, 1), ylim=(0, 1.02))
    ax_pr.set(xlabel="Recall", ylabel="Precision", title="Precision-recall curve",
              xlim=(0, 1), ylim=(0, 1.02))
    for ax in (ax_roc, ax_pr):
        ax.legend(loc="lower right" if ax is ax_roc else "lower left", fontsize=8)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return save(fig, path)


def _matrix(ax, matrix: np.ndarray, names: list[str], title: str) -> None:
    ax.imshow(matrix, cmap="Blues")
    total = matrix.sum()
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            share = matrix[i, j] / total if total else 0
            ax.text(j, i, f"{matrix[i, j]}\n({share:.1%})", ha="center", va="center",
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black", fontsize=9)
    ax.set_xticks(range(len(names)), names, rotation=30 if len(names) > 3 else 0)
    ax.set_yticks(range(len(names)), names)
    ax.set(xlabel="Predicted", ylabel="True", title=title)


def confusion_pair(panels: list[tuple[np.ndarray, str]], path: Path, title: str = "") -> Path:
    """Binary confusion matrices side by side.

    Parameters
    ----------
    panels : (matrix (2, 2) of counts [[tn, fp], [fn, tp]], panel title) per threshold.
    path : PNG to write.
    """
    plt = pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.2))
    for ax, (matrix, name) in zip(np.atleast_1d(axes), panels):
        _matrix(ax, np.asarray(matrix), ["negative", "positive"], name)
    if title:
        fig.suptitle(title)
    return save(fig, path)


def multiclass_confusion(matrix, classes: list[str], path: Path, title: str = "") -> Path:
    """The argmax confusion matrix (C, C) of counts, rows = true class, columns = predicted."""
    plt = pyplot()
    size = max(4.5, 0.6 * len(classes) + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    _matrix(ax, np.asarray(matrix), classes, title or "Confusion matrix (argmax)")
    return save(fig, path)


def reliability(bins: dict, ece: float, path: Path, title: str = "",
                after: tuple[dict, float] | None = None) -> Path:
    """Reliability diagram: observed fraction of positives against mean predicted probability
    per bin, bin counts below and the ECE in the title; with `after`, the curve after
    temperature scaling (Guo et al. 2017) on the same axes.

    Parameters
    ----------
    bins : `regdna.evaluate.calibration.reliability_bins`: "edges" (B + 1,), "confidence",
        "observed" and "count" (B,), NaN for empty bins.
    ece : expected calibration error.
    path : PNG to write.
    after : (bins, ece) of the temperature-scaled probabilities, or None.
    """
    plt = pyplot()
    centers = (bins["edges"][:-1] + bins["edges"][1:]) / 2
    width = bins["edges"][1] - bins["edges"][0]
    fig, (ax, ax_n) = plt.subplots(2, 1, figsize=(5, 6), sharex=True,
                                   gridspec_kw={"height_ratios": [3, 1]})
    used = bins["count"] > 0
    ax.bar(centers[used], bins["observed"][used], width=width * 0.9, color="tab:blue",
           alpha=0.7 if after is None else 0.3, edgecolor="black",
           label="observed fraction positive" + ("" if after is None else " (before)"))
    name = "(mean predicted, observed)" if after is None else f"before scaling, ECE = {ece:.3f}"
    ax.plot(bins["confidence"][used], bins["observed"][used], "o-", color="tab:red", label=name)
    heading = f"Reliability (ECE = {ece:.3f})"
    if after is not None:
        scaled, ece_after = after
        shown = scaled["count"] > 0
        ax.plot(scaled["confidence"][shown], scaled["observed"][shown], "s-", color="tab:green",
                label=f"after temperature scaling, ECE = {ece_after:.3f}")
        heading = f"Reliability (ECE {ece:.3f} -> {ece_after:.3f})"
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="perfect calibration")
    ax.set(ylabel="Fraction of positives", xlim=(0, 1), ylim=(0, 1),
           title=(title + "\n" if title else "") + heading)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    ax_n.bar(centers, bins["count"], width=width * 0.9, color="grey", edgecolor="black",
             label="before scaling")
    if after is not None:
        ax_n.step(bins["edges"], np.r_[after[0]["count"], after[0]["count"][-1]], where="post",
                  color="tab:green", label="after scaling")
        ax_n.legend(fontsize=7)
    ax_n.set(xlabel="Predicted probability", ylabel="Count")
    return save(fig, path)


def regression_scatter(y, p, pearson: float, spearman: float, path: Path, label: str = "") -> Path:
    """Predicted (N,) against measured (N,) values (no missing values) with the diagonal."""
    plt = pyplot()
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(y, p, s=6, alpha=0.4, color="tab:blue")
    lo, hi = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
    ax.plot([lo, hi], [lo, hi], ls="--", color="grey")
    ax.set(xlabel="Measured", ylabel="Predicted",
           title=f"{label} Pearson r = {pearson:.3f}, Spearman = {spearman:.3f}")
    ax.grid(alpha=0.3)
    return save(fig, path)


def _column(history: list[dict], key: str) -> np.ndarray:
    return np.array([row.get(key, math.nan) if isinstance(row.get(key), float) else math.nan
                     for row in history], dtype=float)


def training_curves(history: list[dict], path: Path, best_epoch: int | None = None) -> Path | None:
    """Loss (train, validation) and validation AUROC / PR-AUC (or Pearson) per epoch of one run.

    Parameters
    ----------
    history : rows of metrics.csv (`regdna.runs.layout.read_history`): epoch (from 0),
        train_loss, val_loss, val_auroc, val_pr_auc, val_pearson (floats, NaN = none).
    path : PNG to write.
    best_epoch : epoch (from 0) to mark with a dotted line, or None.

    Returns
    -------
    The path, or None for an empty history.
    """
    if not history:
        return None
    plt = pyplot()
    x = _column(history, "epoch") + 1
    fig, (ax_loss, ax_metric) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(x, _column(history, "train_loss"), "o-", label="train")
    ax_loss.plot(x, _column(history, "val_loss"), "s-", label="validation")
    ax_loss.set(xlabel="Epoch", ylabel="Loss", title="Loss per epoch")
    for column, name in (("val_auroc", "val AUROC"), ("val_pr_auc", "val PR-AUC"),
                         ("val_pearson", "val Pearson r")):
        values = _column(history, column)
        if not np.isnan(values).all():
            ax_metric.plot(x, values, "o-", label=name)
    if best_epoch is not None:
        ax_metric.axvline(best_epoch + 1, ls=":", color="grey", label=f"best epoch {best_epoch + 1}")
    ax_metric.set(xlabel="Epoch", ylabel="Metric", title="Validation metrics per epoch")
    for ax in (ax_loss, ax_metric):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return save(fig, path)


def _series(history: list[dict], key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for i, row in enumerate(history):
        value = row.get(key)
        if isinstance(value, float) and not math.isnan(value):
            epoch = row.get("epoch")
            xs.append(epoch if isinstance(epoch, float) and not math.isnan(epoch) else float(i))
            ys.append(value)
    return xs, ys


def training_curves_compared(histories: dict[str, list[dict]], path: Path) -> Path | None:
    """Loss, validation AUROC, validation PR-AUC and learning rate per epoch of several runs on
    shared axes (colour = run, line style = train / validation).

    Parameters
    ----------
    histories : run name -> rows of its metrics.csv (`regdna.runs.layout.read_history`).
    path : PNG to write.

    Returns
    -------
    The path, or None when no run has a curve to draw.
    """
    panels = [("Loss", [("train_loss", "-"), ("val_loss", "--")]),
              ("Validation AUROC", [("val_auroc", "-")]),
              ("Validation PR-AUC", [("val_pr_auc", "-")]),
              ("Learning rate", [("lr", "-")])]
    present = [(title, lines) for title, lines in panels
               if any(_series(h, key)[0] for h in histories.values() for key, _ in lines)]
    if not present:
        return None
    plt = pyplot()
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, len(present), figsize=(4.2 * len(present), 3.4), squeeze=False)
    for ax, (title, lines) in zip(axes[0], present):
        for i, history in enumerate(histories.values()):
            for key, style in lines:
                xs, ys = _series(history, key)
                if xs:
                    ax.plot(xs, ys, style, color=PALETTE[i % len(PALETTE)], lw=1.8, marker="o", ms=3)
        ax.set_title(title, fontsize=11)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if title == "Learning rate":
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    handles = [Line2D([], [], color=PALETTE[i % len(PALETTE)], lw=2.5, label=run)
               for i, run in enumerate(histories)]
    handles += [Line2D([], [], color="#555", ls="-", label="train"),
                Line2D([], [], color="#555", ls="--", label="validation")]
    fig.legend(handles=handles, loc="upper center", ncol=min(len(handles), 6), frameon=False,
               bbox_to_anchor=(0.5, 0.0), fontsize=9)
    return save(fig, path)


def lr_schedule(steps, rates, path: Path) -> Path | None:
    """The learning rate (K,) at each optimiser step (K,); None when there are no steps."""
    if len(steps) == 0:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, rates, color="tab:green", lw=2)
    ax.set(xlabel="Optimiser step", ylabel="Learning rate", title="Learning-rate schedule")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    ax.grid(alpha=0.3)
    return save(fig, path)
