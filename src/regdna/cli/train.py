"""CLI verbs of the training domain: train, evaluate, predict, compare."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from regdna.cli import app
from regdna.cli.options import OVERWRITE


@app.command("train")
def train_command(
    data: Path = typer.Option(..., "--data", help="Dataset dir written by `regdna prepare`."),
    model: Optional[str] = typer.Option(None, "--model", help="Model spec: basset, deepsea, "
                                        "residualbind, kmer-lr, tinyformer or hf:<hub id or path>. "
                                        "Default: model.spec of the config (basset)."),
    out: Path = typer.Option(..., "--out", help="Run dir to write (config.yaml, metrics.csv, "
                             "checkpoints/, threshold.json, resources.json)."),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML config file with sections "
                                          "model, data, optim, scheduler, train, predict."),
    set_: List[str] = typer.Option([], "--set", help="Override one config key, dotted: "
                                   "--set optim.lr=3e-4 --set model.options.filters=0.5 "
                                   "(repeatable; keys in regdna/train/config.py)."),
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
    devices: Optional[str] = typer.Option(None, "--devices", help="Lightning devices: a number, "
                                          "a comma list of GPU ids, or auto."),
    num_nodes: Optional[int] = typer.Option(None, "--num-nodes", help="Nodes for multi-node DDP."),
    strategy: Optional[str] = typer.Option(None, "--strategy", help="Lightning strategy: auto, "
                                           "ddp, ddp_spawn, fsdp, ..."),
    accelerator: Optional[str] = typer.Option(None, "--accelerator", help="cpu, gpu or auto."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Shortcut for --set train.seed=N."),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help="hf: models only: "
                                           "allow a hub model that needs its own code (e.g. NT v2, "
                                           "HyenaDNA); same as --set model.options.trust_remote_code=true."),
):
    """Train a model on a dataset dir and write a run dir.

    Prints one line per epoch when stdout is not a terminal (a progress bar when it is). Ctrl-C
    or SIGTERM stops at the next batch, keeps checkpoints/last.ckpt of the last finished epoch
    and exits with status 130: continue with --resume.
    """
    from regdna.train.fit import TrainingInterrupted, fit

    if devices is not None and "," in devices:
        devices = f"[{devices}]"  # "0,1" -> [0, 1] (GPU ids); "2" and "auto" pass as they are
    shortcuts = {"train.monitor": monitor, "model.options.mode": mode,
                 "model.options.trust_remote_code": "true" if trust_remote_code else None,
                 "train.max_epochs": max_epochs, "train.seed": seed, "train.devices": devices,
                 "train.num_nodes": num_nodes, "train.strategy": strategy,
                 "train.accelerator": accelerator}
    overrides = list(set_) + [f"{key}={value}" for key, value in shortcuts.items()
                              if value not in (None, "")]
    try:
        run = fit(data, model, out, config=config, overrides=overrides, resume=resume,
                  overwrite=overwrite)
    except TrainingInterrupted as err:
        # status 130 (as for Ctrl-C) for SIGTERM too: the run is unfinished, not wrong
        typer.secho(str(err), err=True)
        raise SystemExit(130) from None
    _print_summary(run)


def _print_summary(run: Path) -> None:
    """The run's best epoch in one line, numbers to 4 significant digits."""
    import csv
    import math

    from regdna.train.callbacks import significant

    path = run / "metrics.csv"
    if not path.is_file():
        return
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return

    def auroc(row) -> float:
        value = float(row["val_auroc"]) if row.get("val_auroc") else math.nan
        return -math.inf if math.isnan(value) else value

    best = max(rows, key=auroc)
    typer.echo(f"run {run}: {len(rows)} epochs; best val AUROC {significant(best['val_auroc'])} "
               f"(epoch {int(best['epoch']) + 1}), PR-AUC {significant(best['val_pr_auc'])}")


@app.command("evaluate")
def evaluate_command(
    run: Path = typer.Option(..., "--run", help="Run dir written by `regdna train`."),
    split: str = typer.Option("test", "--split", help="Split to evaluate: train, val or test."),
    data: Optional[Path] = typer.Option(None, "--data", help="Evaluate on another dataset dir "
                                        "with the same task and labels (e.g. another cell type)."),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap resamples for the 95% intervals."),
    figures: bool = typer.Option(True, "--figures/--no-figures", help="Write figures under RUN/figures/."),
):
    """Metrics with bootstrap intervals (threshold from validation) and evaluation figures."""
    from regdna.evaluate.evaluate import evaluate

    report = evaluate(run, split=split, data_dir=data, n_boot=n_boot, figures=figures)
    keys = ["n", "auroc", "pr_auc", "f1", "f1_at_0_5", "threshold", "ece", "accuracy",
            "pearson", "spearman", "mse", "r2"]
    shown = ", ".join(f"{k}={report[k]:.4g}" if isinstance(report[k], float) else f"{k}={report[k]}"
                      for k in keys if k in report and report[k] is not None)
    typer.echo(f"{run} [{split}]: {shown}")


@app.command("predict")
def predict_command(
    run: Path = typer.Option(..., "--run", help="Run dir written by `regdna train`."),
    fasta: Optional[Path] = typer.Option(None, "--fasta", help="FASTA file of sequences (plain or gzip)."),
    table: Optional[Path] = typer.Option(None, "--table", help="CSV / TSV / Parquet with a "
                                         "`sequence` column (and optionally `id`)."),
    out: Path = typer.Option(..., "--out", help="Output TSV: id, one probability column per "
                             "output and the thresholded call(s); `call` holds the class name "
                             "when the dataset has named classes."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Sequences per forward pass."),
    chunk_size: int = typer.Option(10000, "--chunk-size", help="Sequences read and written per chunk "
                                   "(memory stays flat in the input size)."),
    rc_average: Optional[bool] = typer.Option(None, "--rc-average/--no-rc-average",
                                              help="Average with the reverse complement (default: the run's config)."),
    checkpoint: str = typer.Option("best", "--checkpoint", help="best, last or a .ckpt path."),
    overwrite: bool = OVERWRITE,
):
    """Stream sequences through a trained model; write probabilities and calls."""
    from regdna.errors import RegdnaError
    from regdna.evaluate.predict_file import predict_file

    if (fasta is None) == (table is None):
        raise RegdnaError("give exactly one of --fasta or --table.")
    n = predict_file(run, out, fasta=fasta, table=table, batch_size=batch_size,
                     chunk_size=chunk_size, rc_average=rc_average, checkpoint=checkpoint,
                     overwrite=overwrite)
    typer.echo(f"wrote {n} predictions to {out}")


@app.command("compare")
def compare_command(
    runs: List[Path] = typer.Argument(..., help="Run dirs to compare (each evaluated first)."),
    out: Path = typer.Option(..., "--out", help="Output dir: comparison.csv, comparison.md and bar charts."),
    splits: str = typer.Option("test", "--splits", help="Comma list of splits to compare "
                               "(metrics_<split>.json of each run; missing ones are evaluated)."),
    overwrite: bool = OVERWRITE,
):
    """One table (CSV + Markdown) and bar charts with 95% intervals across runs."""
    from regdna.evaluate.compare import compare

    table = compare(runs, out, splits=[s.strip() for s in splits.split(",") if s.strip()],
                    overwrite=overwrite)
    typer.echo((out / "comparison.md").read_text() if (out / "comparison.md").is_file() else table)
