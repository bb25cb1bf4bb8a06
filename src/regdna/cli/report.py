"""`regdna report`: one self-contained HTML page comparing runs."""
from __future__ import annotations

from pathlib import Path

import typer

from regdna.cli import app
from regdna.cli.options import OVERWRITE


@app.command("report")
def report(
    runs: list[Path] = typer.Argument(None, help="Run dirs to compare (written by `regdna train`, "
                                      "evaluated with `regdna evaluate`)."),
    out: Path = typer.Option(..., "--out", help="HTML file to write (self-contained: inline CSS, embedded PNGs)."),
    extra: list[Path] = typer.Option(None, "--extra", help="Extra output dir whose figures and small "
                                     "summary tables are shown (vep, ism, attribute, motifs ...); repeatable."),
    data: Path = typer.Option(None, "--data", help="Dataset dir to summarise (default: the one each run's config.yaml names)."),
    title: str = typer.Option("regdna report", "--title", help="Page title."),
    max_figures: int = typer.Option(40, "--max-figures", help="At most this many figures per folder."),
    overwrite: bool = OVERWRITE,
):
    """Write ONE HTML page: metrics per split (best highlighted), training curves, the dataset
    summary and every PNG of the runs' figures/ and of each --extra dir, grouped by folder."""
    from regdna.report.report import run_report

    summary = run_report(runs or [], out, extras=extra or [], data=data, title=title,
                         max_figures=max_figures, overwrite=overwrite)
    typer.echo(f"wrote {summary['out']} ({summary['size_bytes'] / 1e6:.1f} MB, {summary['runs']} "
               f"runs, {summary['extras']} extra dirs)")
