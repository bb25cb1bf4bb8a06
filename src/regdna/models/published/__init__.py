"""Published models, loaded as released from a local file or directory, as regdna models.

A published model is named by a spec string `<family>:<path>` wherever a run dir is accepted
(`--run enformer:~/models/enformer`, `--run deepsea:~/kipoi/DeepSEA/model.pth`):
`regdna.runs.load_predictor` builds its Predictor from `load_published`, so predict, vep and ism
work on it unchanged. Weights are read from the path only (never from the network) with
`torch.load(weights_only=True)` or safetensors, into regdna's own module definitions.

Each family module (`FAMILIES`) has `load(family, path, targets=None, aggregation=None) ->
Published`: the model in the (N, T) contract of `regdna.models.base` (one-hot (N, 4, L) in,
logits out), its task (the activation of its logits), its output names, its input length and
the conventions a window must follow.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

import torch

from regdna.errors import RegdnaError

# family -> module with load(family, path, targets=None, aggregation=None) -> Published
FAMILIES = {
    "basset": "regdna.models.published.kipoi",
    "deepsea": "regdna.models.published.kipoi",
    "beluga": "regdna.models.published.kipoi",
    "enformer": "regdna.models.published.enformer",
    "borzoi": "regdna.models.published.enformer",
}


@dataclass
class Published:
    """A published model ready for a Predictor.

    model : torch.nn.Module in the (N, T) contract (forward(one-hot (N, 4, L)) -> logits).
    task : how its logits become predictions (`regdna.models.base.activate`): "multilabel"
        (sigmoid outputs, e.g. DeepSEA) or "profile" (logit = log(1 + aggregated coverage)).
    labels : output names (T of them), e.g. published track descriptions.
    length : input length in bp.
    family, source : the spec's family and path.
    citation : authors, year and venue of the model.
    conventions : strand, centre and bin conventions of its windows (recorded in outputs).
    """

    model: torch.nn.Module
    task: str
    labels: list[str]
    length: int
    family: str
    source: Path
    citation: str
    conventions: dict = field(default_factory=dict)


def default_batch_size(published: Published, device) -> int:
    """Windows per forward pass for a published model: the family's rule for the large-window
    models (Enformer, Borzoi: from the input length and the free memory), else 128."""
    if published.family in ("enformer", "borzoi"):
        from regdna.models.published.enformer import default_batch_size as large_windows

        return large_windows(published.length, device)
    return 128


def parse_published(text) -> tuple[str, Path] | None:
    """`<family>:<path>` -> (family, path), or None for anything else (a run dir)."""
    family, sep, rest = str(text).partition(":")
    if not sep or family not in FAMILIES:
        return None
    if not rest.strip():
        raise RegdnaError(f"'{text}' names no file: use {family}:<path to the downloaded weights>.")
    return family, Path(rest.strip()).expanduser()


def run_source(run) -> Path | None:
    """The local path a `--run` names (an input no output may replace): the run dir, or the
    weights path of a published model's spec `<family>:<path>`; None for None."""
    if run is None:
        return None
    parsed = parse_published(run)
    return parsed[1] if parsed is not None else Path(run)


def load_published(spec: str, targets=None, aggregation: str | None = None) -> Published:
    """Load the published model a spec names (see the module doc).

    Parameters
    ----------
    spec : "<family>:<path>", family one of FAMILIES.
    targets : output tracks to keep (names, name patterns or indices; family-specific), or None
        for all of them.
    aggregation : how a profile model's bins become one number per track ("center" or "sum";
        None: the family's default).
    """
    parsed = parse_published(spec)
    if parsed is None:
        raise RegdnaError(f"'{spec}' is not a published model spec; use one of "
                          f"{', '.join(f + ':<path>' for f in FAMILIES)}.")
    family, path = parsed
    if not path.exists():
        raise RegdnaError(f"{spec}: {path} does not exist; download the {family} weights "
                          f"(docs/MODELS.md says where) and give their local path.")
    module = importlib.import_module(FAMILIES[family])
    return module.load(family, path, targets=targets, aggregation=aggregation)
