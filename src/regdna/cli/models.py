"""CLI verbs of the models domain: `regdna tokens` (token lengths and the max_length to train
with), a thin layer over `regdna.models.tokens.run_tokens`. Training a transformer is `regdna train --model
tinyformer | hf:<id or dir> --mode probe|mlp|cnn-probe|finetune|lora [--trust-remote-code]`.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from regdna.cli import app
from regdna.cli.options import (OVERWRITE, data_option, model_option, n_option, old_spelling, out_option,
                                renamed, set_option, split_option)
from regdna.errors import RegdnaError

_MODEL_OPTIONS = "model.options."


def model_options(items: list[str]) -> dict:
    """["k=6", "model.options.tokenizer=kmer"] -> {"k": 6, "tokenizer": "kmer"} (values parsed as
    YAML; a key may carry the `model.options.` prefix it has in `regdna train --set`)."""
    import yaml

    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if key.startswith(_MODEL_OPTIONS):
            key = key[len(_MODEL_OPTIONS):]
        if not sep or not key:
            raise RegdnaError(f"--set '{item}' is not of the form key=value (e.g. k=6)")
        options[key] = yaml.safe_load(value)
    return options


@app.command("tokens")
def tokens_cmd(
    ctx: typer.Context,
    model: str = model_option("Token model: tinyformer or hf:<hub id or local dir>.", required=True),
    data: Path = data_option("Dataset dir (from `regdna prepare`).", required=True),
    out: Optional[Path] = out_option("Output dir for tokens.json and tokens.png (default: "
                                     "tokens-<model> in the working directory; never inside "
                                     "--data).", default=None),
    split: str = split_option("Split to measure (train, val or test).", default="train"),
    n: int = n_option("Random sequences to measure (King et al. used 100,000); 0 = all.",
                      default=100_000),
    sample: Optional[int] = old_spelling("--sample"),
    set_: List[str] = set_option("Model option key=value, e.g. k=6, tokenizer=kmer (tinyformer) "
                                 "or max_length=512 (hf:); model.options.k=6 as in `regdna train "
                                 "--set` works too; repeatable."),
    option: Optional[List[str]] = old_spelling("--option"),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help="Allow a hub tokenizer "
                                                                              "that needs its own code."),
    overwrite: bool = OVERWRITE,
):
    """Token-length distribution (P50/P90/P95/P99, histogram) and the max_length to train with:
    P99 rounded up to a multiple of 8, with the truncation rate it implies
    (as in King et al. n.d.)."""
    n = renamed(ctx, "n", "sample")
    settings = renamed(ctx, "set_", "option")
    from regdna.models.registry import spec_slug
    from regdna.models.tokens import run_tokens

    # the dataset dir is an input: a verb never writes into it unasked
    out = out or Path(f"tokens-{spec_slug(model)}")
    summary = run_tokens(data, model, out, split=split, sample=n or None,
                         options=model_options(settings or []), trust_remote_code=trust_remote_code,
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
