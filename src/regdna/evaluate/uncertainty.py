"""A run's uncertainty: temperature scaling (Guo et al. 2017) fitted on validation and stored as
RUN/calibration.json, and split conformal prediction (Vovk et al. 2005; Angelopoulos & Bates
2021) calibrated on validation when the run is evaluated.

- `fit_uncertainty` / `write_calibration` (end of `regdna train`, just before threshold.json):
  the temperature(s) minimising the validation NLL of the logits, one for binary and
  multi-class runs, one per output for multi-label runs (`regdna.evaluate.calibration`), with
  ECE, Brier score and NLL on validation before and after;
- `members_report` (`regdna evaluate` of an ensemble run or with MC dropout): every member's
  (pass's) metrics beside the ensemble's, and whether the members' spread tracks the error;
- `uncertainty_report` (`regdna evaluate`): the same three scores on the evaluated split before
  and after the stored temperature, and conformal sets (classification, LAC score of Sadinle
  et al. 2019 on the temperature-scaled probabilities; a multi-label output is one binary
  output) or intervals (regression: prediction -+ qhat) at the level asked for, with their
  empirical coverage and mean set size / width on the evaluated split.

Design: calibration.json stores the temperature, not a conformal quantile. qhat depends on the
coverage chosen at evaluation time (`--coverage`) and is one quantile of the validation scores,
so evaluation predicts the validation split once more and takes it there. Storing the sorted
validation scores instead would save that one pass but make the file grow with the split (N x T
numbers for multi-label runs) and tie it to one score; and with qhat computed at evaluation, a
run trained before calibration.json existed goes through the same code (its temperature fitted
on the fly, with a note). Logits, not probabilities, are streamed: float32 probabilities
saturate at 0 and 1 and cannot be divided by a temperature again.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from regdna.evaluate import conformal as C
from regdna.evaluate.calibration import TASKS, apply_temperature, calibration_summary, \
    fit_temperature
from regdna.errors import RegdnaError
from regdna.runs import layout

METHOD = "temperature scaling (Guo et al. 2017), fitted on the validation NLL"
CONFORMAL_METHOD = "split conformal (Angelopoulos & Bates 2021), calibrated on the val split"


def stream_split(predict, data_dir, split: str, info, chunk_size: int = 8192):
    """(targets, outputs (N, T), ids) of one split: `predict` (a Predictor's `logits` or
    `predict`) over the Parquet split chunk by chunk (memory holds the N x T outputs, never the
    encoded sequences), the targets as `targets_from_frame` makes them ((N, T) with NaN =
    missing, or (N,) classes for multi-class), and the N record ids. THE loop over a split's
    predictions (`regdna.evaluate.evaluate.predict_split` is it with probabilities)."""
    from regdna.data.dataset import iter_split
    from regdna.data.torch_data import targets_from_frame

    ys, outs, ids = [], [], []
    for frame in iter_split(data_dir, split, batch_size=chunk_size,
                            columns=["id", "sequence", *info.labels]):
        ys.append(targets_from_frame(frame, info))
        outs.append(predict(frame["sequence"].tolist()))
        ids += frame["id"].astype(str).tolist()
    if not outs:
        raise RegdnaError(f"{data_dir}: split '{split}' is empty; nothing to predict (evaluation, "
                          f"temperature scaling and conformal calibration need it).")
    return np.concatenate(ys), np.concatenate(outs), ids


def split_samples(predictor, data_dir, split: str, info):
    """(targets, logits (N, T), samples (S, N, T)) of one split for an ensemble or MC-dropout
    Predictor (`Predictor.logits_with_samples`), in one pass over the split."""
    s, t = predictor.n_samples, predictor.n_outputs

    def both(seqs):
        logits, samples = predictor.logits_with_samples(seqs)
        return np.concatenate([logits[:, None, :], samples.transpose(1, 0, 2)], axis=1
                              ).reshape(len(seqs), (s + 1) * t)

    y, flat, _ = stream_split(both, data_dir, split, info)
    flat = flat.reshape(len(flat), s + 1, t)
    return y, flat[:, 0, :], flat[:, 1:, :].transpose(1, 0, 2)


def _primary(task: str, y, probs) -> dict:
    """The headline metrics of one set of predictions (`validation_scores` without `val_`)."""
    from regdna.evaluate.metrics import validation_scores

    return {key[len("val_"):]: float(value) for key, value in
            validation_scores(task, y, probs).items()}


def members_report(predictor, y, logits, samples, task: str, seeds=None) -> dict:
    """The `members` section of an ensemble / MC-dropout evaluation: each member's (pass's)
    headline metrics beside the ensemble's, and whether the spread says something: the mean
    std, the Spearman correlation between each sequence's std and its error |p - y| (binary /
    multi-label / regression), and the metrics on the more confident half (std below its
    median) vs the less confident half."""
    from regdna.evaluate.metrics import one_vs_rest, spearman
    from regdna.models.base import activate

    probs = activate(logits, task)
    std = predictor.predict_std(samples)
    member_probs = [activate(z, task) for z in samples]
    kind = "member" if predictor.is_ensemble and not predictor.mc_dropout else         ("pass" if not predictor.is_ensemble else "member x pass")
    metrics = [{kind: i, **_primary(task, y, p)} for i, p in enumerate(member_probs)]
    if seeds is not None and kind == "member":
        for record, seed in zip(metrics, seeds):
            record["seed"] = int(seed)
    spread = std.mean(axis=1)
    confident = spread <= np.median(spread)
    out = {"kind": kind, "n": int(len(samples)), "metrics": metrics,
           "ensemble": _primary(task, y, probs),
           "std": {"mean": float(spread.mean()), "median": float(np.median(spread))},
           "confident_half": _primary(task, y[confident], probs[confident]),
           "uncertain_half": _primary(task, y[~confident], probs[~confident])}
    if task != "multiclass":
        error = np.nanmean(np.abs(probs - y), axis=1)
        out["std"]["spearman_with_error"] = float(spearman(error, spread))
    else:
        onehot = one_vs_rest(np.asarray(y), probs)
        out["std"]["spearman_with_error"] = float(spearman(np.nanmean(np.abs(probs - onehot), 1),
                                                           spread))
    return out


def split_logits(predictor, data_dir, split: str, info) -> tuple[np.ndarray, np.ndarray]:
    """(targets, logits (N, T) float64) of one split (logits: float32 probabilities saturate at
    0 and 1 and cannot be divided by a temperature again)."""
    y, logits, _ = stream_split(predictor.logits, data_dir, split, info)
    return y, logits.astype(np.float64)


def fit_uncertainty(predictor, data_dir, info, val=None) -> dict:
    """The calibration.json record of a binary / multi-label / multi-class run: its validation
    logits (`predictor` over `data_dir`'s val split, or `val` = (targets, logits) already
    predicted) -> {"task", "split": "val", "n", "method", "temperature" (float, or one per
    output for multi-label), "before" / "after" {"ece", "brier", "nll"} on validation}."""
    y, logits = val if val is not None else split_logits(predictor, data_dir, "val", info)
    temperature = fit_temperature(logits, y, info.task)
    return {"task": info.task, "split": "val", "n": int(len(logits)), "method": METHOD,
            "temperature": temperature,
            "before": calibration_summary(y, apply_temperature(logits, 1.0, info.task), info.task),
            "after": calibration_summary(y, apply_temperature(logits, temperature, info.task),
                                         info.task)}


def write_calibration(run_dir, data_dir, info, predictor=None, val=None) -> dict | None:
    """Fit and write RUN/calibration.json with the run's best checkpoint (`predictor`, loaded
    when None; `val`: its validation (targets, logits) when already predicted) for binary,
    multi-label and multi-class runs; None, nothing written, for the other tasks."""
    if info.task not in TASKS:
        return None
    from regdna.runs import load_predictor

    predictor = predictor or load_predictor(run_dir, threshold=None)
    record = fit_uncertainty(predictor, data_dir, info, val)
    layout.write_calibration(run_dir, record)
    return record


def _sets_summary(p_val, y_val, p_test, y_test, alpha: float) -> dict:
    """LAC sets of one binary or multi-class output: qhat on validation, coverage and mean set
    size on the evaluated split."""
    qhat = C.calibrate_sets(p_val, y_val, alpha)
    sets = C.prediction_sets(p_test, qhat)
    return {"qhat": qhat, "empirical_coverage": C.empirical_coverage(y_test, sets),
            "mean_set_size": C.mean_set_size(sets)}


def conformal_report(y_val, out_val, y_test, out_test, task: str, labels, coverage: float) -> dict:
    """Split conformal at level `coverage` from validation (targets, probabilities or values)
    to the evaluated split: classification sets (binary, multi-class; multi-label per output,
    macro means) or regression intervals (one qhat per output, coverage pooled)."""
    alpha = 1.0 - coverage
    out = {"coverage": coverage, "method": CONFORMAL_METHOD, "n_calibration": int(len(out_val))}
    if task == "multiclass":
        out.update(_sets_summary(out_val, y_val, out_test, y_test, alpha), score="lac")
    elif task in ("binary", "multilabel"):
        per = {name: _sets_summary(out_val[:, j], y_val[:, j], out_test[:, j], y_test[:, j],
                                   alpha) for j, name in enumerate(labels)}
        out["score"] = "lac"
        for key in ("empirical_coverage", "mean_set_size"):
            out[key] = float(np.nanmean([v[key] for v in per.values()]))
        if task == "binary":
            out["qhat"] = per[labels[0]]["qhat"]
        else:
            out["per_label"] = per
    else:
        qhat = np.atleast_1d(C.calibrate_intervals(y_val, out_val, alpha))
        lower, upper = C.intervals(out_test, qhat)
        out.update(score="absolute residual", qhat=[float(q) for q in qhat],
                   empirical_coverage=C.empirical_coverage(y_test, (lower, upper)),
                   mean_width=C.mean_width(lower, upper))
    return out


def check_coverage(coverage: float) -> None:
    """A conformal level must lie in (0, 1) (checked before anything is predicted)."""
    if not 0.0 < coverage < 1.0:
        raise RegdnaError(f"--coverage {coverage} is not in (0, 1); ask for a level such as 0.9.")


def uncertainty_report(predictor, run_dir, data_dir, info, split: str, y, values,
                       coverage: float = 0.9, logits=None) -> tuple[dict, np.ndarray | None]:
    """The `calibration` and `conformal` sections of an evaluation, and the temperature-scaled
    probabilities of the evaluated split (None for regression) for the reliability figure.

    Parameters
    ----------
    predictor : the run's Predictor.
    run_dir : the run dir (its calibration.json, when written at training).
    data_dir, info : the evaluated dataset; its val split calibrates the conformal sets.
    split : the evaluated split.
    y, values : the split's targets and regression values as `predict_split` returns them.
    logits : the split's logits (classification runs), when the caller has them; else they are
        predicted again (probabilities cannot be rescaled).
    coverage : the conformal level 1 - alpha, in (0, 1).

    Returns
    -------
    ({"calibration": {"temperature", "source", "before", "after", "notes"}, "conformal": {...}}
    for classification runs, {"conformal": {...}} for regression, and the calibrated
    probabilities (N, T) or None.
    """
    check_coverage(coverage)
    notes = []
    if split == "val":
        notes.append("the evaluated split is the calibration split (val): coverage holds by "
                     "construction and the after-scaling scores are in-sample.")
    if info.task not in TASKS:
        y_val, values_val, _ = stream_split(predictor.predict, data_dir, "val", info)
        values_val = values_val.astype(np.float64)
        conformal = conformal_report(y_val, values_val, y, values, info.task, info.labels,
                                     coverage)
        return {"conformal": dict(conformal, notes=notes)}, None
    y_val, logits_val = split_logits(predictor, data_dir, "val", info)
    record = layout.read_calibration(run_dir)
    if record is None:
        temperature = fit_temperature(logits_val, y_val, info.task)
        source = "fitted now on the val split"
        notes.append(f"{Path(run_dir) / layout.CALIBRATION} is absent (a run trained before it "
                     f"was written): the temperature was fitted now on the val split.")
    else:
        temperature, source = record["temperature"], layout.CALIBRATION
    if logits is None:
        y_eval, logits = split_logits(predictor, data_dir, split, info)
    else:
        y_eval, logits = y, np.asarray(logits, dtype=np.float64)
    calibrated = apply_temperature(logits, temperature, info.task)
    calibration = {"temperature": temperature, "source": source, "method": METHOD,
                   "before": calibration_summary(y_eval, apply_temperature(logits, 1.0, info.task),
                                                 info.task),
                   "after": calibration_summary(y_eval, calibrated, info.task), "notes": notes}
    conformal = conformal_report(y_val, apply_temperature(logits_val, temperature, info.task),
                                 y_eval, calibrated, info.task, info.labels, coverage)
    return {"calibration": calibration, "conformal": dict(conformal, notes=notes)}, calibrated
