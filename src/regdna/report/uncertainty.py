"""The numbers of the report's "Calibration and uncertainty" section, one row per run.

From each run (`regdna.report.collect.RunSummary`):
- per evaluated split, the `calibration` section of metrics_<split>.json (temperature scaling,
  Guo et al. 2017: ECE, Brier score and NLL before / after the validation temperature) and its
  `conformal` section (split conformal, Angelopoulos & Bates 2021: the level asked for, the
  empirical coverage, the mean set size or interval width);
- per split, an ensemble's `members` (Lakshminarayanan et al. 2017: the members' seeds and
  metrics, the mean over sequences of the members' spread) beside the ensemble's own AUROC;
- RUN/calibration.json (the same scores on validation, where the temperature was fitted);
- the flag thresholds of RUN/ood.npz (Mahalanobis distance, Lee et al. 2018, and sequence
  statistics).

A run that lacks a piece gets a row saying why ("not computed (trained before calibration.json
existed)") instead of numbers. `regdna.report.page.Page.add_uncertainty` lays the tables out;
every value here is already text, numbers to 3 significant digits (`sig`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from regdna.report.collect import RunSummary

CLASSIFICATION = ("binary", "multilabel", "multiclass")
NOT_EVALUATED = ("not computed (evaluated before the calibration and conformal sections "
                 "existed: rerun `regdna evaluate`)")
NO_CALIBRATION = "not computed (trained before calibration.json existed)"
NO_OOD = "not computed (trained before ood.npz existed)"
REGRESSION = "not applicable (temperature scaling is for classifiers)"


@dataclass
class Table:
    """A table of the section: its header and one row per run, (run name, cells) where cells
    is a list of strings (None = '–') or one string saying why the run has no numbers."""

    header: list[str]
    rows: list[tuple[str, list[str | None] | str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.rows)


def sig(value, digits: int = 3) -> str | None:
    """A number to `digits` significant digits (0.08123 -> '0.0812', 0.9 -> '0.900',
    1234.5 -> '1,234'); None for what is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, int) or abs(value) >= 10 ** digits:
        return f"{value:,.0f}"
    if value != 0 and abs(value) < 1e-4:
        return f"{value:.{digits - 1}e}"
    return f"{value:#.{digits}g}".rstrip(".")


def temperature_text(value) -> str | None:
    """One temperature, or those of a multi-label run: all of them up to 4, else their range."""
    if isinstance(value, list):
        numbers = [v for v in value if sig(v) is not None]
        if not numbers:
            return None
        if len(numbers) <= 4:
            return ", ".join(sig(v) for v in numbers)
        return f"{sig(min(numbers))}–{sig(max(numbers))} ({len(numbers)} outputs)"
    return sig(value)


def task_of(summary: RunSummary) -> str | None:
    """The run's task: config.yaml's, else the first one its metrics record."""
    if summary.task:
        return summary.task
    return next((m.get("task") for m in summary.metrics.values() if m.get("task")), None)


def uncertainty_runs(summaries: list[RunSummary]) -> list[RunSummary]:
    """The runs the section is about: all but profile runs (coverage tracks have no
    calibration, conformal sets or OOD reference)."""
    return [s for s in summaries if task_of(s) != "profile"]


def _scores(record: dict) -> list[str | None]:
    """ECE, Brier, NLL before and after of a `calibration` record."""
    before = record.get("before") if isinstance(record.get("before"), dict) else {}
    after = record.get("after") if isinstance(record.get("after"), dict) else {}
    return [cell for k in ("ece", "brier", "nll") for cell in (sig(before.get(k)), sig(after.get(k)))]


SCORE_HEADER = ["ECE before", "ECE after", "Brier before", "Brier after", "NLL before", "NLL after"]
SPLIT_HEADER = ["temperature", *SCORE_HEADER, "conformal level", "empirical coverage",
                "mean set size", "mean interval width"]


def split_table(summaries: list[RunSummary], split: str) -> Table:
    """Calibration and conformal numbers of every run evaluated on `split`."""
    table = Table(["run", *SPLIT_HEADER])
    for s in summaries:
        m = s.metrics.get(split)
        if m is None:
            continue
        calibration = m.get("calibration") if isinstance(m.get("calibration"), dict) else None
        conformal = m.get("conformal") if isinstance(m.get("conformal"), dict) else None
        if calibration is None and conformal is None:
            table.rows.append((s.name, NOT_EVALUATED))
            continue
        cells = [temperature_text(calibration.get("temperature")), *_scores(calibration)] \
            if calibration else [None] * 7
        conformal = conformal or {}
        cells += [sig(conformal.get("coverage")), sig(conformal.get("empirical_coverage")),
                  sig(conformal.get("mean_set_size")), sig(conformal.get("mean_width"))]
        if calibration is None and task_of(s) in CLASSIFICATION:
            cells[0] = "not computed"
        table.rows.append((s.name, cells))
    return table


def bars_frame(summaries: list[RunSummary], split: str) -> pd.DataFrame:
    """Rows (run, ece_before, ece_after, level, coverage) for
    `regdna.plot.uncertainty.calibration_bars`, NaN where a run has no number."""
    def number(record, *keys):
        for key in keys:
            record = record.get(key) if isinstance(record, dict) else None
        return float(record) if sig(record) is not None else np.nan

    rows = []
    for s in summaries:
        m = s.metrics.get(split)
        if m is None:
            continue
        rows.append({"run": s.name, "ece_before": number(m, "calibration", "before", "ece"),
                     "ece_after": number(m, "calibration", "after", "ece"),
                     "level": number(m, "conformal", "coverage"),
                     "coverage": number(m, "conformal", "empirical_coverage")})
    return pd.DataFrame(rows, columns=["run", "ece_before", "ece_after", "level", "coverage"])


def _member_count(s: RunSummary, members: dict | None) -> int | None:
    seeds = (members or {}).get("seeds") or (members or {}).get("metrics") or \
        (s.ensemble or {}).get("seeds")
    return len(seeds) if seeds else None


def _primary(m: dict, members: list[dict]) -> str | None:
    """AUROC where the run and its members have it, else Pearson r (regression)."""
    for key in ("auroc", "pearson"):
        if sig(m.get(key)) is not None or any(sig(x.get(key)) is not None for x in members):
            return key
    return None


ENSEMBLE_HEADER = ["members", "seeds", "metric", "members: min", "members: max", "ensemble",
                   "mean member std"]


def ensemble_table(summaries: list[RunSummary], split: str) -> Table:
    """Member count, the members' range of the primary metric against the ensemble's, and the
    mean spread, of every run evaluated on `split`; empty when no run is an ensemble."""
    table = Table(["run", *ENSEMBLE_HEADER])
    evaluated = [s for s in summaries if split in s.metrics]
    if not any(isinstance(s.metrics[split].get("members"), dict) or s.ensemble for s in evaluated):
        return table
    for s in evaluated:
        m = s.metrics[split]
        members = m.get("members") if isinstance(m.get("members"), dict) else None
        count = _member_count(s, members)
        if count is None:
            table.rows.append((s.name, "single model"))
            continue
        if members is None:
            table.rows.append((s.name, f"ensemble of {count}: members not computed (evaluated "
                                       "before member metrics existed: rerun `regdna evaluate`)"))
            continue
        per = [x for x in members.get("metrics") or [] if isinstance(x, dict)]
        key = _primary(m, per)
        values = [x[key] for x in per if key and sig(x.get(key)) is not None]
        seeds = members.get("seeds") or (s.ensemble or {}).get("seeds") or []
        std = members.get("std")
        std = std.get("mean") if isinstance(std, dict) else std
        table.rows.append((s.name, [str(count), ", ".join(map(str, seeds)) or None,
                                    {"auroc": "AUROC", "pearson": "Pearson r"}.get(key),
                                    sig(min(values)) if values else None,
                                    sig(max(values)) if values else None,
                                    sig(m.get(key)) if key else None, sig(std)]))
    return table


def validation_table(summaries: list[RunSummary]) -> Table:
    """RUN/calibration.json of every run: n, temperature, the scores on validation."""
    table = Table(["run", "n", "temperature", *SCORE_HEADER])
    for s in summaries:
        record = s.calibration
        if record is None:
            table.rows.append((s.name, REGRESSION if task_of(s) == "regression" else NO_CALIBRATION))
            continue
        table.rows.append((s.name, [sig(record.get("n")), temperature_text(record.get("temperature")),
                                    *_scores(record)]))
    return table


OOD_HEADER = ["embedding threshold", "statistics threshold", "quantile", "train sequences",
              "val sequences", "layer", "pooling", "class means"]


def ood_table(summaries: list[RunSummary]) -> Table:
    """The flag thresholds of RUN/ood.npz and what they were fitted on, for every run."""
    table = Table(["run", *OOD_HEADER])
    for s in summaries:
        if s.ood is None:
            table.rows.append((s.name, NO_OOD))
            continue
        if "error" in s.ood:
            table.rows.append((s.name, f"not read: {s.ood['error']}"))
            continue
        thresholds, meta = s.ood.get("thresholds") or {}, s.ood.get("meta") or {}
        class_means = meta.get("class_means")
        table.rows.append((s.name, [
            sig(thresholds.get("ood_embedding")), sig(thresholds.get("ood_stats")),
            sig(meta.get("quantile")), sig(meta.get("n_train")), sig(meta.get("n_val")),
            str(meta["layer"]) if meta.get("layer") not in (None, "") else None,
            str(meta["pooling"]) if meta.get("pooling") not in (None, "") else None,
            None if class_means is None else ("yes" if class_means else "no")]))
    return table
