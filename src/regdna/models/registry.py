"""Model specs -> models: `build_model("basset", info, filters=0.5)`.

Specs are strings: `basset`, `deepsea`, `residualbind`, `kmer-lr`, `tinyformer`, and
`hf:<hub id or local path>` (pretrained language models, with a `mode` option). The transformer
builders live in `regdna.models.transformer` and `regdna.models.hf` and are imported only when
asked for, so CNN users never pay for transformers' import time.
"""
from __future__ import annotations

import inspect
from typing import Callable

from regdna.errors import RegdnaError

CNN_SPECS = ("basset", "deepsea", "residualbind")
VALID_SPECS = CNN_SPECS + ("kmer-lr", "tinyformer", "hf:<hub id or local path>")


def n_outputs_for(info) -> int:
    """Number of logits T a model needs for the task in `dataset.json`."""
    if info.task == "multiclass":
        if not info.classes or len(info.classes) < 2:
            raise RegdnaError("dataset.json says task 'multiclass' but lists fewer than 2 classes; "
                              "re-run `regdna prepare` so that `classes` names every class.")
        return len(info.classes)
    if not info.labels:
        raise RegdnaError(f"dataset.json (task '{info.task}') names no label columns; "
                          "re-run `regdna prepare`.")
    if info.task == "binary" and len(info.labels) != 1:
        raise RegdnaError(f"dataset.json says task 'binary' but has {len(info.labels)} labels "
                          f"({', '.join(info.labels)}); use task 'multilabel' for several labels.")
    return len(info.labels)


def _call_builder(builder: Callable, spec: str, n_outputs: int, options: dict):
    accepted = [p for p in inspect.signature(builder).parameters if p != "n_outputs"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise RegdnaError(f"model '{spec}' has no option(s) {', '.join(unknown)}; "
                          f"valid options: {', '.join(accepted)}.")
    return builder(n_outputs, **options)


def check_fits(model, spec: str, info) -> None:
    """A clear error when the dataset's sequence length cannot go through the model."""
    min_length = getattr(model, "min_length", None)
    max_length = getattr(model, "max_length_bp", None)
    if info.length is not None and min_length is not None and info.length < min_length:
        raise RegdnaError(f"model '{spec}' needs sequences of at least {min_length} bp but the "
                          f"dataset has length {info.length}; choose another model (e.g. basset, "
                          f"which accepts any length) or prepare longer windows (--length).")
    if info.length is not None and max_length is not None and info.length > max_length:
        raise RegdnaError(f"model '{spec}' accepts at most {max_length} bp but the dataset has "
                          f"length {info.length}; prepare shorter windows (--length).")


def build_model(spec: str, info, **options):
    """Build the model named by `spec` for the task and labels of `info` (a DatasetInfo).

    Args:
        spec: a model spec (see module docstring).
        info: `DatasetInfo` of the dataset the model will see (task, labels, classes, length).
        **options: model options, e.g. `filters=0.25`, `exp_activation=True` (CNNs), `k=6`
            (kmer-lr), `mode="probe"` (hf:).

    Returns:
        a regdna model (`regdna.models.base`) producing (N, T) logits.
    """
    spec = str(spec).strip()
    if spec in CNN_SPECS:
        from regdna.models.cnn import CNN_BUILDERS

        model = _call_builder(CNN_BUILDERS[spec], spec, n_outputs_for(info), options)
    elif spec == "kmer-lr":
        from regdna.models.kmer import kmer_lr

        model = _call_builder(kmer_lr, spec, n_outputs_for(info), options)
    elif spec == "tinyformer":
        from regdna.models.transformer import build_tinyformer

        model = build_tinyformer(info, **options)
    elif spec.startswith("hf:"):
        from regdna.models.hf import build_hf_model

        model = build_hf_model(spec, info, **options)
    else:
        raise RegdnaError(f"unknown model '{spec}'; valid models: {', '.join(VALID_SPECS)}.")
    check_fits(model, spec, info)
    return model
