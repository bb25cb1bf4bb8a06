"""The search space of `regdna tune`: distributions per config key, sampling them for a trial,
and turning a trial's values into config overrides.

A space is a mapping from a config key to a distribution, e.g.

    optim.lr: {type: float, low: 5.0e-6, high: 5.0e-4, log: true}
    scheduler.name: {type: categorical, choices: [cosine, constant]}
    optim.beta2: {type: float, low: 0.98, high: 0.9995}      # sets optim.betas[1]

`default_space(spec, mode)` is the space of King et al. n.d. (learning rate, weight decay, warm-up
ratio, scheduler, batch size with gradient accumulation, dropouts, label smoothing, gradient
clipping, Adam eps and beta2).
"""
from __future__ import annotations

import json

from regdna.errors import RegdnaError
from regdna.models.spec import CNN_SPECS, parse_spec
from regdna.utils.yamlio import read_yaml_mapping


def default_space(spec: str, mode: str | None = None) -> dict:
    """The search space of King et al. n.d., with the dropout options the model has.

    Parameters
    ----------
    spec : a model spec (`regdna.models.spec.parse_spec`; an unknown one is a RegdnaError).
    mode : the `mode` option of an hf: model (finetune and lora also search dropouts).

    Returns
    -------
    dict
        config key -> distribution ({type: float | int | categorical, ...}).
    """
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
    family, _ = parse_spec(spec)
    if family == "tinyformer":
        space["model.options.dropout"] = {"type": "float", "low": 0.0, "high": 0.3}
        space["optim.lr"] = {"type": "float", "low": 1e-4, "high": 5e-3, "log": True}
    elif family == "hf" and mode in ("finetune", "lora"):
        for key in ("hidden_dropout", "attention_dropout", "classifier_dropout"):
            space[f"model.options.{key}"] = {"type": "float", "low": 0.0, "high": 0.15}
    elif family == "hf":
        space["optim.lr"] = {"type": "float", "low": 1e-5, "high": 1e-3, "log": True}
    elif family in CNN_SPECS or family == "kmer-lr":
        # trained from scratch, CNNs need larger steps than a pretrained transformer's 5e-4
        # ceiling: below ~1e-4 basset stays at chance within a CPU trial's budget
        space["optim.lr"] = {"type": "float", "low": 1e-4, "high": 1e-2, "log": True}
    return space


def load_space(path) -> dict:
    """A search space from a YAML file (config key -> distribution)."""
    return read_yaml_mapping(
        path, missing=f"search space file {path} does not exist",
        not_mapping=f"{path} must map config keys to distributions "
                    "(e.g. optim.lr: {type: float, low: 1e-5, high: 1e-3, log: true})")


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
