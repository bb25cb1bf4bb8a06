"""`regdna report`: one self-contained HTML page comparing runs.

The page holds a metrics table per split (best value per column highlighted), the calibration
and uncertainty of each run (temperature scaling, conformal coverage, ensemble members, OOD
thresholds, reliability diagrams), training curves of all runs on shared axes, the dataset summary, every PNG under each `RUN/figures/` and each
extra output dir (variants, ISM, attributions, motifs ...) grouped by folder, and small summary
tables found in the extra dirs. CSS is inline and figures are embedded as base64 PNG, so the
file can be mailed or archived alone: it loads nothing from the network. What the page shows is
gathered by `regdna.report.collect` and laid out by `regdna.report.page`.

>>> run_report(["runs/basset", "runs/kmer-lr"], "report.html", extras=["variants"])
"""
from __future__ import annotations

from pathlib import Path

from regdna.errors import RegdnaError
from regdna.report.collect import RunSummary, read_dataset, read_run
from regdna.report.page import Page
from regdna.utils.output import check_out_file, output_file


def run_report(runs, out, extras=(), data=None, title: str = "regdna report",
               max_figures: int = 40, overwrite: bool = False) -> dict:
    """`regdna report`: write one self-contained HTML page comparing `runs`.

    Parameters
    ----------
    runs : sequence of path
        Run dirs (from `regdna train`, with `regdna evaluate` outputs when available).
    out : path
        The HTML file to write (atomically); figures are embedded (base64 PNG).
    extras : sequence of path, default ()
        Other output dirs whose PNGs (and small TSV/CSV summaries) are shown, grouped by
        folder: `regdna vep/ism/attribute/motifs/...` outputs.
    data : path, optional
        Dataset dir to summarise; default: the dataset each run's config.yaml names.
    title : str, default "regdna report"
        Page title.
    max_figures : int, default 40
        Figures shown per folder at most (per-sequence plots can be many).
    overwrite : bool, default False
        Replace `out` even when it is not an unchanged earlier report (`regdna.utils.output`:
        an unrelated file is otherwise refused).

    Returns
    -------
    dict
        out (the HTML file), size_bytes (int, its size in bytes), runs (int, number of runs),
        extras (int, number of extra dirs).
    """
    if not runs and not extras:
        raise RegdnaError("regdna report needs at least one run dir or --extra dir.")
    inputs = [*runs, *extras, data]
    check_out_file(out, "report", inputs, overwrite)
    summaries = [read_run(run, max_figures) for run in runs]
    _unique_names(summaries)
    for extra in extras:
        if not Path(extra).is_dir():
            raise RegdnaError(f"--extra {extra} is not a directory; pass an output dir of a regdna "
                              "verb (e.g. the --out of `regdna ism`).")
    datasets = _datasets(summaries, data)
    page = Page(title)
    page.add_overview(summaries)
    page.add_metrics(summaries)
    page.add_uncertainty(summaries)
    page.add_curves(summaries)
    for path, info in datasets:
        page.add_dataset(path, info, max_figures)
    for summary in summaries:
        page.add_figures(f"Figures: {summary.name}", summary.figures, anchor=f"fig-{summary.name}")
    for extra in extras:
        page.add_extra(Path(extra), max_figures)
    with output_file(out, "report", inputs, overwrite) as handle:
        handle.write(page.render())
    out = Path(out)
    return {"out": out, "size_bytes": out.stat().st_size, "runs": len(runs), "extras": len(extras)}


def write_report(runs, out, **options) -> Path:
    """`run_report` (same arguments), returning the HTML file's path."""
    return run_report(runs, out, **options)["out"]


def _unique_names(summaries: list[RunSummary]) -> None:
    """Runs sharing a name get as many parent folders as it takes: 'a/runs/basset', 'b/runs/basset'."""
    for depth in range(1, 8):
        counts: dict[str, int] = {}
        for summary in summaries:
            counts[summary.name] = counts.get(summary.name, 0) + 1
        clashing = [s for s in summaries if counts[s.name] > 1]
        if not clashing:
            return
        for summary in clashing:
            parts = summary.path.resolve().parts
            summary.name = "/".join(parts[-(depth + 1):])
    counts = {}
    for summary in summaries:
        counts[summary.name] = counts.get(summary.name, 0) + 1
    for i, summary in enumerate(summaries, 1):   # the same path given twice
        if counts[summary.name] > 1:
            summary.name = f"{summary.name} ({i})"


def _datasets(summaries: list[RunSummary], data) -> list[tuple[Path, dict]]:
    paths = [Path(data)] if data else []
    if not data:
        for summary in summaries:
            if summary.dataset is not None and summary.dataset not in paths:
                paths.append(summary.dataset)
    found = []
    for path in paths:
        info = read_dataset(path)
        if info is not None:
            found.append((path, info))
        elif data:
            raise RegdnaError(f"--data {path} has no dataset.json; pass a dir written by `regdna prepare`.")
    return found
