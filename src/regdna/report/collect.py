"""Gather what a report shows from run dirs, dataset dirs and extra output dirs.

Everything is optional: a run without `metrics_test.json`, without `metrics.csv` or without
figures still yields a `RunSummary` with what is there, and `missing` says what was not. A
profile run's track figures and any run's `robustness_<split>.json` (`regdna robustness`) with
its figure are collected per split, to be shown beside the numbers they illustrate; so are the
reliability diagrams, with the run's RUN/calibration.json, the flag thresholds of RUN/ood.npz
(read by `regdna.evaluate.ood_fit.load_ood`, no pickles) and the ensemble of config.yaml. A run
dir's files are read through the run dir contract (`regdna.runs.layout`, `regdna.runs.config`), a
dataset dir's `dataset.json` through the dataset dir contract (`regdna.data.dataset.load_info`).
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from regdna.data.dataset import load_info
from regdna.errors import RegdnaError
from regdna.runs import layout
from regdna.runs.config import read_run_config
from regdna.utils.jsonio import read_json

__all__ = ["Figure", "RunSummary", "caption_from_name", "find_figures", "read_dataset", "read_json",
           "read_run", "scalar_items", "small_tables", "summary_files"]

FIGURE_SUFFIXES = (".png",)
TABLE_SUFFIXES = (".tsv", ".csv")


@dataclass
class Figure:
    """One PNG to embed: its path, the folder it is grouped under and a readable caption."""

    path: Path
    group: str
    caption: str


@dataclass
class RunSummary:
    """What the report knows about one run dir.

    Attributes:
        metrics: split name ("test", "val", "test_otherdata") -> the metrics_<split>.json dict.
        history: rows of metrics.csv as dicts (epoch, train_loss, val_loss, val_auroc, ...).
        robustness: split name -> the robustness_<split>.json dict.
        split_figures: split name -> {"tracks": path, "robustness": path, "reliability": path}
            of the figures that exist (left out of `figures`, shown with the split's numbers).
        task: the task config.yaml records (None when it records none).
        calibration: RUN/calibration.json, or None (a run trained before it, or not a classifier).
        ood: {"thresholds": {score: value}, "meta": {...}} of RUN/ood.npz, {"error": message}
            when it cannot be read, or None when the run has none.
        ensemble: {"seeds": [...]} of config.yaml's `model.ensemble`, None for a single model.
    """

    name: str
    path: Path
    spec: str = ""
    options: dict = field(default_factory=dict)
    dataset: Path | None = None
    threshold: float | list | None = None
    metrics: dict[str, dict] = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    robustness: dict[str, dict] = field(default_factory=dict)
    split_figures: dict[str, dict[str, Path]] = field(default_factory=dict)
    task: str | None = None
    calibration: dict | None = None
    ood: dict | None = None
    ensemble: dict | None = None


def caption_from_name(name: str) -> str:
    """'roc_curve_test.png' -> 'ROC curve test'; acronyms the field uses stay upper-case."""
    acronyms = {"roc", "pr", "auroc", "auprc", "ism", "gia", "ece", "lr", "cnn", "ig", "lrp",
                "snv", "snvs", "vcf", "gc", "qc", "rc", "ld", "mpra", "jaspar", "pwm", "pwms",
                "ppm", "shap", "dna", "tsv", "id", "ci", "f1", "mse", "umap", "pca", "rollout"}
    words = Path(name).stem.replace("-", " ").replace("_", " ").split()
    shown = []
    for i, word in enumerate(words):
        if word.lower() in acronyms and word.lower() != "rollout":
            shown.append(word.upper())
        elif i == 0:
            shown.append(word[:1].upper() + word[1:])
        else:
            shown.append(word)
    return " ".join(shown) or name


def find_figures(root: Path, label: str, limit: int | None = None,
                 exclude=()) -> tuple[list[Figure], int]:
    """PNGs under `root` (but those in `exclude`), sorted by folder then name; (figures, number
    left out by `limit`).

    Groups are `label` for files directly in `root` and `label / sub/folder` otherwise.
    """
    if not root.is_dir():
        return [], 0
    exclude = set(exclude)
    paths = sorted((p for p in root.rglob("*") if p.suffix.lower() in FIGURE_SUFFIXES and p.is_file()
                    and p not in exclude),
                   key=lambda p: (p.parent.relative_to(root).parts, _natural(p.name)))
    figures: list[Figure] = []
    left_out = 0
    per_group: dict[str, int] = {}
    for path in paths:
        sub = path.parent.relative_to(root).as_posix()
        group = label if sub == "." else f"{label} / {sub}"
        per_group[group] = per_group.get(group, 0) + 1
        if limit is not None and per_group[group] > limit:
            left_out += 1
            continue
        figures.append(Figure(path, group, caption_from_name(path.name)))
    return figures, left_out


def _natural(name: str):
    """Sort key that puts 'seq_2' before 'seq_10'."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def _dataset_path(run: Path, recorded: str | None) -> Path | None:
    """The dataset dir a run's config names (relative paths: from the run dir when it exists)."""
    if not recorded:
        return None
    path = Path(recorded)
    return path if path.is_absolute() else (run / path if (run / path).exists() else path)


def read_run(path: str | Path, max_figures: int | None = None) -> RunSummary:
    """Collect one run dir: config, threshold, metrics_*.json, metrics.csv and figures/."""
    path = Path(path)
    if not path.is_dir():
        raise RegdnaError(f"run dir {path} does not exist; pass directories written by `regdna train`.")
    summary = RunSummary(name=path.name, path=path)
    if layout.config_path(path).is_file():
        config = read_run_config(path)
        summary.spec = config.model.spec
        summary.options = dict(config.model.options)
        summary.dataset = _dataset_path(path, config.dataset.path)
        summary.task = config.dataset.task
        summary.ensemble = _ensemble(config)
    else:
        summary.missing.append(layout.CONFIG)
    summary.threshold = layout.read_threshold(path)
    summary.calibration = layout.read_calibration(path)
    summary.ood = _ood(path)
    summary.metrics = layout.all_split_metrics(path)
    if "test" not in summary.metrics:
        summary.missing.append("metrics_test.json (run `regdna evaluate`)")
    summary.history = layout.read_history(path)
    if not summary.history and summary.ensemble is None:   # an ensemble's are its members'
        summary.missing.append(layout.METRICS)
    summary.robustness = _robustness(path)
    summary.split_figures = _split_figures(path, [*summary.metrics, *summary.robustness])
    shown = {p for figures in summary.split_figures.values() for p in figures.values()}
    summary.figures, left_out = find_figures(layout.figures_dir(path), layout.FIGURES, max_figures,
                                             exclude=shown)
    if left_out:
        summary.missing.append(f"{left_out} more figures not shown (--max-figures)")
    return summary


def _ensemble(config) -> dict | None:
    """config.yaml's `model.ensemble` (the members' seeds) as {"seeds": [...]}; None for a single
    model or a config from before ensembles."""
    ensemble = getattr(config.model, "ensemble", None)
    if isinstance(ensemble, (list, tuple)):
        ensemble = {"seeds": list(ensemble)}
    return ensemble if isinstance(ensemble, dict) and ensemble else None


def _ood(run: Path) -> dict | None:
    """The flag thresholds and fit facts of RUN/ood.npz; a damaged file is a note, not an error
    (the page still renders)."""
    from regdna.evaluate.ood_fit import load_ood

    try:
        scorer = load_ood(run)
    except RegdnaError as err:
        return {"error": str(err)}
    return None if scorer is None else {"thresholds": dict(scorer.thresholds),
                                        "meta": dict(scorer.meta)}


def _robustness(run: Path) -> dict[str, dict]:
    """Every RUN/robustness_<split>.json: {split: record}."""
    pattern = layout.robustness_path(run, "*")
    prefix = len(layout.robustness_path(run, "").stem)
    return {path.stem[prefix:]: layout.read_robustness(run, path.stem[prefix:]) or {}
            for path in sorted(pattern.parent.glob(pattern.name))}


def _split_figures(run: Path, splits) -> dict[str, dict[str, Path]]:
    """The track, robustness and reliability figures of each split that exist."""
    found = {}
    for split in dict.fromkeys(splits):
        figures = {kind: path for kind, path in (("tracks", layout.tracks_figure(run, split)),
                                                 ("robustness", layout.robustness_figure(run, split)),
                                                 ("reliability", layout.reliability_figure(run, split)))
                   if path.is_file()}
        if figures:
            found[split] = figures
    return found


def read_dataset(path: str | Path) -> dict | None:
    """The `DatasetInfo` of a dataset dir (or of its dataset.json) as a dict, or None when there
    is no dataset.json; a dataset.json of another format is one error (`load_info`)."""
    path = Path(path)
    data_dir = path if path.is_dir() else path.parent
    if not (data_dir / "dataset.json").is_file():
        return None
    return load_info(data_dir).model_dump(mode="json")


def summary_files(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Files with `suffixes` directly in `root` or one folder below (verb outputs nest one level)."""
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_file() and p.suffix.lower() in suffixes]
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        found += [p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in suffixes]
    return sorted(found, key=lambda p: (len(p.relative_to(root).parts), p.as_posix()))


def small_tables(root: Path, max_rows: int = 30, max_cols: int = 14,
                 max_total_rows: int = 100) -> list[tuple[Path, list[str], list[list[str]]]]:
    """Summary TSV/CSV tables of an output dir: (path, header, rows).

    Only tables of at most `max_total_rows` rows are summaries (per-record tables such as
    per-variant scores are left to the figures); the first `max_rows` rows are shown.
    """
    tables = []
    for path in summary_files(root, TABLE_SUFFIXES):
        if path.stat().st_size > 500_000:
            continue
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        with open(path, newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            body = list(reader)
        if not header or len(body) > max_total_rows:
            continue
        rows = [row[:max_cols] for row in body[:max_rows]]
        if len(body) > max_rows:
            rows.append(["…"] * min(len(header), max_cols))
        tables.append((path, header[:max_cols], rows))
    return tables


def scalar_items(mapping: dict, prefix: str = "", depth: int = 2) -> list[tuple[str, object]]:
    """Flatten nested dicts into (dotted key, scalar) pairs, at most `depth` levels deep."""
    items = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and depth > 1:
            items += scalar_items(value, f"{name}.", depth - 1)
        elif isinstance(value, (int, float, str, bool)) or value is None:
            items.append((name, value))
        elif isinstance(value, list) and len(value) <= 6 and all(
                isinstance(v, (int, float, str)) for v in value):
            items.append((name, value))
    return items
