"""Training on a coverage dataset: the profile default is resolved from the dataset, and a loss
that needs coverage >= 0 is refused on negative tracks before anything is written."""
import json

import pytest

from profile_helpers import write_coverage_dataset
from regdna.errors import RegdnaError
from regdna.train.train import run_train


def test_profile_defaults_resolve_from_the_dataset(tmp_path):
    from regdna.runs.config import read_run_config

    data = write_coverage_dataset(tmp_path / "data")[0]
    summary = run_train(data, None, tmp_path / "run", progress=False,
                        overrides=["model.options={filters: 0.0625}", "train.max_epochs=1"])
    config = read_run_config(summary["run_dir"])
    assert config.model.spec == "residualbind-32" and config.optim.lr == 3e-3
    assert config.data.bin_size == 4 and config.data.max_shift == 16     # the dataset's, its margin
    assert config.dataset.profile["tracks"] == ["a", "b"]
    assert summary["best"]["val_pearson"] == summary["best"]["val_pearson"]   # logged, not NaN


def test_poisson_on_negative_coverage_is_refused_in_one_line(tmp_path):
    data = write_coverage_dataset(tmp_path / "data")[0]
    info = json.loads((data / "dataset.json").read_text())
    info["qc"]["negative_values"] = {"train": 3, "val": 0, "test": 0}
    (data / "dataset.json").write_text(json.dumps(info))
    with pytest.raises(RegdnaError, match="negative coverage.*train.loss=mse"):
        run_train(data, None, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()
