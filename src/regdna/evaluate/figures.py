"""The figures of an evaluation: the numbers each figure shows, computed from the predictions,
drawn by `regdna.plot.curves` under RUN/figures/ (`regdna.runs.layout.figures_dir`).

`evaluation_figures` writes the set that fits the task (ROC / PR curves, confusion matrices and
the reliability diagram for binary runs; per-label curves for multi-label; the argmax confusion
matrix for multi-class; scatter plots for regression), plus `training_figures` (the loss and
metric curves of metrics.csv and the learning-rate schedule) and, when the shortcut diagnostics
ran (`regdna.evaluate.shifts`), `shortcuts_<suffix>.png` (`regdna.plot.shortcuts`).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from regdna.evaluate import metrics as M
from regdna.evaluate.calibration import expected_calibration_error, reliability_bins, top_label
from regdna.plot import curves, shortcuts as shortcut_plot
from regdna.runs import layout
from regdna.utils.paths import safe_filename


def operating_point(y, p, threshold: float, name: str) -> dict:
    """{"name", "fpr", "tpr", "precision"} of the call p >= threshold; y, p: (N,)."""
    c = M.confusion(y, p, threshold)
    return {"name": name, "tpr": M._ratio(c["tp"], c["tp"] + c["fn"]),
            "fpr": M._ratio(c["fp"], c["fp"] + c["tn"]),
            "precision": M._ratio(c["tp"], c["tp"] + c["fp"])}


def roc_pr_figure(y, p, threshold: float | None, path: Path, title: str = "") -> Path:
    """ROC and PR curves of one binary output (y, p: (N,)) with the operating points at 0.5 and
    at the validation threshold."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    y, p = M._clean(y, p)
    fpr, tpr, _ = roc_curve(y, p)
    precision, recall, _ = precision_recall_curve(y, p)
    points = [operating_point(y, p, 0.5, "0.5")]
    if threshold is not None:
        points.append(operating_point(y, p, float(threshold),
                                      f"val best-F1 {float(threshold):.3f}"))
    return curves.roc_pr((fpr, tpr), (recall, precision), M.auroc(y, p), M.pr_auc(y, p),
                         float(np.mean(y)) if len(y) else math.nan, points, path, title)


def confusion_figure(y, p, threshold: float | None, path: Path, title: str = "") -> Path:
    """Confusion matrices of one binary output at 0.5 and at the validation threshold."""
    thresholds = [0.5] + ([float(threshold)] if threshold is not None else [])
    panels = []
    for i, t in enumerate(thresholds):
        c = M.confusion(y, p, t)
        f1 = M.threshold_metrics(y, p, t)["f1"]
        kind = "naive 0.5" if i == 0 and len(thresholds) > 1 else "val best-F1"
        panels.append((np.array([[c["tn"], c["fp"]], [c["fn"], c["tp"]]]),
                       f"{kind}: t = {t:.3f}, F1 = {f1:.3f}"))
    return curves.confusion_pair(panels, path, title)


def reliability_figure(y, p, path: Path, n_bins: int = 10, title: str = "",
                       calibrated=None) -> Path:
    """Reliability diagram of probabilities p (N,) against 0/1 labels y (N,); with `calibrated`
    (N,), the temperature-scaled probabilities of the same rows, both curves in one axes."""
    after = None if calibrated is None else \
        (reliability_bins(y, calibrated, n_bins), expected_calibration_error(y, calibrated, n_bins))
    return curves.reliability(reliability_bins(y, p, n_bins),
                              expected_calibration_error(y, p, n_bins), path, title, after=after)


def scatter_figure(y, p, path: Path, label: str = "") -> Path:
    """Predicted against measured values of one regression output (y, p: (N,))."""
    y, p = M._clean(y, p)
    return curves.regression_scatter(y, p, M.pearson(y, p), M.spearman(y, p), path, label)


def training_figures(run_dir: Path) -> list[Path]:
    """RUN/figures/training_curves.png and lr_schedule.png from metrics.csv and lr_schedule.csv."""
    out = layout.figures_dir(run_dir)
    history = layout.read_history(run_dir)
    aurocs = [row.get("val_auroc", math.nan) for row in history]
    aurocs = [v if isinstance(v, float) and not math.isnan(v) else -math.inf for v in aurocs]
    best = int(np.argmax(aurocs)) if aurocs and max(aurocs) > -math.inf else None
    best_epoch = int(history[best]["epoch"]) if best is not None else None
    made = [curves.training_curves(history, out / "training_curves.png", best_epoch),
            curves.lr_schedule(*layout.read_lr_schedule(run_dir), out / "lr_schedule.png")]
    return [p for p in made if p is not None]


def shortcuts_figure(shortcuts: dict, profile: dict | None, path: Path, title: str = "") -> Path:
    """Prediction change against the shift and attribution mass by position, from the
    `shortcuts` entry of an evaluation and its mean profiles per class (arrays (L,))."""
    from regdna.evaluate.shifts import CENTRAL_FRACTION

    return shortcut_plot.shortcuts(shortcuts["shifts"], profile, shortcuts.get("attribution"),
                                   path, title, central_fraction=CENTRAL_FRACTION)


def evaluation_figures(run_dir: Path, info, y, probs, threshold, suffix: str,
                       shortcuts: dict | None = None, profile: dict | None = None,
                       calibrated=None) -> list[Path]:
    """All figures of one evaluation under RUN/figures/ (file names end in `_<suffix>.png`).

    Parameters
    ----------
    info : the DatasetInfo evaluated (task, labels, classes).
    y : (N, T) targets (NaN = missing), or (N,) class indices (multi-class, negative = missing).
    probs : (N, T) probabilities (values for regression).
    threshold : the validation threshold (float, one per label, or None).
    suffix : the evaluation's name ("test", "test_otherdata").
    shortcuts, profile : the evaluation's `shortcuts` entry and mean attribution profiles
        (`regdna.evaluate.shifts`), drawn as shortcuts_<suffix>.png when given.
    calibrated : (N, T) temperature-scaled probabilities (`regdna.evaluate.uncertainty`), or
        None; when given the reliability diagram shows both curves (multi-class: the top-label
        diagram of Guo et al. 2017, drawn only then).
    """
    out = layout.figures_dir(run_dir)
    made = training_figures(run_dir)
    if info.task == "binary":
        made.append(roc_pr_figure(y[:, 0], probs[:, 0], threshold, out / f"roc_pr_{suffix}.png",
                                  f"{info.labels[0]} ({suffix})"))
        made.append(confusion_figure(y[:, 0], probs[:, 0], threshold,
                                     out / f"confusion_{suffix}.png"))
        made.append(reliability_figure(y[:, 0], probs[:, 0], layout.reliability_figure(run_dir, suffix),
                                       title=suffix, calibrated=None if calibrated is None
                                       else calibrated[:, 0]))
    elif info.task == "multilabel":
        thresholds = threshold if isinstance(threshold, list) else [threshold] * len(info.labels)
        for t, name in enumerate(info.labels[:8]):     # one page per label, the first eight
            made.append(roc_pr_figure(y[:, t], probs[:, t], thresholds[t],
                                      out / f"roc_pr_{suffix}_{t}_{safe_filename(name, 40)}.png",
                                      f"{name} ({suffix})"))
        made.append(reliability_figure(y.ravel(), probs.ravel(), layout.reliability_figure(run_dir, suffix),
                                       title=f"all labels ({suffix})", calibrated=None
                                       if calibrated is None else calibrated.ravel()))
    elif info.task == "multiclass":
        known = y >= 0
        k = len(info.classes)
        matrix = np.zeros((k, k), dtype=int)
        np.add.at(matrix, (y[known], probs[known].argmax(1)), 1)
        made.append(curves.multiclass_confusion(matrix, info.classes,
                                                out / f"confusion_{suffix}.png"))
        if calibrated is not None:
            correct, confidence = top_label(y, probs)
            made.append(reliability_figure(correct, confidence, layout.reliability_figure(run_dir, suffix),
                                           title=f"top label ({suffix})",
                                           calibrated=top_label(y, calibrated)[1]))
    else:
        for t, name in enumerate(info.labels[:8]):
            made.append(scatter_figure(y[:, t], probs[:, t],
                                       out / f"scatter_{suffix}_{t}_{safe_filename(name, 40)}.png",
                                       name))
    if shortcuts is not None:
        made.append(shortcuts_figure(shortcuts, profile, out / f"shortcuts_{suffix}.png",
                                     f"shortcut diagnostics ({suffix}, n = {shortcuts['n']})"))
    return made
