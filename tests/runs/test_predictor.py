"""The Predictor (regdna.runs.predictor): outputs addressed by name or number."""
import pytest

from regdna.errors import RegdnaError


def test_predictor_output_index_by_name_or_number():
    import torch

    from regdna.runs.predictor import Predictor

    predictor = Predictor(torch.nn.Linear(1, 2), task="multilabel", labels=["dnase", "atac"],
                          device="cpu")
    assert predictor.output_index("atac") == 1 and predictor.output_index("0") == 0
    with pytest.raises(RegdnaError, match="dnase, atac"):
        predictor.output_index("2")
