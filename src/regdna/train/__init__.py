"""Training: the Lightning module and callbacks, losses, `train` (`fit`, `run_train`) and `tune`.

`regdna.train.train(data_dir, model_spec, out, ...)` trains a model and writes a run dir (torch and
Lightning are imported when it runs, not when this package is imported).
"""
from regdna.train.train import fit, run_train

__all__ = ["fit", "run_train"]
