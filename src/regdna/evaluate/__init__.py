"""Evaluation: metrics, thresholds, calibration, bootstrap intervals, `evaluate` and `compare`.

`regdna.evaluate.evaluate(run_dir, split="test", data_dir=None)` writes metrics_<split>.json and
the figures of a run.
"""
from regdna.evaluate.evaluate import evaluate

__all__ = ["evaluate"]
