"""Stand-ins for the interpretation tests: a small CNN and a small transformer trained for a
few seconds on sequences with a planted motif."""
from __future__ import annotations

import pytest
import torch

from regdna.encode.onehot import one_hot
from regdna.models.base import RegdnaModel
from regdna.runs.predictor import Predictor

from interp_helpers import TOY_LENGTH, fit_binary, make_planted


class ToyCNN(RegdnaModel):
    """conv(4->16, 9) -> ReLU -> max-pool over positions -> linear: a PWM scanner."""

    input_kind = "onehot"
    n_outputs = 1

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(4, 16, 9, padding=4)
        self.relu = torch.nn.ReLU()
        self.pool = torch.nn.AdaptiveMaxPool1d(1)
        self.linear = torch.nn.Linear(16, 1)

    def forward(self, x):
        return self.linear(self.pool(self.relu(self.conv(x))).squeeze(-1))


@pytest.fixture(scope="session")
def toy_predictor():
    """ToyCNN trained ~2 s on 600 planted-motif sequences (test AUROC ~1)."""
    torch.manual_seed(0)
    seqs, labels, _ = make_planted(300, seed=1)
    x = torch.from_numpy(one_hot(seqs, channels_first=True))
    y = torch.from_numpy(labels)[:, None]
    model = fit_binary(ToyCNN(), x, y, epochs=15, batch=100)
    return Predictor(model, task="binary", labels=["active"], length=TOY_LENGTH,
                     device="cpu", threshold=0.5)


class ToyTransformer(RegdnaModel):
    """[CLS] + non-overlapping 3-mer tokens, 2 attention layers, [CLS] head: a stand-in with the
    attention-model contract (tokenize, token_spans, forward(x, return_attentions=True))."""

    input_kind = "tokens"
    has_attention = True
    n_outputs = 1
    k = 3

    def __init__(self, d=32, heads=2, layers=2):
        super().__init__()
        self.heads, self.d = heads, d
        self.tok = torch.nn.Embedding(4 ** self.k + 2, d)       # 0 = [PAD], 1 = [CLS]
        self.pos = torch.nn.Embedding(64, d)
        self.qkv = torch.nn.ModuleList(torch.nn.Linear(d, 3 * d) for _ in range(layers))
        self.ff = torch.nn.ModuleList(torch.nn.Sequential(torch.nn.Linear(d, d), torch.nn.GELU())
                                      for _ in range(layers))
        self.norm = torch.nn.ModuleList(torch.nn.LayerNorm(d) for _ in range(layers))
        self.out = torch.nn.Linear(d, 1)

    def tokenize(self, seqs):
        ids = []
        for s in seqs:
            row = [1]
            for i in range(0, len(s) - self.k + 1, self.k):
                row.append(2 + int("".join(str("ACGT".index(b)) for b in s[i:i + self.k]), 4))
            ids.append(row)
        width = max(len(r) for r in ids)
        input_ids = torch.tensor([r + [0] * (width - len(r)) for r in ids])
        return {"input_ids": input_ids, "attention_mask": (input_ids > 0).long()}

    def token_spans(self, seqs):
        return [[(0, 0)] + [(i, i + self.k) for i in range(0, len(s) - self.k + 1, self.k)]
                for s in seqs]

    def forward(self, x, return_attentions=False):
        ids, mask = x["input_ids"], x["attention_mask"]
        h = self.tok(ids) + self.pos(torch.arange(ids.shape[1], device=ids.device))
        n, s, _ = h.shape
        attentions = []
        for qkv, ff, norm in zip(self.qkv, self.ff, self.norm):
            q, k, v = qkv(h).view(n, s, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
            scores = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5
            scores = scores.masked_fill(mask[:, None, None, :] == 0, -1e4)
            a = scores.softmax(-1)
            attentions.append(a)
            h = norm(h + (a @ v).transpose(1, 2).reshape(n, s, -1))
            h = h + ff(h)
        logits = self.out(h[:, 0])
        return (logits, attentions) if return_attentions else logits


@pytest.fixture(scope="session")
def toy_transformer_predictor():
    """ToyTransformer trained a few seconds on planted-motif sequences."""
    torch.manual_seed(0)
    seqs, labels, _ = make_planted(300, seed=2, length=60, frame=3)
    model = ToyTransformer()
    batch = model.tokenize(seqs)
    y = torch.from_numpy(labels)[:, None]
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    for _ in range(15):
        for i in range(0, len(seqs), 100):
            part = {k: v[i:i + 100] for k, v in batch.items()}
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(part), y[i:i + 100])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return Predictor(model.eval(), task="binary", labels=["active"], length=60, device="cpu")
