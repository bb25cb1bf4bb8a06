"""Masked language models for zero-shot analyses (Tang & Koo 2024): pooled embeddings and the
masked log-likelihood of the token covering a base."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn

from regdna.errors import RegdnaError
from regdna.models.attention import pool
from regdna.models.hf.backbone import Backbone, autocast, load_encoder
from regdna.models.hf.source import model_source, read_model_config
from regdna.models.hf.tokens import HFTokens, default_max_length, load_tokenizer
from regdna.utils.device import default_device


class LanguageModel:
    """A masked language model for zero-shot analyses (Tang & Koo 2024).

    `embed(seqs, pooling, layer) -> (N, D)`; `masked_log_likelihood(seqs, positions) -> (N,)`:
    mask the token covering base `positions[i]` of `seqs[i]` and return log p(original token).
    """

    def __init__(self, mlm: nn.Module, native: bool, tokens: HFTokens, device, batch_size=32):
        self.mlm = mlm.to(device).eval()
        self.native = native
        self.tokens = tokens
        self.device = device
        self.batch_size = batch_size
        encoder = mlm.bert if native else mlm.base_model
        self.backbone = Backbone(encoder, native)

    def _batches(self, seqs):
        for start in range(0, len(seqs), self.batch_size):
            yield start, list(seqs[start:start + self.batch_size])

    @torch.inference_mode()
    def embed(self, seqs: Sequence[str], pooling: str = "mean", layer: int = -1) -> np.ndarray:
        """Pooled embeddings (N, D) float32 ("mean" over real tokens, or "cls")."""
        out = []
        for _, chunk in self._batches(seqs):
            x = {k: v.to(self.device) for k, v in self.tokens(chunk).items()}
            with autocast(self.device):
                hidden, _ = self.backbone(x["input_ids"], x["attention_mask"], layer)
                pool_mask = x["attention_mask"].bool() & ~self.tokens.special_mask(x["input_ids"])
                out.append(pool(hidden, pool_mask, pooling).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.backbone.hidden_size), np.float32)

    def token_logits(self, x: dict) -> torch.Tensor:
        if self.native:
            return self.mlm(x["input_ids"], x["attention_mask"])
        return self.mlm(input_ids=x["input_ids"], attention_mask=x["attention_mask"]).logits

    @torch.inference_mode()
    def masked_log_likelihood(self, seqs: Sequence[str], positions: Sequence[int]) -> np.ndarray:
        """log p(original token | rest) (N,) with the token covering base positions[i] masked."""
        mask_id = self.tokens.tokenizer.mask_token_id
        if mask_id is None:
            raise RegdnaError("this tokenizer has no mask token; masked likelihoods need a "
                              "masked language model")
        out = np.zeros(len(seqs), dtype=np.float64)
        for start, chunk in self._batches(seqs):
            x = self.tokens(chunk)
            spans = self.tokens.token_spans(chunk)
            rows, cols = [], []
            for i, row in enumerate(spans):
                pos = int(positions[start + i])
                hit = [j for j, (a, b) in enumerate(row) if a <= pos < b]
                if not hit:
                    raise RegdnaError(f"position {pos} of sequence {start + i} "
                                      f"({len(chunk[i])} bp) is not covered by any token "
                                      "(outside the sequence or truncated)")
                rows.append(i)
                cols.append(hit[0])
            rows_t, cols_t = torch.tensor(rows), torch.tensor(cols)
            original = x["input_ids"][rows_t, cols_t].clone()
            x["input_ids"][rows_t, cols_t] = mask_id
            x = {k: v.to(self.device) for k, v in x.items()}
            with autocast(self.device):
                logits = self.token_logits(x).float()
            logp = torch.log_softmax(logits[rows_t.to(self.device), cols_t.to(self.device)], -1)
            out[start:start + len(chunk)] = logp.gather(1, original.to(self.device)[:, None]) \
                .squeeze(1).cpu().numpy()
        return out


def load_language_model(spec: str, trust_remote_code: bool = False, device=None,
                        max_length: int | None = None, batch_size: int = 32) -> LanguageModel:
    """A masked language model (with its MLM head) from `hf:<id or dir>` for zero-shot scores."""
    source = model_source(spec)
    raw = read_model_config(source)
    mlm, native = load_encoder(source, raw, trust_remote_code, {}, masked_lm=True)
    tokenizer = load_tokenizer(source, trust_remote_code)
    tokens = HFTokens(tokenizer, max_length or default_max_length(raw, tokenizer))
    device = torch.device(device) if device is not None else default_device()
    return LanguageModel(mlm, native, tokens, device, batch_size=batch_size)
