"""Transformer verbs: `regdna tokens` (token lengths and max_length) and `regdna tune` (Optuna).

Thin layers over `regdna.data.tokens.tokens_report` and `regdna.train.tune.tune`. Training a
transformer is `regdna train --model tinyformer | hf:<id or dir> --mode probe|mlp|cnn-probe|
finetune|lora [--trust-remote-code]`.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

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
    from regdna.data.tokens import tokens_report

    slug = model.replace("hf:", "").strip("/").replace("/", "_")
    # the dataset dir is an input: a verb never writes into it unasked
    out = out or Path(f"tokens-{slug}")
    summary = tokens_report(data, model, out, split=split, sample=sample or None,
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


@app.command("tune")
def tune_cmd(
    data: Path = typer.Option(..., "--data", "-d", help="Dataset dir (from `regdna prepare`)."),
    model: str = typer.Option(..., "--model", "-m", help="Model spec: basset, tinyformer, hf:<id or "
                                                         "dir>, ..."),
    out: Path = typer.Option(Path("tune"), "--out", "-o", help="Output dir: best.yaml, trials.tsv, "
                                                               "history.png, importance.png, study.db "
                                                               "(an earlier tune dir is continued)."),
    trials: int = typer.Option(20, "--trials", "-n", help="Total finished trials wanted in the study "
                                                          "(a re-run continues up to this number)."),
    storage: Optional[str] = typer.Option(None, "--storage", help="Optuna storage URL, e.g. "
                                                                  "sqlite:///study.db (default: "
                                                                  "<out>/study.db)."),
    study_name: Optional[str] = typer.Option(None, "--study-name", help="Study name (default "
                                                                        "regdna-<model>)."),
    objective: str = typer.Option("pr_auc", "--objective", help="Validation objective to maximise: "
                                                                "pr_auc, best_f1 or auroc."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Optimiser steps per trial "
                                            "(default 1000 with a GPU, as in the source study; "
                                            "300 on CPU, about a minute per basset trial)."),
    eval_every: Optional[int] = typer.Option(None, "--eval-every", help="Validate (and report to the "
                                             "pruner) every this many steps (default 200 with a "
                                             "GPU, 100 on CPU; a fifth of --max-steps when that "
                                             "is given)."),
    train_subsample: Optional[int] = typer.Option(None, "--train-subsample", help="Training sequences "
                                                                                  "per trial (default all)."),
    val_subsample: Optional[int] = typer.Option(None, "--val-subsample", help="Validation sequences per "
                                                                              "trial (default all)."),
    space: Optional[Path] = typer.Option(None, "--space", help="YAML search space (config key -> "
                                                               "{type, low, high, log | choices}); "
                                                               "default: the space of King et al."),
    config: Optional[Path] = typer.Option(None, "--config", help="Base training config YAML."),
    set_: List[str] = typer.Option([], "--set", help="Base config override key=value, e.g. "
                                                     "model.options.mode=finetune (repeatable)."),
    mode: Optional[str] = typer.Option(None, "--mode", help="hf: models: probe, mlp, cnn-probe, "
                                                            "finetune or lora."),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help="Allow hub models that "
                                                                              "need their own code."),
    seed: int = typer.Option(0, "--seed", help="Sampler seed."),
    keep_runs: bool = typer.Option(False, "--keep-runs", help="Keep every trial's run dir (default: "
                                                              "only the best)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Start over: remove what --out holds "
                                   "and the study of that name, even when --out is not a tune "
                                   "output or its study was run with other settings."),
):
    """Optuna search (TPE multivariate + median pruner), resumable from its SQLite study; writes
    the best parameters as a config for `regdna train --config`."""
    from regdna.train.tune import load_space, step_budget, tune

    overrides = list(set_)
    if mode:
        overrides.append(f"model.options.mode={mode}")
    if trust_remote_code:
        overrides.append("model.options.trust_remote_code=true")
    if max_steps is None:
        steps, every = step_budget(max_steps, eval_every)
        typer.echo(f"{steps} optimiser steps per trial, validation every {every} "
                   "(--max-steps, --eval-every)")
    study = tune(data, model, out, trials=trials, storage=storage, study_name=study_name,
                 objective=objective, max_steps=max_steps, eval_every=eval_every,
                 train_subsample=train_subsample, val_subsample=val_subsample,
                 space=load_space(space) if space else None, config=config, overrides=overrides,
                 seed=seed, keep_runs=keep_runs, overwrite=overwrite)
    states = [t.state.name for t in study.trials]
    typer.echo(f"study {study.study_name}: {states.count('COMPLETE')} complete, "
               f"{states.count('PRUNED')} pruned, {states.count('FAIL')} failed")
    try:
        typer.echo(f"best {objective} = {study.best_value:.4g} (trial {study.best_trial.number}); "
                   f"config: {out}/best.yaml")
    except ValueError:
        typer.echo("no trial completed yet")
