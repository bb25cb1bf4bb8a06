"""CLI verbs of the evaluation domain: `regdna evaluate`, `regdna robustness`, `regdna predict`,
`regdna compare`."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from regdna.cli import app
from regdna.cli.options import (DEVICE, OVERWRITE, data_option, mc_dropout_option, old_spelling,
                                out_option, rc_option, renamed, run_dirs, run_option, split_option)
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
    whole: Optional[bool] = typer.Option(None, "--whole/--no-whole", help="Coverage datasets: "
                                         "whole-chromosome Pearson r and MSE over the split's "
                                         "chromosomes tiled from the genome, predicted bigWigs "
                                         "in RUN/predictions_<split>/ (default: on when the "
                                         "genome and bigWigs of dataset.json exist)."),
    region: Optional[List[str]] = typer.Option(None, "--region", help="Profile runs: a region "
                                               "chrom:start-end whose window the track figure "
                                               "shows (repeatable; default: the 3 windows with "
                                               "the highest measured coverage)."),
    coverage: float = typer.Option(0.9, "--coverage", help="Level of the split conformal "
                                   "prediction sets (classification) or intervals (regression), "
                                   "calibrated on the val split; label datasets only."),
    mc_dropout: int = mc_dropout_option(),
    device: Optional[str] = DEVICE,
):
    """Metrics with bootstrap intervals (threshold from validation), calibration before and
    after temperature scaling, conformal coverage, evaluation figures, and shortcut
    diagnostics (does the model read sequence or window positions?); on a coverage dataset,
    per-track profile metrics (per window and whole chromosome) or, for a binary run, its
    logits against coverage."""
    from regdna.evaluate.evaluate import run_evaluate

    try:
        sizes = [int(s) for s in shift_sizes.split(",") if s.strip()]
    except ValueError:
        raise RegdnaError(f"--shift-sizes '{shift_sizes}': give a comma list of whole numbers of "
                          f"bp, e.g. 1,2,5,10,20.") from None
    report = run_evaluate(run, split=split, data_dir=data, n_boot=n_boot, figures=figures,
                          device=device, shifts=shifts, shift_sizes=sizes, whole=whole,
                          regions=region or None, coverage=coverage, mc_dropout=mc_dropout)
    keys = ["n", "auroc", "pr_auc", "f1", "f1_at_0_5", "threshold", "ece", "accuracy",
            "pearson", "spearman", "mse", "r2", "pearson_whole"]
    typer.echo(f"{run} [{split}]: {_shown(report, keys)}")
    if "calibration" in report:
        typer.echo(_calibration_line(report["calibration"]))
    if "conformal" in report:
        typer.echo(_conformal_line(report["conformal"]))
    if "members" in report:
        typer.echo(_members_line(report["members"]))
    for track, values in report.get("per_track", {}).items():
        shown = _shown(values, ["pearson", "spearman", "mse", "pearson_whole", "scale", "auroc"])
        typer.echo(f"  {track}: {shown}")
    for track, values in report.get("conversion", {}).get("per_track", {}).items():
        typer.echo(f"  {track} (output {values['output']}, logit vs coverage): "
                   f"{_shown(values, ['pearson', 'spearman', 'pearson_whole'])}")
    for line in [*report.get("shortcuts", {}).get("warnings", []), *report.get("warnings", [])]:
        typer.echo(f"warning: {line}", err=True)


def _calibration_line(calibration: dict) -> str:
    """ECE before -> after temperature scaling, and the temperature(s)."""
    t = calibration["temperature"]
    shown = f"T={t:.3g}" if isinstance(t, float) else \
        f"T={min(t):.3g}..{max(t):.3g} over {len(t)} outputs"
    before, after = calibration["before"], calibration["after"]
    return (f"  calibration: ECE {before['ece']:.4g} -> {after['ece']:.4g}, Brier "
            f"{before['brier']:.4g} -> {after['brier']:.4g}, NLL {before['nll']:.4g} -> "
            f"{after['nll']:.4g} ({shown}, from {calibration['source']})")


def _conformal_line(conformal: dict) -> str:
    """Empirical coverage at the asked level, and the mean set size or interval width."""
    size = f"mean set size {conformal['mean_set_size']:.3g}" if "mean_set_size" in conformal \
        else f"mean width {conformal['mean_width']:.4g}"
    return (f"  conformal {conformal['coverage']:.0%}: empirical coverage "
            f"{conformal['empirical_coverage']:.3f}, {size}")


def _members_line(members: dict) -> str:
    """The ensemble's headline metric beside its members' range, and the mean std."""
    key = next(iter(members["ensemble"]))
    values = [m[key] for m in members["metrics"] if m.get(key) == m.get(key)]
    spread = f"{min(values):.4g}..{max(values):.4g}" if values else "n/a"
    return (f"  {members['n']} {members['kind']}s: {key} {spread}, ensemble "
            f"{members['ensemble'][key]:.4g}; mean std {members['std']['mean']:.3g} "
            f"(Spearman with the error {members['std'].get('spearman_with_error', float('nan')):.3g})")


def _shown(values: dict, keys: list[str]) -> str:
    """key=value for the keys present and not None (floats to 4 significant digits)."""
    return ", ".join(f"{k}={values[k]:.4g}" if isinstance(values[k], float) else f"{k}={values[k]}"
                     for k in keys if values.get(k) is not None)


@app.command("robustness")
def robustness_command(
    run: Path = run_option("Run dir written by `regdna train` (a profile run, or a binary / "
                           "multilabel run scored with its probability)."),
    data: Optional[Path] = data_option("Coverage dataset dir (default: the run's; a binary run "
                                       "needs one: its stored windows carry the margins)."),
    split: str = split_option("Split to score: train, val or test."),
    n_shifts: int = typer.Option(20, "--n-shifts", help="Shifted sub-windows per stored window, "
                                 "offsets evenly spread over +-margin in whole bins."),
    peaks_only: Optional[bool] = typer.Option(None, "--peaks-only/--all-windows", help="Score "
                                              "only windows with a peak of the track (default: "
                                              "when the dataset has peak columns)."),
    figures: bool = typer.Option(True, "--figures/--no-figures", help="Write "
                                 "RUN/figures/robustness_<split>.png."),
    device: Optional[str] = DEVICE,
):
    """Variation score under shifts of the input window (Toneyan et al. 2022): per window, the
    per-bin standard deviation over shifted sub-windows divided by the mean prediction; writes
    RUN/robustness_<split>.json / .tsv and a figure."""
    from regdna.evaluate.robustness import run_robustness

    record = run_robustness(run, data_dir=data, split=split, n_shifts=n_shifts,
                            peaks_only=peaks_only, device=device, figures=figures)
    typer.echo(f"{run} [{split}]: {record['kind']} variation over {record['n']} windows, "
               f"{record['n_shifts']} sub-windows, shared region {record['region_bp']} bp: "
               f"mean {record['mean_variation']:.4g}, median {record['median_variation']:.4g}")
    for track, mean in record["per_track"].items():
        median = record["median_per_track"][track]
        typer.echo(f"  {track}: " + ("no window scored" if mean is None else
                                    f"mean {mean:.4g}, median {median:.4g}"))


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
    mc_dropout: int = mc_dropout_option(),
    device: Optional[str] = DEVICE,
    overwrite: bool = OVERWRITE,
):
    """Stream sequences through a trained model (or a published one, `--run
    <family>:<path>`); write probabilities and calls (and *_std for ensembles, MC dropout)."""
    rc = renamed(ctx, "rc", "rc_average")
    if (fasta is None) == (table is None):
        raise RegdnaError("give exactly one of --fasta or --table.")
    from regdna.evaluate.predict import run_predict

    summary = run_predict(run, out, fasta=fasta, table=table, batch_size=batch_size,
                          chunk_size=chunk_size, rc_average=rc, checkpoint=checkpoint,
                          device=device, overwrite=overwrite, mc_dropout=mc_dropout)
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
