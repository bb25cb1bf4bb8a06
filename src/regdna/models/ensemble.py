"""A deep ensemble (Lakshminarayanan et al. 2017) as one regdna model.

`Ensemble(members)` holds K models of one architecture (trained with different seeds) and
follows their contract (`regdna.models.base`): its forward is the mean of the members' outputs
(logits, or a profile model's predicted coverage), so every analysis written against one model
(variant effects, ISM, gradients, DeepLIFT, integrated gradients) runs on the ensemble unchanged
and sees the average model. Averaging logits rather than probabilities keeps those analyses
exact (the gradient of the mean is the mean of the gradients); the members' spread is what
`Predictor.sample_logits` returns: with `active = k` the forward is member k's alone.
`Predictor.embed` of an ensemble records the input of the last output layer that runs: the last
member's penultimate embedding (what its ood.npz is fitted on).
"""
from __future__ import annotations

from typing import Sequence

import torch

from regdna.errors import RegdnaError
from regdna.models.base import RegdnaModel


def _first(out):
    return out[0] if isinstance(out, tuple) else out


class Ensemble(RegdnaModel):
    """K members of one architecture; forward = the mean of their outputs (module doc).

    Parameters
    ----------
    members : sequence of torch.nn.Module
        Models of one contract (same input_kind, output_kind, n_outputs, bin_size).

    Attributes
    ----------
    active : int or None
        None: the forward averages the members; k: the forward is member k's alone.
    """

    def __init__(self, members: Sequence[torch.nn.Module]):
        super().__init__()
        if len(members) < 2:
            raise RegdnaError("an ensemble needs at least 2 members.")
        first = members[0]
        for attribute in ("input_kind", "output_kind", "n_outputs", "bin_size"):
            values = {getattr(m, attribute, None) for m in members}
            if len(values) > 1:
                raise RegdnaError(f"ensemble members differ in {attribute} ({sorted(map(str, values))}).")
        self.members = torch.nn.ModuleList(members)
        self.input_kind = getattr(first, "input_kind", "onehot")
        self.output_kind = getattr(first, "output_kind", "scalar")
        self.n_outputs = getattr(first, "n_outputs", 1)
        if hasattr(first, "bin_size"):
            self.bin_size = first.bin_size
        self.active: int | None = None

    def __len__(self) -> int:
        return len(self.members)

    def forward(self, x):
        if self.active is not None:
            return _first(self.members[self.active](x))
        return torch.stack([_first(member(x)) for member in self.members]).mean(dim=0)

    # token models: the members share one tokenizer (one spec, one dataset)
    def tokenize(self, seqs):
        return self.members[0].tokenize(seqs)

    def token_spans(self, seqs):
        return self.members[0].token_spans(seqs)

    def token_inputs(self, seqs):
        return self.members[0].token_inputs(seqs)

    @property
    def pad_token_id(self) -> int:
        return getattr(self.members[0], "pad_token_id", 0)

    def token_embedding(self):
        """None to attach to: each member has its own token embedding, so a gradient taken at
        one of them would explain that member alone (`regdna attribute` explains an ensemble of
        token models member by member and averages the maps)."""
        raise RegdnaError("an ensemble of token models has one token embedding per member: "
                          "attribute it member by member (regdna attribute --ensemble, the "
                          "default on an ensemble run).")
