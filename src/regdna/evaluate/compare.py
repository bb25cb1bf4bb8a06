"""`regdna compare`: one table and bar charts across runs.

For every run and split: AUROC and PR-AUC with their bootstrap 95% intervals, F1 at the
validation threshold and at 0.5, ECE (or Pearson / Spearman / MSE / R2 for regression), plus the
cost of the model from `resources.json`: parameters, seconds per epoch, peak memory. A run that
has no `metrics_<split>.json` yet is evaluated first. Writes `comparison.csv`, `comparison.md`
and `compare_metrics.png` (+ `compare_cost.png`) into the output dir, which follows the output
policy (`regdna.utils.output.output_dir`: a new, empty or earlier `compare` dir, else
`overwrite=True`; never a dir that is or holds one of the runs).
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from regdna.errors import RegdnaError
from regdna.evaluate.evaluate import run_evaluate
from regdna.runs import layout
from regdna.runs.config import read_run_config
from regdna.utils.output import check_out_dir, output_dir

CLASSIFICATION_COLUMNS = ["auroc", "pr_auc", "f1", "f1_at_0_5", "threshold", "ece"]
REGRESSION_COLUMNS = ["pearson", "spearman", "mse", "r2"]
COST_COLUMNS = ["n_params", "seconds_per_epoch", "epochs", "peak_memory_mb"]


def _label(run: Path, runs: list[Path]) -> str:
    names = [r.name for r in runs]
    return run.name if names.count(run.name) == 1 else f"{run.parent.name}/{run.name}"


def comparison_rows(run: Path, label: str, splits: list[str]) -> list[dict]:
    """One row per split of one run (evaluating the split when its metrics file is missing)."""
    config = read_run_config(run)
    resources = layout.read_resources(run)
    rows = []
    for split in splits:
        report = layout.read_split_metrics(run, split)
        if report is None:
            report = run_evaluate(run, split=split)
        row = {"run": label, "model": config.model.spec, "split": split, "n": report.get("n")}
        for key in CLASSIFICATION_COLUMNS + REGRESSION_COLUMNS:
            if key in report:
                row[key] = report[key]
        for key in ("auroc", "pr_auc", "pearson"):
            ci = report.get(f"{key}_ci95")
            if ci:
                row[f"{key}_lo"], row[f"{key}_hi"] = ci
        for key in COST_COLUMNS:
            row[key] = resources.get(key)
        rows.append(row)
    return rows


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) >= 1000 else f"{value:.3f}"
    return str(value)


def markdown_table(table: pd.DataFrame) -> str:
    """A Markdown table: metrics with their 95% interval in brackets, then the costs."""
    columns = ["run", "model", "split", "n"]
    metric_keys = [k for k in ("auroc", "pr_auc", "pearson") if k in table]
    other = [k for k in ("f1", "f1_at_0_5", "threshold", "ece", "spearman", "mse", "r2")
             if k in table]
    header = columns + metric_keys + other + ["params", "s/epoch", "peak MB"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in table.iterrows():
        cells = [_fmt(row[c]) for c in columns]
        for key in metric_keys:
            lo, hi = row.get(f"{key}_lo"), row.get(f"{key}_hi")
            interval = f" [{_fmt(lo)}, {_fmt(hi)}]" if lo is not None and not pd.isna(lo) else ""
            cells.append(_fmt(row[key]) + interval)
        cells += [_fmt(row[k]) for k in other]
        params = row.get("n_params")
        cells += [f"{int(params):,}" if params is not None and not pd.isna(params) else "–",
                  _fmt(row.get("seconds_per_epoch")), _fmt(row.get("peak_memory_mb"))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def run_compare(runs, out, splits=("test",), overwrite: bool = False) -> dict:
    """`regdna compare`: compare run dirs; write comparison.csv, comparison.md and bar charts
    into `out`.

    Parameters
    ----------
    runs : sequence of path
        Run dirs (`regdna train`); a run without `metrics_<split>.json` is evaluated first
        (`run_evaluate`, which writes it into the run dir).
    out : path
        Output dir (`regdna.utils.output` policy), checked before anything is evaluated.
    splits : sequence of str, default ("test",)
        Splits compared (train / val / test).
    overwrite : bool, default False
        Replace `out` even when it is not an earlier `compare` output.

    Returns
    -------
    dict
        out (Path, the output dir), table (pandas DataFrame, one row per run and split: AUROC,
        PR-AUC and their 95% intervals, F1, ECE or the regression metrics, and the cost:
        n_params, seconds_per_epoch, epochs, peak_memory_mb), markdown (str, the table as
        written to comparison.md).
    """
    from regdna.plot.compare import cost_bars, metric_bars   # matplotlib

    runs = [Path(r) for r in runs]
    if not runs:
        raise RegdnaError("compare needs at least one run dir.")
    for run in runs:
        if not layout.config_path(run).is_file():
            raise RegdnaError(f"{run} is not a regdna run dir (no config.yaml).")
    check_out_dir(out, "compare", inputs=runs, overwrite=overwrite)   # before evaluating anything
    rows = [row for run in runs for row in comparison_rows(run, _label(run, runs), list(splits))]
    table = pd.DataFrame(rows)
    markdown = markdown_table(table)
    with output_dir(out, "compare", inputs=runs, overwrite=overwrite) as tmp:
        table.to_csv(tmp / "comparison.csv", index=False)
        (tmp / "comparison.md").write_text(markdown)
        metric_bars(table, tmp / "compare_metrics.png")
        cost_bars(table, tmp / "compare_cost.png")
    return {"out": Path(out), "table": table, "markdown": markdown}
