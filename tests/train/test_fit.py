"""The run dir of `basset_run`, loading it back, thresholds carried from validation, other tasks."""
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


def test_test_threshold_is_the_validation_one(basset_run, basset_train_dir):
    from regdna.evaluate.evaluate import predict_split
    from regdna.evaluate.metrics import threshold_metrics
    from regdna.evaluate.threshold import best_f1_threshold
    from regdna.runs import load_predictor

    info = load_info(basset_train_dir)
    predictor = load_predictor(basset_run, device="cpu")
    y_val, p_val, _ = predict_split(predictor, basset_train_dir, "val", info)
    val_threshold, _ = best_f1_threshold(y_val[:, 0], p_val[:, 0])
    saved = json.loads((basset_run / "threshold.json").read_text())["threshold"]
    assert saved == pytest.approx(val_threshold, abs=1e-6)
    metrics = json.loads((basset_run / "metrics_test.json").read_text())
    assert metrics["threshold"] == pytest.approx(saved)
    y, p, _ = predict_split(predictor, basset_train_dir, "test", info)
    at_val = threshold_metrics(y[:, 0], p[:, 0], saved)
    for key in ("f1", "precision", "recall", "specificity", "accuracy"):
        assert metrics[key] == pytest.approx(at_val[key])
    at_half = threshold_metrics(y[:, 0], p[:, 0], 0.5)
    assert metrics["f1_at_0_5"] == pytest.approx(at_half["f1"])
    # not re-tuned on test: the test-optimal threshold is generally another value
    test_best, _ = best_f1_threshold(y[:, 0], p[:, 0])
    assert metrics["threshold"] != pytest.approx(test_best) or test_best == pytest.approx(saved)


def test_evaluate_on_another_dataset(basset_run, dataset_dir):
    """Transfer: the run evaluated on `dataset_dir` (same task and labels, other windows)."""
    from regdna.evaluate.evaluate import evaluate

    report = evaluate(basset_run, split="test", data_dir=dataset_dir, n_boot=100, figures=False)
    assert (basset_run / f"metrics_test_{dataset_dir.name}.json").is_file()
    assert report["n"] == len(pd.read_parquet(dataset_dir / "test.parquet"))
    assert report["auroc"] > 0.6
    saved = json.loads((basset_run / "threshold.json").read_text())["threshold"]
    assert report["threshold"] == pytest.approx(saved)


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
    from regdna.evaluate.evaluate import evaluate
    from regdna.train.fit import fit

    data = _synthetic_dataset(tmp_path / "data", task)
    options = "{k: 4}" if spec == "kmer-lr" else "{filters: 0.05, hidden: 16, bins: 1}"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run = fit(data, spec, tmp_path / "run", progress=False,
                  overrides=[f"model.options={options}", "train.max_epochs=12", "train.patience=0",
                             "optim.lr=1e-2", "data.batch_size=32"])
        report = evaluate(run, split="test", n_boot=50)
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
def test_unknown_model_lists_valid_ones(dataset_dir):
    from regdna.models.registry import build_model

    with pytest.raises(RegdnaError, match="unknown model 'bassett'.*basset, deepsea, residualbind, kmer-lr"):
        build_model("bassett", load_info(dataset_dir))
    with pytest.raises(RegdnaError, match="no option.*valid options"):
        build_model("basset", load_info(dataset_dir), filterz=2)


def test_dataset_of_another_format_version(dataset_dir, tmp_path):
    from regdna.train.fit import fit

    old = tmp_path / "old"
    old.mkdir()
    raw = json.loads((dataset_dir / "dataset.json").read_text())
    raw["format_version"] = 0
    (old / "dataset.json").write_text(json.dumps(raw))
    with pytest.raises(RegdnaError, match="format_version 0"):
        fit(old, "basset", tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_run_dir_without_checkpoint(basset_run, tmp_path):
    import shutil

    from regdna.runs import load_predictor

    broken = tmp_path / "broken"
    shutil.copytree(basset_run, broken, ignore=shutil.ignore_patterns("*.ckpt"))
    with pytest.raises(RegdnaError, match="has no best.ckpt"):
        load_predictor(broken)
    with pytest.raises(RegdnaError, match="not a regdna run dir"):
        load_predictor(tmp_path)


def test_model_that_does_not_fit_the_dataset(dataset_dir, basset_run, tmp_path):
    from regdna.evaluate.evaluate import evaluate
    from regdna.models.registry import build_model

    # DeepSEA's valid convolutions need >= 163 bp
    short = load_info(dataset_dir).model_copy(update={"length": 100})
    with pytest.raises(RegdnaError, match="at least 163 bp"):
        build_model("deepsea", short)
    # a regression dataset cannot be evaluated with a binary run
    regression = _synthetic_dataset(tmp_path / "reg", "regression", n=30)
    with pytest.raises(RegdnaError, match="task 'regression'.*'binary'"):
        evaluate(basset_run, data_dir=regression)
    with pytest.raises(RegdnaError, match="train.loss=ce does not fit"):
        from regdna.train.fit import fit

        fit(dataset_dir, "basset", tmp_path / "bad_loss", overrides=["train.loss=ce"])


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


def test_models_are_length_agnostic(dataset_dir):
    from regdna.models.registry import build_model

    info = load_info(dataset_dir)
    for spec, options in (("basset", {"filters": 0.05, "hidden": 8}),
                          ("residualbind", {"filters": 0.1, "hidden": 8}),
                          ("deepsea", {"filters": 0.02, "hidden": 8}),
                          ("kmer-lr", {"k": 3})):
        model = build_model(spec, info, **options).eval()
        for length in (200, 317, 1000):
            assert model(torch.zeros(2, 4, length)).shape == (2, 1), (spec, length)
    exp_model = build_model("basset", info, filters=0.05, hidden=8, exp_activation=True)
    assert type(exp_model.trunk[0][2]).__name__ == "Exponential"
