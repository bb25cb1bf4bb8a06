"""Cleaning and de-duplication (as in King et al. n.d.).

- soft-masked (lower-case) bases are upper-cased;
- sequences whose fraction of N (or other ambiguity codes) among their own bases exceeds `max_n`
  are dropped (`own_n_fraction`: N added as padding past a chromosome end or to reach a window
  length are not the sequence's own and are not counted);
- de-duplication in three layers: duplicates within a class keep their first copy; a sequence
  found under two different labels (a cross-class collision) is removed from both classes;
  a sequence and its reverse complement count as the same sequence (enhancers are unstranded).

To stay flat in memory for millions of sequences, sequences are compared through 8-byte
BLAKE2b digests (`sequence_key`) kept in numpy arrays, never as whole strings; the chance that two
different sequences of a 10-million-sequence dataset share a digest is about 3e-6.
"""
from __future__ import annotations

import hashlib

import numpy as np

from regdna.encode.onehot import reverse_complement

_ACGT = frozenset("ACGT")


def upper(seqs: list[str]) -> list[str]:
    """Upper-case soft-masked bases."""
    return [s.upper() for s in seqs]


def n_fraction(seq: str) -> float:
    """Fraction of positions that are not A, C, G or T (N and IUPAC codes)."""
    if not seq:
        return 0.0
    acgt = seq.count("A") + seq.count("C") + seq.count("G") + seq.count("T")
    return 1.0 - acgt / len(seq)


def gc_fraction(seq: str) -> float:
    """G+C over A+C+G+T (ambiguous bases ignored); NaN for a sequence with no ACGT."""
    gc = seq.count("G") + seq.count("C")
    at = seq.count("A") + seq.count("T")
    return gc / (gc + at) if gc + at else float("nan")


_CODE = np.full(256, 4, dtype=np.uint8)   # A C G T -> 0..3 (either case), anything else -> 4
for _i, _b in enumerate("ACGT"):
    _CODE[ord(_b)] = _CODE[ord(_b.lower())] = _i


def base_composition(seqs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """GC fraction (of A+C+G+T; NaN without any) and N fraction (non-ACGT) of many sequences at
    once, vectorised over one concatenated buffer: two (N,) float64 arrays."""
    if not seqs:
        return np.zeros(0), np.zeros(0)
    lengths = np.fromiter((len(q) for q in seqs), dtype=np.int64, count=len(seqs))
    codes = _CODE[np.frombuffer("".join(seqs).encode("ascii"), dtype=np.uint8)]
    row = np.repeat(np.arange(len(seqs)), lengths)
    counts = np.bincount(row * 5 + codes, minlength=5 * len(seqs)).reshape(-1, 5).astype(np.float64)
    acgt = counts[:, :4].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        gc = (counts[:, 1] + counts[:, 2]) / acgt
        n_frac = np.where(lengths > 0, counts[:, 4] / np.maximum(lengths, 1), 0.0)
    return gc, n_frac


def own_n_fraction(seqs: list[str], padded: np.ndarray) -> np.ndarray:
    """Fraction of N (non-ACGT) among each sequence's own bases (N,): the `padded` N bases that
    were added (past a chromosome end, or to reach a length) count neither as N nor as length.
    A sequence made only of padding gives 1."""
    lengths = np.fromiter((len(q) for q in seqs), dtype=np.int64, count=len(seqs))
    padded = np.asarray(padded, dtype=np.int64)
    own_n = np.rint(base_composition(seqs)[1] * lengths) - padded
    own_length = lengths - padded
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(own_length > 0, own_n / np.maximum(own_length, 1), np.where(padded > 0, 1.0, 0.0))


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("ascii"), digest_size=8).digest(), "little")


def sequence_key(seq: str, reverse_complement_equal: bool = True) -> int:
    """8-byte digest of a sequence (upper case); with `reverse_complement_equal` the digest of
    min(seq, revcomp(seq)), so a sequence and its reverse complement share a key."""
    if reverse_complement_equal:
        rc = reverse_complement(seq)
        seq = rc if rc < seq else seq
    return _digest(seq)


def sequence_keys(seqs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Forward keys and strand-canonical keys of many sequences: two (N,) uint64 arrays."""
    fwd = np.empty(len(seqs), dtype=np.uint64)
    canon = np.empty(len(seqs), dtype=np.uint64)
    for i, seq in enumerate(seqs):
        rc = reverse_complement(seq)
        fwd[i] = _digest(seq)
        canon[i] = fwd[i] if seq <= rc else _digest(rc)
    return fwd, canon


def label_key(values) -> int:
    """8-byte digest of one record's label vector (classes compared by exact label values)."""
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    return int.from_bytes(hashlib.blake2b(arr.tobytes(), digest_size=8).digest(), "little")


def dedup_mask(keys: np.ndarray, labels: np.ndarray, within: bool = True,
               cross: bool = True) -> tuple[np.ndarray, dict]:
    """Which records survive de-duplication.

    Args:
        keys: (N,) uint64 sequence keys (strand-canonical keys for reverse-complement equivalence).
        labels: (N,) uint64 label keys (`label_key`) or class codes.
        within: keep only the first record of each (key, label) group.
        cross: drop every record whose key occurs with two or more different labels.

    Returns:
        keep (N,) bool and counts {"within_class_duplicates", "cross_class_collisions"
        (records removed), "cross_class_sequences" (distinct sequences involved)}.
    """
    keys = np.asarray(keys, dtype=np.uint64)
    labels = np.asarray(labels, dtype=np.uint64)
    n = len(keys)
    keep = np.ones(n, dtype=bool)
    counts = {"within_class_duplicates": 0, "cross_class_collisions": 0, "cross_class_sequences": 0}
    if n == 0:
        return keep, counts
    order = np.lexsort((labels, keys))     # by key, then label; stable, so input order breaks ties
    k, lab = keys[order], labels[order]
    new_key = np.r_[True, k[1:] != k[:-1]]
    new_pair = new_key | np.r_[True, lab[1:] != lab[:-1]]
    if cross:
        group = np.cumsum(new_key) - 1
        n_labels = np.bincount(group, weights=new_pair.astype(np.float64)).astype(np.int64)
        colliding = n_labels[group] > 1
        keep[order[colliding]] = False
        counts["cross_class_collisions"] = int(colliding.sum())
        counts["cross_class_sequences"] = int((n_labels > 1).sum())
    if within:
        dup = ~new_pair & keep[order]
        keep[order[dup]] = False
        counts["within_class_duplicates"] = int(dup.sum())
    return keep, counts
