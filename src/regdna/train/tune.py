"""`regdna tune`: hyper-parameter search with Optuna (King et al. n.d., §IV.D).

TPE sampler (multivariate) with a median pruner; each trial is a `regdna.train.fit` run capped
at `max_steps` optimiser steps with a validation every `eval_every` steps (default: the source
study's 1000 and 200 on a GPU, 300 and 100 on CPU so that a trial takes about a minute there),
optionally on a subsample of train and validation. Intermediate validation scores are
reported to the pruner, which stops trials below the median of earlier trials at the same step.
The objective is the validation PR-AUC, best F1 (threshold swept on validation) or AUROC of the
trial's best checkpoint.

The study lives in SQLite (`--storage sqlite:///study.db`), so a killed study run again continues:
finished trials (complete or pruned) are kept and counted towards `--trials`; a trial left
running by a killed process is marked failed and its parameters are tried again first. The
sampler is seeded from `seed` plus the number of trials already in the study, so an extended or
resumed study never proposes a finished trial's parameters again. The study stores a resume
fingerprint (`regdna.utils.fingerprint`: dataset files, model, search space, objective, step
budget, subsamples, base config) in its user attributes; a study whose fingerprint differs is
not extended (its trials would not be comparable), the error names what changed.

`out` follows the output policy (`regdna.utils.output`): a directory marked as a tune output is
continued, an empty or new one started, anything else refused unless `overwrite` (which starts
over: the directory's contents and the named study are removed); an `out` holding an input is
always refused.

Outputs in `out`: `best.yaml` (a config for `regdna train --config best.yaml`), `trials.tsv`,
`history.png` (objective per trial and best so far) and `importance.png` (fANOVA parameter
importance, once completed trials differ in their objective), and `trials/<n>/` (the best
trial's run dir; every trial's with `keep_runs`).

Search space: a YAML mapping from a config key to a distribution, e.g.

    optim.lr: {type: float, low: 5.0e-6, high: 5.0e-4, log: true}
    scheduler.name: {type: categorical, choices: [cosine, constant]}
    optim.beta2: {type: float, low: 0.98, high: 0.9995}      # sets optim.betas[1]

`default_space(spec, mode)` is the space of King et al. n.d. (learning rate, weight decay, warm-up
ratio, scheduler, batch size with gradient accumulation, dropouts, label smoothing, gradient
clipping, Adam eps and beta2).
"""
from __future__ import annotations

import json
import logging
import math
import shutil
from pathlib import Path

import yaml

from regdna.errors import RegdnaError
from regdna.models.registry import CNN_SPECS
from regdna.plot.style import pyplot, save
from regdna.utils.fingerprint import differences, file_identity, fingerprint
from regdna.utils.output import check_out_dir, empty_dir, mark_dir, read_marker

log = logging.getLogger(__name__)

OBJECTIVES = ("pr_auc", "best_f1", "auroc")
# per-trial step cap and validation interval: the source study's on a GPU, a few times less on
# CPU, where 1000 steps of a CNN take several minutes
GPU_BUDGET = (1000, 200)
CPU_BUDGET = (300, 100)
FINGERPRINT_ATTR = "regdna_fingerprint"


def default_space(spec: str, mode: str | None = None) -> dict:
    """The search space of King et al. n.d., with the dropout options the model has."""
    space = {
        "optim.lr": {"type": "float", "low": 5e-6, "high": 5e-4, "log": True},
        "optim.weight_decay": {"type": "float", "low": 1e-6, "high": 5e-2, "log": True},
        "scheduler.warmup_ratio": {"type": "float", "low": 0.04, "high": 0.12},
        "scheduler.name": {"type": "categorical", "choices": ["cosine", "constant"]},
        "data.batch_size": {"type": "categorical", "choices": [16, 32, 64]},
        "optim.accumulate": {"type": "categorical", "choices": [1, 2]},
        "train.label_smoothing": {"type": "float", "low": 0.0, "high": 0.1},
        "optim.grad_clip": {"type": "float", "low": 0.5, "high": 2.0},
        "optim.eps": {"type": "float", "low": 1e-9, "high": 1e-7, "log": True},
        "optim.beta2": {"type": "float", "low": 0.98, "high": 0.9995},
    }
    if spec == "tinyformer":
        space["model.options.dropout"] = {"type": "float", "low": 0.0, "high": 0.3}
        space["optim.lr"] = {"type": "float", "low": 1e-4, "high": 5e-3, "log": True}
    elif spec.startswith("hf:") and mode in ("finetune", "lora"):
        for key in ("hidden_dropout", "attention_dropout", "classifier_dropout"):
            space[f"model.options.{key}"] = {"type": "float", "low": 0.0, "high": 0.15}
    elif spec.startswith("hf:"):
        space["optim.lr"] = {"type": "float", "low": 1e-5, "high": 1e-3, "log": True}
    elif spec in CNN_SPECS or spec == "kmer-lr":
        # trained from scratch, CNNs need larger steps than a pretrained transformer's 5e-4
        # ceiling: below ~1e-4 basset stays at chance within a CPU trial's budget
        space["optim.lr"] = {"type": "float", "low": 1e-4, "high": 1e-2, "log": True}
    return space


def load_space(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise RegdnaError(f"search space file {path} does not exist")
    space = yaml.safe_load(path.read_text()) or {}
    if not isinstance(space, dict):
        raise RegdnaError(f"{path} must map config keys to distributions "
                          "(e.g. optim.lr: {type: float, low: 1e-5, high: 1e-3, log: true})")
    return space


def suggest(trial, space: dict) -> dict:
    """Sample one value per key of `space` -> {config key: value}."""
    params = {}
    for key, dist in space.items():
        kind = dist.get("type") if isinstance(dist, dict) else None
        if kind == "float":
            params[key] = trial.suggest_float(key, float(dist["low"]), float(dist["high"]),
                                              log=bool(dist.get("log", False)))
        elif kind == "int":
            params[key] = trial.suggest_int(key, int(dist["low"]), int(dist["high"]),
                                            log=bool(dist.get("log", False)))
        elif kind == "categorical":
            params[key] = trial.suggest_categorical(key, list(dist["choices"]))
        else:
            raise RegdnaError(f"search space entry '{key}': type must be float, int or "
                              f"categorical (got {dist!r})")
    return params


def as_overrides(params: dict, base_betas=(0.9, 0.999)) -> list[str]:
    """{config key: value} -> dotted overrides; `optim.beta2` sets the second AdamW beta."""
    out = []
    for key, value in params.items():
        if key == "optim.beta2":
            out.append(f"optim.betas=[{base_betas[0]}, {value}]")
        else:
            out.append(f"{key}={json.dumps(value) if isinstance(value, str) else value}")
    return out


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
    import pandas as pd

    if objective == "best_f1":
        record = json.loads((run_dir / "threshold.json").read_text())
        f1 = record.get("f1")
        if f1 is None:
            raise RegdnaError("objective best_f1 needs a binary or multi-label dataset")
        return float(f1 if not isinstance(f1, list) else sum(f1) / len(f1))
    table = pd.read_csv(run_dir / "metrics.csv")
    column = f"val_{objective}"
    values = table[column].dropna()
    if values.empty:
        raise RegdnaError(f"{run_dir / 'metrics.csv'} has no {column} values")
    return float(values.max())


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

    from regdna.runs.config import load_config

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
        if model_spec.startswith("hf:") and mode in ("probe", "mlp") else []
    monitor = "val_pr_auc" if objective in ("pr_auc", "best_f1") else "val_auroc"

    def run_trial(trial) -> float:
        params = suggest(trial, space)
        run_dir = out / "trials" / f"{trial.number:04d}"
        if run_dir.exists():
            shutil.rmtree(run_dir)
        trial_overrides = as_overrides(params, base.optim.betas) + shared + [
            f"train.max_steps={max_steps}", f"train.val_every_n_steps={eval_every}",
            "train.max_epochs=1000", "train.patience=0"]
        if train_subsample:
            trial_overrides.append(f"data.train_subsample={train_subsample}")
        if val_subsample:
            trial_overrides.append(f"data.val_subsample={val_subsample}")
        from regdna.train.fit import fit

        fit(data_dir, model_spec, run_dir, config=base, overrides=trial_overrides,
            callbacks=[pruning_callback(trial, monitor)], progress=False)
        return trial_objective(run_dir, objective)

    if n_new:
        study.optimize(run_trial, n_trials=n_new)
    write_outputs(study, out, base, space, keep_runs)
    return study


def _delete_study(study_name: str, storage: str) -> None:
    """--overwrite: drop the named study from its storage, if it is there."""
    import optuna

    try:
        optuna.delete_study(study_name=study_name, storage=storage)
    except KeyError:
        pass


def write_outputs(study, out: Path, base, space: dict, keep_runs: bool) -> None:
    """best.yaml, trials.tsv, history.png and importance.png."""
    import optuna

    from regdna.runs.config import load_config, save_config
    from regdna.utils.atomic import atomic_file

    frame = study.trials_dataframe(attrs=("number", "value", "state", "params"))
    with atomic_file(out / "trials.tsv") as handle:
        frame.to_csv(handle, sep="\t", index=False)
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        log.warning("no trial has completed yet: best.yaml not written")
        return
    best = study.best_trial
    best_config = load_config(None, as_overrides(best.params, base.optim.betas), base=base)
    best_config.dataset = type(best_config.dataset)()   # `fit` fills in the dataset it gets
    save_config(best_config, out / "best.yaml")
    with atomic_file(out / "best.json") as handle:
        json.dump({"trial": best.number, "value": best.value, "params": best.params}, handle,
                  indent=2)
    plot_history(study, out / "history.png")
    plot_importance(study, out / "importance.png")
    if not keep_runs:
        for run in (out / "trials").glob("*"):
            if run.name != f"{best.number:04d}":
                shutil.rmtree(run, ignore_errors=True)


def plot_history(study, path: Path) -> None:
    """Objective per trial (completed dots, pruned crosses at their last report) and the best
    value so far."""
    import optuna

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    best_x, best_y, best = [], [], -math.inf
    for t in study.get_trials(deepcopy=False):
        if t.state == optuna.trial.TrialState.COMPLETE:
            ax.scatter(t.number, t.value, color="#4C72B0", zorder=3,
                       label="completed" if not best_x else None)
            best = max(best, t.value)
            best_x.append(t.number)
            best_y.append(best)
        elif t.state == optuna.trial.TrialState.PRUNED and t.intermediate_values:
            last = t.intermediate_values[max(t.intermediate_values)]
            ax.scatter(t.number, last, marker="x", color="#C44E52", zorder=3, label="pruned")
    ax.step(best_x, best_y, where="post", color="0.2", label="best so far")
    ax.xaxis.get_major_locator().set_params(integer=True)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), frameon=False, fontsize=9)
    ax.set_xlabel("trial", fontsize=11)
    ax.set_ylabel("validation objective", fontsize=11)
    ax.set_title(f"Optimisation history: {study.study_name}", fontsize=12)
    ax.spines[["top", "right"]].set_visible(False)
    save(fig, path)


def plot_importance(study, path: Path) -> None:
    """Parameter importance (Optuna's fANOVA evaluator, seed 0) as horizontal bars; needs
    completed trials with at least two different objective values."""
    import optuna

    values = {t.value for t in study.get_trials(deepcopy=False,
                                                  states=(optuna.trial.TrialState.COMPLETE,))}
    if len(values) < 2:
        log.warning("parameter importance not computed: completed trials share one objective value")
        return
    try:
        importance = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
    except (RuntimeError, ValueError) as err:
        log.warning("parameter importance not computed (%s)", err)
        return
    if not importance:
        return
    plt = pyplot()
    names = list(importance)[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1.5))
    ax.barh(names, [importance[n] for n in names], color="#55A868")
    ax.set_xlabel("importance (fANOVA: fraction of objective variance)", fontsize=11)
    ax.set_title(f"Hyper-parameter importance: {study.study_name}", fontsize=12)
    ax.spines[["top", "right"]].set_visible(False)
    save(fig, path)
