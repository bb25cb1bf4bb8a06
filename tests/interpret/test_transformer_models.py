"""Attention and gradient methods on the project's transformers: tinyformer (trained run) and a
random native DNABERT-2 checkpoint (BPE tokens, [CLS] query)."""
import numpy as np
import pytest
from helpers import random_seqs

from regdna.interpret.attributions import attribute

METHODS = ["attention", "rollout", "gradcam", "lrp", "integrated_gradients", "grad_x_input"]


@pytest.fixture(scope="module")
def tinyformer_predictor(tinyformer_run):
    from regdna.runs import load_predictor

    return load_predictor(tinyformer_run, device="cpu")


@pytest.fixture(scope="module")
def dnabert2_predictor(tiny_dnabert2_dir):
    from regdna.data.dataset import DatasetInfo
    from regdna.models.hf import build_hf_model
    from regdna.runs.predictor import Predictor

    info = DatasetInfo(task="binary", labels=["active"], length=64)
    model = build_hf_model(f"hf:{tiny_dnabert2_dir}", info, mode="finetune")
    return Predictor(model.eval(), task="binary", labels=["active"], length=64, device="cpu")



@pytest.mark.parametrize("method", METHODS)
def test_tinyformer_methods(tinyformer_predictor, method):
    length = tinyformer_predictor.length
    scores = attribute(tinyformer_predictor, random_seqs(3, length), method)
    assert scores.shape == (3, length) and np.isfinite(scores).all()
    assert np.abs(scores).sum(1).min() > 0


@pytest.mark.parametrize("method", METHODS)
def test_native_dnabert2_methods(dnabert2_predictor, method):
    seqs = random_seqs(3, 64, seed=1)
    scores = attribute(dnabert2_predictor, seqs, method)
    assert scores.shape == (3, 64) and np.isfinite(scores).all()
    # BPE tokens: every base of a token carries that token's score
    spans = dnabert2_predictor.model.token_spans(seqs)
    for i, sp in enumerate(spans):
        for a, b in sp:
            if b - a > 1:
                assert np.allclose(scores[i, a:b], scores[i, a])
