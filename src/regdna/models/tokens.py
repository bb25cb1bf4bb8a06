"""`regdna tokens`: how many tokens a model's tokenizer makes of a dataset, and the max_length to
train with (King et al. n.d., §IV.B: P99 rounded up to a multiple of 8, with the truncation it
implies).

Outputs in `out`: `tokens.json` (P50, P90, P95, P99, max, recommended max_length and its
truncation rate, the model's own limit and its truncation rate) and `tokens.png` (histogram).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from regdna.data.dataset import iter_split
from regdna.errors import RegdnaError
from regdna.utils.output import check_out_dir, output_dir

log = logging.getLogger(__name__)


def token_counter(spec: str, options: dict | None = None, trust_remote_code: bool = False):
    """(count(seqs) -> (N,) int array of tokens incl. special tokens, model limit or None)."""
    options = dict(options or {})
    if spec == "tinyformer":
        from regdna.data.dataset import DatasetInfo
        from regdna.models.transformer import build_tinyformer

        # the tokenizer exactly as `regdna train --model tinyformer` with these options builds it
        info = DatasetInfo(task="binary", labels=["y"])
        tok = build_tinyformer(info, **options).tokenizer
        return (lambda seqs: np.array([tok.n_tokens(s) for s in seqs], dtype=np.int64)), \
            tok.max_tokens
    if spec.startswith("hf:"):
        from regdna.models.hf import load_tokens

        tokens = load_tokens(spec, trust_remote_code=trust_remote_code,
                             max_length=options.get("max_length"))
        return tokens.n_tokens, tokens.max_length
    raise RegdnaError(f"model '{spec}' does not use tokens (one-hot models see every base); "
                      "use tinyformer or hf:<hub id or dir>")


def token_lengths(data_dir, spec: str, split: str = "train", sample: int | None = 100_000,
                  options: dict | None = None, trust_remote_code: bool = False,
                  seed: int = 0) -> tuple[np.ndarray, int | None]:
    """Token counts (n,) of up to `sample` random sequences of one split, streaming the split;
    and the model's own token limit (None: no limit)."""
    count, limit = token_counter(spec, options, trust_remote_code)
    rng = np.random.default_rng(seed)
    lengths = []
    seen = 0
    for frame in iter_split(data_dir, split, batch_size=8192, columns=["sequence"]):
        seqs = frame["sequence"].tolist()
        seen += len(seqs)
        lengths.append(count(seqs))
    if not lengths:
        raise RegdnaError(f"split '{split}' of {data_dir} is empty")
    lengths = np.concatenate(lengths)
    if sample is not None and len(lengths) > sample:
        lengths = rng.choice(lengths, size=sample, replace=False)
    return lengths, limit


def summarise(lengths: np.ndarray, limit: int | None, multiple: int = 8) -> dict:
    """Percentiles, recommended max_length (P99 rounded up to `multiple`) and truncation rates."""
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


def plot_histogram(lengths: np.ndarray, summary: dict, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    low, high = int(lengths.min()), int(lengths.max())
    # one bar per token count when the range is narrow, else 60 bins
    bins = np.arange(low - 0.5, high + 1.5) if high - low < 60 else 60
    ax.hist(lengths, bins=bins, color="#4C72B0", edgecolor="white")
    ax.set_xlim(min(low, summary["recommended_max_length"]) - 2,
                max(high, summary["recommended_max_length"]) + 2)
    ax.xaxis.get_major_locator().set_params(integer=True)
    for key, style in (("p50", ":"), ("p99", "--")):
        ax.axvline(summary[key], color="0.3", linestyle=style, label=f"{key.upper()} = {summary[key]:.0f}")
    ax.axvline(summary["recommended_max_length"], color="#C44E52", linewidth=2,
               label=f"max_length = {summary['recommended_max_length']} "
                     f"({100 * summary['truncation_rate']:.2f}% truncated)")
    ax.set_xlabel("tokens per sequence (incl. special tokens)", fontsize=11)
    ax.set_ylabel("sequences", fontsize=11)
    ax.set_title(title, fontsize=12)
    ax.legend(fontsize=9, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def tokens_report(data_dir, spec: str, out, split: str = "train", sample: int | None = 100_000,
                  options: dict | None = None, trust_remote_code: bool = False,
                  overwrite: bool = False) -> dict:
    """Write `tokens.json` and `tokens.png` into `out` (output policy of `regdna.utils.output`,
    checked before any counting); return the summary."""
    check_out_dir(out, "tokens", [data_dir], overwrite)
    lengths, limit = token_lengths(data_dir, spec, split, sample, options, trust_remote_code)
    summary = {"model": spec, "options": dict(options or {}), "data": str(data_dir),
               "split": split, **summarise(lengths, limit)}
    with output_dir(out, "tokens", [data_dir], overwrite) as tmp:
        (tmp / "tokens.json").write_text(json.dumps(summary, indent=2) + "\n")
        plot_histogram(lengths, summary, f"Token lengths: {spec} on {Path(data_dir).name} "
                       f"({split}, n={len(lengths)})", tmp / "tokens.png")
    return summary
