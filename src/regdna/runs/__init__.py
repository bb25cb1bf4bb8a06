"""The run dir contract: paths, config schema, checkpoints, thresholds, metrics files and the one
`load_predictor(run_dir)`, as `regdna.data.dataset` is the dataset dir contract."""
from regdna.runs.predictor import Predictor, load_predictor

__all__ = ["Predictor", "load_predictor"]
