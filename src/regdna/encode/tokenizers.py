"""DNA tokenizers for models trained from scratch: single base, non-overlapping k-mer and
overlapping k-mer (DNABERT-1 style).

Every tokenizer maps a list of DNA strings to `input_ids` / `attention_mask` tensors (N, S)
(`[CLS]` first, `[SEP]` last, padding to a multiple of 8) and knows which bases each token covers
(`token_spans`, half-open intervals, (0, 0) for special tokens). Vocabulary: the five special
tokens, then all 4**k k-mers in lexicographic A < C < G < T order; a k-mer with any other
letter (N) is `[UNK]`.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from regdna.errors import RegdnaError

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID = range(5)
KINDS = ("base", "kmer", "kmer-overlap")


def round_up(n: int, multiple: int) -> int:
    """Smallest multiple of `multiple` that is >= n (tensor-core friendly lengths)."""
    return ((n + multiple - 1) // multiple) * multiple


@dataclass
class KmerTokenizer:
    """Single-base (`kind="base"`, k = 1), non-overlapping (`"kmer"`) or overlapping
    (`"kmer-overlap"`, stride 1) k-mer tokenizer.

    Args:
        kind: "base", "kmer" or "kmer-overlap".
        k: k-mer size (ignored for "base").
        max_tokens: longest token sequence including [CLS]/[SEP]; None: no limit.
        truncation: "warn" (truncate and count) or "error" (raise) for longer inputs.
        pad_to_multiple_of: pad the token axis to a multiple of this.
    """

    kind: str = "kmer-overlap"
    k: int = 3
    max_tokens: int | None = None
    truncation: str = "warn"
    pad_to_multiple_of: int = 8

    def __post_init__(self):
        if self.kind not in KINDS:
            raise RegdnaError(f"tokenizer kind '{self.kind}' is unknown; use one of {', '.join(KINDS)}")
        if self.kind == "base":
            self.k = 1
        if not 1 <= self.k <= 8:
            raise RegdnaError(f"k-mer size k={self.k} is out of range; use 1..8")
        if self.truncation not in ("warn", "error"):
            raise RegdnaError(f"truncation='{self.truncation}': use 'warn' or 'error'")
        # k-mer -> id: a base-4 number offset past the special tokens.
        self._lut = np.full(256, -1, dtype=np.int64)
        for i, b in enumerate("ACGT"):
            self._lut[ord(b)] = i
            self._lut[ord(b.lower())] = i
        self._powers = 4 ** np.arange(self.k - 1, -1, -1, dtype=np.int64)
        self.n_seen = 0
        self.n_truncated = 0

    @property
    def stride(self) -> int:
        return 1 if self.kind == "kmer-overlap" else self.k

    @property
    def vocab_size(self) -> int:
        return len(SPECIAL_TOKENS) + 4 ** self.k

    def vocab(self) -> list[str]:
        return list(SPECIAL_TOKENS) + ["".join(p) for p in itertools.product("ACGT", repeat=self.k)]

    def _starts(self, length: int) -> np.ndarray:
        """Start offsets of the tokens of a sequence of `length` bases."""
        if length == 0:
            return np.zeros(0, dtype=np.int64)
        if self.kind == "kmer-overlap":
            return np.arange(max(length - self.k + 1, 1), dtype=np.int64)
        return np.arange(0, length, self.k, dtype=np.int64)

    def encode_one(self, seq: str) -> np.ndarray:
        """Token ids without special tokens, (S,). A partial last k-mer (shorter than k, or a
        sequence shorter than k) is `[UNK]`."""
        codes = self._lut[np.frombuffer(seq.encode("ascii", "replace"), dtype=np.uint8)]
        starts = self._starts(len(seq))
        ids = np.full(len(starts), UNK_ID, dtype=np.int64)
        full = starts + self.k <= len(seq)
        if full.any():
            windows = codes[starts[full, None] + np.arange(self.k)]           # (S, k)
            valid = (windows >= 0).all(axis=1)
            kmer_ids = (np.where(windows < 0, 0, windows) * self._powers).sum(axis=1)
            ids[np.flatnonzero(full)] = np.where(valid, kmer_ids + len(SPECIAL_TOKENS), UNK_ID)
        return ids

    def n_tokens(self, seq: str) -> int:
        """Tokens of `seq` including [CLS] and [SEP], before truncation."""
        return len(self._starts(len(seq))) + 2

    def __call__(self, seqs: list[str]) -> dict:
        """Strings -> {"input_ids", "attention_mask"} LongTensors (N, S), S a multiple of 8."""
        import torch

        rows = []
        for i, seq in enumerate(seqs):
            ids = self.encode_one(seq)
            rows.append(self._truncate(ids, i, seq))
        width = round_up(max((len(r) + 2 for r in rows), default=2), self.pad_to_multiple_of)
        input_ids = np.full((len(rows), width), PAD_ID, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, ids in enumerate(rows):
            input_ids[i, 0] = CLS_ID
            input_ids[i, 1:len(ids) + 1] = ids
            input_ids[i, len(ids) + 1] = SEP_ID
            mask[i, :len(ids) + 2] = 1
        return {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(mask)}

    def _truncate(self, ids: np.ndarray, index: int, seq: str) -> np.ndarray:
        self.n_seen += 1
        if self.max_tokens is None or len(ids) + 2 <= self.max_tokens:
            return ids
        if self.truncation == "error":
            raise RegdnaError(
                f"sequence {index} ({len(seq)} bp) needs {len(ids) + 2} tokens, more than "
                f"max_tokens={self.max_tokens}; raise max_tokens or pass truncation='warn'")
        self.n_truncated += 1
        return ids[:self.max_tokens - 2]

    def token_spans(self, seqs: list[str]) -> list[list[tuple[int, int]]]:
        """Per sequence, the half-open base interval of each token, [CLS] and [SEP] as (0, 0),
        in the order of `input_ids` (after truncation, without padding)."""
        spans = []
        for seq in seqs:
            starts = self._starts(len(seq))
            if self.max_tokens is not None:
                starts = starts[:max(self.max_tokens - 2, 0)]
            inner = [(int(s), int(min(s + self.k, len(seq)))) for s in starts]
            spans.append([(0, 0)] + inner + [(0, 0)])
        return spans
