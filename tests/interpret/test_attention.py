"""Attention methods (Consens et al. n.d.) on a transformer trained on a planted motif."""
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from regdna.interpret.attention import _relevance_rollout, _rollout
from regdna.interpret.attributions import attribute

from interp_helpers import TOY_MOTIF, make_planted


@pytest.fixture(scope="module")
def planted60():
    seqs, labels, starts = make_planted(10, seed=9, length=60, frame=3)
    pos = labels == 1
    seqs = [s for s, p in zip(seqs, pos) if p]
    mask = np.zeros((len(seqs), 60), dtype=bool)
    for i, s in enumerate(starts[pos]):
        mask[i, s:s + len(TOY_MOTIF)] = True
    return seqs, mask


def test_toy_transformer_learned(toy_transformer_predictor):
    seqs, labels, _ = make_planted(40, seed=4, length=60, frame=3)
    assert roc_auc_score(labels, toy_transformer_predictor.predict(seqs)[:, 0]) > 0.9


@pytest.mark.parametrize("method", ["attention", "rollout", "gradcam", "lrp",
                                    "integrated_gradients", "grad_x_input", "saliency"])
def test_transformer_methods_give_base_scores(toy_transformer_predictor, planted60, method):
    seqs, mask = planted60
    scores = attribute(toy_transformer_predictor, seqs, method)
    assert scores.shape == (len(seqs), 60) and np.isfinite(scores).all()
    # every base of one 3-mer token gets the same score
    np.testing.assert_allclose(scores[:, 0::3], scores[:, 1::3], rtol=1e-6)
    if method in ("lrp", "integrated_gradients", "grad_x_input"):
        auroc = roc_auc_score(mask.ravel(), scores.ravel())
        assert auroc > 0.75, (method, auroc)


def test_rollout_rows_stay_stochastic_and_lrp_starts_at_zero():
    import torch

    a = torch.softmax(torch.randn(2, 5, 5), -1)
    rolled = _rollout([a, a])
    torch.testing.assert_close(rolled.sum(-1), torch.ones(2, 5))
    torch.testing.assert_close(_relevance_rollout([torch.zeros(2, 5, 5)]), torch.zeros(2, 5, 5))
    # one layer with cam C: R - I = C exactly
    torch.testing.assert_close(_relevance_rollout([a]), a)
