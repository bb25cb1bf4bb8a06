"""CLI verbs of the training domain: `regdna train` (`regdna.train.train.run_train`) and `regdna tune`
(`regdna.train.tune.run_tune`): options parsed, the run function called, its summary printed."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from regdna.cli import app
from regdna.cli.options import (OVERWRITE, data_option, model_option, out_option, overwrite_option,
                                seed_option, set_option)


@app.command("train")
def train_command(
    data: Path = data_option("Dataset dir written by `regdna prepare`.", required=True),
    model: Optional[str] = model_option("Model spec: cnn, basset, deepsea, residualbind, "
                                        "cnn-baseline, shallow-cnn, kmer-lr, tinyformer or "
                                        "hf:<hub id or path>; on a coverage dataset "
                                        "residualbind-32, residualbind-base, cnn-baseline, "
                                        "basenji, bpnet or kmer-ridge. Default: model.spec of "
                                        "the config (cnn, chosen by bench/model_defaults.py; "
                                        "residualbind-32 for coverage datasets)."),
    out: Path = out_option("Run dir to write (config.yaml, metrics.csv, checkpoints/, "
                           "threshold.json, resources.json)."),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML config file with sections "
                                          "model, data, optim, scheduler, train, predict."),
    set_: List[str] = set_option("Override one config key, dotted: --set optim.lr=3e-4 --set "
                                 "model.options.filters=0.5 (repeatable; keys in "
                                 "regdna/runs/config.py)."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run from "
                                "OUT/checkpoints/last.ckpt with its saved config (from the "
                                "beginning if it stopped before its first checkpoint). Refused "
                                "when the dataset or the settings changed since it started."),
    overwrite: bool = OVERWRITE,
    monitor: Optional[str] = typer.Option(None, "--monitor", help="Early stopping and best "
                                          "checkpoint on: auroc (default), pr_auc or loss."),
    mode: Optional[str] = typer.Option(None, "--mode", help="Mode of hf: models (probe, mlp, "
                                       "cnn-probe, finetune, lora); same as --set model.options.mode=..."),
    max_epochs: Optional[int] = typer.Option(None, "--max-epochs", help="Shortcut for "
                                             "--set train.max_epochs=N."),
    bin_size: Optional[int] = typer.Option(None, "--bin-size", help="Coverage datasets: bp per "
                                           "output bin (a divisor of the window length; default "
                                           "the dataset's); shortcut for --set data.bin_size=N."),
    devices: Optional[str] = typer.Option(None, "--devices", help="Lightning devices: a number, "
                                          "a comma list of GPU ids, or auto (training's "
                                          "counterpart of --device: --accelerator gpu --devices 1 "
                                          "is like --device cuda)."),
    num_nodes: Optional[int] = typer.Option(None, "--num-nodes", help="Nodes for multi-node DDP."),
    strategy: Optional[str] = typer.Option(None, "--strategy", help="Lightning strategy: auto, "
                                           "ddp, ddp_spawn, fsdp, ..."),
    accelerator: Optional[str] = typer.Option(None, "--accelerator", help="Lightning accelerator: "
                                              "cpu, gpu or auto (with --devices, training's "
                                              "counterpart of --device)."),
    seed: Optional[int] = seed_option("Shortcut for --set train.seed=N.", default=None),
    ensemble: Optional[int] = typer.Option(None, "--ensemble", help="Train a deep ensemble of K "
                                           "members (seeds --seed .. --seed + K - 1) into one "
                                           "run dir: OUT/members/seed<s>/, one after another; "
                                           "every verb that takes --run uses their mean and "
                                           "writes *_std columns."),
    seeds: Optional[str] = typer.Option(None, "--seeds", help="The ensemble members' seeds, "
                                        "e.g. 0,1,2,3,4 (instead of --ensemble K)."),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help="hf: models only: "
                                           "allow a hub model that needs its own code (e.g. NT v2, "
                                           "HyenaDNA); same as --set model.options.trust_remote_code=true."),
):
    """Train a model on a dataset dir and write a run dir.

    Prints one line per epoch when stdout is not a terminal (a progress bar when it is). Ctrl-C
    or SIGTERM stops at the next batch, keeps checkpoints/last.ckpt of the last finished epoch
    and exits with status 130: continue with --resume.
    """
    from regdna.train.callbacks import significant
    from regdna.train.ensemble import ensemble_seeds
    from regdna.train.train import TrainingInterrupted, run_train

    if devices is not None and "," in devices:
        devices = f"[{devices}]"  # "0,1" -> [0, 1] (GPU ids); "2" and "auto" pass as they are
    shortcuts = {"train.monitor": monitor, "model.options.mode": mode,
                 "model.options.trust_remote_code": "true" if trust_remote_code else None,
                 "train.max_epochs": max_epochs, "data.bin_size": bin_size, "train.seed": seed, "train.devices": devices,
                 "train.num_nodes": num_nodes, "train.strategy": strategy,
                 "train.accelerator": accelerator}
    overrides = list(set_) + [f"{key}={value}" for key, value in shortcuts.items()
                              if value not in (None, "")]
    members = ensemble_seeds(ensemble, seeds, base_seed=seed or 0)
    if members:
        overrides.append(f"model.ensemble=[{', '.join(map(str, members))}]")
    try:
        summary = run_train(data, model, out, config=config, overrides=overrides, resume=resume,
                            overwrite=overwrite)
    except TrainingInterrupted as err:
        # status 130 (as for Ctrl-C) for SIGTERM too: the run is unfinished, not wrong
        typer.secho(str(err), err=True)
        raise SystemExit(130) from None
    if summary.get("members"):
        aurocs = [significant((m or {}).get("val_auroc")) for m in summary["members"]]
        typer.echo(f"run {summary['run_dir']}: ensemble of {len(aurocs)} members; best val AUROC "
                   f"per member {', '.join(aurocs)}")
        return
    best = summary["best"]
    auroc = best.get("val_auroc") if best is not None else None
    if best is not None and best.get("val_pearson") is not None and (auroc is None or auroc != auroc):
        typer.echo(f"run {summary['run_dir']}: {summary['epochs']} epochs; best val loss "
                   f"{significant(best.get('val_loss'))} (epoch {int(best['epoch']) + 1}), "
                   f"Pearson r per window {significant(best.get('val_pearson'))}")
    elif best is not None:   # the best epoch in one line, numbers to 4 significant digits
        typer.echo(f"run {summary['run_dir']}: {summary['epochs']} epochs; best val AUROC "
                   f"{significant(best.get('val_auroc'))} (epoch {int(best['epoch']) + 1}), "
                   f"PR-AUC {significant(best.get('val_pr_auc'))}")


@app.command("tune")
def tune_cmd(
    data: Path = data_option("Dataset dir (from `regdna prepare`).", required=True),
    model: str = model_option("Model spec: cnn, basset, tinyformer, hf:<id or dir>, ...", required=True),
    out: Path = out_option("Output dir: best.yaml, trials.tsv, history.png, importance.png, "
                           "study.db (an earlier tune dir is continued).", default=Path("tune")),
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
    set_: List[str] = set_option("Base config override key=value, e.g. "
                                 "model.options.mode=finetune (repeatable)."),
    mode: Optional[str] = typer.Option(None, "--mode", help="hf: models: probe, mlp, cnn-probe, "
                                                            "finetune or lora."),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help="Allow hub models that "
                                                                              "need their own code."),
    seed: int = seed_option("Sampler seed."),
    keep_runs: bool = typer.Option(False, "--keep-runs", help="Keep every trial's run dir (default: "
                                                              "only the best)."),
    overwrite: bool = overwrite_option("Start over: remove what --out holds and the study of that "
                                       "name, even when --out is not a tune output or its study "
                                       "was run with other settings."),
):
    """Optuna search (TPE multivariate + median pruner), resumable from its SQLite study; writes
    the best parameters as a config for `regdna train --config`."""
    from regdna.train.tune import load_space, run_tune, step_budget

    overrides = list(set_)
    if mode:
        overrides.append(f"model.options.mode={mode}")
    if trust_remote_code:
        overrides.append("model.options.trust_remote_code=true")
    if max_steps is None:
        steps, every = step_budget(max_steps, eval_every)
        typer.echo(f"{steps} optimiser steps per trial, validation every {every} "
                   "(--max-steps, --eval-every)")
    summary = run_tune(data, model, out, trials=trials, storage=storage, study_name=study_name,
                       objective=objective, max_steps=max_steps, eval_every=eval_every,
                       train_subsample=train_subsample, val_subsample=val_subsample,
                       space=load_space(space) if space else None, config=config,
                       overrides=overrides, seed=seed, keep_runs=keep_runs, overwrite=overwrite)
    typer.echo(f"study {summary['study_name']}: {summary['complete']} complete, "
               f"{summary['pruned']} pruned, {summary['failed']} failed")
    if summary["best_trial"] is None:
        typer.echo("no trial completed yet")
    else:
        typer.echo(f"best {objective} = {summary['best_value']:.4g} (trial {summary['best_trial']}); "
                   f"config: {summary['best_config']}")
