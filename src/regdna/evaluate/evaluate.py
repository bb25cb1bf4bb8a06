"""`regdna evaluate`: metrics of a run on one split, with intervals, and the evaluation figures.

Predictions are made chunk by chunk from the Parquet split (memory holds the N x T probabilities,
never the encoded sequences). The decision threshold is the one chosen on validation at training
time (`threshold.json`); it is never re-tuned on the evaluated split (King et al. n.d.). Writes
`RUN/metrics_<split>.json` (`metrics_<split>_<dataset name>.json` for another dataset, e.g. a
cross-cell-type transfer) and figures under `RUN/figures/`.

Keys of the JSON:
- all: `task`, `split`, `data`, `n`;
- binary: `auroc`, `pr_auc`, `auroc_ci95`, `pr_auc_ci95` (bootstrap), `threshold`, `f1`,
  `precision`, `recall`, `specificity`, `accuracy` at the threshold, the same with `_at_0_5`,
  `ece`, `confusion` / `confusion_at_0_5` (tp, fp, tn, fn), `n_pos`;
- multilabel: `per_label` {label: the binary keys}, `macro_auroc`, `micro_auroc`, `macro_pr_auc`,
  `micro_pr_auc`, and `auroc` / `pr_auc` (= macro) with bootstrap intervals;
- multiclass: `accuracy`, `per_class` AUROC / PR-AUC (one vs rest), macro and micro means,
  `auroc` / `pr_auc` (= macro) with intervals, `confusion_matrix`;
- regression: `pearson`, `spearman`, `mse`, `r2` (macro over labels) with `pearson_ci95`, and
  `per_label`;
- binary and multilabel runs of one-hot models (or `shifts=True`): `shortcuts`, the shortcut
  diagnostics of `regdna.evaluate.shifts` on a fixed subsample (`n`, `shifts` table, `attribution`
  summary with `follows` / `stays`, `warnings`, `notes`); the shifts table is also written as
  `RUN/shifts_<split>.tsv` and drawn in `RUN/figures/shortcuts_<split>.png`;
- profile runs (coverage datasets, `regdna.evaluate.profile.profile_report`): `bin_size`,
  `tracks`, `per_track` {track: pearson, spearman, mse (per window, over bins), pearson_whole,
  mse_whole, mse_whole_scaled, scale (whole chromosomes), auroc, pr_auc (summed coverage vs the
  peak column)}, their means over tracks, `whole` and `bigwigs` (RUN/predictions_<split>/), and
  the track figure `RUN/figures/tracks_<split>.png`;
- a binary or multilabel run on a coverage dataset (`regdna.evaluate.profile.conversion_report`):
  `conversion` {per_track: {track: pearson, spearman, pearson_whole of the logit vs the total
  coverage}}, with the usual metrics against the peak columns when each output has one;
- binary, multilabel and multiclass runs on label datasets (`regdna.evaluate.uncertainty`):
  `calibration` {temperature (from RUN/calibration.json, or fitted on val when the run has none),
  source, before / after {ece, brier, nll} on the split}; all of them and regression runs:
  `conformal` {coverage (the level asked for), empirical_coverage, qhat, mean_set_size
  (classification) or mean_width (regression), n_calibration}, split conformal calibrated on val;
- ensemble runs and `mc_dropout=T` (`regdna.evaluate.uncertainty.members_report`): `members`
  {kind, n, metrics (per member or pass), ensemble, std {mean, median, spearman_with_error},
  confident_half, uncertain_half}.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from regdna.data.dataset import load_info
from regdna.errors import RegdnaError
from regdna.evaluate import metrics as M
from regdna.evaluate.bootstrap import bootstrap_ci
from regdna.evaluate.calibration import expected_calibration_error
from regdna.runs import layout
from regdna.runs.config import dataset_dir_of_run, dataset_info_of_run, read_run_config


def predict_split(predictor, data_dir, split: str, info, chunk_size: int = 8192):
    """Stream a split through a Predictor (`regdna.evaluate.uncertainty.stream_split`).

    Returns:
        y: (N, T) float targets with NaN for missing, or (N,) int64 classes (multiclass);
        probs: (N, T) probabilities (values for regression);
        ids: list of N record ids.
    """
    from regdna.evaluate.uncertainty import stream_split

    return stream_split(predictor.predict, data_dir, split, info, chunk_size)


def check_compatible(run_info, data_info, data_dir) -> None:
    """The evaluated dataset must have the run's task and labels (order included); a binary or
    multilabel run may also be evaluated on a coverage dataset (task conversion)."""
    if run_info.task in ("binary", "multilabel") and data_info.task == "profile":
        return
    if run_info.task != data_info.task:
        raise RegdnaError(f"{data_dir} has task '{data_info.task}' but the run was trained for "
                          f"'{run_info.task}'; evaluate on a dataset of the same task.")
    if list(run_info.labels) != list(data_info.labels) or \
            (run_info.classes or []) != (data_info.classes or []):
        raise RegdnaError(f"{data_dir} has labels {data_info.labels} (classes {data_info.classes}) "
                          f"but the run predicts {run_info.labels} (classes {run_info.classes}); "
                          f"prepare the dataset with the same label columns.")


def _ci(metric, y, p, n_boot, seed):
    return list(bootstrap_ci(metric, y, p, n_boot=n_boot, seed=seed))


def binary_report(y, p, threshold: float, n_boot: int = 1000, seed: int = 0) -> dict:
    """All binary metrics of one output: y (N,) 0/1 (NaN = missing), p (N,) probabilities."""
    y, p = M._clean(y, p)
    out = {"n": int(len(y)), "n_pos": int((y == 1).sum()),
           "auroc": M.auroc(y, p), "pr_auc": M.pr_auc(y, p),
           "auroc_ci95": _ci(M.auroc, y, p, n_boot, seed),
           "pr_auc_ci95": _ci(M.pr_auc, y, p, n_boot, seed), "threshold": float(threshold)}
    out.update(M.threshold_metrics(y, p, threshold))
    out.update({f"{k}_at_0_5": v for k, v in M.threshold_metrics(y, p, 0.5).items()})
    out["ece"] = expected_calibration_error(y, p)
    out["confusion"] = M.confusion(y, p, threshold)
    out["confusion_at_0_5"] = M.confusion(y, p, 0.5)
    return out


def _macro(metric):
    def macro(y, p):
        return M.macro_micro(y, p, metric)[1]
    return macro


def _rows_ci(metric, y, p, n_boot: int, seed: int) -> list[float]:
    """Bootstrap over rows of (N, T) arrays for a metric of whole matrices (macro means)."""
    rng = np.random.default_rng(seed)
    values = np.array([metric(y[take], p[take]) for take in
                       (rng.integers(0, len(y), len(y)) for _ in range(n_boot))])
    values = values[~np.isnan(values)]
    if not len(values):
        return [float("nan"), float("nan")]
    return [float(v) for v in np.percentile(values, [2.5, 97.5])]


def multilabel_report(y, p, labels, thresholds, n_boot: int = 200, seed: int = 0) -> dict:
    thresholds = thresholds if isinstance(thresholds, list) else [thresholds or 0.5] * len(labels)
    per = {name: binary_report(y[:, t], p[:, t], thresholds[t], n_boot=n_boot, seed=seed)
           for t, name in enumerate(labels)}
    _, macro_auc, micro_auc = M.macro_micro(y, p, M.auroc)
    _, macro_pr, micro_pr = M.macro_micro(y, p, M.pr_auc)
    return {"n": int(len(y)), "per_label": per, "macro_auroc": macro_auc, "micro_auroc": micro_auc,
            "macro_pr_auc": macro_pr, "micro_pr_auc": micro_pr,
            "auroc": macro_auc, "pr_auc": macro_pr,
            "auroc_ci95": _rows_ci(_macro(M.auroc), y, p, n_boot, seed),
            "pr_auc_ci95": _rows_ci(_macro(M.pr_auc), y, p, n_boot, seed)}


def multiclass_report(classes_true, p, class_names, n_boot: int = 200, seed: int = 0) -> dict:
    known = classes_true >= 0
    classes_true, p = classes_true[known], p[known]
    onehot = M.one_vs_rest(classes_true, p)
    per_auc, macro_auc, micro_auc = M.macro_micro(onehot, p, M.auroc)
    per_pr, macro_pr, micro_pr = M.macro_micro(onehot, p, M.pr_auc)
    called = p.argmax(axis=1)
    k = len(class_names)
    matrix = np.zeros((k, k), dtype=int)
    np.add.at(matrix, (classes_true, called), 1)
    return {"n": int(len(p)), "accuracy": float((called == classes_true).mean()),
            "per_class": {name: {"auroc": per_auc[i], "pr_auc": per_pr[i]}
                          for i, name in enumerate(class_names)},
            "macro_auroc": macro_auc, "micro_auroc": micro_auc, "macro_pr_auc": macro_pr,
            "micro_pr_auc": micro_pr, "auroc": macro_auc, "pr_auc": macro_pr,
            "auroc_ci95": _rows_ci(_macro(M.auroc), onehot, p, n_boot, seed),
            "pr_auc_ci95": _rows_ci(_macro(M.pr_auc), onehot, p, n_boot, seed),
            "confusion_matrix": matrix.tolist(), "classes": list(class_names)}


def regression_report(y, p, labels, n_boot: int = 1000, seed: int = 0) -> dict:
    per = {name: {"n": int((~np.isnan(y[:, t])).sum()), "pearson": M.pearson(y[:, t], p[:, t]),
                  "spearman": M.spearman(y[:, t], p[:, t]), "mse": M.mse(y[:, t], p[:, t]),
                  "r2": M.r2(y[:, t], p[:, t])} for t, name in enumerate(labels)}
    out = {"n": int(len(y)), "per_label": per}
    for key in ("pearson", "spearman", "mse", "r2"):
        values = [v[key] for v in per.values() if not np.isnan(v[key])]
        out[key] = float(np.mean(values)) if values else float("nan")
    out["pearson_ci95"] = _ci(M.pearson, y[:, 0], p[:, 0], n_boot, seed) if len(labels) == 1 else \
        _rows_ci(_macro(M.pearson), y, p, min(n_boot, 200), seed)
    return out


def shortcut_diagnostics(predictor, data_dir, split: str, y, threshold, sizes=None,
                         n: int = 500, seed: int = 0) -> dict:
    """`regdna.evaluate.shifts.shortcut_report` on a fixed random subsample of n rows of a split
    (y: the split's (N, T) targets, in `predict_split` order; sizes: default `SHIFT_SIZES`); its
    `attribution` keeps the mean profiles (arrays) under `profile`."""
    from regdna.evaluate.shifts import SHIFT_SIZES, sample_split, shortcut_report

    rows, seqs = sample_split(data_dir, split, len(y), n=n, seed=seed)
    return shortcut_report(predictor, seqs, y[rows], threshold,
                           sizes=SHIFT_SIZES if sizes is None else sizes)


def _wants_shortcuts(shifts: bool | None, task: str, input_kind: str) -> bool:
    if shifts is None:
        return task in ("binary", "multilabel") and input_kind == "onehot"
    if shifts and task not in ("binary", "multilabel"):
        raise RegdnaError(f"shift diagnostics (--shifts) are for binary and multilabel runs; this "
                          f"run is {task}: evaluate it with --no-shifts.")
    return bool(shifts)


def run_evaluate(run_dir, split: str = "test", data_dir=None, n_boot: int = 1000,
                 figures: bool = True, device=None, shifts: bool | None = None,
                 shift_sizes=None, n_shift: int = 500, whole: bool | None = None,
                 regions=None, coverage: float = 0.9, mc_dropout: int = 0) -> dict:
    """`regdna evaluate`: evaluate a run on a split of its dataset (or of `data_dir`, same
    task and labels); the run dir is updated in place.

    Parameters
    ----------
    run_dir : path
        A complete run dir written by `regdna train` (with threshold.json).
    split : str, default "test"
        train, val or test.
    data_dir : path, optional
        Another dataset dir (default: the one the run was trained on).
    n_boot : int, default 1000
        Bootstrap resamples for the 95% intervals (at most 200 for multilabel / multiclass).
    figures : bool, default True
        Write the figures (ROC, PR, calibration...) under RUN/figures/.
    device : str or torch.device, optional
        Torch device (default: CUDA when present, else CPU).
    shifts : bool, optional
        Shortcut diagnostics (`regdna.evaluate.shifts`: shift sensitivity, attribution mass
        by position); default: on for binary and multilabel runs of one-hot models; True also
        runs the shift part for token models.
    shift_sizes : sequence of int, optional
        Shifts in bp, each applied as -s and +s (default 1, 2, 5, 10, 20).
    n_shift : int, default 500
        Sequences of the fixed random subsample (seed 0) the diagnostics use.
    whole : bool, optional
        Coverage datasets: whole-chromosome evaluation over the split's tiled chromosomes
        (`regdna.evaluate.profile`); default: when the genome and bigWigs recorded in
        dataset.json exist (a warning when they moved); True requires them.
    regions : sequence of str, optional
        Profile runs: "chrom:start-end" regions whose windows the track figure shows (default:
        the 3 windows with the highest measured coverage).
    coverage : float, default 0.9
        Level of the split conformal sets (classification) or intervals (regression),
        calibrated on the val split; label datasets only.
    mc_dropout : int, default 0
        T > 0: evaluate the mean of T Monte Carlo dropout passes (Gal & Ghahramani 2016) and
        report the passes in `members` (label datasets).

    Returns
    -------
    dict
        The metrics written to RUN/metrics_<split>.json: task, split, data, model,
        threshold_source, n, and per task: binary auroc, pr_auc (floats in [0, 1]) with
        auroc_ci95 / pr_auc_ci95 ([lo, hi]), f1 at the validation threshold, ece...;
        multilabel / multiclass per_label / per_class and macro / micro values; regression
        pearson, spearman, mse, r2; `shortcuts` when the diagnostics ran (its `warnings`:
        one-line strings); `calibration` (classification) and `conformal` (see the module doc);
        profile runs and runs on coverage datasets: see the module doc, with
        `warnings` (one-line strings, e.g. whole-chromosome evaluation skipped).
    """
    from regdna.io.tables import write_tsv
    from regdna.runs import load_predictor
    from regdna.evaluate.shifts import TABLE_COLUMNS
    from regdna.evaluate.uncertainty import (check_coverage, members_report, split_samples,
                                             stream_split, uncertainty_report)
    from regdna.models.base import activate

    check_coverage(coverage)
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    run_info = dataset_info_of_run(config)
    data_dir = dataset_dir_of_run(config, data_dir)
    info = load_info(data_dir)
    check_compatible(run_info, info, data_dir)
    threshold = layout.read_threshold(run_dir)   # checked before the split is predicted
    if run_info.task in ("binary", "multilabel") and threshold is None:
        raise RegdnaError(f"{run_dir} has no threshold.json (written at the end of training); "
                          f"finish the run with `regdna train --resume --out {run_dir} ...`.")
    predictor = load_predictor(run_dir, device=device, mc_dropout=mc_dropout)
    name = layout.split_metrics_name(split, data_dir, config.dataset.path)
    suffix = layout.split_suffix(split, data_dir, config.dataset.path)
    if info.task == "profile":
        return _evaluate_coverage(run_dir, config, run_info, predictor, data_dir, info, split,
                                  name, suffix, threshold, n_boot=n_boot, figures=figures,
                                  shifts=shifts, whole=whole, regions=regions)
    with_shortcuts = _wants_shortcuts(shifts, info.task, predictor.input_kind)
    # logits once: the probabilities are their activation, and temperature scaling rescales them
    samples = None
    if predictor.n_samples > 1:
        y, logits, samples = split_samples(predictor, data_dir, split, info)
    else:
        y, logits, _ = stream_split(predictor.logits, data_dir, split, info)
    probs = activate(logits, predictor.task)
    if info.task == "binary":
        report = binary_report(y[:, 0], probs[:, 0], threshold, n_boot=n_boot)
    elif info.task == "multilabel":
        report = multilabel_report(y, probs, info.labels, threshold, n_boot=min(n_boot, 200))
    elif info.task == "multiclass":
        report = multiclass_report(y, probs, info.classes, n_boot=min(n_boot, 200))
    else:
        report = regression_report(y, probs, info.labels, n_boot=n_boot)
    report = {"task": info.task, "split": split, "data": str(data_dir.resolve()),
              "model": config.model.spec, "threshold_source": "val", **report}
    sections, calibrated = uncertainty_report(predictor, run_dir, data_dir, info, split, y, probs,
                                              coverage, logits=logits)
    report.update(sections)
    if samples is not None:
        report["members"] = members_report(predictor, y, logits, samples, info.task,
                                           seeds=config.model.ensemble)
    profile = None
    if with_shortcuts:
        report["shortcuts"] = shortcut_diagnostics(predictor, data_dir, split, y, threshold,
                                                   sizes=shift_sizes, n=n_shift)
        profile = report["shortcuts"]["attribution"].pop("profile", None)
        write_tsv(layout.shifts_table(run_dir, suffix), TABLE_COLUMNS,
                  ([row[c] for c in TABLE_COLUMNS] for row in report["shortcuts"]["shifts"]))
    layout.write_split_metrics(run_dir, name, report)
    if figures:
        from regdna.evaluate.figures import evaluation_figures   # matplotlib

        evaluation_figures(run_dir, info, y, probs, threshold, suffix,
                           shortcuts=report.get("shortcuts"), profile=profile,
                           calibrated=calibrated)
    return report


def _evaluate_coverage(run_dir, config, run_info, predictor, data_dir, info, split: str,
                       name: str, suffix: str, threshold, n_boot: int, figures: bool,
                       shifts: bool | None, whole: bool | None, regions) -> dict:
    """`run_evaluate` on a coverage dataset: a profile run (`profile_report`), or a binary /
    multilabel run (`conversion_report`, with its usual metrics against the peak columns)."""
    from regdna.evaluate import profile as P

    head = {"task": run_info.task, "split": split, "data": str(Path(data_dir).resolve()),
            "model": config.model.spec}
    if shifts:
        raise RegdnaError("shift diagnostics (--shifts) need a label dataset; on a coverage "
                          "dataset use `regdna robustness` (shifted sub-windows).")
    if run_info.task == "profile":
        report = {**head, **P.profile_report(predictor, data_dir, info, split, run_dir, suffix,
                                             whole=whole, regions=regions, figures=figures)}
        layout.write_split_metrics(run_dir, name, report)
        if figures:
            from regdna.evaluate.figures import training_figures   # matplotlib

            training_figures(run_dir)
        return report
    if regions:
        raise RegdnaError("--region chooses the windows of a profile run's track figure; this "
                          f"run is {run_info.task}.")
    part = P.conversion_report(predictor, data_dir, info, split, whole=whole)
    y, probs = part["y"], part["probs"]
    report = dict(head, threshold_source="val", n=int(len(probs)))
    if y is not None and run_info.task == "binary":
        report.update(binary_report(y[:, 0], probs[:, 0], threshold, n_boot=n_boot))
    elif y is not None:
        report.update(multilabel_report(y, probs, run_info.labels, threshold,
                                        n_boot=min(n_boot, 200)))
    else:
        part["warnings"].append(f"no usual {run_info.task} metrics: no output of the run has "
                                f"one peak column of {data_dir} to compare with.")
    report.update(conversion=part["conversion"], warnings=part["warnings"])
    layout.write_split_metrics(run_dir, name, report)
    if figures:
        from regdna.evaluate.figures import evaluation_figures, training_figures   # matplotlib

        if y is not None:
            evaluation_figures(run_dir, run_info, y, probs, threshold, suffix)
        else:
            training_figures(run_dir)
    return report
