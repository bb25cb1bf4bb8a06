"""The LightningModule that trains any regdna model: loss, augmentation, optimiser, schedule and
the validation summary (loss, AUROC, PR-AUC) computed once over the whole validation set.

Validation logits are kept in small CPU buffers and reduced at the end (the streaming
metrics of King et al. n.d.: the global AUROC and PR-AUC, not a mean of per-batch values).
Under DDP the buffers of all processes are gathered first, so every process logs the same numbers.
Profile models (coverage datasets) are augmented in the collate function, where the targets move
with the input (`regdna.data.profiles`); their validation keeps running sums only (loss and the
per-sequence Pearson's r of every track), so memory does not grow with the profile length.
"""
from __future__ import annotations

import math
import random
import time

import lightning as L
import numpy as np
import torch

from regdna.data.augment import augment_onehot
from regdna.evaluate.metrics import validation_scores
from regdna.models.base import activate
from regdna.runs.config import RunConfig
from regdna.train.losses import compute_loss, profile_loss, profile_pearson_r


def cosine_with_warmup(total_steps: int, warmup_steps: int, min_ratio: float = 0.0):
    """lr multiplier per optimiser step: linear warm-up from ~0 to 1, then cosine to min_ratio."""
    total_steps = max(1, total_steps)

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


class RegdnaModule(L.LightningModule):
    """Wraps a regdna model (`regdna.models.base`) for training.

    Args:
        model: the model; batches are {"x": (N, 4, L) or token dict, "y": targets}.
        task: dataset task (binary, multilabel, multiclass, regression).
        loss_name: bce, ce, mse or poisson.
        config: the run config (optimiser, schedule, augmentation, seed).
    """

    def __init__(self, model: torch.nn.Module, task: str, loss_name: str, config: RunConfig):
        super().__init__()
        self.model = model
        self.task = task
        self.loss_name = loss_name
        self.config = config
        self.profile = task == "profile"
        self.predict_task = "poisson" if loss_name == "poisson" and not self.profile else task
        self._val_sums = torch.zeros(3, dtype=torch.float64)   # profile: loss x n, sum r, n
        self._val_logits: list[torch.Tensor] = []
        self._val_targets: list[torch.Tensor] = []
        self._train_sum = 0.0
        self._train_count = 0
        self._mark = time.perf_counter()
        self.last_record: dict = {}

    def forward(self, x) -> torch.Tensor:
        out = self.model(x)
        return out[0] if isinstance(out, tuple) else out

    # -- training -------------------------------------------------------------------------------
    def on_train_batch_start(self, batch, batch_idx: int) -> None:
        # Reseed every RNG from (seed, epoch) at the first batch of each epoch: augmentation and
        # dropout of epoch e are the same whether the run was interrupted and resumed or not.
        # (Not in on_train_epoch_start: Lightning skips that hook for the first epoch after a
        # resume, and creating the DataLoader iterator draws from the global RNG after it.)
        if batch_idx != 0:
            return
        seed = self.config.train.seed * 100_003 + self.current_epoch + 1
        torch.manual_seed(seed)
        np.random.seed(seed % 2 ** 32)
        random.seed(seed)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        x = batch["x"]
        if self.profile:          # augmented with its targets in the collate function
            loss = profile_loss(self.loss_name, self(x), batch["y"])
        else:
            if isinstance(x, torch.Tensor):
                x = augment_onehot(x, self.config.data.rc_augment, self.config.data.max_shift)
            loss = compute_loss(self.loss_name, self(x), batch["y"],
                                self.config.train.label_smoothing)
        self._train_sum = self._train_sum + loss.detach().double() * len(batch["y"])
        self._train_count += len(batch["y"])
        return loss

    # -- validation -----------------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        self._val_logits, self._val_targets = [], []
        self._val_sums = torch.zeros(3, dtype=torch.float64)

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        if self.profile:
            rate, y = self(batch["x"]).detach(), batch["y"]
            r = profile_pearson_r(rate, y)
            self._val_sums += torch.tensor([float(profile_loss(self.loss_name, rate, y)) * len(y),
                                            float(r.mean(dim=1).sum()), len(y)], dtype=torch.float64)
            return
        self._val_logits.append(self(batch["x"]).detach().float().cpu())
        self._val_targets.append(batch["y"].detach().cpu())

    def _gather(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.trainer.world_size <= 1:
            return tensor
        gathered = self.all_gather(tensor.to(self.device))
        return gathered.reshape(-1, *tensor.shape[1:]).cpu()

    def _validation_scores(self) -> tuple[float, dict] | None:
        """(val_loss, {"val_pearson": ...} or the AUROC / PR-AUC of `validation_scores`)."""
        if self.profile:
            sums = self._val_sums
            if self.trainer.world_size > 1:
                sums = self.all_gather(sums.to(self.device)).reshape(-1, 3).sum(0).cpu()
            if sums[2] == 0:
                return None
            return float(sums[0] / sums[2]), {"val_pearson": float(sums[1] / sums[2])}
        if not self._val_logits:
            return None
        logits = self._gather(torch.cat(self._val_logits))
        targets = self._gather(torch.cat(self._val_targets))
        val_loss = float(compute_loss(self.loss_name, logits, targets))
        probs = activate(logits, self.predict_task).numpy()
        return val_loss, validation_scores(self.task, targets.numpy(), probs)

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            return
        result = self._validation_scores()
        if result is None:
            return
        val_loss, scores = result
        train = torch.tensor([float(self._train_sum), float(self._train_count)], dtype=torch.float64)
        if self.trainer.world_size > 1:
            train = self.all_gather(train.to(self.device)).reshape(-1, 2).sum(0).cpu()
        train_loss = float(train[0] / train[1]) if train[1] > 0 else float("nan")
        self._train_sum, self._train_count = 0.0, 0
        now = time.perf_counter()
        seconds, self._mark = now - self._mark, now
        self.last_record = {
            "epoch": int(self.current_epoch), "train_loss": train_loss, "val_loss": val_loss,
            "val_auroc": scores.get("val_auroc", float("nan")),
            "val_pr_auc": scores.get("val_pr_auc", float("nan")),
            "lr": float(self.trainer.optimizers[0].param_groups[0]["lr"]),
            "seconds": seconds, "step": int(self.global_step)}
        if "val_pearson" in scores:
            self.last_record["val_pearson"] = scores["val_pearson"]
        for key in ("val_loss", "val_auroc", "val_pr_auc", "val_pearson"):
            value = self.last_record.get(key)
            if value is not None and not math.isnan(value):
                self.log(key, value, prog_bar=key != "val_loss", sync_dist=False)

    def on_train_start(self) -> None:
        self._mark = time.perf_counter()

    # -- optimiser ------------------------------------------------------------------------------
    def configure_optimizers(self):
        optim, sched = self.config.optim, self.config.scheduler
        decay, no_decay = [], []
        for name, param in self.model.named_parameters():
            if not param.requires_grad:
                continue
            # biases and normalisation weights are not decayed (standard AdamW practice)
            (no_decay if param.ndim <= 1 else decay).append(param)
        groups = [{"params": decay, "weight_decay": optim.weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        optimizer = torch.optim.AdamW([g for g in groups if g["params"]], lr=optim.lr,
                                      betas=tuple(optim.betas), eps=optim.eps)
        if sched.name == "constant":
            return optimizer
        if sched.name == "plateau":
            monitor, mode = self.config.monitor_metric(self.task)
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode=mode, factor=sched.plateau_factor, patience=sched.plateau_patience)
            return {"optimizer": optimizer, "lr_scheduler": {
                "scheduler": scheduler, "monitor": monitor, "interval": "epoch", "strict": False}}
        total = int(self.trainer.estimated_stepping_batches)
        warmup = int(round(sched.warmup_ratio * total))
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, cosine_with_warmup(total, warmup, sched.min_lr_ratio))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
