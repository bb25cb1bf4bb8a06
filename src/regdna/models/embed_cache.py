"""Frozen-encoder embeddings computed once and cached on disk, and the truncation report.

A probe trains only a small head, so recomputing a large encoder every epoch wastes nearly all
the time (see `bench/probe_cache.py`). `EmbeddingCache.build` embeds every split of a dataset
dir once, writes float16 arrays (N, D) per split plus a 64-bit content hash per sequence, and
reuses them whenever the dataset content, model, layer, pooling and max_length are the same
(the cache key hashes all five).

Layout: `<cache_dir>/embeddings-<key>/{split}.npy` (float16 (N, D)), `{split}.keys.npy`
(uint64 (N,)), `meta.json`.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from regdna.data.dataset import SPLITS, iter_split
from regdna.errors import RegdnaError
from regdna.utils.atomic import atomic_dir, atomic_file

log = logging.getLogger(__name__)

CACHE_VERSION = 1


def present_splits(data_dir) -> list[str]:
    return [s for s in SPLITS if (Path(data_dir) / f"{s}.parquet").is_file()]


def dataset_hash(data_dir) -> str:
    """SHA-256 of the split files' bytes: any change to the data gives a new cache key."""
    digest = hashlib.sha256()
    for split in present_splits(data_dir):
        digest.update(split.encode())
        with open(Path(data_dir) / f"{split}.parquet", "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def sequence_keys(seqs) -> np.ndarray:
    """64-bit content hashes (N,) uint64 of sequences."""
    return np.array([int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little")
                     for s in seqs], dtype=np.uint64)


def truncation_report(data_dir, tokens, out_path=None) -> dict:
    """Count, per split, the sequences longer than `tokens.max_length`; log the rate and write it
    to `out_path` (JSON). With `tokens.truncation == "error"` any such sequence is an error, raised
    here before training starts."""
    report = {"max_length": tokens.max_length, "splits": {}}
    for split in present_splits(data_dir):
        n = n_long = longest = 0
        for frame in iter_split(data_dir, split, batch_size=4096, columns=["sequence"]):
            lengths = tokens.n_tokens(frame["sequence"].tolist())
            n += len(lengths)
            longest = max(longest, int(lengths.max(initial=0)))
            if tokens.max_length is not None:
                n_long += int((lengths > tokens.max_length).sum())
        report["splits"][split] = {"n": n, "truncated": n_long, "rate": n_long / max(n, 1),
                                   "longest_tokens": longest}
    total = sum(s["truncated"] for s in report["splits"].values())
    report["truncated"] = total
    if total and tokens.truncation == "error":
        raise RegdnaError(f"{total} sequences of {data_dir} need more than max_length="
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
    """Pooled embeddings of every sequence of a dataset dir, looked up by sequence content."""

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
    def build(cls, model, data_dir, cache_dir) -> "EmbeddingCache":
        """Reuse the cache for (dataset content, model fingerprint) or compute it once."""
        key = hashlib.sha256(f"{CACHE_VERSION}|{dataset_hash(data_dir)}|{model.fingerprint}"
                             .encode()).hexdigest()[:16]
        root = Path(cache_dir) / f"embeddings-{key}"
        if (root / "meta.json").is_file():
            log.info("using cached embeddings %s", root)
            return cls(root)
        compute_embeddings(model, data_dir, root)
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


def compute_embeddings(model, data_dir, root: Path) -> None:
    """Embed every split of `data_dir` with `model.embed` and write the cache dir atomically."""
    import pyarrow.parquet as pq
    import torch

    from regdna.utils.device import default_device

    device = default_device()
    original = next(model.backbone.parameters()).device
    model.backbone.to(device)
    splits = present_splits(data_dir)
    try:
        with atomic_dir(root) as tmp:
            for split in splits:
                n = pq.ParquetFile(Path(data_dir) / f"{split}.parquet").metadata.num_rows
                out = np.lib.format.open_memmap(tmp / f"{split}.npy", mode="w+",
                                                dtype=np.float16,
                                                shape=(n, model.backbone.hidden_size))
                keys = np.zeros(n, dtype=np.uint64)
                row = 0
                for frame in iter_split(data_dir, split, batch_size=4096, columns=["sequence"]):
                    seqs = frame["sequence"].tolist()
                    out[row:row + len(seqs)] = model.embed(seqs, device=device)
                    keys[row:row + len(seqs)] = sequence_keys(seqs)
                    row += len(seqs)
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
