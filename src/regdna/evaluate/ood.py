"""Out-of-distribution scores: how far a sequence lies from the training sequences.

- `Mahalanobis` (Lee et al. 2018): squared Mahalanobis distance of an embedding (e.g. a model's
  penultimate layer) from the training embeddings, d(x) = min_c (x - mu_c)^T S^-1 (x - mu_c),
  with one mean mu_c per class when classes are given (else one mean) and one shared covariance S
  of the class-centred training embeddings, shrunk towards a scaled identity by the Ledoit-Wolf
  formula (Ledoit & Wolf 2004; scikit-learn's `ledoit_wolf`) so that it is invertible even with
  more dimensions than sequences.
- `MarkovLR`: the likelihood ratio of Ren et al. 2019 with k-th order Markov chains: the
  per-base log-likelihood of a sequence under an order-k chain fitted on the training
  sequences minus that under the order-1 chain fitted on them, which is also the chain fitted
  on their dinucleotide shuffles (Altschul & Erickson 1985; a shuffle keeps every dinucleotide
  count), i.e. the background model of the perturbed inputs. Being a linear function of the
  (k+1)-mer spectrum, it sees exactly the structure a shuffle destroys.
- `StatsOOD`: a distance over simple statistics of the sequence itself (`sequence_stats`:
  length, GC fraction, N fraction and the normalised k-mer spectrum, plus `MarkovLR`): the mean
  of the squared standardised deviations of length, GC, N fraction and the likelihood ratio
  from their training means and the k-mer spectrum's Mahalanobis distance per k-mer (each
  about 1 on training-like sequences). It catches inputs whose composition differs from
  training (GC-shifted, N-rich, other lengths) and, through the likelihood ratio, inputs that
  keep the composition and dinucleotides but not the longer k-mers of training (dinucleotide
  shuffles of genomic windows; shuffles of i.i.d. sequence are themselves i.i.d., and no
  statistic separates them).
- `ood_flags`: a score above the `quantile` of in-distribution scores is flagged.

Everything fitted is kept as plain numpy arrays (`to_dict` / `from_dict`, JSON- or NPZ-ready).
"""
from __future__ import annotations

import numpy as np

from regdna.data.clean import base_composition
from regdna.encode.tokenizers import SPECIAL_TOKENS, UNK_ID, KmerTokenizer
from regdna.errors import RegdnaError

def _matrix(x, what: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or not len(x):
        raise RegdnaError(f"{what} must be a non-empty (N, D) array, got shape {x.shape}.")
    if not np.isfinite(x).all():
        raise RegdnaError(f"{what} contain NaN or infinite values; check the model's outputs.")
    return x


class Mahalanobis:
    """Squared Mahalanobis distance to the nearest class mean under one shared, Ledoit-Wolf-shrunk
    covariance (Lee et al. 2018). Attributes (plain arrays): `means` (C, D), `precision` (D, D) =
    the inverse of the shrunk covariance, `shrinkage` (the Ledoit-Wolf coefficient in [0, 1])."""

    def __init__(self, means, precision, shrinkage: float = 0.0):
        self.means = np.atleast_2d(np.asarray(means, dtype=np.float64))
        self.precision = np.asarray(precision, dtype=np.float64)
        self.shrinkage = float(shrinkage)
        d = self.means.shape[1]
        if self.precision.shape != (d, d):
            raise RegdnaError(f"a Mahalanobis model with {d}-dimensional means needs a ({d}, {d}) "
                              f"precision matrix, got {self.precision.shape}; refit it.")

    @classmethod
    def fit(cls, train_embeddings, classes=None) -> "Mahalanobis":
        """Fit on training embeddings (N, D); `classes` (N,) optional labels (one mean per
        distinct label, covariance of the embeddings minus their class mean)."""
        from sklearn.covariance import ledoit_wolf

        x = _matrix(train_embeddings, "training embeddings")
        if classes is None:
            labels = np.zeros(len(x), dtype=np.int64)
        else:
            classes = np.asarray(classes).reshape(-1)
            if len(classes) != len(x):
                raise RegdnaError(f"{len(classes)} class labels for {len(x)} training embeddings.")
            labels = np.unique(classes, return_inverse=True)[1]
        means = np.stack([x[labels == c].mean(axis=0) for c in range(labels.max() + 1)])
        covariance, shrinkage = ledoit_wolf(x - means[labels], assume_centered=True)
        return cls(means, np.linalg.pinv(covariance, hermitian=True), shrinkage)

    def score(self, x) -> np.ndarray:
        """Squared distance (N,) of each row of x (N, D) to its nearest class mean."""
        x = _matrix(x, "embeddings")
        if x.shape[1] != self.means.shape[1]:
            raise RegdnaError(f"embeddings have {x.shape[1]} dimensions but the Mahalanobis model "
                              f"was fitted on {self.means.shape[1]}; use the same model's layer.")
        best = np.full(len(x), np.inf)
        for mu in self.means:
            diff = x - mu
            best = np.minimum(best, np.sum((diff @ self.precision) * diff, axis=1))
        return best

    def to_dict(self) -> dict:
        """{"means", "precision", "shrinkage"} as arrays and a float (for `np.savez`, or
        `regdna.utils.jsonio.write_json`, which writes arrays as lists)."""
        return {"means": self.means, "precision": self.precision, "shrinkage": self.shrinkage}

    @classmethod
    def from_dict(cls, d: dict) -> "Mahalanobis":
        """The inverse of `to_dict` (lists from JSON or arrays from `np.load` alike)."""
        return cls(d["means"], d["precision"], float(np.asarray(d.get("shrinkage", 0.0))))


def kmer_counts(seqs: list[str], k: int = 4) -> np.ndarray:
    """(N, 4**k) counts of the overlapping k-mers of each upper-case sequence (lexicographic
    A < C < G < T order, as `regdna.encode.tokenizers`); k-mers with N are skipped."""
    tokenizer = KmerTokenizer(kind="kmer-overlap", k=k)
    out = np.zeros((len(seqs), 4 ** k))
    for i, seq in enumerate(seqs):
        ids = tokenizer.encode_one(seq)
        ids = ids[ids != UNK_ID] - len(SPECIAL_TOKENS)
        out[i] = np.bincount(ids, minlength=4 ** k)
    return out


def kmer_spectrum(seqs: list[str], k: int = 4) -> np.ndarray:
    """(N, 4**k) frequencies of the `kmer_counts`; rows sum to 1 (all zeros for a sequence
    without a full ACGT k-mer)."""
    counts = kmer_counts(seqs, k)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


class MarkovLR:
    """Per-base log-likelihood ratio of an order-`order` Markov chain against the order-1 chain,
    both fitted on the training sequences (Ren et al. 2019 likelihood ratios; module doc):
    llr(x) = mean over the (k+1)-mers w of x of log P_k(w_k | w_0..w_k-1) - log P_1(w_k | w_k-1),
    i.e. `kmer_spectrum(x, k + 1) @ weights`. Transition probabilities are add-one (Laplace)
    estimates. Positive on sequences with the training sequences' longer k-mers, about 0 or
    below on sequence without them (i.i.d., dinucleotide-shuffled). NaN for a sequence without
    a full (k+1)-mer."""

    def __init__(self, weights, order: int):
        self.order = int(order)
        self.weights = np.asarray(weights, dtype=np.float64).reshape(-1)
        if self.order < 1 or len(self.weights) != 4 ** (self.order + 1):
            raise RegdnaError(f"a Markov likelihood ratio of order {self.order} needs "
                              f"{4 ** (self.order + 1)} weights, got {len(self.weights)}; refit it.")

    @classmethod
    def fit(cls, train_seqs: list[str], order: int = 4, pseudocount: float = 1.0) -> "MarkovLR":
        """Count the (order+1)-mers and dinucleotides of the training sequences (one pass each)."""
        if order < 1:
            raise RegdnaError(f"Markov order {order} is below 1; use e.g. 4.")
        seqs = [s.upper() for s in train_seqs]
        high = kmer_counts(seqs, order + 1).sum(axis=0).reshape(-1, 4) + pseudocount
        log_high = np.log(high / high.sum(axis=1, keepdims=True)).reshape(-1)   # (context, next)
        pairs = kmer_counts(seqs, 2).sum(axis=0).reshape(4, 4) + pseudocount   # (previous, next)
        log_pairs = np.log(pairs / pairs.sum(axis=1, keepdims=True))
        ids = np.arange(4 ** (order + 1))
        return cls(log_high - log_pairs[(ids // 4) % 4, ids % 4], order)

    def score(self, seqs: list[str]) -> np.ndarray:
        """llr (N,) in nats per base (lower-case bases count as upper case)."""
        counts = kmer_counts([s.upper() for s in seqs], self.order + 1)
        totals = counts.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(totals > 0, counts @ self.weights / totals, np.nan)


def sequence_stats(seqs: list[str], k: int = 4) -> np.ndarray:
    """(N, 3 + 4**k): length (bp), GC fraction of A+C+G+T (NaN without any), N fraction (non-
    ACGT) and the `kmer_spectrum`. Lower-case bases count as upper case."""
    seqs = [s.upper() for s in seqs]
    gc, n_frac = base_composition(seqs)
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.float64, count=len(seqs))
    return np.column_stack([lengths, gc, n_frac, kmer_spectrum(seqs, k)]) if seqs \
        else np.zeros((0, 3 + 4 ** k))


SCALARS = ("length", "gc", "n", "markov")  # `sequence_stats`' first three columns, `MarkovLR`
SCALE_FLOORS = (1.0, 0.01, 0.01, 1e-3)     # least std: 1 bp; 1 base in 100; 0.001 nats per base
MARKOV_ORDER = 4


class StatsOOD:
    """Distance of a sequence's `sequence_stats` and `MarkovLR` from the training sequences',
    the mean of five terms that each average about 1 on training-like sequences:
    - length, GC, N fraction and the Markov likelihood ratio: z^2 with z = (s - training mean)
      / training std, the std at least 1 bp, 0.01, 0.01 and 0.001 (so that a statistic constant
      in training, such as the window length or an N fraction of 0, still has a finite scale; a
      missing GC or likelihood ratio, no ACGT base or (k+1)-mer at all, counts as the training
      mean, while its N fraction of 1 is far out);
    - k-mer spectrum: the squared `Mahalanobis` distance of the frequencies from training (one
      mean, Ledoit-Wolf-shrunk covariance) divided by the number of k-mers 4**k.
    Averaging rather than one distance over all 4 + 4**k statistics keeps the noise of the many
    k-mer frequencies from drowning a shift of GC or N content. `parts` gives the five terms.
    A model saved before the Markov term existed (`markov` None, three centres) scores with the
    other four terms, as it did when its thresholds were chosen."""

    def __init__(self, k: int, center, scale, kmers: Mahalanobis, markov: MarkovLR | None):
        self.k = int(k)
        self.center = np.asarray(center, dtype=np.float64)     # (4,) length, GC, N, markov
        self.scale = np.asarray(scale, dtype=np.float64)
        self.kmers = kmers
        self.markov = markov
        self.scalars = SCALARS if markov is not None else SCALARS[:3]
        if self.center.shape != (len(self.scalars),) or self.scale.shape != (len(self.scalars),):
            raise RegdnaError(f"a sequence-statistics OOD model needs {len(self.scalars)} centres "
                              f"and scales ({', '.join(self.scalars)}), got {self.center.shape}; "
                              f"refit it.")

    @classmethod
    def fit(cls, train_seqs: list[str], k: int = 4, order: int = MARKOV_ORDER) -> "StatsOOD":
        """Fit on the training sequences: `k` for the k-mer spectrum, `order` for `MarkovLR`."""
        if len(train_seqs) < 2:
            raise RegdnaError("the sequence-statistics OOD score needs at least 2 training "
                              "sequences.")
        markov = MarkovLR.fit(train_seqs, order)
        stats = sequence_stats(train_seqs, k)
        scalars = np.column_stack([stats[:, :3], markov.score(train_seqs)])
        center = np.nan_to_num(np.nanmean(scalars, axis=0), nan=0.5)   # all-N training: GC 0.5
        center[3] = np.nan_to_num(center[3], nan=0.0)
        scale = np.maximum(np.nan_to_num(np.nanstd(scalars, axis=0)), SCALE_FLOORS)
        return cls(k, center, scale, Mahalanobis.fit(stats[:, 3:]), markov)

    def parts(self, seqs: list[str]) -> dict[str, np.ndarray]:
        """{"length", "gc", "n", "markov", "kmers"}: the five terms (N,) of `score`."""
        stats = sequence_stats(seqs, self.k)
        scalars = stats[:, :3] if self.markov is None else \
            np.column_stack([stats[:, :3], self.markov.score(seqs)])
        scalars = np.where(np.isnan(scalars), self.center, scalars)
        z2 = ((scalars - self.center) / self.scale) ** 2
        out = {name: z2[:, j] for j, name in enumerate(self.scalars)}
        out["kmers"] = self.kmers.score(stats[:, 3:]) / 4 ** self.k
        return out

    def score(self, seqs: list[str]) -> np.ndarray:
        """The mean (N,) of the five `parts`."""
        return np.mean(np.stack(list(self.parts(seqs).values())), axis=0)

    def to_dict(self) -> dict:
        """Flat {"k", "center", "scale", "kmers_means", "kmers_precision", "kmers_shrinkage",
        "markov_order", "markov_weights"}."""
        markov = {} if self.markov is None else {"markov_order": self.markov.order,
                                                 "markov_weights": self.markov.weights}
        return {"k": self.k, "center": self.center, "scale": self.scale,
                **{f"kmers_{key}": v for key, v in self.kmers.to_dict().items()}, **markov}

    @classmethod
    def from_dict(cls, d: dict) -> "StatsOOD":
        kmers = {key[len("kmers_"):]: v for key, v in d.items() if key.startswith("kmers_")}
        markov = MarkovLR(d["markov_weights"], int(np.asarray(d["markov_order"]))) \
            if "markov_weights" in d else None      # saved before the Markov term existed
        return cls(int(np.asarray(d["k"])), d["center"], d["scale"], Mahalanobis.from_dict(kmers),
                   markov)


def ood_flags(scores, train_scores, quantile: float = 0.99) -> np.ndarray:
    """Boolean (N,): score above the `quantile` of the in-distribution `train_scores` (the
    training sequences' scores, or better held-out in-distribution ones, since a distance fitted
    on the training sequences is smallest on those very sequences)."""
    if not 0.0 < quantile < 1.0:
        raise RegdnaError(f"OOD quantile {quantile} is not in (0, 1); use e.g. 0.99.")
    reference = np.asarray(train_scores, dtype=np.float64)
    reference = reference[np.isfinite(reference)]
    if not len(reference):
        raise RegdnaError("no finite in-distribution scores to set the OOD threshold from.")
    return np.asarray(scores, dtype=np.float64) > np.quantile(reference, quantile)
