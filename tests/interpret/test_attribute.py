"""Attribution methods on a CNN trained on a planted motif: the attribution peaks on the motif."""
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from regdna.errors import RegdnaError
from regdna.interpret.attributions import attribute, available_methods

from interp_helpers import TOY_MOTIF, make_planted

ONEHOT = ["saliency", "grad_x_input", "integrated_gradients", "deeplift_shap", "ism"]


@pytest.fixture(scope="module")
def planted_test():
    seqs, labels, starts = make_planted(12, seed=7)
    pos = labels == 1
    seqs = [s for s, p in zip(seqs, pos) if p]
    mask = np.zeros((len(seqs), len(seqs[0])), dtype=bool)
    for i, s in enumerate(starts[pos]):
        mask[i, s:s + len(TOY_MOTIF)] = True
    return seqs, mask


def test_toy_model_learned_the_motif(toy_predictor):
    seqs, labels, _ = make_planted(50, seed=3)
    assert roc_auc_score(labels, toy_predictor.predict(seqs)[:, 0]) > 0.95


@pytest.mark.parametrize("method", ONEHOT)
def test_attribution_peaks_on_planted_motif(toy_predictor, planted_test, method):
    seqs, mask = planted_test
    attr = attribute(toy_predictor, seqs, method, n_references=4, n_steps=10)
    assert attr.shape == (len(seqs), len(seqs[0]), 4)
    score = np.abs(attr).sum(-1) if method == "saliency" else attr.sum(-1)
    auroc = roc_auc_score(mask.ravel(), score.ravel())
    assert auroc >= 0.8, (method, auroc)


def test_grad_x_input_is_corrected_gradient_times_input(toy_predictor, planted_test):
    seqs, _ = planted_test
    sal = attribute(toy_predictor, seqs[:3], "saliency")
    gxi = attribute(toy_predictor, seqs[:3], "grad_x_input")
    np.testing.assert_allclose(sal.sum(-1), 0, atol=1e-5)       # Majdandzic: mean removed
    onehot = np.eye(4, dtype=np.float32)[["ACGT".index(b) for b in seqs[0]]]
    np.testing.assert_allclose(gxi[0], sal[0] * onehot, atol=1e-6)


def test_deeplift_shap_hypothetical_sums_to_contribution(toy_predictor, planted_test):
    seqs, _ = planted_test
    hyp = attribute(toy_predictor, seqs[:2], "deeplift_shap", hypothetical=True, n_references=4)
    contrib = attribute(toy_predictor, seqs[:2], "deeplift_shap", n_references=4)
    onehot = np.eye(4, dtype=np.float32)[["ACGT".index(b) for b in seqs[1]]]
    np.testing.assert_allclose(contrib[1], hyp[1] * onehot, atol=1e-6)
    # DeepLIFT completeness: contributions sum to f(x) - mean f(reference)
    assert abs(contrib[1].sum()) > 0.5


def test_attention_method_on_cnn_lists_valid_methods(toy_predictor):
    assert "rollout" not in available_methods(toy_predictor)
    with pytest.raises(RegdnaError, match="integrated_gradients"):
        attribute(toy_predictor, ["ACGT" * 25], "rollout")
