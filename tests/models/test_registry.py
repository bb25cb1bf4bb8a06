"""The model registry (regdna.models.registry): unknown specs and options listed, every CNN
takes any input length."""
import pytest
import torch

from regdna.data.dataset import load_info
from regdna.errors import RegdnaError


def test_unknown_model_lists_valid_ones(dataset_dir):
    from regdna.models.registry import build_model

    with pytest.raises(RegdnaError, match="unknown model 'bassett'.*cnn, basset, deepsea, residualbind, cnn-baseline, "
                       "shallow-cnn, kmer-lr"):
        build_model("bassett", load_info(dataset_dir))
    with pytest.raises(RegdnaError, match="no option.*valid options"):
        build_model("basset", load_info(dataset_dir), filterz=2)


def test_models_are_length_agnostic(dataset_dir):
    from regdna.models.registry import build_model

    info = load_info(dataset_dir)
    for spec, options in (("basset", {"filters": 0.05, "hidden": 8}),
                          ("residualbind", {"filters": 0.1, "hidden": 8}),
                          ("deepsea", {"filters": 0.02, "hidden": 8}),
                          ("cnn", {"filters": 0.05, "hidden": 8}),
                          ("cnn-baseline", {"filters": 0.1}),
                          ("shallow-cnn", {"filters": 0.1}),
                          ("kmer-lr", {"k": 3})):
        model = build_model(spec, info, **options).eval()
        for length in (200, 317, 1000):
            assert model(torch.zeros(2, 4, length)).shape == (2, 1), (spec, length)
    exp_model = build_model("basset", info, filters=0.05, hidden=8, exp_activation=True)
    assert type(exp_model.trunk[0][2]).__name__ == "Exponential"
