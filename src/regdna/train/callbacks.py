"""Lightning callbacks of a training run and what it prints.

- `MetricsCSV` and `ResourceMonitor` write the run dir: `metrics.csv` (one row per validation)
  and `resources.json` (parameter count, seconds per epoch, peak memory). Their state (the rows
  so far) is saved inside every checkpoint, so a resumed run continues the same table instead of
  starting a new one.
- `EpochLog` prints one line per epoch (when there is no progress bar) and, after the first
  epoch, the measured time and the projected total.
- `GracefulStop` turns SIGINT / SIGTERM into a stop at the next batch, so the run ends with
  `checkpoints/last.ckpt` of its last finished epoch and a non-zero exit, never as if it had
  finished.
- `quiet_lightning` silences Lightning's banners, tips and known warnings about its own
  internals, which say nothing about the user's run.
"""
from __future__ import annotations

import contextlib
import logging
import math
import resource
import signal
import sys
import threading
import warnings
from pathlib import Path

import lightning as L
import numpy as np
import torch

from lightning.pytorch.plugins.io import TorchCheckpointIO

from regdna.runs.layout import write_history, write_lr_schedule, write_resources
from regdna.utils.atomic import atomic_path


class AtomicCheckpointIO(TorchCheckpointIO):
    """torch.save to a temporary file in the same directory, then os.replace onto the target
    (a kill mid-write leaves the previous checkpoint intact)."""

    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        with atomic_path(path) as tmp:
            torch.save(checkpoint, tmp)


class MetricsCSV(L.Callback):
    """Append the module's validation record to RUN/metrics.csv after every validation (and the
    learning rate per step to RUN/lr_schedule.csv; `regdna.runs.layout` writes both)."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.rows: list[dict] = []
        self.lr_steps: list[list[float]] = []     # [optimiser step, lr] for the schedule figure

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        step = int(trainer.global_step)
        # every step early on, then every 50th: the figure stays exact, the state stays small
        if (step < 2000 or step % 50 == 0) and (not self.lr_steps or self.lr_steps[-1][0] != step):
            self.lr_steps.append([step, float(trainer.optimizers[0].param_groups[0]["lr"])])

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        record = getattr(module, "last_record", None)
        if trainer.sanity_checking or not record:
            return
        self.rows.append(dict(record))
        module.last_record = {}
        if trainer.is_global_zero:
            self.write()

    def write(self) -> None:
        write_history(self.run_dir, self.rows)
        write_lr_schedule(self.run_dir, self.lr_steps)

    def state_dict(self) -> dict:
        return {"rows": [dict(r) for r in self.rows], "lr_steps": [list(x) for x in self.lr_steps]}

    def load_state_dict(self, state_dict: dict) -> None:
        self.rows = [dict(r) for r in state_dict.get("rows", [])]
        self.lr_steps = [list(x) for x in state_dict.get("lr_steps", [])]


def peak_memory_mb(device: torch.device | None = None) -> tuple[float, str]:
    """Peak memory: CUDA allocated bytes on a GPU, else the process's peak resident set size."""
    if device is not None and device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2 ** 20, "cuda_max_allocated"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in kilobytes on Linux, bytes on macOS
    return (rss / 2 ** 20 if sys.platform == "darwin" else rss / 2 ** 10), "process_max_rss"


class ResourceMonitor(L.Callback):
    """Write RUN/resources.json at the end of training: parameters, seconds/epoch, peak memory."""

    def __init__(self, run_dir: str | Path, metrics: MetricsCSV):
        self.run_dir = Path(run_dir)
        self.metrics = metrics

    def on_fit_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if module.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(module.device)

    def on_fit_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        model = module.model
        seconds = [float(r["seconds"]) for r in self.metrics.rows if r.get("seconds") is not None]
        memory, kind = peak_memory_mb(module.device)
        info = {
            "n_params": int(sum(p.numel() for p in model.parameters())),
            "n_trainable_params": int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
            "seconds_per_epoch": float(np.median(seconds)) if seconds else None,
            "epochs": len(self.metrics.rows),
            "peak_memory_mb": round(memory, 1), "memory_kind": kind,
            "device": str(module.device), "world_size": int(trainer.world_size),
            "precision": str(trainer.precision),
        }
        write_resources(self.run_dir, info)


# -- what a run prints ----------------------------------------------------------------------------
def significant(value, digits: int = 4) -> str:
    """A number with `digits` significant digits ('n/a' for a missing or NaN value)."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{float(value):.{digits}g}"


def duration(seconds: float) -> str:
    """'14.2 s', '2.8 min' or '1.5 h'."""
    if seconds < 90:
        return f"{seconds:.3g} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.2g} min"
    return f"{seconds / 3600:.2g} h"


def _say(trainer: L.Trainer, line: str) -> None:
    """Print a line on stdout, above the progress bar when there is one."""
    bar = trainer.progress_bar_callback
    if bar is not None and hasattr(bar, "print"):
        bar.print(line)
    else:
        print(line, flush=True)


class EpochLog(L.Callback):
    """One line per validation (epoch, train loss, val AUROC / PR-AUC, seconds) unless a progress
    bar shows them, and after the first epoch of this process the projected training time."""

    def __init__(self, metrics: MetricsCSV, lines: bool, max_epochs: int, early_stopping: bool,
                 per_epoch: bool = True):
        self.metrics = metrics
        self.lines = lines
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.per_epoch = per_epoch           # False: validations every N steps (tuning)
        self._projected = False

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero or not self.metrics.rows:
            return
        row = self.metrics.rows[-1]
        if self.lines:
            _say(trainer, self.epoch_line(row))
        if self.per_epoch and not self._projected:
            self._projected = True
            _say(trainer, self.projection(row))

    def epoch_line(self, row: dict) -> str:
        where = f"epoch {row['epoch'] + 1}/{self.max_epochs}" if self.per_epoch \
            else f"step {row['step']}"
        scores = f"val AUROC {significant(row.get('val_auroc'))}  " \
                 f"PR-AUC {significant(row.get('val_pr_auc'))}"
        if "val_pearson" in row:
            scores = f"val loss {significant(row.get('val_loss'))}  " \
                     f"Pearson {significant(row['val_pearson'])}"
        return f"{where}  train loss {significant(row.get('train_loss'))}  {scores}  " \
               f"{duration(float(row['seconds']))}"

    def projection(self, row: dict) -> str:
        done = row["epoch"] + 1
        left = self.max_epochs - done
        seconds = float(row["seconds"])
        text = f"epoch {done} took {duration(seconds)}"
        if left <= 0:
            return text
        which = f"{self.max_epochs} epochs" if done == 1 else f"the {left} remaining epochs"
        text += f"; {which} \u2248 {duration(seconds * (left + (done == 1)))} at most"
        return text + (" (early stopping may end sooner)" if self.early_stopping else "")


class Interrupted(Exception):
    """Raised inside the training loop once SIGINT or SIGTERM was received."""


class GracefulStop(L.Callback):
    """SIGINT / SIGTERM stop training at the next batch instead of killing it mid-write.

    The epoch in progress is dropped; `checkpoints/last.ckpt` (written at the end of every epoch,
    atomically) keeps the last finished one, which `--resume` continues exactly. A second signal
    stops at once (KeyboardInterrupt). Lightning's own SIGTERM handler, which ends `fit` as if it
    had succeeded, runs too; `fit` tells the two apart through `signal_name`.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.signal_name: str | None = None

    @contextlib.contextmanager
    def installed(self):
        """Handle the signals inside the block (main thread only: Python's rule for handlers)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.getsignal(s) for s in self.SIGNALS}
        for s in self.SIGNALS:
            signal.signal(s, self._handle)
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _handle(self, signum, frame) -> None:
        if self.signal_name is not None:
            raise KeyboardInterrupt
        self.signal_name = signal.Signals(signum).name

    def _check(self, *args) -> None:
        if self.signal_name is not None:
            raise Interrupted(self.signal_name)

    on_train_batch_end = _check
    on_validation_batch_end = _check
    on_train_epoch_start = _check


# Lightning's messages about itself: device banners, advertising tips, its own deprecations.
_QUIET_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning")
_QUIET_WARNINGS = (r".*LeafSpec.*", r".*module\(s\) in eval mode.*", r".*does not have many workers.*",
                   r".*smaller than the logging interval.*", r".*exists and is not empty.*",
                   r".*GPU available but not used.*")


@contextlib.contextmanager
def quiet_lightning():
    """Inside the block Lightning prints only warnings and errors, minus the known noise."""
    loggers = [logging.getLogger(name) for name in _QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            for pattern in _QUIET_WARNINGS:
                warnings.filterwarnings("ignore", message=pattern)
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
