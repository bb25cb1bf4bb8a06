"""`fit` writes the run dir of `basset_run` and learns; other tasks learn; bad datasets and losses
are refused."""
import csv
import json

import numpy as np
import pandas as pd
import pytest
import torch

from fixtures_runs import BASSET_RUN_MIN_TEST_AUROC, BASSET_RUN_OVERRIDES
from helpers import random_seq
from regdna.data.dataset import DatasetInfo, load_info, write_info
from regdna.errors import RegdnaError


def test_run_dir_contents(basset_run):
    for name in ("config.yaml", "metrics.csv", "threshold.json", "resources.json",
                 "checkpoints/best.ckpt", "checkpoints/last.ckpt", "metrics_test.json",
                 "figures/roc_pr_test.png", "figures/confusion_test.png",
                 "figures/reliability_test.png", "figures/training_curves.png",
                 "figures/lr_schedule.png"):
        assert (basset_run / name).is_file(), name
    with open(basset_run / "metrics.csv") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames[:7] == ["epoch", "train_loss", "val_loss", "val_auroc",
                                        "val_pr_auc", "lr", "seconds"]
        rows = list(reader)
    epochs = int(next(o.split("=")[1] for o in BASSET_RUN_OVERRIDES if o.startswith("train.max_epochs=")))
    assert len(rows) == epochs and float(rows[-1]["lr"]) == 0.0      # cosine ends at 0
    threshold = json.loads((basset_run / "threshold.json").read_text())
    assert threshold["metric"] == "f1" and threshold["split"] == "val"
    assert 0.0 < threshold["threshold"] < 1.0
    resources = json.loads((basset_run / "resources.json").read_text())
    assert resources["n_params"] > 1000 and resources["seconds_per_epoch"] > 0
    # no temporary checkpoint files are left behind by the atomic writes
    assert sorted(p.name for p in (basset_run / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]


def test_basset_run_learns_the_grammar(basset_run):
    metrics = json.loads((basset_run / "metrics_test.json").read_text())
    assert metrics["auroc"] >= BASSET_RUN_MIN_TEST_AUROC
    low, high = metrics["auroc_ci95"]
    assert low <= metrics["auroc"] <= high


# -- other tasks: tiny synthetic datasets with a planted signal --------------------------------
MOTIFS = ("GGATAAGG", "CACGTGAC")


def _synthetic_dataset(path, task, n=240, length=60, seed=0):
    """Random sequences; label j depends on motif j being planted (multilabel / regression
    counts) or on which motif is planted (multiclass). Some multilabel labels are missing."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        seq = list(random_seq(length, rng))
        if task == "multiclass":
            which = int(rng.integers(0, 3))
            if which < 2:
                start = int(rng.integers(0, length - 8))
                seq[start:start + 8] = MOTIFS[which]
            labels = {"label": float(which)}
        else:
            counts = []
            for motif in MOTIFS:
                k = int(rng.integers(0, 3)) if task == "regression" else int(rng.random() < 0.5)
                for c in range(k):
                    start = c * (length // 2) + int(rng.integers(0, length // 2 - 8))
                    seq[start:start + 8] = motif
                counts.append(k)
            labels = {"a": float(counts[0] > 0), "b": float(counts[1] > 0)} if task == "multilabel" \
                else {"count": float(counts[0] + 2 * counts[1])}
            if task == "multilabel" and rng.random() < 0.2:
                labels["b"] = np.nan
        rows.append({"id": f"s{i}", "chrom": f"chr{i % 3 + 1}", "start": 0, "end": length,
                     "sequence": "".join(seq), **labels})
    frame = pd.DataFrame(rows)
    path.mkdir(parents=True)
    split = {"train": frame.iloc[: n * 2 // 3], "val": frame.iloc[n * 2 // 3: n * 5 // 6],
             "test": frame.iloc[n * 5 // 6:]}
    for name, part in split.items():
        part.to_parquet(path / f"{name}.parquet", index=False)
    label_names = [c for c in frame.columns if c not in ("id", "chrom", "start", "end", "sequence")]
    write_info(path, DatasetInfo(task=task, labels=label_names, length=length,
                                 classes=["m0", "m1", "none"] if task == "multiclass" else None))
    return path


@pytest.mark.parametrize("task,spec", [("multilabel", "kmer-lr"), ("multiclass", "kmer-lr"),
                                       ("regression", "kmer-lr")])
def test_other_tasks_learn(task, spec, tmp_path):
    from regdna.evaluate.evaluate import run_evaluate
    from regdna.train.train import fit

    data = _synthetic_dataset(tmp_path / "data", task)
    options = "{k: 4}" if spec == "kmer-lr" else "{filters: 0.05, hidden: 16, bins: 1}"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run = fit(data, spec, tmp_path / "run", progress=False,
                  overrides=[f"model.options={options}", "train.max_epochs=12", "train.patience=0",
                             "optim.lr=1e-2", "data.batch_size=32"])
        report = run_evaluate(run, split="test", n_boot=50)
    finally:
        torch.set_num_threads(threads)
    if task == "multilabel":
        assert set(report["per_label"]) == {"a", "b"}
        assert report["macro_auroc"] > 0.75 and report["micro_auroc"] > 0.75
        assert isinstance(json.loads((run / "threshold.json").read_text())["threshold"], list)
    elif task == "multiclass":
        assert report["accuracy"] > 0.6 and report["macro_auroc"] > 0.75
        assert np.array(report["confusion_matrix"]).sum() == report["n"]
    else:
        assert report["pearson"] > 0.7 and report["spearman"] > 0.6
        assert {"mse", "r2"} <= set(report)


# -- bad inputs -------------------------------------------------------------------------------


def test_dataset_of_another_format_version(dataset_dir, tmp_path):
    from regdna.train.train import fit

    old = tmp_path / "old"
    old.mkdir()
    raw = json.loads((dataset_dir / "dataset.json").read_text())
    raw["format_version"] = 0
    (old / "dataset.json").write_text(json.dumps(raw))
    with pytest.raises(RegdnaError, match="format_version 0"):
        fit(old, "basset", tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_model_that_does_not_fit_the_dataset(dataset_dir, basset_run, tmp_path):
    from regdna.evaluate.evaluate import run_evaluate
    from regdna.models.registry import build_model

    # DeepSEA's valid convolutions need >= 163 bp
    short = load_info(dataset_dir).model_copy(update={"length": 100})
    with pytest.raises(RegdnaError, match="at least 163 bp"):
        build_model("deepsea", short)
    # a regression dataset cannot be evaluated with a binary run
    regression = _synthetic_dataset(tmp_path / "reg", "regression", n=30)
    with pytest.raises(RegdnaError, match="task 'regression'.*'binary'"):
        run_evaluate(basset_run, data_dir=regression)
    with pytest.raises(RegdnaError, match="train.loss=ce does not fit"):
        from regdna.train.train import fit

        fit(dataset_dir, "basset", tmp_path / "bad_loss", overrides=["train.loss=ce"])
