"""CLI verbs of the evaluation domain: `regdna evaluate`, `regdna predict`, `regdna compare`."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from regdna.cli import app
from regdna.cli.options import (DEVICE, OVERWRITE, data_option, old_spelling, out_option, rc_option,
                                renamed, run_dirs, run_option, split_option)
from regdna.errors import RegdnaError


@app.command("evaluate")
def evaluate_command(
    run: Path = run_option("Run dir written by `regdna train`."),
    split: str = split_option("Split to evaluate: train, val or test."),
    data: Optional[Path] = data_option("Evaluate on another dataset dir with the same task and "
                                       "labels (e.g. another cell type)."),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap resamples for the 95% intervals."),
    figures: bool = typer.Option(True, "--figures/--no-figures", help="Write figures under RUN/figures/."),
    shifts: Optional[bool] = typer.Option(None, "--shifts/--no-shifts", help="Shortcut "
                                          "diagnostics on 500 sequences: prediction change under "
                                          "shifts, attribution mass by position (default: on for "
                                          "binary and multilabel one-hot models)."),
    shift_sizes: str = typer.Option("1,2,5,10,20", "--shift-sizes", help="Comma list of shifts "
                                    "in bp for --shifts (each applied as -s and +s)."),
    device: Optional[str] = DEVICE,
):
    """Metrics with bootstrap intervals (threshold from validation), evaluation figures, and
    shortcut diagnostics (does the model read sequence or window positions?)."""
    from regdna.evaluate.evaluate import run_evaluate

    try:
        sizes = [int(s) for s in shift_sizes.split(",") if s.strip()]
    except ValueError:
        raise RegdnaError(f"--shift-sizes '{shift_sizes}': give a comma list of whole numbers of "
                          f"bp, e.g. 1,2,5,10,20.") from None
    report = run_evaluate(run, split=split, data_dir=data, n_boot=n_boot, figures=figures,
                          device=device, shifts=shifts, shift_sizes=sizes)
    keys = ["n", "auroc", "pr_auc", "f1", "f1_at_0_5", "threshold", "ece", "accuracy",
            "pearson", "spearman", "mse", "r2"]
    shown = ", ".join(f"{k}={report[k]:.4g}" if isinstance(report[k], float) else f"{k}={report[k]}"
                      for k in keys if k in report and report[k] is not None)
    typer.echo(f"{run} [{split}]: {shown}")
    for line in report.get("shortcuts", {}).get("warnings", []):
        typer.echo(f"warning: {line}", err=True)


@app.command("predict")
def predict_command(
    ctx: typer.Context,
    run: Path = run_option("Run dir written by `regdna train`."),
    fasta: Optional[Path] = typer.Option(None, "--fasta", help="FASTA file of sequences (plain or gzip)."),
    table: Optional[Path] = typer.Option(None, "--table", help="CSV / TSV / Parquet with a "
                                         "`sequence` column (and optionally `id`)."),
    out: Path = out_option("Output TSV: id, one probability column per output and the "
                           "thresholded call(s); `call` holds the class name when the dataset "
                           "has named classes."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Sequences per forward pass."),
    chunk_size: int = typer.Option(10000, "--chunk-size", help="Sequences read and written per chunk "
                                   "(memory stays flat in the input size)."),
    rc: Optional[bool] = rc_option("Average with the reverse complement (default: the run's "
                                   "predict.rc_average)."),
    rc_average: Optional[bool] = old_spelling("--rc-average/--no-rc-average"),
    checkpoint: str = typer.Option("best", "--checkpoint", help="best, last or a .ckpt path."),
    device: Optional[str] = DEVICE,
    overwrite: bool = OVERWRITE,
):
    """Stream sequences through a trained model; write probabilities and calls."""
    rc = renamed(ctx, "rc", "rc_average")
    if (fasta is None) == (table is None):
        raise RegdnaError("give exactly one of --fasta or --table.")
    from regdna.evaluate.predict import run_predict

    summary = run_predict(run, out, fasta=fasta, table=table, batch_size=batch_size,
                          chunk_size=chunk_size, rc_average=rc, checkpoint=checkpoint,
                          device=device, overwrite=overwrite)
    typer.echo(f"wrote {summary['n']} predictions to {summary['out']}")


@app.command("compare")
def compare_command(
    ctx: typer.Context,
    runs: Optional[List[Path]] = typer.Argument(None, help="Run dirs to compare (each evaluated "
                                                "first); or give them with --run.", show_default=False),
    run: Optional[List[Path]] = typer.Option(None, "--run", help="Run dir to compare "
                                             "(repeatable; adds to the RUNS arguments)."),
    out: Path = out_option("Output dir: comparison.csv, comparison.md and bar charts."),
    split: str = split_option("Comma list of splits to compare (metrics_<split>.json of each "
                              "run; missing ones are evaluated)."),
    splits: Optional[str] = old_spelling("--splits"),
    overwrite: bool = OVERWRITE,
):
    """One table (CSV + Markdown) and bar charts with 95% intervals across runs."""
    split = renamed(ctx, "split", "splits")
    runs = run_dirs(runs, run)
    from regdna.evaluate.compare import run_compare

    summary = run_compare(runs, out, splits=[s.strip() for s in split.split(",") if s.strip()],
                          overwrite=overwrite)
    typer.echo(summary["markdown"])
