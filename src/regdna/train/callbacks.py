"""Lightning callbacks that write the run dir: `metrics.csv` (one row per validation) and
`resources.json` (parameter count, seconds per epoch, peak memory: seed 000 Table VI).

Their state (the rows so far) is saved inside every checkpoint, so a resumed run continues the
same table instead of starting a new one.
"""
from __future__ import annotations

import csv
import json
import resource
import sys
from pathlib import Path

import lightning as L
import numpy as np
import torch

from regdna.utils.atomic import atomic_file

METRIC_COLUMNS = ["epoch", "train_loss", "val_loss", "val_auroc", "val_pr_auc", "lr", "seconds", "step"]


class MetricsCSV(L.Callback):
    """Append the module's validation record to RUN/metrics.csv after every validation."""

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / "metrics.csv"
        self.lr_path = Path(run_dir) / "lr_schedule.csv"
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
        columns = METRIC_COLUMNS + sorted({k for row in self.rows for k in row} - set(METRIC_COLUMNS))
        with atomic_file(self.path, "w") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            for row in self.rows:
                writer.writerow({k: row.get(k, "") for k in columns})
        with atomic_file(self.lr_path, "w") as handle:
            handle.write("step,lr\n")
            handle.writelines(f"{int(step)},{lr!r}\n" for step, lr in self.lr_steps)

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
        self.path = Path(run_dir) / "resources.json"
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
        with atomic_file(self.path) as handle:
            json.dump(info, handle, indent=2)
