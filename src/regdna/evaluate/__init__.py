"""Evaluation: metrics, thresholds, calibration, bootstrap intervals, the evaluation figures'
numbers, and the verbs `evaluate` (`run_evaluate`), `robustness` (`run_robustness`), `predict`
(`run_predict`) and `compare` (`run_compare`).

`regdna.evaluate.run_evaluate(run_dir, split="test", data_dir=None)` writes
metrics_<split>.json and the figures of a run (profile runs: `regdna.evaluate.profile`);
`regdna.evaluate.run_robustness(run_dir)` the variation score under shifts.
"""
from regdna.evaluate.evaluate import run_evaluate
from regdna.evaluate.robustness import run_robustness

__all__ = ["run_evaluate", "run_robustness"]
