"""Between tokens and bases: the token tensors of the sequences being explained
(`token_batch`), and token scores -> base scores (Consens et al. n.d., k-mer -> base mapping).

A transformer scores tokens; a biologist reads bases. Every base takes the mean score of the
tokens that cover it:

- overlapping k-mers (DNABERT-1, 6-mers with stride 1): base i is covered by up to k tokens and
  gets the mean of their scores;
- BPE or non-overlapping k-mer tokens (DNABERT-2, Nucleotide Transformer): each base is covered
  by exactly one token and gets that token's score.

Both are the same rule, so one function serves every tokenizer. Special tokens ([CLS], [SEP],
padding) have the span (0, 0), cover no base and are dropped. Bases that no token covers
(truncated input) score 0.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def token_batch(predictor, seqs: Sequence[str]) -> dict:
    """Token tensors of `seqs` on the predictor's device: `model.token_inputs` (always real
    tokens, `regdna.models.base`), so that models which cache embeddings still give tokens and
    attention.

    Returns
    -------
    {"input_ids", "attention_mask", ...}: (N, S) tensors on `predictor.device`.
    """
    batch = predictor.model.token_inputs(list(seqs))
    return {k: v.to(predictor.device) for k, v in batch.items()}


def token_to_base(token_scores: np.ndarray, spans: Sequence[tuple[int, int]],
                  length: int) -> np.ndarray:
    """Map one sequence's token scores (S,) to base scores (length,).

    Args:
        token_scores: (S,) one score per token, in the order of `spans`.
        spans: S half-open base intervals [start, end); (0, 0) for special tokens.
        length: number of bases in the sequence.

    Returns:
        (length,) float32: each base the mean score of the tokens covering it, 0 if none does.
    """
    token_scores = np.asarray(token_scores, dtype=np.float64)
    if len(token_scores) < len(spans):
        raise ValueError(f"{len(token_scores)} token scores for {len(spans)} token spans")
    total = np.zeros(length + 1, dtype=np.float64)
    count = np.zeros(length + 1, dtype=np.float64)
    for score, (start, end) in zip(token_scores, spans):
        start, end = max(int(start), 0), min(int(end), length)
        if end <= start:
            continue
        # difference arrays: add on [start, end) in O(1) per token
        total[start] += score
        total[end] -= score
        count[start] += 1
        count[end] -= 1
    total, count = np.cumsum(total)[:length], np.cumsum(count)[:length]
    out = np.divide(total, count, out=np.zeros(length), where=count > 0)
    return out.astype(np.float32)


def tokens_to_bases(token_scores: np.ndarray, spans: Sequence[Sequence[tuple[int, int]]],
                    length: int) -> np.ndarray:
    """Batch version: (N, S) token scores and N span lists -> (N, length) base scores."""
    return np.stack([token_to_base(scores, sp, length)
                     for scores, sp in zip(token_scores, spans)]) if len(spans) else \
        np.zeros((0, length), dtype=np.float32)
