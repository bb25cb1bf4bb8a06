"""The one JSON reader, the one YAML-mapping reader, the one correlation and the one spec parser,
as the modules that share them use them."""
import json

import numpy as np
import pytest

from regdna.errors import RegdnaError
from regdna.evaluate import metrics as M
from regdna.evaluate.correlation import coefficient, correlation
from regdna.runs.config import load_config, read_run_config
from regdna.train.tune_space import default_space, load_space
from regdna.utils.jsonio import read_json
from regdna.utils.yamlio import read_yaml_mapping


def test_read_json_absent_damaged_and_not_an_object(tmp_path):
    assert read_json(tmp_path / "none.json") is None
    (tmp_path / "bad.json").write_text('{"a": 1,\n oops}')
    with pytest.raises(RegdnaError, match=r"bad\.json, line 2: not valid JSON"):
        read_json(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    assert read_json(tmp_path / "list.json") == {"value": [1, 2]}


def test_yaml_mappings_name_the_file(tmp_path):
    with pytest.raises(RegdnaError, match="gone"):
        read_yaml_mapping(tmp_path / "x.yaml", missing="gone", not_mapping="flat")
    (tmp_path / "bad.yaml").write_text("a: [1, 2\n")
    with pytest.raises(RegdnaError, match=r"bad\.yaml: not valid YAML .*; fix it\.$"):
        read_yaml_mapping(tmp_path / "bad.yaml", missing="gone", not_mapping="flat", fix="fix it")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(RegdnaError, match="must map config keys"):
        load_space(tmp_path / "list.yaml")
    with pytest.raises(RegdnaError, match="must hold a YAML mapping of sections"):
        load_config(tmp_path / "list.yaml")
    with pytest.raises(RegdnaError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")
    with pytest.raises(RegdnaError, match="search space file .* does not exist"):
        load_space(tmp_path / "none.yaml")
    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(RegdnaError, match="is not a regdna run dir"):
        read_run_config(run)
    (run / "config.yaml").write_text("model: {spec: [\n")
    with pytest.raises(RegdnaError, match="train the run again or restore the file"):
        read_run_config(run)


def test_metrics_correlations_are_the_correlation_module():
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=50), rng.normal(size=50)
    y[3] = np.nan
    for method, metric in (("pearson", M.pearson), ("spearman", M.spearman)):
        assert metric(y, p) == pytest.approx(correlation(p, y, method)["r"])
        assert metric(y, p) == coefficient(y, p, method)
    # undefined exactly where correlation() says why
    assert np.isnan(M.pearson([1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0]))
    assert "constant" in correlation([1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0])["note"]
    assert np.isnan(M.spearman([1.0, 2.0], [2.0, 1.0]))
    assert "only 2 finite pairs" in correlation([1.0, 2.0], [2.0, 1.0])["note"]


def test_default_space_by_model_family():
    assert default_space("tinyformer")["optim.lr"]["high"] == 5e-3
    assert default_space("basset")["optim.lr"]["high"] == 1e-2
    assert default_space("kmer-lr")["optim.lr"]["high"] == 1e-2
    assert default_space("hf:org/model", "probe")["optim.lr"]["high"] == 1e-3
    assert "model.options.classifier_dropout" in default_space("hf:org/model", "lora")
    with pytest.raises(RegdnaError, match="unknown model"):
        default_space("tinyformerx")


def test_report_reads_the_dataset_through_its_contract(tmp_path):
    from regdna.report.collect import read_dataset

    assert read_dataset(tmp_path) is None
    (tmp_path / "dataset.json").write_text(json.dumps(
        {"format_version": 1, "task": "binary", "labels": ["y"], "length": 10,
         "splits": {"test": {"n": 4}}}))
    info = read_dataset(tmp_path)
    assert info == read_dataset(tmp_path / "dataset.json")
    assert info["task"] == "binary" and info["splits"] == {"test": {"n": 4}} and info["length"] == 10
    (tmp_path / "dataset.json").write_text(json.dumps({"format_version": 99, "task": "binary",
                                                       "labels": ["y"]}))
    with pytest.raises(RegdnaError, match="format_version 99"):
        read_dataset(tmp_path)
