"""`regdna train`: fit a model on a dataset dir and write a run dir.

`run_train` is the verb (it returns a summary of the best epoch); `fit` trains and returns the
run dir. The run dir's files and where they live are `regdna.runs.layout`'s: config.yaml,
fingerprint.json, metrics.csv, lr_schedule.csv, checkpoints/best.ckpt (best validation AUROC, or
PR-AUC / loss: train.monitor) and checkpoints/last.ckpt (end of the latest epoch; `resume=True`
continues from it), resources.json, and threshold.json (best-F1 threshold on validation for
binary / multi-label runs), written last, so that a run dir without it is an unfinished run.

The run dir follows the output policy: a new or empty dir is created; a run dir is continued
with `resume=True` or replaced with `overwrite=True`; any other non-empty dir, and a dir that is
or holds the dataset, is refused. SIGINT / SIGTERM stop training at the next batch: the run keeps
`last.ckpt` of its last finished epoch and `fit` raises `TrainingInterrupted` (the CLI exits 130).
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from regdna.data.dataset import SPLITS, load_info, read_split
from regdna.data.torch_data import SequenceDataset, load_split_dataset, make_loader
from regdna.errors import RegdnaError
from regdna.evaluate.evaluate import predict_split
from regdna.evaluate.threshold import best_f1_threshold
from regdna.models.registry import build_model
from regdna.runs import layout, load_predictor
from regdna.runs.checkpoint import read_checkpoint
from regdna.runs.config import DatasetRef, RunConfig, default_loss, load_config, read_run_config, \
    resolve_defaults, \
    save_config
from regdna.train.callbacks import (AtomicCheckpointIO, EpochLog, GracefulStop, Interrupted,
                                    MetricsCSV, ResourceMonitor, quiet_lightning)
from regdna.train.losses import PROFILE_LOSSES
from regdna.train.module import RegdnaModule
from regdna.utils.fingerprint import differences, file_identity, fingerprint, read_fingerprint, \
    write_fingerprint
from regdna.utils.output import check_out_dir, empty_dir, mark_dir


def _on_gpu(accelerator: str) -> bool:
    import torch

    return torch.cuda.is_available() and accelerator in ("auto", "gpu", "cuda")


def _precision(config, on_gpu: bool) -> str:
    import torch

    if config.train.precision != "auto":
        return "32-true" if config.train.precision == "32" else config.train.precision
    if not on_gpu:
        return "32-true"
    return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"


def _check_loss(loss: str, task: str) -> None:
    allowed = {"binary": ("bce",), "multilabel": ("bce",), "multiclass": ("ce",),
               "regression": ("mse", "poisson"), "profile": PROFILE_LOSSES}[task]
    if loss not in allowed:
        raise RegdnaError(f"train.loss={loss} does not fit the dataset task '{task}'; "
                          f"use one of: {', '.join(allowed)} (or auto).")


def _subsample(dataset, n: int | None, seed: int):

    if n is None or n >= len(dataset):
        return dataset
    keep = np.sort(np.random.default_rng(seed).choice(len(dataset), size=n, replace=False))
    if hasattr(dataset, "subset"):      # a coverage dataset (regdna.data.profiles)
        return dataset.subset(keep)
    return SequenceDataset([dataset.sequences[i] for i in keep], dataset.targets.numpy()[keep])


def _load_split(data_dir: Path, split: str, info):
    if info.task == "profile":
        from regdna.data.profiles import load_profile_dataset

        return load_profile_dataset(data_dir, split, info)
    return load_split_dataset(data_dir, split, info)


def _loaders(train_set, val_set, model, cfg, info):
    """The training and validation DataLoaders (profiles: cut, augmented and binned per batch)."""
    common = dict(batch_size=cfg.data.batch_size, seed=cfg.train.seed,
                  num_workers=cfg.data.num_workers)
    if info.task == "profile":
        from regdna.data.profiles import make_profile_loader

        return (make_profile_loader(train_set, bin_size=cfg.data.bin_size, train=True,
                                    rc=cfg.data.rc_augment, max_shift=cfg.data.max_shift, **common),
                make_profile_loader(val_set, bin_size=cfg.data.bin_size, train=False, **common))
    common["pad_multiple"] = cfg.data.pad_multiple
    return (make_loader(train_set, model, train=True, rc=cfg.data.rc_augment,
                        max_shift=cfg.data.max_shift, group_by_length=cfg.data.group_by_length,
                        **common),
            make_loader(val_set, model, train=False, **common))


def _is_launched_worker() -> bool:
    """True inside the extra processes Lightning's DDP launcher starts (ranks > 0)."""
    return int(os.environ.get("LOCAL_RANK", "0")) > 0 or int(os.environ.get("NODE_RANK", "0")) > 0


class TrainingInterrupted(RegdnaError):
    """Training was stopped by SIGINT / SIGTERM; `--resume` continues it."""


# settings that decide where a run computes, not what: they may change on --resume
_PLACEMENT = {"data.num_workers", "train.accelerator", "train.devices", "train.strategy",
              "train.num_nodes"}


def check_run_dir(out: Path, data_dir: Path, config, resume: bool, overwrite: bool) -> bool:
    """Apply the output policy to the run dir; True when `out` holds a run already."""
    if resume and overwrite:
        raise RegdnaError("--resume continues the run in --out and --overwrite starts it over; "
                          "pass only one of them.")
    inputs = [data_dir] + ([config] if isinstance(config, (str, os.PathLike)) and not resume else [])
    holds_run = layout.is_run_dir(out)
    # a run dir is ours to continue or replace (evaluate adds files to it, so its file list is
    # not the marker's); anything else goes by the policy: only new or empty dirs, or --overwrite
    check_out_dir(out, layout.RUN_VERB, inputs=inputs, overwrite=overwrite or holds_run)
    if resume and not holds_run:
        raise RegdnaError(f"cannot resume: {out} holds no run (no config.yaml). Start the run "
                          f"without --resume.")
    if holds_run and not resume and not overwrite:
        raise RegdnaError(f"{out} already holds a run: continue it with --resume, or pass "
                          f"--overwrite to start over.")
    return holds_run


def resolve_config(data_dir, model_spec, out: Path, config, overrides, resume: bool, info=None):
    """The run config: saved config on resume (plus overrides), else defaults <- file <- overrides."""
    if resume:
        cfg = load_config(None, overrides, base=read_run_config(out))
        if model_spec and model_spec != cfg.model.spec:
            raise RegdnaError(f"--resume: run {out} trains '{cfg.model.spec}', not '{model_spec}'.")
        return cfg
    if isinstance(config, (RunConfig, dict)):
        cfg = load_config(None, overrides, base=config)
    else:
        cfg = load_config(config, overrides)
    if model_spec:
        cfg.model.spec = model_spec
    return resolve_defaults(cfg, info)


def _settings(cfg) -> dict:
    """The settings that decide a run's numbers, flattened to 'section.key'."""
    raw = cfg.model_dump(mode="json")
    return {f"{section}.{key}": value for section, values in raw.items()
            if section not in ("dataset", "predict") for key, value in values.items()
            if f"{section}.{key}" not in _PLACEMENT}


def fingerprint_of_run(data_dir: Path, cfg) -> dict:
    """What a resumed run must share with its start: the dataset files' content (a coverage
    dataset's targets included) and the settings."""
    files = {}
    coverage = [f"{split}.coverage.npy" for split in SPLITS if (data_dir / f"{split}.coverage.npy").is_file()]
    for name in ("dataset.json", *(f"{split}.parquet" for split in SPLITS), *coverage):
        identity = file_identity(data_dir / name) if (data_dir / name).is_file() else None
        if identity:
            identity.pop("path")    # the same files moved elsewhere are the same dataset
        files[f"dataset file {name}"] = identity
    return fingerprint(**files, **{f"setting {k}": v for k, v in _settings(cfg).items()})


def check_resume_fingerprint(out: Path, current: dict) -> None:
    """Refuse to resume a run whose dataset or settings changed since it started."""
    stored = read_fingerprint(layout.fingerprint_path(out))
    if stored is None:
        raise RegdnaError(f"cannot resume: {out} has no {layout.FINGERPRINT} (it was started by an earlier "
                          f"regdna), so its dataset cannot be checked; start over with --overwrite.")
    changed = differences(stored, current)
    if changed:
        raise RegdnaError(f"cannot resume {out}: changed since the run started: {', '.join(changed)}. "
                          f"Resuming would mix results of two runs; start over with --overwrite "
                          f"(or restore the original dataset / settings).")


def _start_run_dir(out: Path, overwrite: bool, resume: bool, cfg, fingerprint_: dict) -> None:
    """Create (or, with --overwrite, empty) the run dir and write what identifies the run."""
    if overwrite and out.is_dir():   # the policy allowed it
        empty_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    mark_dir(out, layout.RUN_VERB)
    save_config(cfg, layout.config_path(out))
    if not resume:
        write_fingerprint(layout.fingerprint_path(out), fingerprint_)


def _resume_checkpoint(out: Path) -> str | None:
    """last.ckpt to continue from (checked readable), or None: the run restarts from its start."""

    path = layout.checkpoint_file(out, "last")
    if not path.is_file():
        print(f"{out} has no checkpoint yet (stopped before its first epoch ended): "
              "starting it from the beginning", flush=True)
        return None
    read_checkpoint(path, mmap=True, what_to_do="delete it and run `regdna train --resume` again to "
                    "restart the run from its beginning, or start over with --overwrite")
    return str(path)


def _interrupted(out: Path, signal_name: str, epoch: int, finished: int) -> TrainingInterrupted:
    last = layout.checkpoint_file(out, "last")
    if last.is_file():
        kept = f"{last} holds epoch {finished}"
    else:
        kept = "no epoch had finished, so --resume starts it from the beginning"
    return TrainingInterrupted(f"training interrupted by {signal_name} at epoch {epoch + 1} "
                               f"({kept}): continue with `regdna train --resume --out {out} "
                               f"--data ...`.")


def fit(data_dir, model_spec: str | None = None, out="run", config=None,
        overrides: list[str] | None = None, resume: bool = False, callbacks=None,
        trainer_kwargs: dict | None = None, progress: bool | None = None,
        overwrite: bool = False) -> Path:
    """Train `model_spec` on the dataset dir `data_dir`, writing the run dir `out`.

    Args:
        data_dir: dataset dir (dataset.json + train/val/test.parquet).
        model_spec: model spec (e.g. "basset", "kmer-lr", "tinyformer", "hf:path"); overrides
            model.spec of the config.
        out: run dir to create (or continue with `resume=True`, or replace with `overwrite=True`).
        config: a RunConfig, a dict, or a YAML file path (see `regdna.runs.config`).
        overrides: dotted "key=value" strings, e.g. ["optim.lr=1e-3", "train.max_epochs=8"].
        resume: continue from out/checkpoints/last.ckpt (same config, same RNG per epoch: the
            final metrics equal an uninterrupted run's); a run stopped before its first
            checkpoint starts again from the beginning. Refused when the dataset files or the
            settings changed since the run started.
        callbacks: extra Lightning callbacks (e.g. Optuna pruning).
        trainer_kwargs: extra `lightning.Trainer` arguments (take precedence).
        progress: a progress bar (default: when stdout is a terminal); without it one line is
            printed per epoch.
        overwrite: replace `out` even when it holds a run or other files.

    Returns:
        the run dir.

    Raises:
        TrainingInterrupted: SIGINT / SIGTERM stopped the run (after last.ckpt was kept).
    """
    import sys

    import lightning as L
    import torch
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

    data_dir, out = Path(data_dir), Path(out)
    info = load_info(data_dir)
    worker = _is_launched_worker()   # DDP ranks > 0 re-run this call: rank 0 owns the run dir
    if not worker:
        check_run_dir(out, data_dir, config, resume, overwrite)
    cfg = resolve_config(data_dir, model_spec, out, config, overrides, resume, info)
    if resume and cfg.dataset.task is not None and \
            (cfg.dataset.task != info.task or cfg.dataset.labels != info.labels):
        raise RegdnaError(f"--resume: {data_dir} (task {info.task}, labels {info.labels}) is not the "
                          f"dataset run {out} was trained on ({cfg.dataset.task}, {cfg.dataset.labels}).")
    fingerprint_ = fingerprint_of_run(data_dir, cfg)
    if resume and not worker:
        check_resume_fingerprint(out, fingerprint_)
    cfg.dataset = DatasetRef(path=str(data_dir.resolve()), task=info.task, labels=info.labels,
                             classes=info.classes, length=info.length,
                             regression_loss=info.regression_loss,
                             profile=info.profile.model_dump() if info.profile else None)
    loss = cfg.train.loss if cfg.train.loss != "auto" else default_loss(info.task, info.regression_loss)
    _check_loss(loss, info.task)
    if loss in ("poisson", "multinomial") and info.task == "profile" and \
            sum((info.qc.get("negative_values") or {}).values()):
        raise RegdnaError(f"{data_dir} has negative coverage values (dataset.json qc.negative_values) "
                          f"and train.loss={loss} needs coverage >= 0; train with --set "
                          f"train.loss=mse (or pearson).")
    monitor, mode = cfg.monitor_metric(info.task)
    if cfg.model.ensemble:
        return _fit_ensemble(data_dir, out, cfg, info, fingerprint_, model_spec, config, overrides,
                             resume, overwrite, callbacks=callbacks, trainer_kwargs=trainer_kwargs,
                             progress=progress)

    on_gpu = _on_gpu(cfg.train.accelerator)
    if on_gpu:
        torch.set_float32_matmul_precision("high")     # tf32 matmuls on Ampere and newer
        torch.backends.cudnn.allow_tf32 = True
    L.seed_everything(cfg.train.seed, workers=True, verbose=False)
    model = build_model(cfg.model.spec, info, bin_size=cfg.data.bin_size, **cfg.model.options)
    train_set = _subsample(_load_split(data_dir, "train", info), cfg.data.train_subsample,
                           cfg.train.seed)
    val_set = _subsample(_load_split(data_dir, "val", info), cfg.data.val_subsample,
                         cfg.train.seed + 1)
    if len(train_set) == 0 or len(val_set) == 0:
        raise RegdnaError(f"{data_dir}: the train or val split is empty; re-run `regdna prepare` "
                          f"with a split that leaves sequences in both.")
    # everything the user can get wrong is checked: only now is the run dir created or replaced
    if not worker:
        _start_run_dir(out, overwrite, resume, cfg, fingerprint_)
    last = layout.checkpoint_file(out, "last")
    ckpt = _resume_checkpoint(out) if resume and not worker else \
        (str(last) if resume and last.is_file() else None)
    if hasattr(model, "prepare_data"):   # models see sequences (every split), never the dir
        model.prepare_data({s: read_split(data_dir, s, ["sequence"])["sequence"].tolist() for s in
                            SPLITS if (data_dir / f"{s}.parquet").is_file()}, out / "cache")
    train_loader, val_loader = _loaders(train_set, val_set, model, cfg, info)

    bar = sys.stdout.isatty() if progress is None else progress
    metrics = MetricsCSV(out)
    stop = GracefulStop()
    all_callbacks = [stop, metrics, ResourceMonitor(out, metrics),
                     EpochLog(metrics, lines=not bar, max_epochs=cfg.train.max_epochs,
                              early_stopping=cfg.train.patience > 0,
                              per_epoch=not cfg.train.val_every_n_steps)]
    if cfg.train.patience > 0:
        all_callbacks.append(EarlyStopping(monitor=monitor, mode=mode, patience=cfg.train.patience,
                                           check_finite=True))
    # best.ckpt follows the monitored metric; last.ckpt is rewritten after every epoch by a
    # second, unmonitored checkpoint (ModelCheckpoint's own save_last only refreshes when the
    # monitored metric improves)
    all_callbacks.append(ModelCheckpoint(
        dirpath=layout.checkpoints_dir(out), filename="best", monitor=monitor, mode=mode, save_top_k=1,
        auto_insert_metric_name=False, enable_version_counter=False))
    all_callbacks.append(ModelCheckpoint(
        dirpath=layout.checkpoints_dir(out), filename="last", monitor=None, save_top_k=1,
        auto_insert_metric_name=False, enable_version_counter=False))
    all_callbacks += list(callbacks or [])

    kwargs = dict(
        max_epochs=cfg.train.max_epochs, max_steps=cfg.train.max_steps,
        accelerator=cfg.train.accelerator, devices=cfg.train.devices, strategy=cfg.train.strategy,
        num_nodes=cfg.train.num_nodes, precision=_precision(cfg, on_gpu),
        gradient_clip_val=cfg.optim.grad_clip or None,
        accumulate_grad_batches=cfg.optim.accumulate,
        # CUDA kernels of some layers (scatter_add, adaptive pooling backward) have no
        # deterministic version: deterministic algorithms on CPU only
        deterministic=bool(cfg.train.deterministic and not on_gpu),
        callbacks=all_callbacks, logger=False, default_root_dir=str(out),
        enable_model_summary=False, num_sanity_val_steps=0, enable_progress_bar=bar,
        plugins=[AtomicCheckpointIO()], log_every_n_steps=50)
    if cfg.train.val_every_n_steps:
        kwargs.update(val_check_interval=cfg.train.val_every_n_steps, check_val_every_n_epoch=None)
    kwargs.update(trainer_kwargs or {})
    module = RegdnaModule(model, info.task, loss, cfg)
    with quiet_lightning(), stop.installed():
        trainer = L.Trainer(**kwargs)
        try:
            # resuming reads last.ckpt with weights_only=True too: a checkpoint never runs pickled code
            trainer.fit(module, train_loader, val_loader, ckpt_path=ckpt, weights_only=True)
        except (Interrupted, SystemExit) as err:
            # Lightning ends a SIGTERM'd fit with SystemExit (status 0), a second Ctrl-C with exit 1
            if stop.signal_name is None:
                raise
            raise _interrupted(out, stop.signal_name, trainer.current_epoch,
                               len(metrics.rows)) from err
        if stop.signal_name is not None:   # the signal came after the last batch
            raise _interrupted(out, stop.signal_name, trainer.current_epoch, len(metrics.rows))
    if trainer.is_global_zero and not worker:
        finish_run(out, data_dir, info)
    return out


def _fit_ensemble(data_dir: Path, out: Path, cfg, info, fingerprint_: dict, model_spec, config,
                  overrides, resume: bool, overwrite: bool, **fit_options) -> Path:
    """An ensemble run (`regdna.train.ensemble`): the members one after another, then the
    ensemble's checkpoint, resources and finish."""
    from regdna.train import ensemble

    if _is_launched_worker():
        raise RegdnaError("an ensemble trains its members one after another in one process; "
                          "launch `regdna train --ensemble` itself, not under torchrun.")
    _start_run_dir(out, overwrite, resume, cfg, fingerprint_)
    members = ensemble.fit_members(data_dir, out, cfg, model_spec, config, overrides, fit,
                                   **fit_options)
    ensemble.gather_checkpoint(out, members)
    ensemble.write_ensemble_resources(out, members)
    finish_run(out, data_dir, info)
    return out


def finish_run(run_dir: Path, data_dir: Path, info) -> None:
    """What a trained run writes with its best checkpoint, loaded once, and its validation
    logits, predicted once: ood.npz, calibration.json, then threshold.json, written last (a run
    dir without it is an unfinished run)."""
    from regdna.evaluate.ood_fit import write_run_ood
    from regdna.evaluate.uncertainty import split_logits, write_calibration

    predictor = load_predictor(run_dir, threshold=None)
    write_run_ood(run_dir, data_dir, info, predictor)
    val = split_logits(predictor, data_dir, "val", info) \
        if info.task in ("binary", "multilabel", "multiclass") else None
    write_calibration(run_dir, data_dir, info, predictor, val)
    write_threshold(run_dir, data_dir, info, predictor, val)


def write_threshold(run_dir: Path, data_dir: Path, info, predictor=None, val=None) -> dict:
    """Choose and write threshold.json: the best-F1 threshold on validation with the best
    checkpoint (`predictor`, loaded when None; `val`: its validation (targets, logits) when
    already predicted), one per label for multi-label; null for multi-class (argmax),
    regression and profiles."""
    from regdna.models.base import activate

    record: dict = {"threshold": None, "metric": "f1", "split": "val"}
    if info.task in ("binary", "multilabel"):
        predictor = predictor or load_predictor(run_dir, threshold=None)
        if val is None:
            y, probs, _ = predict_split(predictor, data_dir, "val", info)
        else:
            y, probs = val[0], activate(val[1], predictor.task)
        chosen = [best_f1_threshold(y[:, t], probs[:, t]) for t in range(y.shape[1])]
        thresholds = [t for t, _ in chosen]
        record["threshold"] = thresholds[0] if info.task == "binary" else thresholds
        record["f1"] = chosen[0][1] if info.task == "binary" else [f for _, f in chosen]
    layout.write_threshold(run_dir, record)
    return record


def best_epoch(history: list[dict]) -> dict | None:
    """The row of metrics.csv (`regdna.runs.layout.read_history`) with the highest validation
    AUROC, or, for runs without one (regression, profiles), the lowest validation loss; None for
    an empty history."""
    def finite(row, key) -> bool:
        value = row.get(key)
        return isinstance(value, float) and not math.isnan(value)

    if any(finite(row, "val_auroc") for row in history):
        return max(history, key=lambda row: row["val_auroc"] if finite(row, "val_auroc") else -math.inf)
    if any(finite(row, "val_loss") for row in history):
        return min(history, key=lambda row: row["val_loss"] if finite(row, "val_loss") else math.inf)
    return history[0] if history else None


def run_train(data_dir, model_spec: str | None = None, out="run", config=None,
              overrides: list[str] | None = None, resume: bool = False,
              overwrite: bool = False, **fit_options) -> dict:
    """`regdna train`: `fit` the model, then summarise the run.

    Parameters
    ----------
    data_dir : path
        Dataset dir (`regdna prepare`: dataset.json + train/val/test.parquet).
    model_spec : str, optional
        Model spec ("basset", "deepsea", "residualbind", "kmer-lr", "tinyformer",
        "hf:<hub id or dir>"); overrides model.spec of the config.
    out : path, default "run"
        Run dir to create (or continue with `resume`, or replace with `overwrite`).
    config : RunConfig, dict or path, optional
        Base config (see `regdna.runs.config`); default: the defaults of the schema.
    overrides : list of str, optional
        Dotted "key=value" strings, e.g. ["optim.lr=1e-3", "train.max_epochs=8",
        "model.options={filters: 0.25}"].
    resume : bool, default False
        Continue from out/checkpoints/last.ckpt (refused when the dataset or the settings
        changed since the run started).
    overwrite : bool, default False
        Replace `out` even when it holds a run or other files.
    **fit_options
        callbacks, trainer_kwargs, progress: as `fit`.

    Returns
    -------
    dict
        run_dir (Path), epochs (int, number of validations in metrics.csv), best (dict, the row
        of the best epoch: epoch, train_loss, val_loss, val_auroc, val_pr_auc, ...; or None);
        an ensemble (model.ensemble): best None, epochs summed over the members and `members`,
        each member's best row.

    Raises
    ------
    TrainingInterrupted
        SIGINT / SIGTERM stopped the run (after last.ckpt was kept).
    """
    run_dir = fit(data_dir, model_spec, out, config=config, overrides=overrides, resume=resume,
                  overwrite=overwrite, **fit_options)
    seeds = read_run_config(run_dir).model.ensemble
    if seeds:
        histories = [layout.read_history(layout.member_dir(run_dir, s)) for s in seeds]
        return {"run_dir": run_dir, "epochs": sum(map(len, histories)), "best": None,
                "members": [best_epoch(h) for h in histories]}
    history = layout.read_history(run_dir)
    return {"run_dir": run_dir, "epochs": len(history), "best": best_epoch(history)}
