"""The run dir contract (regdna.runs): `load_predictor` of `basset_run`, weights-only checkpoints,
a run dir without checkpoint, the config schema's overrides."""
import numpy as np
import pandas as pd
import pytest
import torch

from regdna.data.dataset import load_info
from regdna.errors import RegdnaError


def test_load_predictor_and_checkpoint_is_weights_only(basset_run, dataset_dir):
    from regdna.runs import load_predictor

    predictor = load_predictor(basset_run, device="cpu")
    info = load_info(dataset_dir)
    assert predictor.task == "binary" and predictor.labels == info.labels
    assert predictor.length == 200 and predictor.rc_average
    seqs = pd.read_parquet(dataset_dir / "test.parquet")["sequence"].tolist()[:7]
    probs = predictor.predict(seqs)
    assert probs.shape == (7, 1) and np.all((probs > 0) & (probs < 1))
    # the checkpoint holds only tensors and primitives: a weights_only load succeeds
    ckpt = torch.load(basset_run / "checkpoints" / "best.ckpt", weights_only=True)
    assert any(k.startswith("model.") for k in ckpt["state_dict"])


def test_run_dir_without_checkpoint(basset_run, tmp_path):
    import shutil

    from regdna.runs import load_predictor

    broken = tmp_path / "broken"
    shutil.copytree(basset_run, broken, ignore=shutil.ignore_patterns("*.ckpt"))
    with pytest.raises(RegdnaError, match="has no best.ckpt"):
        load_predictor(broken)
    with pytest.raises(RegdnaError, match="not a regdna run dir"):
        load_predictor(tmp_path)


def test_config_overrides_and_bad_keys():
    from regdna.runs.config import load_config

    cfg = load_config(overrides=["optim.lr=3e-4", "model.options.filters=0.5",
                                 "optim.betas=[0.9, 0.98]", "train.devices=2"])
    assert cfg.optim.lr == 3e-4 and cfg.model.options == {"filters": 0.5}
    assert cfg.optim.betas == (0.9, 0.98) and cfg.train.devices == 2
    assert cfg.optim.weight_decay == 1e-2 and cfg.optim.grad_clip == 1.0 and cfg.train.patience == 5
    with pytest.raises(RegdnaError, match="optim.lrr"):
        load_config(overrides=["optim.lrr=1"])
    with pytest.raises(RegdnaError, match="not of the form"):
        load_config(overrides=["optim.lr"])
    # early stopping / best checkpoint: val AUROC by default, PR-AUC by flag, loss for regression
    assert cfg.monitor_metric("binary") == ("val_auroc", "max")
    assert load_config(overrides=["train.monitor=pr_auc"]).monitor_metric("multilabel") == \
        ("val_pr_auc", "max")
    assert cfg.monitor_metric("regression") == ("val_loss", "min")
    with pytest.raises(RegdnaError, match="use train.monitor=loss"):
        load_config(overrides=["train.monitor=auroc"]).monitor_metric("regression")
