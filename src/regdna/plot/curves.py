"""Evaluation and training figures of a run (matplotlib, Agg, PNG at 150 dpi).

One function per figure:
- `roc_pr`: ROC and precision-recall curves with both operating points marked (0.5 and the
  validation threshold; King et al. n.d., Figs 7-8);
- `confusion_pair`: confusion matrices at 0.5 and at the validation threshold (Figs 9-10);
- `multiclass_confusion`: the argmax confusion matrix;
- `reliability`: reliability diagram with the ECE (Tang 2024, ch. 4);
- `regression_scatter`: predicted against measured values;
- `training_curves`: train / validation loss and validation AUROC / PR-AUC per epoch;
- `lr_schedule`: the learning rate at every optimiser step.
`evaluation_figures` and `training_figures` write the set that fits the task.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from regdna.evaluate import metrics as M
from regdna.evaluate.calibration import expected_calibration_error, reliability_bins
from regdna.plot.style import pyplot, save

plt = pyplot()


def _curves(y, p):
    from sklearn.metrics import precision_recall_curve, roc_curve

    y, p = M._clean(y, p)
    fpr, tpr, _ = roc_curve(y, p)
    precision, recall, _ = precision_recall_curve(y, p)
    return fpr, tpr, precision, recall


def roc_pr(y, p, threshold: float | None, path: Path, title: str = "") -> Path:
    """ROC and PR curves of one binary output, with the operating points at 0.5 and at the
    validation threshold marked. y, p: (N,)."""
    fpr, tpr, precision, recall = _curves(y, p)
    fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(10, 4.5))
    ax_roc.plot(fpr, tpr, color="tab:blue", lw=2, label=f"AUROC = {M.auroc(y, p):.3f}")
    ax_roc.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="chance")
    ax_pr.plot(recall, precision, color="tab:blue", lw=2, label=f"PR-AUC = {M.pr_auc(y, p):.3f}")
    prevalence = float(np.nanmean(np.asarray(y, dtype=float)))
    ax_pr.axhline(prevalence, ls="--", color="grey", lw=1, label=f"prevalence = {prevalence:.2f}")
    points = [(0.5, "o", "tab:orange", "0.5")]
    if threshold is not None:
        points.append((float(threshold), "s", "tab:red", f"val best-F1 {float(threshold):.3f}"))
    for t, marker, color, name in points:
        c = M.confusion(y, p, t)
        tpr_t = M._ratio(c["tp"], c["tp"] + c["fn"])
        fpr_t = M._ratio(c["fp"], c["fp"] + c["tn"])
        prec_t = M._ratio(c["tp"], c["tp"] + c["fp"])
        ax_roc.plot(fpr_t, tpr_t, marker, color=color, ms=9, mec="black", label=f"threshold {name}")
        ax_pr.plot(tpr_t, prec_t, marker, color=color, ms=9, mec="black", label=f"threshold {name}")
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


def confusion_pair(y, p, threshold: float | None, path: Path, title: str = "") -> Path:
    """Confusion matrices at 0.5 and at the validation threshold, side by side."""
    thresholds = [0.5] + ([float(threshold)] if threshold is not None else [])
    fig, axes = plt.subplots(1, len(thresholds), figsize=(4.6 * len(thresholds), 4.2))
    axes = np.atleast_1d(axes)
    for ax, t in zip(axes, thresholds):
        c = M.confusion(y, p, t)
        f1 = M.threshold_metrics(y, p, t)["f1"]
        matrix = np.array([[c["tn"], c["fp"]], [c["fn"], c["tp"]]])
        kind = "naive 0.5" if t == 0.5 and len(thresholds) > 1 and ax is axes[0] else "val best-F1"
        _matrix(ax, matrix, ["negative", "positive"], f"{kind}: t = {t:.3f}, F1 = {f1:.3f}")
    if title:
        fig.suptitle(title)
    return save(fig, path)


def multiclass_confusion(matrix, classes: list[str], path: Path, title: str = "") -> Path:
    size = max(4.5, 0.6 * len(classes) + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    _matrix(ax, np.asarray(matrix), classes, title or "Confusion matrix (argmax)")
    return save(fig, path)


def reliability(y, p, path: Path, n_bins: int = 10, title: str = "") -> Path:
    """Reliability diagram: observed fraction of positives against mean predicted probability
    per equal-width bin, with bin counts below and the ECE in the title."""
    bins = reliability_bins(y, p, n_bins)
    centers = (bins["edges"][:-1] + bins["edges"][1:]) / 2
    width = bins["edges"][1] - bins["edges"][0]
    fig, (ax, ax_n) = plt.subplots(2, 1, figsize=(5, 6), sharex=True,
                                   gridspec_kw={"height_ratios": [3, 1]})
    used = bins["count"] > 0
    ax.bar(centers[used], bins["observed"][used], width=width * 0.9, color="tab:blue",
           alpha=0.7, edgecolor="black", label="observed fraction positive")
    ax.plot(bins["confidence"][used], bins["observed"][used], "o-", color="tab:red",
            label="(mean predicted, observed)")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="perfect calibration")
    ax.set(ylabel="Fraction of positives", xlim=(0, 1), ylim=(0, 1),
           title=(title + "\n" if title else "") + f"Reliability (ECE = "
                 f"{expected_calibration_error(y, p, n_bins):.3f})")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    ax_n.bar(centers, bins["count"], width=width * 0.9, color="grey", edgecolor="black")
    ax_n.set(xlabel="Predicted probability", ylabel="Count")
    return save(fig, path)


def regression_scatter(y, p, path: Path, label: str = "") -> Path:
    y, p = M._clean(y, p)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(y, p, s=6, alpha=0.4, color="tab:blue")
    lo, hi = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
    ax.plot([lo, hi], [lo, hi], ls="--", color="grey")
    ax.set(xlabel="Measured", ylabel="Predicted",
           title=f"{label} Pearson r = {M.pearson(y, p):.3f}, Spearman = {M.spearman(y, p):.3f}")
    ax.grid(alpha=0.3)
    return save(fig, path)


def training_curves(metrics_csv: Path, path: Path) -> Path | None:
    """Loss (train, validation) and validation AUROC / PR-AUC (or Pearson) per epoch."""
    import pandas as pd

    if not Path(metrics_csv).is_file():
        return None
    table = pd.read_csv(metrics_csv)
    if table.empty:
        return None
    x = table["epoch"] + 1
    fig, (ax_loss, ax_metric) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(x, table["train_loss"], "o-", label="train")
    ax_loss.plot(x, table["val_loss"], "s-", label="validation")
    ax_loss.set(xlabel="Epoch", ylabel="Loss", title="Loss per epoch")
    for column, name in (("val_auroc", "val AUROC"), ("val_pr_auc", "val PR-AUC"),
                         ("val_pearson", "val Pearson r")):
        if column in table and table[column].notna().any():
            ax_metric.plot(x, table[column], "o-", label=name)
    monitor = "val_auroc" if table["val_auroc"].notna().any() else None
    if monitor:
        best = int(table[monitor].idxmax())
        ax_metric.axvline(x[best], ls=":", color="grey", label=f"best epoch {int(x[best])}")
    ax_metric.set(xlabel="Epoch", ylabel="Metric", title="Validation metrics per epoch")
    for ax in (ax_loss, ax_metric):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return save(fig, path)


def lr_schedule(lr_csv: Path, path: Path) -> Path | None:
    """The learning rate at each optimiser step."""
    import pandas as pd

    if not Path(lr_csv).is_file():
        return None
    table = pd.read_csv(lr_csv)
    if table.empty:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(table["step"], table["lr"], color="tab:green", lw=2)
    ax.set(xlabel="Optimiser step", ylabel="Learning rate", title="Learning-rate schedule")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    ax.grid(alpha=0.3)
    return save(fig, path)


def training_figures(run_dir: Path) -> list[Path]:
    run_dir = Path(run_dir)
    made = [training_curves(run_dir / "metrics.csv", run_dir / "figures" / "training_curves.png"),
            lr_schedule(run_dir / "lr_schedule.csv", run_dir / "figures" / "lr_schedule.png")]
    return [p for p in made if p is not None]


def evaluation_figures(run_dir: Path, info, y, probs, threshold, suffix: str) -> list[Path]:
    """All figures of one evaluation under RUN/figures/ (file names end in `_<suffix>.png`)."""
    out = Path(run_dir) / "figures"
    made = training_figures(run_dir)
    if info.task == "binary":
        made.append(roc_pr(y[:, 0], probs[:, 0], threshold, out / f"roc_pr_{suffix}.png",
                           f"{info.labels[0]} ({suffix})"))
        made.append(confusion_pair(y[:, 0], probs[:, 0], threshold, out / f"confusion_{suffix}.png"))
        made.append(reliability(y[:, 0], probs[:, 0], out / f"reliability_{suffix}.png",
                                title=suffix))
    elif info.task == "multilabel":
        thresholds = threshold if isinstance(threshold, list) else [threshold] * len(info.labels)
        for t, name in enumerate(info.labels[:8]):     # one page per label, the first eight
            made.append(roc_pr(y[:, t], probs[:, t], thresholds[t],
                               out / f"roc_pr_{suffix}_{t}_{_safe(name)}.png", f"{name} ({suffix})"))
        made.append(reliability(y.ravel(), probs.ravel(), out / f"reliability_{suffix}.png",
                                title=f"all labels ({suffix})"))
    elif info.task == "multiclass":
        known = y >= 0
        k = len(info.classes)
        matrix = np.zeros((k, k), dtype=int)
        np.add.at(matrix, (y[known], probs[known].argmax(1)), 1)
        made.append(multiclass_confusion(matrix, info.classes, out / f"confusion_{suffix}.png"))
    else:
        for t, name in enumerate(info.labels[:8]):
            made.append(regression_scatter(y[:, t], probs[:, t],
                                           out / f"scatter_{suffix}_{t}_{_safe(name)}.png", name))
    return made


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))[:40]
