"""`regdna tune`: hyper-parameter search with Optuna (King et al. n.d., §IV.D).

TPE sampler (multivariate) with a median pruner; each trial is a `regdna.train.train` run capped
at `max_steps` optimiser steps with a validation every `eval_every` steps (default: the source
study's 1000 and 200 on a GPU, 300 and 100 on CPU so that a trial takes about a minute there),
optionally on a subsample of train and validation. Intermediate validation scores are
reported to the pruner, which stops trials below the median of earlier trials at the same step.
The objective is the validation PR-AUC, best F1 (threshold swept on validation) or AUROC of the
trial's best checkpoint.

The study lives in SQLite (`--storage sqlite:///study.db`), so a killed study run again continues:
finished trials (complete or pruned) are kept and counted towards `--trials`; a trial stopped
by Ctrl-C / SIGTERM is recorded as failed and not counted (a re-run proposes new parameters),
while a trial left running by a hard kill (SIGKILL, a lost node) is marked failed and its
parameters are tried again first. Run one process per study at a time: a trial that another
process is still running would be taken for a killed one. The
sampler is seeded from `seed` plus the number of trials already in the study, so an extended or
resumed study never proposes a finished trial's parameters again. The study stores a resume
fingerprint (`regdna.utils.fingerprint`: dataset files, model, search space, objective, step
budget, subsamples, base config) in its user attributes; a study whose fingerprint differs is
not extended (its trials would not be comparable), the error names what changed.

`out` follows the output policy (`regdna.utils.output`): a directory marked as a tune output is
continued, an empty or new one started, anything else refused unless `overwrite` (which starts
over: the directory's contents and the named study are removed); an `out` holding an input is
always refused.

Outputs in `out` (`regdna.train.tune_outputs`): `best.yaml` (a config for `regdna train
--config best.yaml`), `best.json`, `trials.tsv`, `history.png`, `importance.png`, and
`trials/<n>/` (the best trial's run dir; every trial's with `keep_runs`). The search space and its
sampling are `regdna.train.tune_space`'s.

`run_tune` is the verb (it returns a summary of the study); `tune` runs the study and returns it.
"""
from __future__ import annotations

import logging
import math
import shutil
from pathlib import Path

import numpy as np

from regdna.errors import RegdnaError
from regdna.models.spec import parse_spec
from regdna.runs.config import load_config
from regdna.runs.layout import read_history, read_threshold_record
from regdna.train.train import fit
from regdna.train.tune_outputs import trial_dir, write_outputs
from regdna.train.tune_space import as_overrides, default_space, load_space, suggest
from regdna.utils.fingerprint import differences, file_identity, fingerprint
from regdna.utils.output import check_out_dir, empty_dir, mark_dir, read_marker

__all__ = ["CPU_BUDGET", "GPU_BUDGET", "OBJECTIVES", "default_space", "load_space", "run_tune",
           "step_budget", "suggest", "tune"]

log = logging.getLogger(__name__)

OBJECTIVES = ("pr_auc", "best_f1", "auroc")
# per-trial step cap and validation interval: the source study's on a GPU, a few times less on
# CPU, where 1000 steps of a CNN take several minutes
GPU_BUDGET = (1000, 200)
CPU_BUDGET = (300, 100)
FINGERPRINT_ATTR = "regdna_fingerprint"


def pruning_callback(trial, metric: str):
    """A Lightning callback that reports the validation score `metric` to the trial after every
    validation and stops the trial (optuna.TrialPruned) when the median pruner says so.
    (Built in a function so that lightning is imported only when tuning.)"""
    import lightning as L
    import optuna

    class OptunaPruning(L.Callback):
        def on_validation_end(self, trainer, module):
            if trainer.sanity_checking:
                return
            value = trainer.callback_metrics.get(metric)
            if value is None:
                return
            trial.report(float(value), step=int(trainer.global_step))
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at step {trainer.global_step}")

    return OptunaPruning()


def trial_objective(run_dir: Path, objective: str) -> float:
    """The objective of a finished trial: best validation PR-AUC / AUROC in metrics.csv, or
    the best F1 of threshold.json (threshold swept on validation, best checkpoint)."""
    if objective == "best_f1":
        record = read_threshold_record(run_dir) or {}
        if "f1" not in record:
            raise RegdnaError("objective best_f1 needs a binary or multi-label dataset")
        f1 = [math.nan if v is None else v for v in np.atleast_1d(record["f1"]).tolist()]
        return float(sum(f1) / len(f1))
    column = f"val_{objective}"
    values = [row[column] for row in read_history(run_dir)
              if isinstance(row.get(column), float) and not math.isnan(row[column])]
    if not values:
        raise RegdnaError(f"{run_dir} has no {column} values in its metrics.csv")
    return float(max(values))


def _fail_stale(study) -> list[dict]:
    """Mark trials left RUNNING by a killed process as failed; return their parameters."""
    from optuna.trial import TrialState

    stale = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for t in stale:
        study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
        log.warning("trial %d was left running by an interrupted study: marked failed, its "
                    "parameters are tried again", t.number)
    return [dict(t.params) for t in stale if t.params]


def step_budget(max_steps: int | None, eval_every: int | None) -> tuple[int, int]:
    """(max_steps, eval_every): the given values, else GPU_BUDGET with CUDA, CPU_BUDGET without;
    eval_every alone defaults to a fifth of max_steps."""
    import torch

    default_steps, default_every = GPU_BUDGET if torch.cuda.is_available() else CPU_BUDGET
    if max_steps is None:
        max_steps = default_steps
        eval_every = eval_every or default_every
    return max_steps, eval_every or max(1, max_steps // 5)


def check_out(out, inputs, overwrite: bool = False) -> Path:
    """The output policy for a resumable study dir: a dir marked by `regdna tune` is continued,
    an empty or new one started, anything else refused (or, with `overwrite`, started over)."""
    marker = read_marker(out) if Path(out).is_dir() else None
    ours = bool(marker) and marker.get("verb") == "tune"
    # a tune dir grows in place, so its marker lists no entries: the verb alone says it is ours
    return check_out_dir(out, "tune", inputs, overwrite=overwrite or ours)


def dataset_identity(data_dir) -> dict:
    """The identity of a dataset's own files (dataset.json, split tables); other outputs written
    beside them (figures, token reports) do not change it."""
    data_dir = Path(data_dir)
    files = sorted(p for p in data_dir.iterdir() if p.is_file() and not p.name.startswith(".")
                   and p.suffix in (".json", ".parquet"))
    return {p.name: file_identity(p) for p in files}


def study_fingerprint(data_dir, model_spec, base, space, objective, max_steps, eval_every,
                      train_subsample, val_subsample) -> dict:
    """Everything that decides a trial's objective, so that trials of one study are comparable."""
    return fingerprint(dataset=dataset_identity(data_dir), model=model_spec, space=space,
                       objective=objective, max_steps=max_steps, eval_every=eval_every,
                       train_subsample=train_subsample, val_subsample=val_subsample,
                       base_config=base.model_dump(mode="json"))


def check_fingerprint(study, current: dict, out) -> None:
    """Store `current` in a new study; refuse to extend a study whose stored fingerprint differs."""
    stored = study.user_attrs.get(FINGERPRINT_ATTR)
    if stored is None and not study.trials:
        study.set_user_attr(FINGERPRINT_ATTR, current)
        return
    changed = differences(stored, current)
    if changed:
        raise RegdnaError(f"study '{study.study_name}' in {out} was run with other settings "
                          f"({', '.join(changed)} changed); its trials would not be comparable. "
                          "Use another --out or --study-name, or pass --overwrite to start over")


def tune(data_dir, model_spec: str, out, *, trials: int = 20, storage: str | None = None,
         study_name: str | None = None, objective: str = "pr_auc", max_steps: int | None = None,
         eval_every: int | None = None, train_subsample: int | None = None,
         val_subsample: int | None = None, space: dict | None = None, config=None,
         overrides: list[str] | None = None, seed: int = 0, keep_runs: bool = False,
         overwrite: bool = False):
    """Run (or continue) an Optuna study until it holds `trials` finished trials.

    Args:
        data_dir: dataset dir.
        model_spec: model spec (e.g. tinyformer, hf:DIR).
        out: output dir (best.yaml, trials.tsv, figures, trial run dirs).
        trials: total finished (complete + pruned) trials wanted in the study.
        storage: Optuna storage URL (default sqlite:///<out>/study.db).
        study_name: study name (default: "regdna-<model>").
        objective: "pr_auc", "best_f1" or "auroc" on validation (maximised).
        max_steps, eval_every: per-trial step cap and validation interval (None: `step_budget`).
        train_subsample, val_subsample: sequences used per trial (None: all).
        space: search space (default `default_space`).
        config, overrides: base training config (file / RunConfig / dict) and dotted overrides.
        seed: sampler seed (offset by the number of trials already in the study).
        keep_runs: keep every trial's run dir (default: only the best trial's).
        overwrite: start over in an `out` that is not a tune output, or whose study differs.

    Returns:
        the optuna Study.
    """
    import optuna

    if objective not in OBJECTIVES:
        raise RegdnaError(f"objective '{objective}' is unknown; use one of {', '.join(OBJECTIVES)}")
    max_steps, eval_every = step_budget(max_steps, eval_every)
    if eval_every > max_steps:
        raise RegdnaError(f"eval_every ({eval_every}) must not exceed max_steps ({max_steps})")
    inputs = [data_dir, config if not isinstance(config, dict) else None]
    out = check_out(out, inputs, overwrite)
    base = load_config(config if not isinstance(config, dict) else None, overrides,
                       base=config if isinstance(config, dict) else None)
    if overwrite and out.is_dir():  # only once the config is known to be valid
        empty_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    mark_dir(out, "tune")
    base.model.spec = model_spec
    mode = base.model.options.get("mode")
    space = space or default_space(model_spec, mode)
    storage = storage or f"sqlite:///{(out / 'study.db').resolve()}"
    study_name = study_name or f"regdna-{model_spec.replace('/', '_')}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if overwrite:
        _delete_study(study_name, storage)
    study = optuna.create_study(
        study_name=study_name, storage=storage, load_if_exists=True, direction="maximize",
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=eval_every))
    check_fingerprint(study, study_fingerprint(data_dir, model_spec, base, space, objective,
                                               max_steps, eval_every, train_subsample,
                                               val_subsample), out)
    # a sampler seeded alike in every process would propose trial 0's parameters again
    study.sampler = optuna.samplers.TPESampler(multivariate=True, seed=seed + len(study.trials))
    for params in _fail_stale(study):
        study.enqueue_trial(params, skip_if_exists=False)
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    n_done = len(study.get_trials(deepcopy=False, states=done))
    n_new = max(0, trials - n_done)
    log.info("study %s: %d finished trials, running %d more", study_name, n_done, n_new)
    # the model's probe cache is shared between trials (same data, model, layer, pooling)
    shared = [f"model.options.cache_dir={(out / 'cache').resolve()}"] \
        if parse_spec(model_spec).family == "hf" and mode in ("probe", "mlp") else []
    monitor = "val_pr_auc" if objective in ("pr_auc", "best_f1") else "val_auroc"

    def run_trial(trial) -> float:
        params = suggest(trial, space)
        run_dir = trial_dir(out, trial.number)
        if run_dir.exists():
            shutil.rmtree(run_dir)
        trial_overrides = as_overrides(params, base.optim.betas) + shared + [
            f"train.max_steps={max_steps}", f"train.val_every_n_steps={eval_every}",
            "train.max_epochs=1000", "train.patience=0"]
        if train_subsample:
            trial_overrides.append(f"data.train_subsample={train_subsample}")
        if val_subsample:
            trial_overrides.append(f"data.val_subsample={val_subsample}")
        fit(data_dir, model_spec, run_dir, config=base, overrides=trial_overrides,
            callbacks=[pruning_callback(trial, monitor)], progress=False)
        return trial_objective(run_dir, objective)

    if n_new:
        study.optimize(run_trial, n_trials=n_new)
    write_outputs(study, out, base, keep_runs)
    return study


def _delete_study(study_name: str, storage: str) -> None:
    """--overwrite: drop the named study from its storage, if it is there."""
    import optuna

    try:
        optuna.delete_study(study_name=study_name, storage=storage)
    except KeyError:
        pass


def run_tune(data_dir, model_spec: str, out, *, overwrite: bool = False, **options) -> dict:
    """`regdna tune`: run (or continue) an Optuna study of `model_spec` on `data_dir` and
    summarise it.

    Parameters
    ----------
    data_dir : path
        Dataset dir (`regdna prepare`).
    model_spec : str
        Model spec (e.g. "tinyformer", "hf:DIR").
    out : path
        Output dir: best.yaml, trials.tsv, figures, the study database and trial run dirs.
    overwrite : bool, default False
        Start over in an `out` that is not a tune output, or whose study differs.
    **options
        As `tune`: trials (default 20), storage, study_name, objective ("pr_auc", "best_f1"
        or "auroc" on validation), max_steps, eval_every, train_subsample, val_subsample,
        space, config, overrides, seed, keep_runs.

    Returns
    -------
    dict
        study_name (str); complete, pruned, failed (int, trial counts); best_value (float) and
        best_trial (int), None while no trial completed; best_config (OUT/best.yaml or None).
    """
    study = tune(data_dir, model_spec, out, overwrite=overwrite, **options)
    states = [t.state.name for t in study.trials]
    summary = {"study_name": study.study_name, "complete": states.count("COMPLETE"),
               "pruned": states.count("PRUNED"), "failed": states.count("FAIL"),
               "best_value": None, "best_trial": None, "best_config": None}
    if summary["complete"]:
        summary.update(best_value=study.best_value, best_trial=study.best_trial.number,
                       best_config=Path(out) / "best.yaml")
    return summary
