"""Shortcut diagnostics (regdna.evaluate.shifts): a model that reads window positions is caught,
a translation-equivariant motif detector is not; the shift function is training's convention;
`evaluate` writes the diagnostics of a real run."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from torch import nn

from helpers import random_seqs
from regdna.evaluate import shifts as S
from regdna.runs.predictor import Predictor

L = 200
MOTIF = "TGACTCAG"


class PositionLocked(nn.Module):
    """A linear read-out of positions 90..109 only: it can only learn where, never what."""
    input_kind = "onehot"

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4 * 20, 1)
        torch.manual_seed(0)
        nn.init.normal_(self.linear.weight)

    def forward(self, x):
        return self.linear(x[:, :, 90:110].flatten(1))


class MotifDetector(nn.Module):
    """One convolution whose weights are the log-odds of MOTIF (+2 at the consensus base, -1
    elsewhere: a full match scores 16), global max-pooling, logit = best score - 12."""
    input_kind = "onehot"

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 1, len(MOTIF), bias=False)
        weight = -torch.ones(1, 4, len(MOTIF))
        for j, base in enumerate(MOTIF):
            weight[0, "ACGT".index(base), j] = 2.0
        self.conv.weight.data = weight

    def forward(self, x):
        return self.conv(x).amax(dim=2) - 12.0


def planted(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """n random 200 bp sequences, the even ones with MOTIF planted at a random position that
    stays inside the window under shifts of +-20 bp; labels (n, 1)."""
    rng = np.random.default_rng(seed)
    seqs = random_seqs(n, L, seed)
    for i in range(0, n, 2):
        at = int(rng.integers(25, L - 25 - len(MOTIF)))
        seqs[i] = seqs[i][:at] + MOTIF + seqs[i][at + len(MOTIF):]
    return seqs, (np.arange(n) % 2 == 0).astype(float)[:, None]


def predictor(model) -> Predictor:
    return Predictor(model, "binary", ["y"], length=L, device="cpu", threshold=0.5)


# -- the shift function ---------------------------------------------------------------------------
def test_shift_is_trainings_convention_with_n_fill():
    seq = "ACGTTGCAAC"
    assert S.shift_sequences([seq], 3) == ["NNNACGTTGC"]
    assert S.shift_sequences([seq], -3) == ["TTGCAACNNN"]
    assert S.shift_sequences([seq], 0) == [seq]
    # the one-hot augmentation of training moves by the same rule (window p <- sequence p - s)
    from regdna.data.augment import random_shift
    from regdna.encode.onehot import one_hot, one_hot_to_strings

    torch.manual_seed(1)
    x = torch.from_numpy(one_hot([seq] * 64, channels_first=True))
    moved = set(one_hot_to_strings(random_shift(x, 3).numpy(), channels_first=True))
    assert {s.replace("N", "") for s in S.shift_sequences([seq], 3) + S.shift_sequences([seq], -3)} \
        <= {m.replace("N", "") for m in moved}
    assert "NNNACGTTGC" in moved and "TTGCAACNNN" in moved
    with pytest.raises(Exception, match="longer than 10 bp"):
        S.shift_sequences([seq], 5)


def test_sub_windows_of_a_margin_read_real_bases():
    stored = "AACGTTGCAACC"                       # 10 bp window + 1 bp margin each side
    assert S.shifted_windows([stored], 0, margin=1) == ["ACGTTGCAAC"]
    assert S.shifted_windows([stored], 1, margin=1) == ["AACGTTGCAA"]
    assert S.shifted_windows([stored], -1, margin=1) == ["CGTTGCAACC"]
    with pytest.raises(Exception, match="margin"):
        S.shifted_windows([stored], 2, margin=1)


def test_shifted_predictions_shape_and_shift_zero():
    pred = predictor(MotifDetector())
    seqs, _ = planted(6)
    out = S.shifted_predictions(pred, seqs, [0, 5, -5])
    assert out.shape == (3, 6, 1)
    assert np.array_equal(out[0], pred.logits(seqs))
    assert np.allclose(out[1], pred.logits(S.shift_sequences(seqs, 5)))
    probs = S.shifted_predictions(pred, seqs, [0], probabilities=True)
    assert np.allclose(probs[0], pred.predict(seqs))


def test_input_gradients_are_the_corrected_gradient():
    pred = predictor(PositionLocked())
    seqs = random_seqs(3, L, 4)
    grad = pred.input_gradients(seqs)
    assert grad.shape == (3, L, 4)
    weight = pred.model.linear.weight.detach().numpy().reshape(4, 20).T   # (20 positions, 4)
    assert np.allclose(grad[0, 90:110], weight - weight.mean(axis=1, keepdims=True), atol=1e-6)
    assert np.abs(grad[:, :90]).max() == 0 and np.abs(grad[:, 110:]).max() == 0
    assert np.allclose(grad.sum(axis=2), 0, atol=1e-6)


# -- the two models -------------------------------------------------------------------------------
def test_a_position_locked_model_is_caught():
    seqs, y = planted(200, seed=1)
    report = S.shortcut_report(predictor(PositionLocked()), seqs, y, 0.5)
    att = report["attribution"]
    assert att["stays"] > 0.9 and att["follows"] < 0.1
    assert att["central_mass"] == pytest.approx(1.0)          # all mass in 90..109 (of 80..119)
    assert att["central_ratio"] == pytest.approx(5.0)
    assert 90 <= att["peak_position"] < 110
    assert len(report["warnings"]) == 1 and "global pooling" in report["warnings"][0]
    rows = {row["shift"]: row for row in report["shifts"]}
    assert rows[0]["mean_abs_delta_logit"] == 0 and rows[10]["mean_abs_delta_logit"] > 1


def test_a_motif_detector_follows_the_sequence():
    seqs, y = planted(200, seed=2)
    pred = predictor(MotifDetector())
    report = S.shortcut_report(pred, seqs, y, 0.5)
    att = report["attribution"]
    assert report["warnings"] == []
    assert att["follows"] >= 0.8 and att["stays"] < 0.1
    assert att["central_ratio"] < 1.5
    rows = {row["shift"]: row for row in report["shifts"]}
    assert set(rows) == {0, 1, -1, 2, -2, 5, -5, 10, -10, 20, -20}
    assert all(row["auroc"] == 1.0 for row in rows.values())
    assert rows[10]["mean_abs_delta_logit"] < 0.1 and rows[-10]["flip_fraction"] < 0.02
    # the planted motif stays inside under every shift: its sequences' logits do not move
    with_motif = [s for s, label in zip(seqs, y[:, 0]) if label == 1]
    moved = S.shifted_predictions(pred, with_motif, [-20, -10, 10, 20])
    assert np.abs(moved - pred.logits(with_motif)).max() < 1e-5
    assert np.allclose(pred.logits(with_motif), 4.0)


def test_follows_or_stays_on_hand_made_maps():
    original = np.zeros((2, 50))
    original[:, 20:25] = 0.2
    moved = np.roll(original, 5, axis=1)
    assert S.follows_or_stays(original, moved, 5).tolist() == [1, 1]
    assert S.follows_or_stays(original, original, 5).tolist() == [-1, -1]
    assert S.follows_or_stays(original, np.zeros((2, 50)), 5).tolist() == [0, 0]


# -- evaluate on a real run -----------------------------------------------------------------------
def test_evaluate_writes_the_shortcut_diagnostics(basset_run):
    metrics = json.loads((basset_run / "metrics_test.json").read_text())
    shortcuts = metrics["shortcuts"]
    assert shortcuts["n"] == min(500, metrics["n"])
    assert {"follows", "stays", "central_mass", "central_ratio"} <= set(shortcuts["attribution"])
    assert "profile" not in shortcuts["attribution"]
    with open(basset_run / "shifts_test.tsv") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert [int(r["shift"]) for r in rows] == [-20, -10, -5, -2, -1, 0, 1, 2, 5, 10, 20]
    zero = rows[5]
    assert float(zero["mean_abs_delta_prob"]) == 0 and float(zero["flip_fraction"]) == 0
    assert [float(r["auroc"]) for r in rows] == pytest.approx(
        [r["auroc"] for r in shortcuts["shifts"]])
    if shortcuts["n"] == metrics["n"]:          # the subsample is the whole split
        assert float(zero["auroc"]) == pytest.approx(metrics["auroc"], abs=1e-6)
    assert float(rows[-1]["mean_abs_delta_prob"]) > float(rows[6]["mean_abs_delta_prob"])
    assert (basset_run / "figures" / "shortcuts_test.png").stat().st_size > 10_000
    # a global max-pool over the window, trained with shift augmentation: importance follows
    assert shortcuts["attribution"]["follows"] > shortcuts["attribution"]["stays"]


class GCCounter(nn.Module):
    """GC fraction through argmax (like k-mer counts): no gradient reaches the one-hot input."""
    input_kind = "onehot"

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(4.0))

    def forward(self, x):
        base = x.argmax(dim=1)
        return self.scale * (((base == 1) | (base == 2)).float().mean(dim=1, keepdim=True) - 0.5)


class TokenGC(nn.Module):
    """A token model (one token per base) computing the same GC score from token ids."""
    input_kind = "tokens"

    def tokenize(self, seqs):
        return {"input_ids": torch.tensor([["ACGTN".index(b) for b in s] for s in seqs])}

    def forward(self, batch):
        ids = batch["input_ids"]
        return 4.0 * (((ids == 1) | (ids == 2)).float().mean(dim=1, keepdim=True) - 0.5)


@pytest.mark.parametrize("model, note", [(GCCounter(), "no input gradients"),
                                         (TokenGC(), "token model")])
def test_models_without_input_gradients_get_the_shift_part_and_a_note(model, note):
    seqs, y = planted(20, seed=3)
    report = S.shortcut_report(predictor(model), seqs, y, 0.5, sizes=(2, 5))
    assert note in report["attribution"]["note"] and report["warnings"] == []
    rows = {row["shift"]: row for row in report["shifts"]}
    assert set(rows) == {-5, -2, 0, 2, 5}
    # 5 bases leave the window and 5 N (not G / C) come in: |delta logit| <= 4 * 5 / 200
    assert 0 < rows[5]["mean_abs_delta_logit"] <= 0.1 + 1e-6
