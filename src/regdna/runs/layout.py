"""The run dir's layout: where every file of a run lives, and the one reader and writer of each.

No other module opens a run dir's files by name; they call these functions.

RUN/
  config.yaml            the resolved config (`regdna.runs.config`: `read_run_config`, `save_config`)
  fingerprint.json       the dataset files and settings the run started from (`--resume` checks it)
  metrics.csv            one row per validation: epoch, train_loss, val_loss, val_auroc,
                         val_pr_auc, lr, seconds, step (+ val_pearson for regression)
  lr_schedule.csv        step, lr: the learning rate at (nearly) every optimiser step
  checkpoints/best.ckpt  best validation checkpoint; checkpoints/last.ckpt: the latest epoch
                         (an ensemble: best.ckpt holds every member's best weights, `members.<k>.`)
  members/seed<s>/       an ensemble's members (config.yaml model.ensemble = their seeds), each
                         a run dir of this layout; the ensemble's own files are written once
                         every member has finished (no metrics.csv, lr_schedule.csv or last.ckpt)
  threshold.json         {"threshold": float | [float per label] | null, "metric": "f1",
                         "split": "val", "f1": ...}; written last, so a run without it is unfinished
  calibration.json       binary / multi-label / multi-class runs: {"task", "split": "val", "n",
                         "temperature": float | [float per label], "before", "after": {"ece",
                         "brier", "nll"} on validation}, temperature scaling (Guo et al. 2017)
                         fitted at the end of training, just before threshold.json
  ood.npz                out-of-distribution reference (`regdna.evaluate.ood_fit`): Mahalanobis
                         model of the train split's penultimate embeddings, sequence-statistics
                         model (with an order-4 Markov likelihood ratio), flag thresholds (0.99 quantile on val); written before
                         calibration.json
  resources.json         parameter count, seconds per epoch, peak memory
  metrics_<split>.json   `regdna evaluate` of one split (`metrics_<split>_<dataset>.json` for
                         another dataset than the one the run was trained on; every file below
                         named `_<split>` takes the same suffix, `split_suffix`)
  shifts_<split>.tsv     shortcut diagnostics of binary / multi-label runs (`regdna evaluate`)
  predictions_<split>/   profile runs: <track>.bw, the predicted coverage over the tiled
                         whole chromosomes of the split (`regdna evaluate`)
  robustness_<split>.json, robustness_<split>.tsv   `regdna robustness`: the variation score
                         (summary; one row per window and track: id, track, variation)
  figures/               evaluation and training figures (PNG; profile runs add
                         tracks_<split>.png, `regdna robustness` robustness_<split>.png)
  .regdna-output.json    marks the dir as a run dir (`regdna.utils.output`)

Every writer is atomic (`regdna.utils.atomic`); a reader of an optional file returns None (or an
empty value) when the file is absent, and a damaged JSON file is one error naming it.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

from regdna.utils.atomic import atomic_file
from regdna.utils.jsonio import read_json, write_json
from regdna.utils.output import read_marker

RUN_VERB = "train"
CONFIG = "config.yaml"
FINGERPRINT = "fingerprint.json"
METRICS = "metrics.csv"
LR_SCHEDULE = "lr_schedule.csv"
THRESHOLD = "threshold.json"
CALIBRATION = "calibration.json"
RESOURCES = "resources.json"
OOD = "ood.npz"
CHECKPOINTS = "checkpoints"
MEMBERS = "members"
FIGURES = "figures"
PREDICTIONS = "predictions"
ROBUSTNESS = "robustness"
# the first columns of metrics.csv, in this order; other logged values follow alphabetically
METRIC_COLUMNS = ["epoch", "train_loss", "val_loss", "val_auroc", "val_pr_auc", "lr", "seconds", "step"]


# -- paths ----------------------------------------------------------------------------------------
def config_path(run_dir: str | Path) -> Path:
    """RUN/config.yaml."""
    return Path(run_dir) / CONFIG


def fingerprint_path(run_dir: str | Path) -> Path:
    """RUN/fingerprint.json."""
    return Path(run_dir) / FINGERPRINT


def checkpoints_dir(run_dir: str | Path) -> Path:
    """RUN/checkpoints/."""
    return Path(run_dir) / CHECKPOINTS


def checkpoint_file(run_dir: str | Path, name: str = "best") -> Path:
    """RUN/checkpoints/<name>.ckpt (whether or not it exists)."""
    return checkpoints_dir(run_dir) / f"{name}.ckpt"


def member_dir(run_dir: str | Path, seed: int) -> Path:
    """RUN/members/seed<seed>/: the run dir of one member of an ensemble."""
    return Path(run_dir) / MEMBERS / f"seed{seed}"


def figures_dir(run_dir: str | Path) -> Path:
    """RUN/figures/."""
    return Path(run_dir) / FIGURES


def is_run_dir(path: str | Path) -> bool:
    """True for a dir written by `regdna train` (its marker), or by a regdna from before markers
    (no marker, a config.yaml and a checkpoints/ dir: a config.yaml alone is any project's, and
    `train --overwrite` empties a run dir)."""
    path = Path(path)
    if not path.is_dir():
        return False
    marker = read_marker(path)
    if marker is not None:
        return marker.get("verb") == RUN_VERB
    return config_path(path).is_file() and checkpoints_dir(path).is_dir()


# -- JSON files (`regdna.utils.jsonio.read_json`: None when absent) ------------------------------
def write_threshold(run_dir: str | Path, record: dict) -> Path:
    """Write RUN/threshold.json: {"threshold": float | list | None, "metric", "split", "f1"...}."""
    return write_json(Path(run_dir) / THRESHOLD, record)


def read_threshold_record(run_dir: str | Path) -> dict | None:
    """RUN/threshold.json as written by `write_threshold`, or None (an unfinished run)."""
    return read_json(Path(run_dir) / THRESHOLD)


def read_threshold(run_dir: str | Path) -> float | list[float] | None:
    """The validation threshold of a run: a float (binary), one per label (multi-label), or None
    (multi-class, regression, or no threshold.json)."""
    record = read_threshold_record(run_dir)
    return None if record is None else record.get("threshold")


def write_calibration(run_dir: str | Path, record: dict) -> Path:
    """Write RUN/calibration.json: {"task", "split", "n", "temperature", "before", "after"}."""
    return write_json(Path(run_dir) / CALIBRATION, record)


def read_calibration(run_dir: str | Path) -> dict | None:
    """RUN/calibration.json as written by `write_calibration`, or None (a run trained before
    calibration.json existed, or a regression / profile run)."""
    return read_json(Path(run_dir) / CALIBRATION)


def ood_path(run_dir: str | Path) -> Path:
    """RUN/ood.npz (written and read by `regdna.evaluate.ood_fit`)."""
    return Path(run_dir) / OOD


def write_resources(run_dir: str | Path, info: dict) -> Path:
    """Write RUN/resources.json (n_params, seconds_per_epoch, epochs, peak_memory_mb, ...)."""
    return write_json(Path(run_dir) / RESOURCES, info)


def read_resources(run_dir: str | Path) -> dict:
    """RUN/resources.json, or {} when the run has none."""
    return read_json(Path(run_dir) / RESOURCES) or {}


def split_suffix(split: str, data_dir: str | Path, trained_on: str | None) -> str:
    """The name of an evaluated split in file names: <split> on the dataset the run was trained
    on, <split>_<dataset dir name> on another one."""
    same = trained_on is not None and Path(trained_on).resolve() == Path(data_dir).resolve()
    return split if same else f"{split}_{Path(data_dir).name}"


def split_metrics_name(split: str, data_dir: str | Path, trained_on: str | None) -> str:
    """File name of an evaluation: metrics_<split>.json on the dataset the run was trained on,
    metrics_<split>_<dataset dir name>.json on another one."""
    return f"metrics_{split_suffix(split, data_dir, trained_on)}.json"


def write_split_metrics(run_dir: str | Path, name: str, report: dict) -> Path:
    """Write the evaluation `report` as RUN/<name> (a name from `split_metrics_name`)."""
    return write_json(Path(run_dir) / name, report)


def read_split_metrics(run_dir: str | Path, split: str) -> dict | None:
    """RUN/metrics_<split>.json (`split` may carry a dataset suffix: "test_other"), or None."""
    return read_json(Path(run_dir) / f"metrics_{split}.json")


def all_split_metrics(run_dir: str | Path) -> dict[str, dict]:
    """Every evaluation of a run: {"test": {...}, "val": {...}, "test_<dataset>": {...}}."""
    return {path.stem[len("metrics_"):]: read_json(path) or {}
            for path in sorted(Path(run_dir).glob("metrics_*.json"))}


def predictions_dir(run_dir: str | Path, suffix: str) -> Path:
    """RUN/predictions_<suffix>/: a profile run's predicted bigWigs, one per track."""
    return Path(run_dir) / f"{PREDICTIONS}_{suffix}"


def prediction_bigwig_name(track: str) -> str:
    """<track>.bw, the track name made safe for a file name."""
    from regdna.utils.paths import safe_filename

    return f"{safe_filename(track, 80)}.bw"


def prediction_bigwig(run_dir: str | Path, suffix: str, track: str) -> Path:
    """RUN/predictions_<suffix>/<track>.bw: one track's predicted coverage."""
    return predictions_dir(run_dir, suffix) / prediction_bigwig_name(track)


def shifts_table(run_dir: str | Path, suffix: str) -> Path:
    """RUN/shifts_<suffix>.tsv: the shortcut diagnostics' prediction change under shifts."""
    return Path(run_dir) / f"shifts_{suffix}.tsv"


def reliability_figure(run_dir: str | Path, suffix: str) -> Path:
    """RUN/figures/reliability_<suffix>.png: the reliability diagram of `regdna evaluate`."""
    return figures_dir(run_dir) / f"reliability_{suffix}.png"


def tracks_figure(run_dir: str | Path, suffix: str) -> Path:
    """RUN/figures/tracks_<suffix>.png: measured against predicted tracks of a profile run."""
    return figures_dir(run_dir) / f"tracks_{suffix}.png"


def robustness_path(run_dir: str | Path, suffix: str, ext: str = "json") -> Path:
    """RUN/robustness_<suffix>.json (summary) or .tsv (ext="tsv": id, track, variation)."""
    return Path(run_dir) / f"{ROBUSTNESS}_{suffix}.{ext}"


def robustness_figure(run_dir: str | Path, suffix: str) -> Path:
    """RUN/figures/robustness_<suffix>.png: the distribution of variation scores per track."""
    return figures_dir(run_dir) / f"{ROBUSTNESS}_{suffix}.png"


def write_robustness(run_dir: str | Path, suffix: str, record: dict) -> Path:
    """Write RUN/robustness_<suffix>.json: {"split", "kind", "n", "n_shifts", "region_bp",
    "mean_variation", "median_variation", "per_track": {track: mean}, ...}."""
    return write_json(robustness_path(run_dir, suffix), record)


def read_robustness(run_dir: str | Path, split: str) -> dict | None:
    """RUN/robustness_<split>.json (`split` may carry a dataset suffix), or None."""
    return read_json(robustness_path(run_dir, split))


# -- CSV files ------------------------------------------------------------------------------------
def write_history(run_dir: str | Path, rows: list[dict]) -> Path:
    """Write RUN/metrics.csv: one row per validation, METRIC_COLUMNS first (empty cell = none)."""
    path = Path(run_dir) / METRICS
    columns = METRIC_COLUMNS + sorted({k for row in rows for k in row} - set(METRIC_COLUMNS))
    with atomic_file(path, "w") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in columns})
    return path


def _number(text):
    if text is None or text == "":
        return math.nan
    try:
        return float(text)
    except ValueError:
        return text


def read_history(run_dir: str | Path) -> list[dict]:
    """Rows of RUN/metrics.csv with numbers as floats (an empty cell is NaN); [] when absent."""
    path = Path(run_dir) / METRICS
    if not path.is_file():
        return []
    with open(path, newline="") as handle:
        return [{key: _number(value) for key, value in row.items() if key}
                for row in csv.DictReader(handle)]


def write_lr_schedule(run_dir: str | Path, steps: list[list[float]]) -> Path:
    """Write RUN/lr_schedule.csv from [optimiser step, learning rate] pairs."""
    path = Path(run_dir) / LR_SCHEDULE
    with atomic_file(path, "w") as handle:
        handle.write("step,lr\n")
        handle.writelines(f"{int(step)},{lr!r}\n" for step, lr in steps)
    return path


def read_lr_schedule(run_dir: str | Path) -> tuple[list[int], list[float]]:
    """(steps, learning rates) of RUN/lr_schedule.csv; two empty lists when absent."""
    path = Path(run_dir) / LR_SCHEDULE
    steps, rates = [], []
    if path.is_file():
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                steps.append(int(float(row["step"])))
                rates.append(float(row["lr"]))
    return steps, rates
