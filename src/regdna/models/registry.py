"""Model specs -> models: `build_model("basset", info, filters=0.5)`.

Specs are strings: `basset`, `deepsea`, `residualbind`, `kmer-lr`, `tinyformer`, and
`hf:<hub id or local path>` (pretrained language models, with a `mode` option), read by
`parse_spec` (`regdna.models.spec`, re-exported here). The registry is the only module that
imports the architectures; each is imported only when asked for, so CNN users never pay for
transformers' import time.
"""
from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Callable

import numpy as np

from regdna.errors import RegdnaError
from regdna.models.base import n_outputs_for
from regdna.models.spec import CNN_SPECS, PROFILE_ONLY_SPECS, PROFILE_SPECS, VALID_SPECS, ModelSpec, \
    parse_spec, spec_slug

__all__ = ["CNN_SPECS", "PROFILE_SPECS", "VALID_SPECS", "ModelSpec", "build_model", "check_fits", "parse_spec",
           "spec_slug", "token_counter"]


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


def _profile_model(family: str, spec: str, info, bin_size: int | None, options: dict):
    """A profile model (coverage dataset): builder(n_tracks, length=, bin_size=, **options)."""
    from regdna.data.profiles import check_bin_size
    from regdna.models.profile import PROFILE_BUILDERS

    if family not in PROFILE_SPECS:
        raise RegdnaError(f"model '{spec}' predicts labels, but this is a coverage dataset (task "
                          f"profile); choose a profile model: {', '.join(PROFILE_SPECS)}.")
    if info.length is None:
        raise RegdnaError("a profile model needs windows of one length; re-run `regdna prepare` "
                          "with --length.")
    bin_size = int(bin_size or info.profile.bin_size)
    check_bin_size(info.length, bin_size)
    builder = PROFILE_BUILDERS[family]
    accepted = [p for p in inspect.signature(builder).parameters
                if p not in ("n_outputs", "length", "bin_size")]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise RegdnaError(f"model '{spec}' has no option(s) {', '.join(unknown)}; "
                          f"valid options: {', '.join(accepted)}.")
    return builder(n_outputs_for(info), length=info.length, bin_size=bin_size, **options)


def build_model(spec: str, info, bin_size: int | None = None, **options):
    """Build the model named by `spec` for the task and labels of `info` (a DatasetInfo).

    Parameters
    ----------
    spec : str
        a model spec (see module docstring).
    info : DatasetInfo
        the dataset the model will see (task, labels, classes, length in bp; `profile` for
        coverage datasets, whose models are the profile models).
    bin_size : int, optional
        profile models: bp per output bin (default: the dataset's `profile.bin_size`).
    **options
        model options, e.g. `filters=0.25`, `exp_activation=True` (CNNs), `k=6` (kmer-lr),
        `mode="probe"` (hf:).

    Returns
    -------
    RegdnaModel
        a regdna model (`regdna.models.base`) producing (N, T) logits.
    """
    spec = str(spec).strip()
    family, _ = parse_spec(spec)
    if info.task == "profile":
        model = _profile_model(family, spec, info, bin_size, options)
    elif family in PROFILE_ONLY_SPECS:
        raise RegdnaError(f"model '{spec}' predicts coverage profiles; train it on a coverage "
                          f"dataset (`regdna prepare --bigwig ...`), or choose a label model for "
                          f"this {info.task} dataset (e.g. cnn).")
    elif family in CNN_SPECS:
        from regdna.models.cnn import CNN_BUILDERS

        model = _call_builder(CNN_BUILDERS[family], spec, n_outputs_for(info), options)
    elif family == "kmer-lr":
        from regdna.models.kmer import kmer_lr

        model = _call_builder(kmer_lr, spec, n_outputs_for(info), options)
    elif family == "tinyformer":
        from regdna.models.transformer import build_tinyformer

        model = build_tinyformer(info, **options)
    else:   # "hf"
        from regdna.models.hf import build_hf_model

        model = build_hf_model(spec, info, **options)
    check_fits(model, spec, info)
    return model


def token_counter(spec: str, options: dict | None = None, trust_remote_code: bool = False):
    """How a token model's tokenizer counts, without loading weights.

    Parameters
    ----------
    spec : str
        "tinyformer" or "hf:<hub id or dir>".
    options : dict, optional
        model options as for `build_model` (tokenizer, k, max_tokens (tinyformer);
        max_length (hf:)).
    trust_remote_code : bool
        allow a hub tokenizer that needs its own code.

    Returns
    -------
    (count, limit)
        `count(seqs) -> (N,) int64` tokens per sequence incl. special tokens, and the model's
        own token limit (None: no limit).
    """
    options = dict(options or {})
    family, _ = parse_spec(spec)
    if family == "tinyformer":
        from regdna.models.transformer import build_tinyformer

        # the tokenizer exactly as `regdna train --model tinyformer` with these options builds it
        one_label = SimpleNamespace(task="binary", labels=["y"], classes=None)
        tok = build_tinyformer(one_label, **options).tokenizer
        return (lambda seqs: np.array([tok.n_tokens(s) for s in seqs], dtype=np.int64)), \
            tok.max_tokens
    if family == "hf":
        from regdna.models.hf import load_tokens

        tokens = load_tokens(spec, trust_remote_code=trust_remote_code,
                             max_length=options.get("max_length"))
        return tokens.n_tokens, tokens.max_length
    raise RegdnaError(f"model '{spec}' does not use tokens (one-hot models see every base); "
                      "use tinyformer or hf:<hub id or dir>")
