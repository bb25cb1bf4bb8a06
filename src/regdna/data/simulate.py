"""Sampling primitives for synthetic regulatory sequence: background bases, motif sites drawn
from JASPAR probability matrices, and planting them. The bundled example
(`regdna.data.example`) and the model-defaults grammars (`regdna.data.grammars`) are built from
these, so a seed draws the same random numbers in the same order in both.

Two backgrounds: `background`, i.i.d. bases of a given GC fraction (the grammars, the profile
example), and `genomic_background` (the bundled example), bases drawn from a fixed order-4
Markov chain with genome-like structure beyond dinucleotides (`genomic_chain`): CpG depletion
(Bird 1980), persistent homopolymer tracts such as poly(dA) (Dechering et al. 1998) and
dinucleotide microsatellites such as (CA)n (Toth et al. 2000), on top of log-normally skewed
transitions of every 4-base context. A dinucleotide shuffle (Altschul & Erickson 1985) of such a
window keeps its GC and dinucleotide counts but not its 3- to 5-mers, as in real genomes.
"""
from __future__ import annotations

from functools import lru_cache

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


MARKOV_ORDER = 4          # bases of context of `genomic_chain`
CHAIN_SEED = 1985         # the chain is a constant of the simulator, the same for every example seed
# sd of the log-normal skew of every transition. Measured on the default example (one run each,
# seed 0, test chr8/chr9; cnn = the default model, kmer = kmer-lr k=5; shuffle = AUROC of the
# sequence-statistics OOD score for test vs dinucleotide-shuffled test):
#   skew 0.0 (i.i.d.): cnn 0.889, kmer 0.851, shuffle 0.789 | 0.1: 0.927, 0.815, 0.830
#   0.2: 0.966, 0.826, 0.966 | 0.3: 0.797, 0.823, 0.980 | 0.4: 0.757, 0.83, 0.997
# Above 0.2 the skewed 5-mers of the background mislead the CNN (below the k-mer floor at 0.3);
# below it too little structure is left for a shuffle to destroy.
CHAIN_SKEW = 0.2
CPG_DEPLETION = 0.25      # P(G | C) factor: CpG observed / expected ~0.25 in mammals (Bird 1980)
TRACT_PERSISTENCE = 3.0   # P(b | bbbb) factor: homopolymer tracts (Dechering et al. 1998)
REPEAT_PERSISTENCE = 3.0  # P(x | xyxy) factor: dinucleotide microsatellites (Toth et al. 2000)
IS_GC = np.array([0.0, 1.0, 1.0, 0.0])
BURN_IN = 20              # steps discarded before a sequence starts (the chain mixes within ~10)
CHUNK = 2048              # sequences sampled at once (bounds memory for large examples)


def _stationary(probs: np.ndarray, steps: int = 200) -> np.ndarray:
    """Stationary distribution (4**k,) over the contexts of an order-k chain (power iteration)."""
    n = len(probs)
    successor = (np.arange(n)[:, None] * 4 + np.arange(4)[None, :]) % n
    pi = np.full(n, 1.0 / n)
    for _ in range(steps):
        pi = np.bincount(successor.ravel(), weights=(pi[:, None] * probs).ravel(), minlength=n)
    return pi


def _tilted(probs: np.ndarray, theta) -> np.ndarray:
    """Transitions reweighted by exp(theta) for G and C, rows renormalised."""
    out = probs * np.exp(theta * IS_GC)
    return out / out.sum(axis=-1, keepdims=True)


@lru_cache(maxsize=1)
def genomic_chain() -> np.ndarray:
    """(4**4, 4) transition probabilities P(next base | previous 4 bases) of the background
    chain (context id = base-4 number of the 4 bases, A < C < G < T, the oldest first), tilted so
    that its stationary GC fraction is GC_MEAN. Fixed: drawn from its own constant seed."""
    n = 4 ** MARKOV_ORDER
    rng = np.random.default_rng(CHAIN_SEED)
    ctx = (np.arange(n)[:, None] // 4 ** np.arange(MARKOV_ORDER - 1, -1, -1)[None, :]) % 4
    base = np.array([1 - GC_MEAN, GC_MEAN, GC_MEAN, 1 - GC_MEAN]) / 2
    logit = np.log(base)[None, :] + CHAIN_SKEW * rng.standard_normal((n, 4))
    logit[ctx[:, -1] == 1, 2] += np.log(CPG_DEPLETION)
    tract = np.flatnonzero((ctx == ctx[:, :1]).all(axis=1))
    logit[tract, ctx[tract, 0]] += np.log(TRACT_PERSISTENCE)
    repeat = np.flatnonzero((ctx[:, 0] == ctx[:, 2]) & (ctx[:, 1] == ctx[:, 3])
                            & (ctx[:, 0] != ctx[:, 1]))
    logit[repeat, ctx[repeat, 0]] += np.log(REPEAT_PERSISTENCE)
    probs = np.exp(logit)
    probs /= probs.sum(axis=1, keepdims=True)
    theta = 0.0
    for _ in range(4):   # the stationary GC moves about 1:1 with the tilt on the logit scale
        tilted = _tilted(probs, theta)
        gc = float(_stationary(tilted) @ (tilted @ IS_GC))
        theta += np.log(GC_MEAN / (1 - GC_MEAN)) - np.log(gc / (1 - gc))
    return _tilted(probs, theta)


def genomic_background(rng: np.random.Generator, n_seqs: int, length: int, gc) -> np.ndarray:
    """(n_seqs, length) bases from `genomic_chain`, each sequence tilted towards its GC fraction
    `gc` (scalar or (n_seqs,)): transitions to G and C reweighted by gc / (1 - gc) over GC_MEAN /
    (1 - GC_MEAN), so that a sequence's expected GC is about `gc`. Vectorised over sequences
    (one step per base, `CHUNK` sequences at a time)."""
    chain = genomic_chain()
    gc = np.broadcast_to(np.asarray(gc, dtype=np.float64), (n_seqs,))
    theta = np.log(gc / (1 - gc)) - np.log(GC_MEAN / (1 - GC_MEAN))
    out = np.empty((n_seqs, length), dtype=np.uint8)
    for lo in range(0, n_seqs, CHUNK):
        hi = min(lo + CHUNK, n_seqs)
        weights = np.exp(theta[lo:hi, None] * IS_GC[None, :])             # (B, 4)
        draws = rng.random((hi - lo, BURN_IN + length))
        state = rng.integers(len(chain), size=hi - lo)
        for t in range(BURN_IN + length):
            cumulative = np.cumsum(chain[state] * weights, axis=1)
            bases = (draws[:, t, None] * cumulative[:, 3:] > cumulative[:, :3]).sum(axis=1)
            state = (state * 4 + bases) % len(chain)
            if t >= BURN_IN:
                out[lo:hi, t - BURN_IN] = bases
    return out


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
