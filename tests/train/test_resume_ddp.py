"""Resume after a kill equals the uninterrupted run; a 2-process DDP run on CPU writes the same files."""
import csv

import lightning as L
import pytest
import torch

from regdna.train.train import fit

TINY = ["model.options={filters: 0.03, hidden: 8, bins: 1}", "data.batch_size=64",
        "train.max_epochs=4", "train.patience=0", "data.train_subsample=192",
        "data.val_subsample=64"]


class Killed(Exception):
    """Stands for a SIGKILL: the process stops at the start of an epoch."""


class KillAtEpoch(L.Callback):
    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_train_epoch_start(self, trainer, module):
        if trainer.current_epoch == self.epoch:
            raise Killed(f"killed at epoch {self.epoch}")


def _rows(run):
    with open(run / "metrics.csv") as handle:
        return list(csv.DictReader(handle))


def _weights(run, name="last"):
    state = torch.load(run / "checkpoints" / f"{name}.ckpt", weights_only=True)["state_dict"]
    return state


@pytest.fixture(scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)       # 2 shared cores: one thread is faster and deterministic
    yield
    torch.set_num_threads(before)


def test_resume_after_kill_equals_uninterrupted(dataset_dir, tmp_path, one_thread):
    straight = fit(dataset_dir, "basset", tmp_path / "straight", overrides=TINY, progress=False)
    interrupted = tmp_path / "interrupted"
    with pytest.raises(Killed):
        fit(dataset_dir, "basset", interrupted, overrides=TINY, callbacks=[KillAtEpoch(2)],
            progress=False)
    assert len(_rows(interrupted)) == 2                     # epochs 0 and 1 survived the kill
    assert not (interrupted / "threshold.json").exists()
    fit(dataset_dir, "basset", interrupted, resume=True, progress=False)

    a, b = _rows(straight), _rows(interrupted)
    assert [r["epoch"] for r in a] == [r["epoch"] for r in b] == ["0", "1", "2", "3"]
    for row_a, row_b in zip(a, b):
        for key in ("train_loss", "val_loss", "val_auroc", "val_pr_auc", "lr", "step"):
            assert float(row_a[key]) == pytest.approx(float(row_b[key]), abs=1e-6), key
    wa, wb = _weights(straight), _weights(interrupted)
    assert max(float((wa[k].float() - wb[k].float()).abs().max()) for k in wa) < 1e-6
    ta = (straight / "threshold.json").read_text()
    tb = (interrupted / "threshold.json").read_text()
    assert ta == tb


def test_resume_without_checkpoint_is_a_clear_error(dataset_dir, tmp_path):
    from regdna.errors import RegdnaError

    with pytest.raises(RegdnaError, match="holds no run.*without --resume"):
        fit(dataset_dir, "basset", tmp_path / "nothing", resume=True)


def test_existing_run_dir_is_not_overwritten(basset_run, dataset_dir):
    from regdna.errors import RegdnaError

    with pytest.raises(RegdnaError, match="already holds a run"):
        fit(dataset_dir, "basset", basset_run)


@pytest.mark.slow
def test_ddp_two_processes_on_cpu(dataset_dir, tmp_path, one_thread):
    run = fit(dataset_dir, "basset", tmp_path / "ddp",
              overrides=TINY[:-4] + ["train.max_epochs=2", "train.patience=0",
                                     "data.train_subsample=128", "data.val_subsample=64",
                                     "train.strategy=ddp_spawn", "train.devices=2",
                                     "train.accelerator=cpu"], progress=False)
    for name in ("config.yaml", "metrics.csv", "threshold.json", "resources.json",
                 "checkpoints/best.ckpt", "checkpoints/last.ckpt"):
        assert (run / name).is_file(), name
    rows = _rows(run)
    assert [r["epoch"] for r in rows] == ["0", "1"]
    import json

    assert json.loads((run / "resources.json").read_text())["world_size"] == 2
    # 128 training sequences / (2 processes x 64) = 1 optimiser step per epoch
    assert rows[-1]["step"] == "2"
