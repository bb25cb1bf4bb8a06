"""Sampling primitives for synthetic regulatory sequence: background bases, motif sites drawn
from JASPAR probability matrices, and planting them. The bundled example
(`regdna.data.example`) and the model-defaults grammars (`regdna.data.grammars`) are built from
these, so a seed draws the same random numbers in the same order in both.
"""
from __future__ import annotations

import numpy as np

BASES = np.frombuffer(b"ACGT", dtype=np.uint8)
COMPLEMENT_IDX = np.array([3, 2, 1, 0])
GC_MEAN, GC_SD = 0.42, 0.04  # per-window background GC, both classes (GC-matched)


def sharpened(ppm: np.ndarray, power: float) -> np.ndarray:
    """(W, 4) cumulative sampling table of ppm**power, rows renormalised."""
    probs = np.power(ppm, power)
    return np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)


def sample_site(rng: np.random.Generator, cumulative: np.ndarray) -> np.ndarray:
    """One site (W,) of base indices drawn from a cumulative (W, 4) table."""
    draws = rng.random(cumulative.shape[0])[:, None]
    return np.minimum((draws > cumulative).sum(axis=1), 3).astype(np.uint8)


def background(rng: np.random.Generator, n: int, gc: float) -> np.ndarray:
    """(n,) i.i.d. bases with GC fraction `gc` (A = T, C = G)."""
    cumulative = np.array([(1 - gc) / 2, 0.5, (1 + gc) / 2])  # A | C | G | T boundaries
    return np.searchsorted(cumulative, rng.random(n), side="right").astype(np.uint8)


def window_gc(rng: np.random.Generator) -> float:
    """A window's background GC fraction, drawn around GC_MEAN (the same for every class)."""
    return float(np.clip(rng.normal(GC_MEAN, GC_SD), 0.25, 0.6))


def oriented(rng: np.random.Generator, site: np.ndarray) -> tuple[np.ndarray, str]:
    """The site as planted on the + strand of the window, and its strand (random)."""
    strand = "+" if rng.random() < 0.5 else "-"
    return (site if strand == "+" else COMPLEMENT_IDX[site[::-1]].astype(np.uint8)), strand


def codes_to_str(codes: np.ndarray) -> str:
    """(L,) base indices 0..3 -> "ACGT..." string."""
    return BASES[codes].tobytes().decode()


def breaking_snv(ppm: np.ndarray, site: np.ndarray, strand: str) -> tuple[int, int, int]:
    """The SNV that breaks a planted site most: its most informative matrix column replaced by
    that column's least probable base (other than the planted one).

    `site` (W,) holds the planted bases read on the motif's own strand, `strand` where it was
    planted ('-': the window holds its reverse complement). Returns (offset from the planted
    start on the + strand, ref, alt), ref and alt as + strand base indices.
    """
    from regdna.io.jaspar import position_information

    column = int(np.argmax(position_information(ppm)))
    ref = int(site[column])
    order = np.argsort(ppm[column], kind="stable")           # least probable first
    alt = int(next(b for b in order if b != ref))
    if strand == "+":
        return column, ref, alt
    return len(site) - 1 - column, 3 - ref, 3 - alt


def best_match_covering(codes: np.ndarray, pos: int, weights: np.ndarray) -> float:
    """Best score of any placement of `weights` (W, 4 log-odds) covering position `pos` of
    `codes`, on either strand (-inf when no placement fits)."""
    width = weights.shape[0]
    starts = np.arange(max(0, pos - width + 1), min(pos, len(codes) - width) + 1)
    if not len(starts):
        return float("-inf")
    windows = codes[starts[:, None] + np.arange(width)[None, :]]          # (S, W)
    rows = np.arange(width)[None, :]
    forward = weights[rows, windows].sum(1)
    reverse = weights[::-1, ::-1][rows, windows].sum(1)
    return float(max(forward.max(), reverse.max()))
