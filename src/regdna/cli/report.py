"""`regdna report`: one self-contained HTML page comparing runs."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from regdna.cli import app
from regdna.cli.options import OVERWRITE, data_option, out_option, run_dirs


@app.command("report")
def report(
    runs: Optional[List[Path]] = typer.Argument(None, help="Run dirs to compare (written by "
                                                "`regdna train`, evaluated with `regdna "
                                                "evaluate`); or give them with --run.",
                                                show_default=False),
    run: Optional[List[Path]] = typer.Option(None, "--run", help="Run dir to show (repeatable; "
                                             "adds to the RUNS arguments; a run given twice is "
                                             "shown once)."),
    out: Path = out_option("HTML file to write (self-contained: inline CSS, embedded PNGs)."),
    extra: Optional[List[Path]] = typer.Option(None, "--extra", help="Extra output dir whose figures "
                                               "and small summary tables are shown (vep, ism, "
                                               "attribute, motifs ...); repeatable."),
    data: Optional[Path] = data_option("Dataset dir to summarise (default: the one each run's "
                                       "config.yaml names)."),
    title: str = typer.Option("regdna report", "--title", help="Page title."),
    max_figures: int = typer.Option(40, "--max-figures", help="At most this many figures per folder."),
    overwrite: bool = OVERWRITE,
):
    """Write ONE HTML page: metrics per split (best highlighted), training curves, the dataset
    summary and every PNG of the runs' figures/ and of each --extra dir, grouped by folder."""
    from regdna.report.report import run_report

    summary = run_report(_once(run_dirs(runs, run, required=False)), out, extras=extra or [],
                         data=data, title=title, max_figures=max_figures, overwrite=overwrite)
    typer.echo(f"wrote {summary['out']} ({summary['size_bytes'] / 1e6:.1f} MB, {summary['runs']} "
               f"runs, {summary['extras']} extra dirs)")


def _once(paths: List[Path]) -> List[Path]:
    """`paths` in order, each directory once (the same directory spelled twice, e.g. `runs/a` and
    `./runs/a/`, counts once; the first spelling is kept)."""
    first: dict = {}
    for path in paths:
        first.setdefault(Path(path).resolve(), Path(path))
    return list(first.values())
