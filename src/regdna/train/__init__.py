"""Training: configuration, the Lightning module and callbacks, checkpoints, `fit`.

`regdna.train.fit(data_dir, model_spec, out, ...)` trains a model and writes a run dir (torch and
Lightning are imported when it runs, not when this package is imported).
"""
from regdna.train.fit import fit

__all__ = ["fit"]
