"""Pretrained language models for zero-shot analyses: masked models (Tang & Koo 2024: pooled
embeddings and the masked log-likelihood of the token covering a base) and causal models
(HyenaDNA, Nguyen et al. 2023; GPT-style: the log-likelihood of the whole sequence).

`load_language_model` reads the config to tell them apart (`source.is_causal_config`) and loads
a masked model with its MLM head or a causal model with `AutoModelForCausalLM` (custom code only
with `trust_remote_code=True`).
"""
from __future__ import annotations

import inspect
import logging
from typing import Sequence

import numpy as np
import torch
from torch import nn

from regdna.errors import RegdnaError
from regdna.models.attention import pool
from regdna.models.hf.backbone import Backbone, autocast, load_encoder, quiet_transformers
from regdna.models.hf.source import (check_remote_code, is_causal_config, model_source,
                                     read_model_config)
from regdna.models.hf.tokens import HFTokens, default_max_length, load_tokenizer
from regdna.utils.device import default_device

log = logging.getLogger(__name__)


class LanguageModel:
    """A pretrained language model for zero-shot analyses.

    Both kinds: `embed(seqs, pooling, layer) -> (N, D)`. Masked models (`causal` False, Tang &
    Koo 2024): `masked_log_likelihood(seqs, positions) -> (N,)`, the token covering base
    `positions[i]` of `seqs[i]` masked, log p(original token). Causal models (`causal` True):
    `log_likelihood(seqs) -> (N,)`, sum over tokens of log p(token_t | tokens_<t).
    """

    def __init__(self, model: nn.Module, native: bool, tokens: HFTokens, device,
                 batch_size: int = 32, causal: bool = False):
        self.model = model.to(device).eval()
        self.native = native
        self.tokens = tokens
        self.device = device
        self.batch_size = batch_size
        self.causal = causal
        self.backbone = None if causal else Backbone(model.bert if native else model.base_model,
                                                     native)
        # HyenaDNA's forward takes no attention mask; right padding cannot reach earlier tokens
        # of a causal model, so leaving the mask out changes no real token's logits
        self._takes_mask = native or "attention_mask" in inspect.signature(model.forward).parameters
        bos = tokens.tokenizer.bos_token_id
        first = tokens.ids(["A"])[0]
        self._bos = bos if causal and bos is not None and first[:1] != [bos] else None

    def _batches(self, seqs):
        for start in range(0, len(seqs), self.batch_size):
            yield start, list(seqs[start:start + self.batch_size])

    def _inputs(self, chunk: list[str], start: int) -> dict:
        """Token ids and attention mask (on the device). Causal models: the tokenizer's BOS in
        front when it does not add it itself, and no truncation (a cut sequence has no exact
        likelihood)."""
        if not self.causal:
            return {k: v.to(self.device) for k, v in self.tokens(chunk).items()}
        extra = int(self._bos is not None)
        limit = self.tokens.max_length
        if limit is not None:
            n_tokens = self.tokens.n_tokens(chunk) + extra
            if n_tokens.max(initial=0) > limit:
                i = int(np.argmax(n_tokens))
                raise RegdnaError(
                    f"sequence {start + i} ({len(chunk[i])} bp, {n_tokens[i]} tokens) is longer "
                    f"than the {limit} tokens this causal model accepts; shorten the windows "
                    "(vep: --length)")
        x = self.tokens(chunk)
        if extra:
            n = x["input_ids"].shape[0]
            x = {"input_ids": torch.cat([torch.full((n, 1), self._bos), x["input_ids"]], 1),
                 "attention_mask": torch.cat([torch.ones((n, 1), dtype=torch.long),
                                              x["attention_mask"]], 1)}
        return {k: v.to(self.device) for k, v in x.items()}

    def _forward(self, x: dict, **kwargs):
        inputs = {"input_ids": x["input_ids"]}
        if self._takes_mask:
            inputs["attention_mask"] = x["attention_mask"]
        return self.model(**inputs, return_dict=True, **kwargs)

    def _hidden(self, x: dict, layer: int) -> torch.Tensor:
        if not self.causal:
            return self.backbone(x["input_ids"], x["attention_mask"], layer)[0]
        states = self._forward(x, output_hidden_states=True).hidden_states
        n_layers = len(states) - 1        # states[0] is the embedding output
        if not -n_layers <= layer < n_layers:
            raise RegdnaError(f"layer={layer} is out of range for a {n_layers}-layer model")
        return states[layer + 1 if layer >= 0 else layer]

    @torch.inference_mode()
    def embed(self, seqs: Sequence[str], pooling: str = "mean", layer: int = -1) -> np.ndarray:
        """Pooled embeddings (N, D) float32 ("mean" over real tokens, or "cls"; causal models:
        "mean" or "max", their first token sees only itself)."""
        if self.causal and pooling == "cls":
            raise RegdnaError("pooling 'cls' takes the first token, which a causal language "
                              "model computes from itself alone; use pooling 'mean' or 'max'")
        out = []
        for start, chunk in self._batches(seqs):
            x = self._inputs(chunk, start)
            with autocast(self.device):
                hidden = self._hidden(x, layer)
                pool_mask = x["attention_mask"].bool() & ~self.tokens.special_mask(x["input_ids"])
                out.append(pool(hidden, pool_mask, pooling).float().cpu().numpy())
        if out:
            return np.concatenate(out)
        width = self.backbone.hidden_size if self.backbone else self.model.get_input_embeddings() \
            .embedding_dim
        return np.zeros((0, width), np.float32)

    def token_logits(self, x: dict) -> torch.Tensor:
        """Logits (N, S, V) of every token position."""
        if self.native:
            return self.model(x["input_ids"], x["attention_mask"])
        return self._forward(x).logits

    @torch.inference_mode()
    def log_likelihood(self, seqs: Sequence[str]) -> np.ndarray:
        """Causal models: log p(sequence) (N,) float64, the sum over its tokens of
        log p(token_t | tokens_<t) in float32 (a difference of two such sums is what a variant
        score reads, which bfloat16 rounding would swamp). Special tokens and padding are not
        scored; the first token is conditioned on the tokenizer's BOS when it has one (without
        one, the first token has no context and is not scored)."""
        if not self.causal:
            raise RegdnaError("log_likelihood needs a causal language model (GPT-style, "
                              "HyenaDNA); a masked model scores a base with "
                              "masked_log_likelihood")
        out = np.zeros(len(seqs), dtype=np.float64)
        unk = self.tokens.tokenizer.unk_token_id
        for start, chunk in self._batches(seqs):
            x = self._inputs(chunk, start)
            targets = x["input_ids"][:, 1:]
            logp = torch.log_softmax(self.token_logits(x)[:, :-1].float(), -1)
            logp = logp.gather(2, targets[:, :, None]).squeeze(2)
            bases = ~self.tokens.special_mask(targets)    # an unknown base (N, ...) is scored
            if unk is not None:
                bases |= targets == unk
            scored = x["attention_mask"][:, 1:].bool() & bases
            out[start:start + len(chunk)] = logp.double().masked_fill(~scored, 0.0).sum(1) \
                .cpu().numpy()
        return out

    @torch.inference_mode()
    def masked_log_likelihood(self, seqs: Sequence[str], positions: Sequence[int]) -> np.ndarray:
        """log p(original token | rest) (N,) with the token covering base positions[i] masked."""
        mask_id = self.tokens.tokenizer.mask_token_id
        if self.causal or mask_id is None:
            raise RegdnaError("masked likelihoods need a masked language model (this one is "
                              "causal or its tokenizer has no mask token); a causal model "
                              "scores whole sequences with log_likelihood")
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


def load_causal_lm(source: str, raw: dict, trust_remote_code: bool) -> nn.Module:
    """A causal language model (`AutoModelForCausalLM`; its own code only when trusted), in
    float32 whatever dtype it was saved in (its log-likelihoods are summed over every token)."""
    check_remote_code(source, raw, trust_remote_code)
    from transformers import AutoModelForCausalLM

    with quiet_transformers():
        try:
            model, info = AutoModelForCausalLM.from_pretrained(
                source, trust_remote_code=trust_remote_code, output_loading_info=True,
                dtype=torch.float32)
        except (OSError, ValueError) as err:
            raise RegdnaError(f"cannot load '{source}' as a causal language model "
                              f"({str(err).splitlines()[0][:200]})") from None
    if info.get("missing_keys"):
        log.warning("%s: initialised %s (not in the weight file): its likelihoods use these "
                    "random weights", source, ", ".join(sorted(info["missing_keys"])))
    return model


def load_language_model(spec: str, trust_remote_code: bool = False, device=None,
                        max_length: int | None = None, batch_size: int = 32) -> LanguageModel:
    """The language model of `hf:<id or dir>` for zero-shot scores: a causal model (the config
    says so, `source.is_causal_config`) or a masked model with its MLM head."""
    source = model_source(spec)
    raw = read_model_config(source)
    causal = is_causal_config(raw)
    if causal:
        model, native = load_causal_lm(source, raw, trust_remote_code), False
    else:
        model, native = load_encoder(source, raw, trust_remote_code, {}, masked_lm=True)
    tokenizer = load_tokenizer(source, trust_remote_code)
    # GPT-2 configs name their position limit n_positions
    limit = max_length or default_max_length(raw, tokenizer) or raw.get("n_positions")
    device = torch.device(device) if device is not None else default_device()
    return LanguageModel(model, native, HFTokens(tokenizer, limit), device,
                         batch_size=batch_size, causal=causal)
