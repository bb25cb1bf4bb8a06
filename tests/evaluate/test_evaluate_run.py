"""`evaluate` of `basset_run`: the test threshold is the validation one, transfer to another
dataset dir."""
import json

import pandas as pd
import pytest

from regdna.data.dataset import load_info


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
    from regdna.evaluate.evaluate import run_evaluate

    report = run_evaluate(basset_run, split="test", data_dir=dataset_dir, n_boot=100, figures=False)
    assert (basset_run / f"metrics_test_{dataset_dir.name}.json").is_file()
    assert report["n"] == len(pd.read_parquet(dataset_dir / "test.parquet"))
    assert report["auroc"] > 0.6
    saved = json.loads((basset_run / "threshold.json").read_text())["threshold"]
    assert report["threshold"] == pytest.approx(saved)


def test_unfinished_run_is_refused_before_predicting(basset_run, tmp_path, monkeypatch):
    """A run without threshold.json is one error, raised before the model predicts the split."""
    import shutil

    from regdna.errors import RegdnaError
    from regdna.evaluate import evaluate

    unfinished = tmp_path / "unfinished"
    shutil.copytree(basset_run, unfinished)
    (unfinished / "threshold.json").unlink()

    def predicted(*args, **kwargs):
        raise AssertionError("the split was predicted before threshold.json was checked")

    monkeypatch.setattr(evaluate, "predict_split", predicted)
    with pytest.raises(RegdnaError, match="threshold.json"):
        evaluate.run_evaluate(unfinished, split="test", figures=False)
