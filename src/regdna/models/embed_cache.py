"""Frozen-encoder embeddings computed once and cached on disk, and the truncation report.

A probe trains only a small head, so recomputing a large encoder every epoch wastes nearly all
the time (see `bench/probe_cache.py`). `EmbeddingCache.build` embeds the sequences of every split
it is given once, writes float16 arrays (N, D) per split plus a 64-bit content hash per sequence,
and reuses them whenever the sequences, model, layer, pooling and max_length are the same (the
cache key hashes all five). The model sees sequences only, never the dataset dir: the training
harness reads the splits and passes their sequences.

Layout: `<cache_dir>/embeddings-<key>/{split}.npy` (float16 (N, D)), `{split}.keys.npy`
(uint64 (N,)), `meta.json`.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch

from regdna.errors import RegdnaError
from regdna.utils.atomic import atomic_dir, atomic_file
from regdna.utils.device import default_device

log = logging.getLogger(__name__)

CACHE_VERSION = 2       # 2: the key hashes the sequences (1: the split files' bytes)
CHUNK = 4096            # sequences per tokenizer / encoder call


def _chunks(seqs: Sequence[str], size: int = CHUNK):
    for start in range(0, len(seqs), size):
        yield list(seqs[start:start + size])


def sequences_hash(sequences: Mapping[str, Sequence[str]]) -> str:
    """SHA-256 of the split names and their sequences in order: any change gives a new key."""
    digest = hashlib.sha256()
    for split, seqs in sequences.items():
        digest.update(f"{split}\0{len(seqs)}\0".encode())
        for seq in seqs:
            digest.update(seq.encode())
            digest.update(b"\0")
    return digest.hexdigest()


def sequence_keys(seqs) -> np.ndarray:
    """64-bit content hashes (N,) uint64 of sequences."""
    return np.array([int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little")
                     for s in seqs], dtype=np.uint64)


def truncation_report(sequences: Mapping[str, Sequence[str]], tokens, out_path=None) -> dict:
    """Count, per split, the sequences longer than `tokens.max_length`; log the rate and write it
    to `out_path` (JSON). With `tokens.truncation == "error"` any such sequence is an error, raised
    here before training starts.

    Parameters
    ----------
    sequences : mapping split name -> sequence of str
        the DNA strings of each split.
    tokens : HFTokens (or any object with `n_tokens(seqs) -> (N,) int`, `max_length`,
        `truncation`)
    out_path : path, optional
        where to write the report as JSON.

    Returns
    -------
    dict
        {"max_length", "truncated": total count, "splits": {split: {"n", "truncated", "rate",
        "longest_tokens"}}}.
    """
    report = {"max_length": tokens.max_length, "splits": {}}
    for split, seqs in sequences.items():
        n = n_long = longest = 0
        for chunk in _chunks(seqs):
            lengths = tokens.n_tokens(chunk)
            n += len(lengths)
            longest = max(longest, int(lengths.max(initial=0)))
            if tokens.max_length is not None:
                n_long += int((lengths > tokens.max_length).sum())
        report["splits"][split] = {"n": n, "truncated": n_long, "rate": n_long / max(n, 1),
                                   "longest_tokens": longest}
    total = sum(s["truncated"] for s in report["splits"].values())
    report["truncated"] = total
    if total and tokens.truncation == "error":
        raise RegdnaError(f"{total} sequences of the dataset need more than max_length="
                          f"{tokens.max_length} tokens; raise max_length (see `regdna tokens`) or "
                          "allow truncation (truncation=warn)")
    for split, s in report["splits"].items():
        level = logging.WARNING if s["truncated"] else logging.INFO
        log.log(level, "%s: %d of %d sequences longer than %s tokens will be truncated (%.2f%%)",
                split, s["truncated"], s["n"], tokens.max_length, 100 * s["rate"])
    if out_path is not None:
        with atomic_file(out_path) as handle:
            json.dump(report, handle, indent=2)
    return report


class EmbeddingCache:
    """Pooled embeddings of every sequence of a dataset's splits, looked up by sequence content."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.meta = json.loads((self.root / "meta.json").read_text())
        self.arrays, self.index = [], {}
        for split in self.meta["splits"]:
            array = np.load(self.root / f"{split}.npy", mmap_mode="r")
            keys = np.load(self.root / f"{split}.keys.npy")
            slot = len(self.arrays)
            self.arrays.append(array)
            self.index.update({int(k): (slot, row) for row, k in enumerate(keys)})

    @classmethod
    def build(cls, model, sequences: Mapping[str, Sequence[str]], cache_dir) -> "EmbeddingCache":
        """Reuse the cache for (sequences, model fingerprint) or compute it once.

        `model` has `embed(seqs, device) -> (N, D)`, `fingerprint` and `backbone`
        (`HFSequenceModel`); `sequences` maps split name -> its DNA strings."""
        key = hashlib.sha256(f"{CACHE_VERSION}|{sequences_hash(sequences)}|{model.fingerprint}"
                             .encode()).hexdigest()[:16]
        root = Path(cache_dir) / f"embeddings-{key}"
        if (root / "meta.json").is_file():
            log.info("using cached embeddings %s", root)
            return cls(root)
        compute_embeddings(model, sequences, root)
        return cls(root)

    def lookup(self, seqs) -> np.ndarray | None:
        """Embeddings (N, D) float32 of `seqs`, or None if any sequence is not cached."""
        hits = []
        for key in sequence_keys(seqs):
            hit = self.index.get(int(key))
            if hit is None:
                return None
            hits.append(hit)
        return np.stack([self.arrays[slot][row] for slot, row in hits]).astype(np.float32)


def compute_embeddings(model, sequences: Mapping[str, Sequence[str]], root: Path) -> None:
    """Embed every split of `sequences` with `model.embed` and write the cache dir atomically:
    `{split}.npy` float16 (N, D), `{split}.keys.npy` uint64 (N,), `meta.json`."""
    device = default_device()
    original = next(model.backbone.parameters()).device
    model.backbone.to(device)
    splits = list(sequences)
    try:
        with atomic_dir(root) as tmp:
            for split in splits:
                seqs = sequences[split]
                n = len(seqs)
                out = np.lib.format.open_memmap(tmp / f"{split}.npy", mode="w+",
                                                dtype=np.float16,
                                                shape=(n, model.backbone.hidden_size))
                keys = np.zeros(n, dtype=np.uint64)
                row = 0
                for chunk in _chunks(seqs):
                    out[row:row + len(chunk)] = model.embed(chunk, device=device)
                    keys[row:row + len(chunk)] = sequence_keys(chunk)
                    row += len(chunk)
                out.flush()
                del out
                np.save(tmp / f"{split}.keys.npy", keys)
                log.info("embedded %d %s sequences", n, split)
            (tmp / "meta.json").write_text(json.dumps(
                {"version": CACHE_VERSION, "splits": splits, "model": model.fingerprint,
                 "dim": model.backbone.hidden_size, "dtype": "float16"}, indent=2))
    finally:
        model.backbone.to(original)
        if device.type == "cuda":
            torch.cuda.empty_cache()
