"""Out-of-distribution scores: how far a sequence lies from the training sequences.

- `Mahalanobis` (Lee et al. 2018): squared Mahalanobis distance of an embedding (e.g. a model's
  penultimate layer) from the training embeddings, d(x) = min_c (x - mu_c)^T S^-1 (x - mu_c),
  with one mean mu_c per class when classes are given (else one mean) and one shared covariance S
  of the class-centred training embeddings, shrunk towards a scaled identity by the Ledoit-Wolf
  formula (Ledoit & Wolf 2004; scikit-learn's `ledoit_wolf`) so that it is invertible even with
  more dimensions than sequences.
- `StatsOOD`: a distance over simple statistics of the sequence itself (`sequence_stats`:
  length, GC fraction, N fraction and the normalised k-mer spectrum): the mean of the squared
  standardised deviations of length, GC and N fraction from their training means and the
  k-mer spectrum's Mahalanobis distance per k-mer (each about 1 on training-like sequences).
  It catches inputs whose composition differs from training (GC-shifted, N-rich, other
  lengths); a dinucleotide shuffle keeps length, GC, N and every dinucleotide count, so it
  changes only longer k-mers and is mostly invisible to it: catching shuffles is the
  embedding distance's job.
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


def kmer_spectrum(seqs: list[str], k: int = 4) -> np.ndarray:
    """(N, 4**k) frequencies of the overlapping k-mers of each sequence (lexicographic A < C <
    G < T order, as `regdna.encode.tokenizers`); k-mers with N are skipped; rows sum to 1
    (all zeros for a sequence without a full ACGT k-mer)."""
    tokenizer = KmerTokenizer(kind="kmer-overlap", k=k)
    out = np.zeros((len(seqs), 4 ** k))
    for i, seq in enumerate(seqs):
        ids = tokenizer.encode_one(seq)
        ids = ids[ids != UNK_ID] - len(SPECIAL_TOKENS)
        if len(ids):
            out[i] = np.bincount(ids, minlength=4 ** k) / len(ids)
    return out


def sequence_stats(seqs: list[str], k: int = 4) -> np.ndarray:
    """(N, 3 + 4**k): length (bp), GC fraction of A+C+G+T (NaN without any), N fraction (non-
    ACGT) and the `kmer_spectrum`. Lower-case bases count as upper case."""
    seqs = [s.upper() for s in seqs]
    gc, n_frac = base_composition(seqs)
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.float64, count=len(seqs))
    return np.column_stack([lengths, gc, n_frac, kmer_spectrum(seqs, k)]) if seqs \
        else np.zeros((0, 3 + 4 ** k))


SCALARS = ("length", "gc", "n")           # the first three columns of `sequence_stats`
SCALE_FLOORS = (1.0, 0.01, 0.01)           # least standard deviation: 1 bp; 1 base in 100


class StatsOOD:
    """Distance of a sequence's `sequence_stats` from the training sequences', the mean of four
    terms that each average about 1 on training-like sequences:
    - length, GC and N fraction: z^2 with z = (s - training mean) / training std, the std at
      least 1 bp, 0.01 and 0.01 (so that a statistic constant in training, such as the window
      length or an N fraction of 0, still has a finite scale; a missing GC, no ACGT at all,
      counts as the training mean, while its N fraction of 1 is far out);
    - k-mer spectrum: the squared `Mahalanobis` distance of the frequencies from training (one
      mean, Ledoit-Wolf-shrunk covariance) divided by the number of k-mers 4**k.
    Averaging rather than one distance over all 3 + 4**k statistics keeps the noise of the many
    k-mer frequencies from drowning a shift of GC or N content. `parts` gives the four terms."""

    def __init__(self, k: int, center, scale, kmers: Mahalanobis):
        self.k = int(k)
        self.center = np.asarray(center, dtype=np.float64)     # (3,) length, GC, N
        self.scale = np.asarray(scale, dtype=np.float64)
        self.kmers = kmers

    @classmethod
    def fit(cls, train_seqs: list[str], k: int = 4) -> "StatsOOD":
        if len(train_seqs) < 2:
            raise RegdnaError("the sequence-statistics OOD score needs at least 2 training "
                              "sequences.")
        stats = sequence_stats(train_seqs, k)
        scalars = stats[:, :3]
        center = np.nan_to_num(np.nanmean(scalars, axis=0), nan=0.5)   # all-N training: GC 0.5
        scale = np.maximum(np.nanstd(scalars, axis=0), SCALE_FLOORS)
        return cls(k, center, scale, Mahalanobis.fit(stats[:, 3:]))

    def parts(self, seqs: list[str]) -> dict[str, np.ndarray]:
        """{"length", "gc", "n", "kmers"}: the four terms (N,) of `score`."""
        stats = sequence_stats(seqs, self.k)
        scalars = np.where(np.isnan(stats[:, :3]), self.center, stats[:, :3])
        z2 = ((scalars - self.center) / self.scale) ** 2
        out = {name: z2[:, j] for j, name in enumerate(SCALARS)}
        out["kmers"] = self.kmers.score(stats[:, 3:]) / 4 ** self.k
        return out

    def score(self, seqs: list[str]) -> np.ndarray:
        """The mean (N,) of the four `parts`."""
        return np.mean(np.stack(list(self.parts(seqs).values())), axis=0)

    def to_dict(self) -> dict:
        """Flat {"k", "center", "scale", "kmers_means", "kmers_precision", "kmers_shrinkage"}."""
        return {"k": self.k, "center": self.center, "scale": self.scale,
                **{f"kmers_{key}": v for key, v in self.kmers.to_dict().items()}}

    @classmethod
    def from_dict(cls, d: dict) -> "StatsOOD":
        kmers = {key[len("kmers_"):]: v for key, v in d.items() if key.startswith("kmers_")}
        return cls(int(np.asarray(d["k"])), d["center"], d["scale"], Mahalanobis.from_dict(kmers))


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
