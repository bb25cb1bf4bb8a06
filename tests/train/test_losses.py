"""Masked losses: missing labels contribute nothing."""
import math

import torch
import torch.nn.functional as F

from regdna.train.losses import compute_loss, masked_bce, masked_mse, masked_poisson


def test_masked_bce_equals_loss_on_observed_entries():
    logits = torch.tensor([[0.3, -1.2, 2.0], [1.5, 0.1, -0.4]], requires_grad=True)
    y = torch.tensor([[1.0, float("nan"), 0.0], [float("nan"), 1.0, 1.0]])
    loss = masked_bce(logits, y)
    observed = ~torch.isnan(y)
    expected = F.binary_cross_entropy_with_logits(logits[observed], y[observed])
    assert torch.allclose(loss, expected)
    # by hand: mean of -log(sigmoid) / -log(1 - sigmoid) over the 4 observed entries
    s = torch.sigmoid
    by_hand = -(math.log(s(torch.tensor(0.3))) + math.log(1 - s(torch.tensor(2.0))) +
                math.log(s(torch.tensor(0.1))) + math.log(s(torch.tensor(-0.4)))) / 4
    assert abs(float(loss) - by_hand) < 1e-6
    loss.backward()
    assert float(logits.grad[0, 1]) == 0.0 and float(logits.grad[1, 0]) == 0.0
    # changing a masked logit changes nothing
    moved = logits.detach().clone()
    moved[0, 1] = 100.0
    assert torch.allclose(masked_bce(moved, y), loss.detach())


def test_all_missing_is_zero_not_nan():
    y = torch.full((2, 2), float("nan"))
    assert float(masked_bce(torch.zeros(2, 2), y)) == 0.0


def test_mse_poisson_ce_masked():
    pred = torch.tensor([[1.0], [2.0], [5.0]])
    y = torch.tensor([[1.5], [float("nan")], [3.0]])
    assert abs(float(masked_mse(pred, y)) - (0.25 + 4.0) / 2) < 1e-6
    # Poisson NLL exp(z) - y z on observed rows
    expect = ((math.exp(1.0) - 1.5 * 1.0) + (math.exp(5.0) - 3.0 * 5.0)) / 2
    assert abs(float(masked_poisson(pred, y)) - expect) < 1e-4
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    classes = torch.tensor([0, -100])
    assert torch.allclose(compute_loss("ce", logits, classes),
                          F.cross_entropy(logits[:1], classes[:1]))
