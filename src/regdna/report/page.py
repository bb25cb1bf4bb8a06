"""The HTML page of `regdna report`: sections, tables with the best value per column
highlighted, embedded figures, a table of contents, and the inline CSS.

`Page` is filled section by section (`add_overview`, `add_metrics` with `add_profiles`,
`add_uncertainty`, `add_curves`, `add_dataset`, `add_figures`, `add_extra`) and `render`ed to one self-contained
HTML string: figures are embedded as base64 PNG, the CSS is inline, nothing is loaded from the
network. The figures it embeds are drawn by `regdna.plot` (into a temporary file, then read
back).

Profile runs (coverage tracks) sit in the same metrics tables as binary runs (their means over
tracks: pearson, spearman, mse, pearson_whole, auroc); `add_profiles` adds, per run and split,
the per-track table, the track figure, and the variation score of `regdna robustness` (Toneyan
et al. 2022) of every run that has one. `add_uncertainty` shows, runs side by side, the numbers
`regdna.report.uncertainty` takes from each run (calibration before / after temperature scaling,
conformal coverage, ensemble members, OOD thresholds) with the reliability diagrams.

(Over 400 lines for one reason: it is one page, and about 50 of its lines are the CSS.)
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import math
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from regdna.plot.compare import metric_bars
from regdna.plot.curves import training_curves_compared
from regdna.plot.uncertainty import calibration_bars
from regdna.report import uncertainty as U
from regdna.report.collect import RunSummary, find_figures, read_json, scalar_items, small_tables, \
    summary_files

# metrics where larger is better / smaller is better; others are not ranked
HIGHER = {"auroc", "pr_auc", "f1", "precision", "recall", "specificity", "accuracy", "mcc",
          "pearson", "spearman", "r2", "macro_auroc", "micro_auroc", "macro_pr_auc",
          "micro_pr_auc", "balanced_accuracy", "pearson_whole"}
LOWER = {"ece", "mse", "loss", "brier", "mae", "log_loss", "mse_whole", "mse_whole_scaled"}
# column order of the metrics tables; other scalar keys follow alphabetically
ORDER = ["n", "n_pos", "auroc", "pr_auc", "f1", "precision", "recall", "specificity", "accuracy",
         "threshold", "ece", "macro_auroc", "micro_auroc", "macro_pr_auc", "micro_pr_auc",
         "pearson", "spearman", "mse", "r2"]
# column order of a profile run's per-track table (keys of metrics_<split>.json "per_track")
TRACK_ORDER = ["pearson", "pearson_whole", "spearman", "mse", "auroc", "pr_auc", "mse_whole",
               "mse_whole_scaled", "scale"]


# --- formatting -----------------------------------------------------------------------------

def esc(value) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.3g}"
        if float(value).is_integer() and abs(value) >= 10:
            return f"{int(value):,}"
        return f"{value:.3f}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _img(data: bytes, alt: str) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" alt="{esc(alt)}" loading="lazy">'


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not (
        isinstance(value, float) and math.isnan(value))


def _metric_columns(metrics: list[dict], order: list[str] = ORDER,
                    keep_empty: bool = False) -> list[str]:
    """Numeric keys of `metrics`, those in `order` first; `keep_empty`: also keys of `order`
    whose value is null (a column of '–', e.g. pearson_whole when it was not computed)."""
    keys = set()
    for m in metrics:
        keys |= {k for k, v in m.items() if _is_number(v) or (isinstance(v, float))
                 or (keep_empty and v is None and k in order)}
    keys -= {k for k in keys if k.endswith("_ci95")}
    ordered = [k for k in order if k in keys]
    return ordered + sorted(keys - set(ordered))


def _best(values: list, key: str) -> set[int]:
    base = key.removesuffix("_at_0_5")
    if base not in HIGHER and base not in LOWER:
        return set()
    numbers = [(i, v) for i, v in enumerate(values) if _is_number(v)]
    if len(numbers) < 2:
        return set()
    target = (max if base in HIGHER else min)(v for _, v in numbers)
    return {i for i, v in numbers if v == target}


def _table(header: list[str], rows: list[list[str]], classes: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    return f'<div class="scroll"><table class="{classes}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _header_label(key: str) -> str:
    label = key.replace("_at_0_5", " @0.5").replace("_", " ")
    for word in ("auroc", "pr auc", "ece", "mse", "r2", "f1"):
        label = re.sub(rf"\b{word}\b", word.upper().replace("PR AUC", "PR-AUC"), label)
    return esc(label)


# --- the page -------------------------------------------------------------------------------

class Page:
    def __init__(self, title: str):
        self.title = title
        # (anchor, heading, body, sub-entries of the table of contents as (anchor, label))
        self.sections: list[tuple[str, str, str, list[tuple[str, str]]]] = []

    def section(self, heading: str, body: str, anchor: str | None = None,
                children: list[tuple[str, str]] | None = None) -> None:
        anchor = anchor or _slug(heading)
        taken = {a for a, *_ in self.sections}
        base, i = anchor, 2
        while anchor in taken:
            anchor, i = f"{base}-{i}", i + 1
        self.sections.append((anchor, heading, body, children or []))

    def add_overview(self, summaries: list[RunSummary]) -> None:
        if not summaries:
            return
        rows = []
        for s in summaries:
            epochs = len(s.history)
            best_auroc = max((r.get("val_auroc") for r in s.history if _is_number(r.get("val_auroc"))),
                             default=None)
            seconds = sum(r.get("seconds") for r in s.history if _is_number(r.get("seconds")))
            options = ", ".join(f"{k}={v}" for k, v in s.options.items()) if isinstance(s.options, dict) else ""
            notes = "; ".join(s.missing)
            rows.append([f"<td><b>{esc(s.name)}</b><div class='path'>{esc(s.path)}</div></td>",
                         f"<td><code>{esc(s.spec or '–')}</code>{_ensemble_note(s)}</td>",
                         f"<td>{esc(options or '–')}</td>",
                         f"<td class='num'>{epochs or '–'}</td>",
                         f"<td class='num'>{_fmt(best_auroc) if best_auroc is not None else '–'}</td>",
                         f"<td class='num'>{_fmt(float(seconds)) if epochs else '–'}</td>",
                         f"<td class='num'>{esc(_fmt(s.threshold)) if s.threshold is not None else '–'}</td>",
                         f"<td class='muted'>{esc(notes) or '–'}</td>"])
        header = ["run", "model", "options", "epochs", "best val AUROC", "train seconds",
                  "threshold (val)", "not found"]
        self.section("Runs", _table(header, rows))

    def add_metrics(self, summaries: list[RunSummary]) -> None:
        splits = sorted({split for s in summaries for split in s.metrics},
                        key=lambda sp: (sp != "test", sp != "val", sp))
        if not splits:
            if summaries:
                self.section("Metrics", "<p class='muted'>No <code>metrics_&lt;split&gt;.json</code> "
                             "in any run: run <code>regdna evaluate --run RUN</code>.</p>")
            self.add_profiles(summaries)
            return
        body = ["<p class='muted'>Best value per column in <span class='best'>bold green</span> "
                "(higher is better except ECE and MSE). Intervals are bootstrap 95% CIs; the "
                "threshold is chosen on validation.</p>"]
        for split in splits:
            present = [(s.name, s.metrics[split]) for s in summaries if split in s.metrics]
            columns = _metric_columns([m for _, m in present])
            best = {key: _best([m.get(key) for _, m in present], key) for key in columns}
            rows = []
            for i, (name, m) in enumerate(present):
                cells = [f"<td><b>{esc(name)}</b></td>"]
                for key in columns:
                    value = m.get(key)
                    text = _fmt(value) if value is not None else "–"
                    ci = m.get(f"{key}_ci95")
                    if isinstance(ci, list) and len(ci) == 2:
                        text += f"<div class='ci'>[{esc(_fmt(ci[0]))}, {esc(_fmt(ci[1]))}]</div>"
                    cls = "num best" if i in best[key] else "num"
                    cells.append(f"<td class='{cls}'>{text}</td>")
                rows.append(cells)
            block = [f"<h3 id='metrics-{_slug(split)}'>{esc(split)}</h3>",
                     _table(["run"] + [_header_label(k) for k in columns], rows, "metrics")]
            bars = _drawn(metric_bars, _bars_table(split, present))
            if bars:
                block.append(f"<figure class='wide'>{_img(bars, f'AUROC and PR-AUC on {split}')}"
                             f"<figcaption>AUROC and PR-AUC on {esc(split)}</figcaption></figure>")
            block += self._nested(present)
            body.append("".join(block))
        self.section("Metrics", "".join(body),
                     children=[(f"metrics-{_slug(split)}", split) for split in splits])
        self.add_profiles(summaries)

    @staticmethod
    def _nested(present: list[tuple[str, dict]]) -> list[str]:
        """Per-label / per-class tables of multi-output runs, and the per-track conversion of a
        classifier evaluated on coverage (one table per run)."""
        out = []
        for name, m in present:
            conversion = m.get("conversion")
            for key, per in (("per_label", m.get("per_label")), ("per_class", m.get("per_class")),
                             ("conversion per_track", conversion.get("per_track")
                              if isinstance(conversion, dict) else None)):
                if not isinstance(per, dict) or not per:
                    continue
                track = "track" in key
                columns = _metric_columns([v for v in per.values() if isinstance(v, dict)],
                                          TRACK_ORDER if track else ORDER, keep_empty=track)
                out.append(f"<details><summary>{esc(name)}: {esc(key.replace('_', ' '))} "
                           f"({len(per)})</summary>" + _per_table(per, columns, key.split("_")[-1])
                           + "</details>")
        return out

    def add_profiles(self, summaries: list[RunSummary]) -> None:
        """Profile runs per split: the per-track metrics, the track figure; and the variation
        score (`regdna robustness`) of every run that has one."""
        splits = sorted({split for s in summaries for split in [*s.metrics, *s.robustness]},
                        key=lambda sp: (sp != "test", sp != "val", sp))
        blocks, children = [], []
        for split in splits:
            block = []
            for s in summaries:
                m = s.metrics.get(split) or {}
                if m.get("task") != "profile":
                    continue
                per = m.get("per_track") if isinstance(m.get("per_track"), dict) else {}
                facts = [("bin size (bp)", m.get("bin_size")), ("windows", m.get("n"))]
                whole = m.get("whole") if isinstance(m.get("whole"), dict) else {}
                if whole:
                    facts += [("whole chromosomes", ", ".join(map(str, whole.get("chroms") or []))),
                              ("tiled windows", whole.get("n_windows"))]
                block.append(f"<h4>{esc(s.name)}</h4><dl class='facts'>" + "".join(
                    f"<dt>{esc(k)}</dt><dd>{esc(_fmt(v))}</dd>" for k, v in facts
                    if v not in (None, "")) + "</dl>")
                if per:
                    columns = _metric_columns([v for v in per.values() if isinstance(v, dict)],
                                              TRACK_ORDER, keep_empty=True)
                    block.append(_per_table(per, columns, "track"))
                block.append(_figure(s.split_figures.get(split, {}).get("tracks"),
                                     f"Measured and predicted coverage ({s.name}, {split})"))
            rows, figures = [], []
            for s in summaries:
                record = s.robustness.get(split)
                if record is None:
                    continue
                tracks = record.get("per_track") if isinstance(record.get("per_track"), dict) else {}
                rows.append([f"<td><b>{esc(s.name)}</b></td>"] + [
                    f"<td class='num'>{esc(_fmt(record.get(k)))}</td>" if record.get(k) is not None
                    else "<td class='num'>–</td>"
                    for k in ("kind", "n", "n_shifts", "region_bp", "mean_variation",
                              "median_variation")]
                    + [f"<td>{esc(_track_means(tracks)) or '–'}</td>"])
                figures.append(_figure(s.split_figures.get(split, {}).get("robustness"),
                                       f"Variation scores ({s.name}, {split})"))
            if rows:
                block.append("<h4>Robustness to shifts</h4><p class='muted'>Variation score "
                             "(Toneyan et al. 2022): the standard deviation of predictions over "
                             "shifted windows, averaged over the region they share and divided "
                             "by the mean prediction; lower is more robust.</p>"
                             + _table(["run", "kind", "windows", "shifts", "region (bp)",
                                       "mean variation", "median variation", "mean per track"],
                                      rows) + "".join(figures))
            if block:
                anchor = f"profiles-{_slug(split)}"
                blocks.append(f"<h3 id='{anchor}'>{esc(split)}</h3>" + "".join(block))
                children.append((anchor, split))
        if blocks:
            self.section("Profiles", "".join(blocks), children=children)

    def add_uncertainty(self, summaries: list[RunSummary]) -> None:
        """Calibration and uncertainty, runs side by side (`regdna.report.uncertainty`): per
        split the calibration and conformal numbers, the ECE and coverage bars, the reliability
        diagrams and the ensembles' members; then RUN/calibration.json and the OOD thresholds."""
        runs = U.uncertainty_runs(summaries)
        if not runs:
            return
        splits = sorted({split for s in runs for split in s.metrics},
                        key=lambda sp: (sp != "test", sp != "val", sp))
        body = ["<p class='muted'>Temperature scaling (Guo et al. 2017) is fitted on the val split "
                "at training; ECE, Brier score and NLL are measured on each split before and after "
                "it (lower is better). Conformal sets or intervals (split conformal, Angelopoulos "
                "&amp; Bates 2021) are calibrated on the val split at the level asked for; the "
                "empirical coverage is measured on the split.</p>"]
        children = []
        for split in splits:
            table = U.split_table(runs, split)
            if not table:
                continue
            anchor = f"uncertainty-{_slug(split)}"
            block = [f"<h3 id='{anchor}'>{esc(split)}</h3>", _text_table(table)]
            bars = _drawn(calibration_bars, U.bars_frame(runs, split))
            if bars:
                caption = f"ECE before and after temperature scaling, conformal coverage ({split})"
                block.append(f"<figure class='wide'>{_img(bars, caption)}<figcaption>"
                             f"{esc(caption)}</figcaption></figure>")
            figures = [_figure(s.split_figures[split]["reliability"],
                               f"Reliability ({s.name}, {split})", wide=False)
                       for s in runs if "reliability" in s.split_figures.get(split, {})]
            if figures:
                block.append("<div class='grid'>" + "".join(figures) + "</div>")
            ensembles = U.ensemble_table(runs, split)
            if ensembles:
                block.append("<h4>Ensembles</h4><p class='muted'>Members of a deep ensemble "
                             "(Lakshminarayanan et al. 2017): their range of the metric beside "
                             "the ensemble's, and the mean over sequences of the members' standard "
                             "deviation.</p>" + _text_table(ensembles))
            body.append("".join(block))
            children.append((anchor, split))
        for anchor, label, note, table in (
                ("uncertainty-fit", "Validation (calibration.json)",
                 "The temperature and the scores on the val split it was fitted on.",
                 U.validation_table(runs)),
                ("uncertainty-ood", "Out-of-distribution thresholds (ood.npz)",
                 "A sequence is flagged when the Mahalanobis distance of its embedding (Lee et "
                 "al. 2018) or of its sequence statistics passes the threshold: that quantile of "
                 "the val split's distances.", U.ood_table(runs))):
            body.append(f"<h3 id='{anchor}'>{esc(label)}</h3><p class='muted'>{esc(note)}</p>"
                        + _text_table(table))
            children.append((anchor, label))
        self.section("Calibration and uncertainty", "".join(body), anchor="uncertainty",
                     children=children)

    def add_curves(self, summaries: list[RunSummary]) -> None:
        histories = {s.name: s.history for s in summaries if s.history}
        if not histories:
            return
        png = _drawn(training_curves_compared, histories)
        if png is None:
            return
        self.section("Training curves", f"<figure class='wide'>{_img(png, 'training curves')}"
                     "<figcaption>Loss, validation AUROC and PR-AUC, and learning rate per epoch "
                     "(from each run's metrics.csv)</figcaption></figure>")

    def add_dataset(self, path: Path, info: dict, max_figures: int) -> None:
        parts = []
        facts = [("task", info.get("task")), ("labels", ", ".join(map(str, info.get("labels") or []))),
                 ("length", info.get("length")), ("format version", info.get("format_version"))]
        parts.append("<dl class='facts'>" + "".join(
            f"<dt>{esc(k)}</dt><dd>{esc(_fmt(v))}</dd>" for k, v in facts if v not in (None, "")) + "</dl>")
        splits = info.get("splits") or {}
        if isinstance(splits, dict) and splits:
            classes = sorted({c for v in splits.values() if isinstance(v, dict)
                              for c in (v.get("per_class") or {})})
            rows = []
            for split, values in splits.items():
                values = values if isinstance(values, dict) else {"n": values}
                per = values.get("per_class") or {}
                rows.append([f"<td><b>{esc(split)}</b></td>", f"<td class='num'>{_fmt(values.get('n'))}</td>"]
                            + [f"<td class='num'>{_fmt(per.get(c)) if c in per else '–'}</td>" for c in classes])
            parts.append(_table(["split", "n"] + [f"class {esc(c)}" for c in classes], rows))
        for key, label in (("counts", "Processing counts"), ("qc", "Quality control"),
                           ("provenance", "Provenance")):
            block = info.get(key)
            if isinstance(block, dict) and block:
                items = scalar_items(block)
                if items:
                    rows = [[f"<td>{esc(k)}</td>", f"<td class='num'>{esc(_fmt(v))}</td>"] for k, v in items]
                    opened = " open" if key == "counts" else ""
                    parts.append(f"<details{opened}><summary>{label} ({len(rows)})</summary>"
                                 + _table(["key", "value"], rows, "kv") + "</details>")
        root = path if path.is_dir() else path.parent
        figures, left_out = find_figures(root, "dataset", max_figures)
        anchor = f"data-{_slug(root.name)}"
        parts.append(self._figure_grid(figures, left_out, anchor))
        self.section(f"Dataset: {root.name}", "".join(parts), anchor=anchor,
                     children=_groups(figures, anchor))

    def add_figures(self, heading: str, figures, anchor: str, left_out: int = 0) -> None:
        if figures:
            anchor = _slug(anchor)
            self.section(heading, self._figure_grid(figures, left_out, anchor), anchor=anchor,
                         children=_groups(figures, anchor))

    def add_extra(self, root: Path, max_figures: int) -> None:
        label = root.name or str(root)
        parts = []
        for path, header, rows in small_tables(root):
            parts.append(f"<details open><summary>{esc(path.relative_to(root))}</summary>" + _table(
                [esc(h) for h in header],
                [[f"<td class='{'num' if _looks_numeric(c) else ''}'>{esc(_short(c))}</td>" for c in row]
                 for row in rows]) + "</details>")
        for path in summary_files(root, (".json",)):
            if path.stat().st_size > 200_000:
                continue
            items = scalar_items(read_json(path) or {}, depth=3)[:60]
            if items:
                rows = [[f"<td>{esc(k)}</td>", f"<td class='num'>{esc(_fmt(v))}</td>"] for k, v in items]
                parts.append(f"<details open><summary>{esc(path.relative_to(root))}</summary>"
                             + _table(["key", "value"], rows, "kv") + "</details>")
        figures, left_out = find_figures(root, label, max_figures)
        anchor = f"extra-{_slug(label)}"
        parts.append(self._figure_grid(figures, left_out, anchor))
        if not figures and len(parts) == 1:
            parts = [f"<p class='muted'>No figures or summary tables in {esc(root)}.</p>"]
        self.section(f"{label}", "".join(parts), anchor=anchor, children=_groups(figures, anchor))

    @staticmethod
    def _figure_grid(figures, left_out: int = 0, prefix: str = "") -> str:
        if not figures:
            return ""
        out, group = [], None
        for figure in figures:
            if figure.group != group:
                if group is not None:
                    out.append("</div>")
                group = figure.group
                out.append(f"<h3 class='group' id='{_group_anchor(group, prefix)}'>{esc(group)}</h3>"
                           "<div class='grid'>")
            out.append(f"<figure>{_img(figure.path.read_bytes(), figure.caption)}"
                       f"<figcaption>{esc(figure.caption)}<span class='file'>{esc(figure.path.name)}"
                       "</span></figcaption></figure>")
        out.append("</div>")
        if left_out:
            out.append(f"<p class='muted'>{left_out} more figures not shown (raise --max-figures).</p>")
        return "".join(out)

    def render(self) -> str:
        from regdna._version import __version__

        toc = "".join(
            f"<li><a href='#{esc(anchor)}'>{esc(heading)}</a>"
            + ("<ul>" + "".join(f"<li class='l3'><a href='#{esc(a)}'>{esc(label)}</a></li>"
                                for a, label in children) + "</ul>" if len(children) > 1 else "")
            + "</li>" for anchor, heading, _, children in self.sections)
        body = "".join(f"<section id='{esc(anchor)}'><h2>{esc(heading)}</h2>{content}</section>"
                       for anchor, heading, content, _ in self.sections)
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
                f"<title>{esc(self.title)}</title><style>{CSS}</style></head><body>"
                f"<nav><div class='brand'>{esc(self.title)}</div><ul>{toc}</ul></nav>"
                f"<main><header><h1>{esc(self.title)}</h1><p class='muted'>regdna {esc(__version__)}"
                f" · {stamp}</p></header>{body}</main></body></html>\n")


def _drawn(draw, *args) -> bytes | None:
    """PNG bytes of a `regdna.plot` figure drawn into a temporary file (None: nothing to draw)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = draw(*args, Path(tmp) / "figure.png")
        return path.read_bytes() if path is not None else None


def _per_table(per: dict, columns: list[str], first: str) -> str:
    """A table with one row per label / class / track of `per` ({name: {metric: value}})."""
    rows = [[f"<td>{esc(label)}</td>"] + [
        f"<td class='num'>{_fmt(values.get(k)) if values.get(k) is not None else '–'}</td>"
        for k in columns] for label, values in per.items() if isinstance(values, dict)]
    return _table([esc(first)] + [_header_label(k) for k in columns], rows)


def _track_means(tracks: dict) -> str:
    """{"K562": 0.14, "HepG2": None} -> 'K562 0.140, HepG2 –'."""
    return ", ".join(f"{t} {_fmt(v) if v is not None else '–'}" for t, v in tracks.items())


def _figure(path: Path | None, caption: str, wide: bool = True) -> str:
    """One embedded figure with its caption ("" when there is no file); `wide`: the page's
    width, else a cell of a grid."""
    if path is None:
        return ""
    cls = " class='wide'" if wide else ""
    return (f"<figure{cls}>{_img(path.read_bytes(), caption)}<figcaption>"
            f"{esc(caption)}<span class='file'>{esc(path.name)}</span></figcaption></figure>")


def _ensemble_note(summary: RunSummary) -> str:
    """'ensemble of 3 (seeds 0, 1, 2)' under the model of an ensemble run ("" for one model)."""
    seeds = (summary.ensemble or {}).get("seeds") or []
    return (f"<div class='muted'>ensemble of {len(seeds)} (seeds {esc(', '.join(map(str, seeds)))})"
            "</div>") if seeds else ""


def _text_table(table: U.Table) -> str:
    """A `regdna.report.uncertainty.Table`: a run's cells, or one cell saying why it has none."""
    rows = []
    for name, cells in table.rows:
        first = f"<td><b>{esc(name)}</b></td>"
        if isinstance(cells, str):
            rows.append([first, f"<td colspan='{len(table.header) - 1}' class='muted'>{esc(cells)}</td>"])
        else:
            rows.append([first] + [f"<td class='num'>{esc(c) if c is not None else '–'}</td>"
                                   for c in cells])
    return _table([esc(h) for h in table.header], rows)


def _bars_table(split: str, present: list[tuple[str, dict]]) -> pd.DataFrame:
    """Rows (run, split, auroc, pr_auc and their 95% interval as _lo / _hi) for
    `regdna.plot.compare.metric_bars`, from the metrics of each run on `split`."""
    rows = []
    for name, m in present:
        row = {"run": name, "split": split}
        for key in ("auroc", "pr_auc"):
            row[key] = float(m[key]) if _is_number(m.get(key)) else np.nan
            ci = m.get(f"{key}_ci95")
            if isinstance(ci, list) and len(ci) == 2 and all(_is_number(c) for c in ci):
                row[f"{key}_lo"], row[f"{key}_hi"] = float(ci[0]), float(ci[1])
        rows.append(row)
    return pd.DataFrame(rows)


def _group_anchor(group: str, prefix: str) -> str:
    return f"{prefix}-g-{_slug(group)}"


def _groups(figures, prefix: str) -> list[tuple[str, str]]:
    """Table-of-contents entries for the folders of a figure grid (in display order)."""
    seen: dict[str, None] = {}
    for figure in figures:
        seen.setdefault(figure.group, None)
    return [(_group_anchor(g, prefix), g.split(" / ", 1)[-1] if " / " in g else g) for g in seen]


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _short(text: str, limit: int = 60) -> str:
    if _looks_numeric(text) and "." in text and "e" not in text.lower():
        try:
            return _fmt(float(text))
        except ValueError:
            pass
    return text if len(text) <= limit else text[:limit - 1] + "…"


CSS = """
:root{--ink:#1d2433;--muted:#6b7385;--line:#e3e6ec;--bg:#fafbfc;--accent:#2457c5;--best:#e5f5ea;--bestink:#17653a}
*{box-sizing:border-box}
body{margin:0;font:15px/1.55 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg);display:flex}
nav{position:sticky;top:0;align-self:flex-start;height:100vh;overflow:auto;width:250px;flex:none;padding:22px 16px;border-right:1px solid var(--line);background:#fff}
nav .brand{font-weight:700;font-size:17px;margin-bottom:14px;color:var(--accent)}
nav ul{list-style:none;margin:0;padding:0}
nav li{margin:2px 0}
nav li.l3{padding-left:14px;font-size:13px}
nav a{color:var(--ink);text-decoration:none;display:block;padding:3px 8px;border-radius:6px;font-size:14px}
nav a:hover{background:#eef2fb;color:var(--accent)}
main{flex:1;min-width:0;max-width:1280px;padding:24px 40px 80px}
header h1{margin:0 0 2px;font-size:28px}
section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:8px 24px 20px;margin:22px 0;scroll-margin-top:12px}
h2{font-size:21px;margin:16px 0 10px;padding-bottom:6px;border-bottom:2px solid var(--line)}
h3{font-size:16px;margin:20px 0 8px;color:#33405a}
h4{font-size:14px;margin:16px 0 6px;color:#33405a}
h3.group{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:14px;color:var(--muted)}
.muted{color:var(--muted);font-size:13px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:8px 0 14px;font-size:13.5px;min-width:40%}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#f3f5f9;font-weight:600;white-space:nowrap;position:sticky;top:0}
tbody tr:nth-child(even){background:#fbfcfe}
tbody tr:hover{background:#f1f5ff}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.best{background:var(--best);color:var(--bestink);font-weight:700}
span.best{background:var(--best);color:var(--bestink);font-weight:700;padding:0 4px;border-radius:3px}
.ci{font-size:11px;color:var(--muted);font-weight:400}
.path{font-size:11px;color:var(--muted);font-family:ui-monospace,Menlo,monospace;word-break:break-all}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px;background:#f3f5f9;padding:1px 5px;border-radius:4px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:16px}
figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px}
figure.wide{margin:10px 0;max-width:100%}
figure img{width:100%;height:auto;display:block}
figcaption{font-size:13px;margin-top:6px;color:#33405a}
figcaption .file{display:block;font-size:11px;color:var(--muted);font-family:ui-monospace,Menlo,monospace}
details{margin:8px 0}
summary{cursor:pointer;font-weight:600;font-size:14px;color:#33405a}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;font-size:14px}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0}
@media (max-width:900px){body{display:block}nav{position:static;width:auto;height:auto;border-right:0;border-bottom:1px solid var(--line)}main{padding:16px}}
"""
