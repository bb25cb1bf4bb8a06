"""Tokens of an `hf:` model: the hub tokenizer behind regdna's token interface (`HFTokens`:
ids, truncation counted or rejected, padding to a multiple of 8, base spans of every token) and
the most tokens the model accepts.
"""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
import torch

from regdna.errors import RegdnaError
from regdna.models.dnabert2 import is_dnabert2_config
from regdna.models.hf.source import model_source, read_model_config

log = logging.getLogger(__name__)


class HFTokens:
    """A hub tokenizer behind regdna's token interface: ids with special tokens, truncation
    counted or rejected, padding to a multiple of 8, base spans of every token.

    Args:
        tokenizer: a transformers tokenizer.
        max_length: most tokens per sequence including special tokens (None: no limit).
        truncation: "warn" (truncate, count, log) or "error" (raise).
    """

    def __init__(self, tokenizer, max_length: int | None, truncation: str = "warn"):
        if truncation not in ("warn", "error"):
            raise RegdnaError(f"truncation='{truncation}': use 'warn' or 'error'")
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.truncation = truncation
        self.special_ids = set(tokenizer.all_special_ids)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.n_seen = 0
        self.n_truncated = 0

    def ids(self, seqs: Sequence[str]) -> list[list[int]]:
        """Token ids with special tokens, untruncated."""
        return self.tokenizer(list(seqs), add_special_tokens=True)["input_ids"]

    def n_tokens(self, seqs: Sequence[str]) -> np.ndarray:
        return np.array([len(ids) for ids in self.ids(seqs)], dtype=np.int64)

    def _truncate(self, ids: list[int]) -> list[int]:
        if self.max_length is None or len(ids) <= self.max_length:
            return ids
        tail = [ids[-1]] if ids[-1] in self.special_ids else []
        return ids[:self.max_length - len(tail)] + tail

    def __call__(self, seqs: Sequence[str]) -> dict:
        """Strings -> {"input_ids", "attention_mask"} LongTensors (N, S), S a multiple of 8."""
        rows = self.ids(seqs)
        too_long = [i for i, r in enumerate(rows) if self.max_length and len(r) > self.max_length]
        self.n_seen += len(rows)
        if too_long:
            if self.truncation == "error":
                i = too_long[0]
                raise RegdnaError(
                    f"{len(too_long)} of {len(rows)} sequences are longer than max_length="
                    f"{self.max_length} tokens (sequence {i}: {len(rows[i])} tokens, "
                    f"{len(seqs[i])} bp); raise max_length, shorten the windows, or allow "
                    "truncation with truncation=warn")
            self.n_truncated += len(too_long)
            log.warning("truncated %d of %d sequences to %d tokens (%.2f%% so far)",
                        len(too_long), len(rows), self.max_length,
                        100.0 * self.n_truncated / self.n_seen)
            rows = [self._truncate(r) for r in rows]
        width = max((len(r) for r in rows), default=1)
        width = ((width + 7) // 8) * 8
        input_ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            input_ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
            mask[i, :len(r)] = 1
        return {"input_ids": input_ids, "attention_mask": mask}

    def special_mask(self, input_ids: torch.Tensor) -> torch.Tensor:
        """(N, S) bool: True at special tokens ([CLS], [SEP], padding, ...)."""
        ids = torch.tensor(sorted(self.special_ids), device=input_ids.device)
        return torch.isin(input_ids, ids)

    def token_spans(self, seqs: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Half-open base interval of each token (after truncation), (0, 0) for specials."""
        spans = []
        for seq, ids in zip(seqs, self.ids(seqs)):
            ids = self._truncate(ids)
            pos, row = 0, []
            for tid in ids:
                if tid in self.special_ids and tid != self.tokenizer.unk_token_id:
                    row.append((0, 0))
                    continue
                piece = self.tokenizer.convert_ids_to_tokens(tid)
                width = 1 if tid == self.tokenizer.unk_token_id else len(piece.lstrip("#"))
                row.append((pos, min(pos + width, len(seq))))
                pos += width
            spans.append(row)
        return spans


def load_tokenizer(source: str, trust_remote_code: bool = False):
    """The transformers tokenizer of a hub id or local dir, with a clear error when it has none."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)
    except Exception as err:
        raise RegdnaError(f"cannot load the tokenizer of '{source}' ({type(err).__name__}: "
                          f"{str(err).splitlines()[0][:200]}); the directory needs tokenizer "
                          "files (tokenizer.json or vocab.txt + tokenizer_config.json)") from None


def default_max_length(raw: dict, tokenizer) -> int | None:
    """Most tokens the model accepts: ALiBi models (DNABERT-2) none; learned absolute positions:
    max_position_embeddings (ESM counts positions from padding_idx + 1, so 2 fewer)."""
    if is_dnabert2_config(raw):
        return None
    limit = raw.get("max_position_embeddings")
    if limit is not None and raw.get("model_type") == "esm":
        limit -= 2
    tok_limit = getattr(tokenizer, "model_max_length", None)
    if tok_limit is not None and tok_limit < 1_000_000:
        limit = tok_limit if limit is None else min(limit, tok_limit)
    return limit


def load_tokens(spec: str, trust_remote_code: bool = False, max_length: int | None = None,
                truncation: str = "warn") -> HFTokens:
    """The tokenizer of a model spec, wrapped as `HFTokens` (no weights loaded)."""
    source = model_source(spec)
    raw = read_model_config(source)
    tokenizer = load_tokenizer(source, trust_remote_code)
    return HFTokens(tokenizer, max_length or default_max_length(raw, tokenizer), truncation)
