"""CLI verbs of the models domain: `regdna tokens` (token lengths and the max_length to train
with), a thin layer over `regdna.models.tokens.run_tokens`. Training a transformer is `regdna train --model
tinyformer | hf:<id or dir> --mode probe|mlp|cnn-probe|finetune|lora [--trust-remote-code]`.
"""
from __future__ import annotations

from pathlib import Path
from typing import List

import typer

from regdna.cli import app
from regdna.cli.options import OVERWRITE


def _options(items: list[str]) -> dict:
    """["k=6", "tokenizer=kmer"] -> {"k": 6, "tokenizer": "kmer"} (values parsed as YAML)."""
    import yaml

    from regdna.errors import RegdnaError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise RegdnaError(f"--option '{item}' is not of the form key=value (e.g. k=6)")
        out[key.strip()] = yaml.safe_load(value)
    return out


@app.command("tokens")
def tokens_cmd(
    model: str = typer.Option(..., "--model", "-m", help="Token model: tinyformer or hf:<hub id or "
                                                         "local dir>."),
    data: Path = typer.Option(..., "--data", "-d", help="Dataset dir (from `regdna prepare`)."),
    out: Path = typer.Option(None, "--out", "-o", help="Output dir for tokens.json and tokens.png "
                                                       "(default: tokens-<model> in the working "
                                                       "directory; never inside --data)."),
    split: str = typer.Option("train", "--split", help="Split to measure (train, val or test)."),
    sample: int = typer.Option(100_000, "--sample", help="Random sequences to measure (King et al. "
                                                         "used 100,000); 0 = all."),
    option: List[str] = typer.Option([], "--option", help="Model option key=value, e.g. k=6, "
                                                          "tokenizer=kmer (tinyformer) or max_length=512 "
                                                          "(hf:); repeatable."),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help="Allow a hub tokenizer "
                                                                              "that needs its own code."),
    overwrite: bool = OVERWRITE,
):
    """Token-length distribution (P50/P90/P95/P99, histogram) and the max_length to train with:
    P99 rounded up to a multiple of 8, with the truncation rate it implies
    (as in King et al. n.d.)."""
    from regdna.models.registry import spec_slug
    from regdna.models.tokens import run_tokens

    # the dataset dir is an input: a verb never writes into it unasked
    out = out or Path(f"tokens-{spec_slug(model)}")
    summary = run_tokens(data, model, out, split=split, sample=sample or None,
                         options=_options(option), trust_remote_code=trust_remote_code,
                         overwrite=overwrite)
    typer.echo(f"{model} on {data} ({split}, n={summary['n']}): tokens per sequence "
               f"P50 {summary['p50']:.4g}, P90 {summary['p90']:.4g}, P95 {summary['p95']:.4g}, "
               f"P99 {summary['p99']:.4g}, max {summary['max']}")
    typer.echo(f"recommended max_length = {summary['recommended_max_length']} "
               f"(truncates {100 * summary['truncation_rate']:.2f}% of sequences)")
    if summary["model_limit"] is not None:
        typer.echo(f"model limit {summary['model_limit']} tokens truncates "
                   f"{100 * summary['model_limit_truncation_rate']:.2f}%")
    typer.echo(f"wrote {out}/tokens.json and {out}/tokens.png")
