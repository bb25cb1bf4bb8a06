"""`regdna train`: fit a model on a dataset dir and write a run dir.

RUN/
  config.yaml            resolved config (model spec + options, dataset task/labels/length, ...)
  metrics.csv            epoch, train_loss, val_loss, val_auroc, val_pr_auc, lr, seconds, step
  checkpoints/best.ckpt  best validation AUROC (or PR-AUC / loss, train.monitor), atomic
  checkpoints/last.ckpt  end of the latest epoch, atomic; `resume=True` continues from it
  threshold.json         best-F1 threshold on validation (binary / multi-label), seed 001
  resources.json         parameter count, seconds per epoch, peak memory (seed 000 Table VI)
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from regdna.errors import RegdnaError


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
               "regression": ("mse", "poisson")}[task]
    if loss not in allowed:
        raise RegdnaError(f"train.loss={loss} does not fit the dataset task '{task}'; "
                          f"use one of: {', '.join(allowed)} (or auto).")


def _subsample(dataset, n: int | None, seed: int):
    from regdna.data.torch_data import SequenceDataset

    if n is None or n >= len(dataset):
        return dataset
    keep = np.sort(np.random.default_rng(seed).choice(len(dataset), size=n, replace=False))
    return SequenceDataset([dataset.sequences[i] for i in keep], dataset.targets.numpy()[keep])


def _is_launched_worker() -> bool:
    """True inside the extra processes Lightning's DDP launcher starts (ranks > 0)."""
    return int(os.environ.get("LOCAL_RANK", "0")) > 0 or int(os.environ.get("NODE_RANK", "0")) > 0


def resolve_config(data_dir, model_spec, out: Path, config, overrides, resume: bool):
    """The run config: saved config on resume (plus overrides), else defaults <- file <- overrides."""
    from regdna.train.config import RunConfig, load_config, read_run_config

    if resume:
        if not (out / "checkpoints" / "last.ckpt").is_file():
            raise RegdnaError(f"cannot resume: {out / 'checkpoints' / 'last.ckpt'} does not exist. "
                              f"Start the run without --resume.")
        cfg = load_config(None, overrides, base=read_run_config(out))
        if model_spec and model_spec != cfg.model.spec:
            raise RegdnaError(f"--resume: run {out} trains '{cfg.model.spec}', not '{model_spec}'.")
        return cfg
    if (out / "config.yaml").exists() and not _is_launched_worker():
        raise RegdnaError(f"{out} already holds a run (config.yaml exists). Use --resume to "
                          f"continue it, or choose another --out.")
    if isinstance(config, RunConfig):
        cfg = load_config(None, overrides, base=config)
    elif isinstance(config, dict):
        cfg = load_config(None, overrides, base=config)
    else:
        cfg = load_config(config, overrides)
    if model_spec:
        cfg.model.spec = model_spec
    return cfg


def fit(data_dir, model_spec: str | None = None, out="run", config=None,
        overrides: list[str] | None = None, resume: bool = False, callbacks=None,
        trainer_kwargs: dict | None = None, progress: bool | None = None) -> Path:
    """Train `model_spec` on the dataset dir `data_dir`, writing the run dir `out`.

    Args:
        data_dir: dataset dir (dataset.json + train/val/test.parquet).
        model_spec: model spec (e.g. "basset", "kmer-lr", "tinyformer", "hf:path"); overrides
            model.spec of the config.
        out: run dir to create (or continue with `resume=True`).
        config: a RunConfig, a dict, or a YAML file path (see `regdna.train.config`).
        overrides: dotted "key=value" strings, e.g. ["optim.lr=1e-3", "train.max_epochs=8"].
        resume: continue from out/checkpoints/last.ckpt (same config, same RNG per epoch: the
            final metrics equal an uninterrupted run's).
        callbacks: extra Lightning callbacks (e.g. Optuna pruning).
        trainer_kwargs: extra `lightning.Trainer` arguments (take precedence).
        progress: show a progress bar (default: when stderr is a terminal).

    Returns:
        the run dir.
    """
    import sys

    import lightning as L
    import torch
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

    from regdna.data.dataset import load_info
    from regdna.data.torch_data import load_split_dataset, make_loader
    from regdna.models.registry import build_model
    from regdna.train.callbacks import MetricsCSV, ResourceMonitor
    from regdna.train.checkpoint import AtomicCheckpointIO
    from regdna.train.config import DatasetRef, save_config
    from regdna.train.losses import default_loss
    from regdna.train.module import RegdnaModule

    data_dir, out = Path(data_dir), Path(out)
    info = load_info(data_dir)
    cfg = resolve_config(data_dir, model_spec, out, config, overrides, resume)
    if resume and cfg.dataset.task is not None and \
            (cfg.dataset.task != info.task or cfg.dataset.labels != info.labels):
        raise RegdnaError(f"--resume: {data_dir} (task {info.task}, labels {info.labels}) is not the "
                          f"dataset run {out} was trained on ({cfg.dataset.task}, {cfg.dataset.labels}).")
    cfg.dataset = DatasetRef(path=str(data_dir.resolve()), task=info.task, labels=info.labels,
                             classes=info.classes, length=info.length,
                             regression_loss=info.regression_loss)
    loss = cfg.train.loss if cfg.train.loss != "auto" else default_loss(info.task, info.regression_loss)
    _check_loss(loss, info.task)
    monitor, mode = cfg.monitor_metric(info.task)

    on_gpu = _on_gpu(cfg.train.accelerator)
    if on_gpu:
        torch.set_float32_matmul_precision("high")     # tf32 matmuls on Ampere and newer
        torch.backends.cudnn.allow_tf32 = True
    L.seed_everything(cfg.train.seed, workers=True, verbose=False)
    model = build_model(cfg.model.spec, info, **cfg.model.options)
    if hasattr(model, "prepare_data"):
        model.prepare_data(data_dir, info, out / "cache")

    train_set = _subsample(load_split_dataset(data_dir, "train", info), cfg.data.train_subsample,
                           cfg.train.seed)
    val_set = _subsample(load_split_dataset(data_dir, "val", info), cfg.data.val_subsample,
                         cfg.train.seed + 1)
    if len(train_set) == 0 or len(val_set) == 0:
        raise RegdnaError(f"{data_dir}: the train or val split is empty; re-run `regdna prepare` "
                          f"with a split that leaves sequences in both.")
    common = dict(batch_size=cfg.data.batch_size, seed=cfg.train.seed,
                  num_workers=cfg.data.num_workers, pad_multiple=cfg.data.pad_multiple)
    train_loader = make_loader(train_set, model, train=True, rc=cfg.data.rc_augment,
                               max_shift=cfg.data.max_shift,
                               group_by_length=cfg.data.group_by_length, **common)
    val_loader = make_loader(val_set, model, train=False, **common)

    out.mkdir(parents=True, exist_ok=True)
    if not _is_launched_worker():
        save_config(cfg, out / "config.yaml")
    metrics = MetricsCSV(out)
    all_callbacks = [metrics, ResourceMonitor(out, metrics)]
    if cfg.train.patience > 0:
        all_callbacks.append(EarlyStopping(monitor=monitor, mode=mode, patience=cfg.train.patience,
                                           check_finite=True))
    # best.ckpt follows the monitored metric; last.ckpt is rewritten after every epoch by a
    # second, unmonitored checkpoint (ModelCheckpoint's own save_last only refreshes when the
    # monitored metric improves)
    all_callbacks.append(ModelCheckpoint(
        dirpath=out / "checkpoints", filename="best", monitor=monitor, mode=mode, save_top_k=1,
        auto_insert_metric_name=False, enable_version_counter=False))
    all_callbacks.append(ModelCheckpoint(
        dirpath=out / "checkpoints", filename="last", monitor=None, save_top_k=1,
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
        enable_model_summary=False, num_sanity_val_steps=0,
        enable_progress_bar=sys.stderr.isatty() if progress is None else progress,
        plugins=[AtomicCheckpointIO()], log_every_n_steps=50)
    if cfg.train.val_every_n_steps:
        kwargs.update(val_check_interval=cfg.train.val_every_n_steps, check_val_every_n_epoch=None)
    kwargs.update(trainer_kwargs or {})
    trainer = L.Trainer(**kwargs)
    module = RegdnaModule(model, info.task, loss, cfg)
    ckpt = str(out / "checkpoints" / "last.ckpt") if resume else None
    # resuming reads last.ckpt with weights_only=True too: a checkpoint never runs pickled code
    trainer.fit(module, train_loader, val_loader, ckpt_path=ckpt, weights_only=True)
    if trainer.is_global_zero and not _is_launched_worker():
        write_threshold(out, data_dir, info)
    return out


def write_threshold(run_dir: Path, data_dir: Path, info) -> dict:
    """threshold.json: the best-F1 threshold on validation with the best checkpoint (seed 001),
    one per label for multi-label; null for multi-class (argmax) and regression."""
    from regdna.evaluate.evaluate import predict_split
    from regdna.evaluate.threshold import best_f1_threshold
    from regdna.train.checkpoint import load_predictor
    from regdna.utils.atomic import atomic_file

    record: dict = {"threshold": None, "metric": "f1", "split": "val"}
    if info.task in ("binary", "multilabel"):
        predictor = load_predictor(run_dir, threshold=None)
        y, probs, _ = predict_split(predictor, data_dir, "val", info)
        chosen = [best_f1_threshold(y[:, t], probs[:, t]) for t in range(y.shape[1])]
        thresholds = [t for t, _ in chosen]
        record["threshold"] = thresholds[0] if info.task == "binary" else thresholds
        record["f1"] = chosen[0][1] if info.task == "binary" else [f for _, f in chosen]
    with atomic_file(run_dir / "threshold.json") as handle:
        json.dump(record, handle, indent=2)
    return record
