"""The training configuration: every key, its default and what it does.

Defaults follow the protocol of Morenu n.d. (AdamW, weight decay 1e-2, gradient clipping 1.0, early
stopping on validation AUROC with patience 5, per-epoch CSV) with a cosine schedule and warm-up,
reverse-complement and shift augmentation (Toneyan et al. 2022) and reverse-complement averaging at
prediction time. A config is built from the defaults, then an optional YAML file, then dotted
`key=value` overrides (`--set optim.lr=3e-4 --set model.options.filters=0.5`); values are parsed
as YAML (`true`, `1e-3`, `[0.9, 0.98]`). The resolved config is saved as `RUN/config.yaml`.

Keys (section.key = default):
  model.spec = null                 model spec (cnn, basset, deepsea, residualbind, cnn-baseline, shallow-cnn, kmer-lr, tinyformer, hf:<id>; profiles: residualbind-32, residualbind-base, cnn-baseline, basenji, bpnet, kmer-ridge); null: cnn for label datasets, residualbind-32 for coverage datasets
  model.options = {}                builder options, e.g. {filters: 0.5, exp_activation: true}, {k: 6}, {mode: probe}
  model.ensemble = null             a deep ensemble (Lakshminarayanan et al. 2017): the members' seeds, e.g. [0, 1, 2, 3, 4] (`train --ensemble K` / `--seeds`); each member is a run dir RUN/members/seed<s> trained with train.seed = s (with data.train_subsample each also sees its own random subset of train)
  data.batch_size = 64              sequences per batch (per device)
  data.num_workers = 0              DataLoader workers (0: build batches in the main process)
  data.rc_augment = true            random reverse complement of training sequences
  data.max_shift = null             random shift of training sequences by up to this many bp; null: 3 (N fill) for label datasets, the stored margin for coverage datasets (input and targets move together)
  data.bin_size = null              profile models: bp per output bin (mean coverage within each); null: the dataset's (prepare --bin-size)
  data.group_by_length = true       token models: length-grouped batches (little padding)
  data.pad_multiple = 8             token models: pad batches to a multiple of this length
  data.train_subsample = null       use only this many (random, fixed by seed) training sequences
  data.val_subsample = null         same for validation
  optim.lr = null                   peak learning rate (AdamW); null: the model's default (`default_lr`: 3e-3 for CNNs, profile models and kmer-lr, 1e-3 otherwise)
  optim.weight_decay = 1e-2         AdamW weight decay (L2 for kmer-lr)
  optim.betas = [0.9, 0.999]        AdamW betas (beta2 is tuned for transformers, King et al. n.d.)
  optim.eps = 1e-8                  AdamW epsilon
  optim.grad_clip = 1.0             max gradient norm (0: off)
  optim.accumulate = 1              gradient accumulation steps (effective batch = batch_size * accumulate * devices)
  scheduler.name = "cosine"         cosine (with linear warm-up, per step) | plateau (reduce on plateau) | constant
  scheduler.warmup_ratio = 0.05     cosine: fraction of all steps spent warming up linearly from 0
  scheduler.min_lr_ratio = 0.0      cosine: final lr as a fraction of optim.lr
  scheduler.plateau_factor = 0.2    plateau: lr multiplier when the monitored metric stalls
  scheduler.plateau_patience = 2    plateau: epochs without improvement before reducing
  train.max_epochs = 30             epochs at most
  train.max_steps = -1              optimiser steps at most (-1: no limit); also sizes the cosine schedule
  train.patience = 5                early stopping patience in validations (0: off)
  train.monitor = "auto"            early stopping / best checkpoint: auroc | pr_auc | loss | auto (auroc; loss for regression and profiles)
  train.val_every_n_steps = null    validate every N training steps instead of every epoch (tuning)
  train.seed = 0                    seed for weights, shuffling, augmentation and dropout
  train.deterministic = true        deterministic algorithms (CPU; on GPU only where cheap)
  train.precision = "auto"          auto (bf16-mixed on GPUs that support it, else 16-mixed; 32 on CPU) | 32 | bf16-mixed | 16-mixed
  train.label_smoothing = 0.0       label smoothing for binary / multi-label / multi-class losses
  train.loss = "auto"               auto (from the task; poisson for profiles) | bce | ce | mse | poisson | multinomial (profiles: shape + log total counts, BPNet) | pearson (profiles)
  train.accelerator = "auto"        Lightning accelerator (cpu, gpu, auto)
  train.devices = "auto"            Lightning devices (number, list or auto)
  train.strategy = "auto"           Lightning strategy (auto, ddp, ddp_spawn, fsdp, ...)
  train.num_nodes = 1               nodes for multi-node DDP
  predict.rc_average = true         average logits of sequence and reverse complement when predicting
  predict.batch_size = 256          sequences per batch when predicting and evaluating
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from regdna.data.dataset import DatasetInfo
from regdna.errors import RegdnaError
from regdna.runs.layout import config_path
from regdna.utils.atomic import atomic_file
from regdna.utils.yamlio import read_yaml_mapping


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class ModelConfig(_Section):
    spec: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    ensemble: list[int] | None = Field(None, min_length=2)


class DataConfig(_Section):
    batch_size: int = Field(64, ge=1)
    num_workers: int = Field(0, ge=0)
    rc_augment: bool = True
    max_shift: int | None = Field(None, ge=0)
    bin_size: int | None = Field(None, ge=1)
    group_by_length: bool = True
    pad_multiple: int = Field(8, ge=1)
    train_subsample: int | None = None
    val_subsample: int | None = None


class OptimConfig(_Section):
    lr: float | None = Field(None, gt=0)
    weight_decay: float = Field(1e-2, ge=0)
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = Field(1e-8, gt=0)
    grad_clip: float = Field(1.0, ge=0)
    accumulate: int = Field(1, ge=1)


class SchedulerConfig(_Section):
    name: Literal["cosine", "plateau", "constant"] = "cosine"
    warmup_ratio: float = Field(0.05, ge=0, lt=1)
    min_lr_ratio: float = Field(0.0, ge=0, le=1)
    plateau_factor: float = Field(0.2, gt=0, lt=1)
    plateau_patience: int = Field(2, ge=0)


class TrainConfig(_Section):
    max_epochs: int = Field(30, ge=1)
    max_steps: int = -1
    patience: int = Field(5, ge=0)
    monitor: Literal["auto", "auroc", "pr_auc", "loss"] = "auto"
    val_every_n_steps: int | None = None
    seed: int = 0
    deterministic: bool = True
    precision: Literal["auto", "32", "bf16-mixed", "16-mixed"] = "auto"
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    loss: Literal["auto", "bce", "ce", "mse", "poisson", "multinomial", "pearson"] = "auto"
    accelerator: str = "auto"
    devices: Union[int, str, list[int]] = "auto"
    strategy: str = "auto"
    num_nodes: int = Field(1, ge=1)


class PredictConfig(_Section):
    rc_average: bool = True
    batch_size: int = Field(256, ge=1)


class DatasetRef(_Section):
    """What the run was trained on; filled in by `fit` (lets a run dir rebuild its model alone)."""

    path: str | None = None
    task: str | None = None
    labels: list[str] = Field(default_factory=list)
    classes: list[str] | None = None
    length: int | None = None
    regression_loss: str = "mse"
    profile: dict | None = None      # coverage datasets: dataset.json's `profile`


class RunConfig(_Section):
    model: ModelConfig = Field(default_factory=ModelConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    predict: PredictConfig = Field(default_factory=PredictConfig)
    dataset: DatasetRef = Field(default_factory=DatasetRef)

    def monitor_metric(self, task: str) -> tuple[str, str]:
        """(logged metric name, mode) that early stopping and the best checkpoint follow."""
        monitor = self.train.monitor
        if monitor == "auto":
            monitor = "loss" if task in ("regression", "profile") else "auroc"
        if task in ("regression", "profile") and monitor != "loss":
            raise RegdnaError(f"train.monitor={monitor} needs a classification task; the dataset "
                              f"is {task}: use train.monitor=loss (or auto).")
        return f"val_{monitor}", ("min" if monitor == "loss" else "max")


def parse_overrides(overrides: list[str] | tuple[str, ...] | None) -> dict:
    """["optim.lr=1e-3", "model.options.k=6"] -> nested dict; values parsed as YAML."""
    nested: dict = {}
    for item in overrides or ():
        key, sep, raw = str(item).partition("=")
        if not sep or not key.strip():
            raise RegdnaError(f"override '{item}' is not of the form section.key=value "
                              f"(e.g. optim.lr=1e-3); see `regdna train --help`.")
        node = nested
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise RegdnaError(f"override '{item}' sets a key below a value.")
        node[parts[-1]] = yaml.safe_load(raw) if raw.strip() else None
    return nested


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _validate(raw: dict, source: str) -> RunConfig:
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in err.errors())
        raise RegdnaError(f"invalid training config ({source}): {problems}. Valid keys are "
                          f"listed in `regdna train --help` and regdna/runs/config.py.") from None


def load_config(path: str | Path | None = None, overrides: list[str] | None = None,
                base: RunConfig | dict | None = None) -> RunConfig:
    """Defaults (or `base`) <- YAML file <- dotted overrides, validated."""
    raw: dict = base.model_dump(mode="json") if isinstance(base, RunConfig) else dict(base or {})
    source = "defaults"
    if path is not None:
        path = Path(path)
        loaded = read_yaml_mapping(
            path, missing=f"config file {path} does not exist.",
            not_mapping=f"{path} must hold a YAML mapping of sections (model, data, optim, "
                        f"scheduler, train, predict).")
        raw = _merge(raw, loaded)
        source = str(path)
    if overrides:
        raw = _merge(raw, parse_overrides(overrides))
        source += " + --set overrides"
    return _validate(raw, source)


def save_config(config: RunConfig, path: str | Path) -> None:
    """Write `config` as YAML to `path` (RUN/config.yaml: `regdna.runs.layout.config_path`)."""
    with atomic_file(path) as handle:
        yaml.safe_dump(config.model_dump(mode="json"), handle, sort_keys=False)


def read_run_config(run_dir: str | Path) -> RunConfig:
    """The validated config of a run dir (RUN/config.yaml); a missing or damaged file is one error."""
    path = config_path(run_dir)
    raw = read_yaml_mapping(
        path, missing=f"{run_dir} is not a regdna run dir (no config.yaml). Train one with "
                      f"`regdna train --data D --model basset --out {run_dir}`.",
        not_mapping=f"{path} must hold a YAML mapping of sections (model, data, ...).",
        fix="train the run again or restore the file")
    return _validate(raw, str(path))


def default_lr(spec: str) -> float:
    """The peak learning rate `optim.lr = null` stands for: 3e-3 for the one-hot CNNs, the
    profile models and kmer-lr, 1e-3 for token models. Measured: at 1e-3 the CNNs stop at chance
    on the decoy grammar before early stopping's patience runs out (bench/model_defaults.py), and
    residualbind-32 on the profile example reaches a validation Pearson's r per window of 0.11
    after 8 epochs at 1e-3 against 0.39 at 3e-3 (Toneyan et al. 2022 used 1e-3 for 100 epochs
    on far more windows)."""
    from regdna.models.spec import CNN_SPECS, PROFILE_SPECS, parse_spec

    family, _ = parse_spec(spec)
    return 3e-3 if family in CNN_SPECS + PROFILE_SPECS or family == "kmer-lr" else 1e-3


def resolve_defaults(config: RunConfig, info: DatasetInfo | None = None) -> RunConfig:
    """The config with the dataset- and model-dependent defaults filled in, as saved in
    RUN/config.yaml: `model.spec` (cnn; residualbind-32 for coverage datasets), `optim.lr`,
    `data.max_shift` (3 bp; the stored margin for coverage datasets) and `data.bin_size` (the
    coverage dataset's)."""
    from regdna.models.spec import DEFAULT_PROFILE_SPEC

    profile = info.profile if info is not None and info.task == "profile" else None
    if config.model.spec is None:
        config.model.spec = DEFAULT_PROFILE_SPEC if profile is not None else "cnn"
    if config.optim.lr is None:
        config.optim.lr = default_lr(config.model.spec)
    if config.data.max_shift is None:
        config.data.max_shift = profile.margin if profile is not None else 3
    if profile is not None and config.data.bin_size is None:
        config.data.bin_size = profile.bin_size
    return config


def default_loss(task: str, regression_loss: str = "mse") -> str:
    """The loss `train.loss = auto` stands for: BCE (binary, multilabel), CE (multiclass), Poisson
    NLL (profiles, Toneyan et al. 2022), else the dataset's regression loss."""
    return {"binary": "bce", "multilabel": "bce", "multiclass": "ce",
            "profile": "poisson"}.get(task, regression_loss)


def dataset_info_of_run(config: RunConfig) -> DatasetInfo:
    """The DatasetInfo a run was trained on, rebuilt from its config (no dataset dir needed)."""
    ref = config.dataset
    if ref.task is None:
        raise RegdnaError("config.yaml has no dataset section (task, labels); was it written by "
                          "`regdna train`?")
    return DatasetInfo(task=ref.task, labels=ref.labels, classes=ref.classes, length=ref.length,
                       regression_loss=ref.regression_loss, profile=ref.profile)


def dataset_dir_of_run(config: RunConfig, data_dir=None) -> Path:
    """`data_dir`, or the dataset dir the run was trained on; one clear error when that one is
    gone (the user passes its new location with --data)."""
    trained_on = Path(config.dataset.path or "")
    data_dir = Path(data_dir) if data_dir is not None else trained_on
    if not (data_dir / "dataset.json").is_file() and data_dir == trained_on:
        raise RegdnaError(f"the dataset {data_dir} the run was trained on is gone; pass its new "
                          f"location with --data.")
    return data_dir
