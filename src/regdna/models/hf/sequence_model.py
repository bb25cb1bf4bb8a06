"""`HFSequenceModel`: a pretrained encoder + a head as a regdna model (tokens model), and
`build_hf_model`, its builder for `--model hf:<hub id or local dir>` (modes in the package
docstring, `regdna.models.hf`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from regdna.errors import RegdnaError
from regdna.models.attention import pool
from regdna.models.base import RegdnaModel, n_outputs_for
from regdna.models.embed_cache import EmbeddingCache, truncation_report
from regdna.models.hf.backbone import Backbone, autocast, dropout_overrides, load_encoder
from regdna.models.hf.heads import CNNHead, MLPHead
from regdna.models.hf.lora import add_lora
from regdna.models.hf.source import model_fingerprint, model_source, read_model_config
from regdna.models.hf.tokens import HFTokens, default_max_length, load_tokenizer

MODES = ("probe", "mlp", "cnn-probe", "finetune", "lora")
FROZEN_MODES = ("probe", "mlp", "cnn-probe")
CACHED_MODES = ("probe", "mlp")


class HFSequenceModel(RegdnaModel):
    """A pretrained encoder + a head, following the regdna model contract (tokens model).

    Args:
        backbone: `Backbone`.
        tokens: `HFTokens`.
        n_outputs: output logits T.
        mode: one of MODES.
        layer: encoder layer whose hidden states are used (-1 last, -2 penultimate, ...).
        pooling: "cls" or "mean" (probe, mlp, finetune, lora).
        classifier_dropout: dropout before the linear head (finetune, lora).
        fingerprint: model identity for cache keys.
    """

    input_kind = "tokens"
    has_attention = True

    def __init__(self, backbone: Backbone, tokens: HFTokens, n_outputs: int, mode: str,
                 layer: int = -1, pooling: str = "cls", classifier_dropout: float = 0.1,
                 mlp_units=(512, 256), cnn_channels: int = 64, fingerprint: str = "",
                 embed_batch_size: int = 32, cache_dir: str | None = None):
        super().__init__()
        self.backbone = backbone
        self.tokens = tokens
        self.n_outputs = n_outputs
        self.mode = mode
        self.layer = layer
        self.pooling = pooling
        self.fingerprint = fingerprint
        self.embed_batch_size = embed_batch_size
        self.cache_dir = cache_dir
        d = backbone.hidden_size
        if mode == "probe":
            self.head = nn.Linear(d, n_outputs)
        elif mode == "mlp":
            self.head = MLPHead(d, n_outputs, units=tuple(mlp_units))
        elif mode == "cnn-probe":
            self.head = CNNHead(d, n_outputs, channels=cnn_channels)
        else:
            self.head = nn.Sequential(nn.Dropout(classifier_dropout), nn.Linear(d, n_outputs))
        if mode in FROZEN_MODES:
            for p in self.backbone.parameters():
                p.requires_grad_(False)
        self._cache = None          # EmbeddingCache after prepare_data (probe, mlp)

    @property
    def frozen(self) -> bool:
        return self.mode in FROZEN_MODES

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:             # a frozen encoder never uses dropout
            self.backbone.eval()
        return self

    # -- tokens -----------------------------------------------------------------------------
    @property
    def augment_inputs(self) -> bool:
        """False once embeddings are cached: training batches must be the cached sequences
        (read by the training collate function)."""
        return self._cache is None

    @property
    def pad_token_id(self) -> int:
        return self.tokens.pad_id

    def tokenize(self, seqs: Sequence[str]) -> dict:
        """Strings -> {"input_ids", "attention_mask"} (N, S), S a multiple of 8; in probe / mlp
        mode after `prepare_data`, sequences all found in the embedding cache give
        {"embedding": (N, 1, D) float32} instead (one summary "token" per sequence)."""
        seqs = list(seqs)
        if self._cache is not None:
            found = self._cache.lookup(seqs)
            if found is not None:
                return {"embedding": torch.from_numpy(found)[:, None, :]}
        return self.tokens(seqs)

    def token_spans(self, seqs: Sequence[str]) -> list[list[tuple[int, int]]]:
        return self.tokens.token_spans(list(seqs))

    def token_inputs(self, seqs: Sequence[str]) -> dict:
        """Real tokens {"input_ids", "attention_mask"} (N, S), never cached embeddings (the
        gradient and attention methods start at the tokens)."""
        return self.tokens(list(seqs))

    def token_embedding(self) -> nn.Module:
        """The encoder's input (word) embeddings: ids (N, S) -> (N, S, D)."""
        return self.backbone.input_embeddings()

    # -- forward ----------------------------------------------------------------------------
    def pooled(self, hidden: torch.Tensor, input_ids: torch.Tensor, mask: torch.Tensor):
        """Sequence embedding (N, D) by `pooling`."""
        pool_mask = mask.bool() & ~self.tokens.special_mask(input_ids)
        return pool(hidden, pool_mask, self.pooling)

    def features(self, x: dict) -> torch.Tensor:
        """Pooled embedding (N, D) of a tokenized batch (frozen modes: no gradients)."""
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            hidden, _ = self.backbone(x["input_ids"], x["attention_mask"], self.layer)
            return self.pooled(hidden, x["input_ids"], x["attention_mask"])

    def forward(self, x: dict, return_attentions: bool = False):
        """x: `tokenize` output -> logits (N, T) [, attentions: list of (N, H, S, S)]."""
        if "embedding" in x:
            if return_attentions:
                raise RegdnaError("attentions need tokens, not cached embeddings")
            return self.head(x["embedding"][:, 0].to(self._head_dtype()))
        ids, mask = x["input_ids"], x["attention_mask"]
        grad = torch.is_grad_enabled() and not self.frozen
        with torch.set_grad_enabled(grad):
            hidden, attentions = self.backbone(ids, mask, self.layer, return_attentions)
        if self.mode == "cnn-probe":
            logits = self.head(hidden, mask & ~self.tokens.special_mask(ids))
        else:
            logits = self.head(self.pooled(hidden, ids, mask))
        return (logits, attentions) if return_attentions else logits

    def _head_dtype(self):
        return next(self.head.parameters()).dtype

    # -- data preparation (called by regdna.train.train with every split's sequences) ----------
    def prepare_data(self, sequences: Mapping[str, Sequence[str]], cache_dir) -> None:
        """Before training: report the truncation rate over every split (logged, and stored in
        `<cache_dir>/truncation.json`); in probe / mlp mode compute or reuse the embedding cache.
        The model option `cache_dir` replaces the harness's (share one cache between runs).

        Parameters
        ----------
        sequences : mapping split name -> sequence of str
            the DNA strings of every split the harness has ("train", "val", "test").
        cache_dir : path
            directory for `truncation.json` and (unless the option `cache_dir` is set) the
            embedding cache.
        """
        truncation_report(sequences, self.tokens, Path(cache_dir) / "truncation.json")
        if self.mode in CACHED_MODES:
            self._cache = EmbeddingCache.build(self, sequences, Path(self.cache_dir or cache_dir))

    @torch.inference_mode()
    def embed(self, seqs: Sequence[str], device=None) -> np.ndarray:
        """Pooled embeddings (N, D) float32 of `layer`, computed in batches."""
        device = device or next(self.backbone.parameters()).device
        out = []
        for start in range(0, len(seqs), self.embed_batch_size):
            batch = {k: v.to(device) for k, v in
                     self.tokens(list(seqs[start:start + self.embed_batch_size])).items()}
            with autocast(device):
                out.append(self.features(batch).float().cpu().numpy())
        if not out:
            return np.zeros((0, self.backbone.hidden_size), dtype=np.float32)
        return np.concatenate(out)


def build_hf_model(spec: str, info, mode: str = "probe", trust_remote_code: bool = False,
                   layer: int = -1, pooling: str = "cls", max_length: int | None = None,
                   truncation: str = "warn", lora_r: int = 8, lora_alpha: int = 16,
                   lora_dropout: float = 0.05, hidden_dropout: float | None = None,
                   attention_dropout: float | None = None, classifier_dropout: float = 0.1,
                   mlp_units=(512, 256), cnn_channels: int = 64, embed_batch_size: int = 32,
                   cache_dir: str | None = None, **unknown) -> HFSequenceModel:
    """A regdna model from a pretrained encoder (`hf:<hub id or local dir>`).

    Parameters
    ----------
    spec : str
        "hf:<id or dir>".
    info : DatasetInfo
        task, labels -> n_outputs T.
    mode : str
        "probe", "mlp", "cnn-probe", "finetune" or "lora".
    trust_remote_code : bool
        allow models that need their own code from the hub.
    layer : int
        encoder layer for the features (-1 last, -2 penultimate; 0-based otherwise).
    pooling : str
        "cls", "mean" or "max".
    max_length : int, optional
        most tokens per sequence (default: what the model accepts).
    truncation : str
        "warn" (truncate and report the rate) or "error".
    lora_r, lora_alpha, lora_dropout
        LoRA adapters (mode lora).
    hidden_dropout, attention_dropout : float, optional
        set on the encoder config (finetune, lora).
    classifier_dropout : float
        dropout before the linear head (finetune, lora).
    mlp_units, cnn_channels
        head sizes (mlp, cnn-probe).
    embed_batch_size : int
        sequences per batch when caching embeddings.
    cache_dir : str, optional
        embedding cache dir shared between runs (default: the run's cache dir).

    Returns
    -------
    HFSequenceModel
        a "tokens" regdna model producing (N, T) logits.
    """
    if unknown:
        raise RegdnaError(f"hf models have no option(s) {', '.join(sorted(unknown))}")
    if mode not in MODES:
        raise RegdnaError(f"mode '{mode}' is unknown; use one of {', '.join(MODES)}")
    if pooling not in ("cls", "mean", "max"):
        raise RegdnaError(f"pooling '{pooling}' is unknown; use cls, mean or max")
    source = model_source(spec)
    raw = read_model_config(source)
    overrides = {}
    if mode not in FROZEN_MODES:
        overrides = dropout_overrides(hidden_dropout, attention_dropout)
    encoder, native = load_encoder(source, raw, trust_remote_code, overrides, masked_lm=False)
    tokenizer = load_tokenizer(source, trust_remote_code)
    tokens = HFTokens(tokenizer, max_length or default_max_length(raw, tokenizer), truncation)
    backbone = Backbone(encoder, native)
    if mode == "lora":
        add_lora(backbone, native, lora_r, lora_alpha, lora_dropout)
    fingerprint = "|".join([model_fingerprint(source), f"layer={layer}", f"pooling={pooling}",
                            f"max_length={tokens.max_length}"])
    return HFSequenceModel(backbone, tokens, n_outputs_for(info), mode, layer=layer,
                           pooling=pooling, classifier_dropout=classifier_dropout,
                           mlp_units=mlp_units, cnn_channels=cnn_channels,
                           fingerprint=fingerprint, embed_batch_size=embed_batch_size,
                           cache_dir=cache_dir)
