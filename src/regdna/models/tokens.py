"""`regdna tokens`: how many tokens a model's tokenizer makes of a dataset, and the max_length to
train with (King et al. n.d., §IV.B: P99 rounded up to a multiple of 8, with the truncation it
implies).

Outputs in `out`: `tokens.json` (P50, P90, P95, P99, max, recommended max_length and its
truncation rate, the model's own limit and its truncation rate) and `tokens.png` (histogram,
`regdna.plot.tokens`).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from regdna.data.dataset import iter_split
from regdna.errors import RegdnaError
from regdna.models.registry import token_counter
from regdna.plot.tokens import token_length_histogram
from regdna.utils.output import check_out_dir, output_dir

log = logging.getLogger(__name__)


def token_lengths(data_dir, spec: str, split: str = "train", sample: int | None = 100_000,
                  options: dict | None = None, trust_remote_code: bool = False,
                  seed: int = 0) -> tuple[np.ndarray, int | None]:
    """Token counts of up to `sample` random sequences of one split, streaming the split.

    Parameters
    ----------
    data_dir : path
        dataset dir (`regdna.data.dataset`).
    spec : str
        token model spec ("tinyformer" or "hf:<hub id or dir>").
    split : str
        "train", "val" or "test".
    sample : int or None
        most sequences to keep (random, `seed`); None: all.
    options : dict, optional
        model options (see `regdna.models.registry.token_counter`).
    trust_remote_code : bool
    seed : int

    Returns
    -------
    (lengths, limit)
        (n,) int64 tokens per sequence incl. special tokens, and the model's own token limit
        (None: no limit).
    """
    count, limit = token_counter(spec, options, trust_remote_code)
    rng = np.random.default_rng(seed)
    lengths = [count(frame["sequence"].tolist())
               for frame in iter_split(data_dir, split, batch_size=8192, columns=["sequence"])]
    if not lengths:
        raise RegdnaError(f"split '{split}' of {data_dir} is empty")
    lengths = np.concatenate(lengths)
    if sample is not None and len(lengths) > sample:
        lengths = rng.choice(lengths, size=sample, replace=False)
    return lengths, limit


def summarise(lengths: np.ndarray, limit: int | None, multiple: int = 8) -> dict:
    """Percentiles, recommended max_length (P99 rounded up to `multiple`) and truncation rates.

    Parameters
    ----------
    lengths : (N,) int array
        tokens per sequence.
    limit : int or None
        the model's own token limit (caps the recommendation).
    multiple : int
        the recommendation is a multiple of this (tensor cores like multiples of 8).

    Returns
    -------
    dict
        n, p50, p90, p95, p99, min, max, mean (tokens), recommended_max_length (tokens),
        truncation_rate (fraction truncated at it), model_limit, model_limit_truncation_rate.
    """
    p50, p90, p95, p99 = (float(np.percentile(lengths, q)) for q in (50, 90, 95, 99))
    recommended = int(np.ceil(p99 / multiple) * multiple)
    if limit is not None and recommended > limit:
        log.warning("P99 (%d tokens) is above the model's limit of %d tokens", p99, limit)
        recommended = int(limit)
    return {
        "n": int(len(lengths)), "p50": p50, "p90": p90, "p95": p95, "p99": p99,
        "min": int(lengths.min()), "max": int(lengths.max()), "mean": float(lengths.mean()),
        "recommended_max_length": recommended,
        "truncation_rate": float((lengths > recommended).mean()),
        "model_limit": limit,
        "model_limit_truncation_rate": (float((lengths > limit).mean())
                                        if limit is not None else 0.0),
    }


def run_tokens(data_dir, model_spec: str, out, split: str = "train",
               sample: int | None = 100_000, options: dict | None = None,
               trust_remote_code: bool = False, overwrite: bool = False) -> dict:
    """The `regdna tokens` verb: write `tokens.json` and `tokens.png` into `out`.

    The output policy (`regdna.utils.output`) is checked before any counting.

    Parameters
    ----------
    data_dir : path
        dataset dir (an input: `out` may not be inside it).
    model_spec : str
        "tinyformer" or "hf:<hub id or dir>".
    out : path
        output directory.
    split, sample, options, trust_remote_code : see `token_lengths`.
    overwrite : bool
        replace a foreign `out` (see the output policy).

    Returns
    -------
    dict
        the content of `tokens.json` (model, options, data, split and `summarise`'s keys).
    """
    check_out_dir(out, "tokens", [data_dir], overwrite)
    lengths, limit = token_lengths(data_dir, model_spec, split, sample, options, trust_remote_code)
    summary = {"model": model_spec, "options": dict(options or {}), "data": str(data_dir),
               "split": split, **summarise(lengths, limit)}
    with output_dir(out, "tokens", [data_dir], overwrite) as tmp:
        (tmp / "tokens.json").write_text(json.dumps(summary, indent=2) + "\n")
        token_length_histogram(
            lengths, summary["recommended_max_length"], summary["truncation_rate"],
            tmp / "tokens.png", percentiles={"P50": summary["p50"], "P99": summary["p99"]},
            title=f"Token lengths: {model_spec} on {Path(data_dir).name} ({split}, "
                  f"n={len(lengths)})")
    return summary
