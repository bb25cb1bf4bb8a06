"""Evaluation: metrics, thresholds, calibration, bootstrap intervals, the evaluation figures'
numbers, and the verbs `evaluate` (`run_evaluate`), `predict` (`run_predict`) and `compare`
(`run_compare`).

`regdna.evaluate.run_evaluate(run_dir, split="test", data_dir=None)` writes
metrics_<split>.json and the figures of a run.
"""
from regdna.evaluate.evaluate import run_evaluate

__all__ = ["run_evaluate"]
