"""Training: the Lightning module and callbacks, losses, `train` (`fit`, `run_train`) and `tune`.

`regdna.train.fit(data_dir, model_spec, out, ...)` trains a model and writes a run dir (torch and
Lightning are imported when it runs, not when this package is imported).
"""
from regdna.train.fit import fit, run_train

__all__ = ["fit", "run_train"]
