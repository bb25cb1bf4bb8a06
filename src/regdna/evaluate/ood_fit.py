"""A run's out-of-distribution reference, RUN/ood.npz, and the per-sequence OOD columns.

`fit_ood` (called at the end of `regdna train`, or on an older run) draws at most `MAX_TRAIN`
sequences of the train split (seed `SEED`) and fits
- `ood_embedding`: the Mahalanobis distance (Lee et al. 2018) of the model's penultimate
  embedding (`Predictor.embed`) from the training embeddings, with one mean per class for
  binary and multi-class runs (`regdna.evaluate.ood.Mahalanobis`);
- `ood_stats`: the distance of length, GC, N content, the 4-mer spectrum and the order-4
  Markov likelihood ratio (Ren et al. 2019) from the same training sequences
  (`regdna.evaluate.ood.StatsOOD`);
and sets each score's flag threshold to its `QUANTILE` quantile on (at most `MAX_TRAIN`
sequences of) the val split: held-out in-distribution sequences, since both distances are
smallest on the very sequences they were fitted on. Coverage datasets: the central `length` bp
of each stored window. Combined:
- `ood_score` = max over the two scores of score / its threshold: above 1 when either score
  passes its threshold (the embedding distance catches what the model represents differently,
  the statistics what differs in composition or k-mer structure, e.g. GC-shifted sequences or
  dinucleotide shuffles of genomic windows);
- `ood_flag` = 1 when `ood_score` > 1.

`OODScorer.columns(predictor, seqs)` gives the `COLUMNS` (`regdna predict`, `regdna vep`);
`load_ood(run)` is None for a run trained before ood.npz existed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from regdna.data.dataset import read_split
from regdna.errors import RegdnaError
from regdna.evaluate.ood import Mahalanobis, StatsOOD
from regdna.runs import layout
from regdna.utils.atomic import atomic_file

MAX_TRAIN = 5000
SEED = 0
QUANTILE = 0.99
SCORES = ("ood_embedding", "ood_stats")
COLUMNS = (*SCORES, "ood_score", "ood_flag")
CLASS_TASKS = ("binary", "multiclass")


class OODScorer:
    """The two fitted distances and their flag thresholds (module doc)."""

    def __init__(self, embedding: Mahalanobis, stats: StatsOOD, thresholds: dict, meta: dict):
        self.embedding = embedding
        self.stats = stats
        self.thresholds = {k: float(v) for k, v in thresholds.items()}
        self.meta = meta

    def scores(self, predictor, seqs: list[str], embeddings=None) -> dict[str, np.ndarray]:
        """{"ood_embedding", "ood_stats"} (N,) of `seqs` (`embeddings`: precomputed
        `predictor.embed(seqs)`)."""
        emb = predictor.embed(seqs) if embeddings is None else embeddings
        return {"ood_embedding": self.embedding.score(emb), "ood_stats": self.stats.score(seqs)}

    def columns(self, predictor, seqs: list[str]) -> dict[str, np.ndarray]:
        """The `COLUMNS`: the scores, `ood_score` (the larger score / threshold) and `ood_flag`
        (int 0/1: `ood_score` > 1, i.e. either score above its threshold)."""
        out = self.scores(predictor, seqs) if seqs else {name: np.zeros(0) for name in SCORES}
        out["ood_score"] = self.combined(out)
        out["ood_flag"] = (out["ood_score"] > 1.0).astype(np.int64)
        return out

    def combined(self, scores: dict[str, np.ndarray]) -> np.ndarray:
        """`ood_score` (N,): max over `SCORES` of score / its threshold (a threshold of 0, all
        validation scores 0, counts as the least positive float)."""
        ratios = [np.asarray(scores[name], dtype=np.float64)
                  / max(self.thresholds[name], np.finfo(np.float64).tiny) for name in SCORES]
        return np.max(np.stack(ratios), axis=0)

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {f"embedding_{k}": np.asarray(v) for k, v in self.embedding.to_dict().items()}
        arrays.update({f"stats_{k}": np.asarray(v) for k, v in self.stats.to_dict().items()})
        arrays.update({f"threshold_{k}": np.asarray(v) for k, v in self.thresholds.items()})
        arrays.update({f"meta_{k}": np.asarray(v) for k, v in self.meta.items()})
        return arrays

    @classmethod
    def from_arrays(cls, arrays) -> "OODScorer":
        def part(prefix):
            return {k[len(prefix):]: arrays[k] for k in arrays if k.startswith(prefix)}

        meta = {k: v.item() for k, v in part("meta_").items()}
        return cls(Mahalanobis.from_dict(part("embedding_")), StatsOOD.from_dict(part("stats_")),
                   part("threshold_"), meta)


def _draw(data_dir, split: str, info, length: int | None, n: int = MAX_TRAIN, seed: int = SEED
          ) -> tuple[list[str], np.ndarray | None]:
    """At most `n` sequences of one split (seed `seed`) and their classes (binary / multi-class
    runs without missing labels, else None); coverage windows cut to their central `length`."""
    columns = ["sequence", *info.labels] if info.task in CLASS_TASKS else ["sequence"]
    frame = read_split(data_dir, split, columns=columns)
    if len(frame) < 2:
        raise RegdnaError(f"{data_dir}: split '{split}' holds {len(frame)} sequences; the "
                          f"out-of-distribution reference needs at least 2.")
    if len(frame) > n:
        keep = np.sort(np.random.default_rng(seed).choice(len(frame), size=n, replace=False))
        frame = frame.iloc[keep]
    seqs = frame["sequence"].astype(str).str.upper().tolist()
    if info.profile is not None and length is not None:
        from regdna.data.profiles import central

        seqs = central(seqs, length)
    classes = None
    if info.task in CLASS_TASKS:
        values = frame[info.labels[0]].to_numpy(dtype=np.float64)
        classes = None if np.isnan(values).any() else values.astype(np.int64)
    return seqs, classes


def fit_ood(predictor, data_dir, info) -> OODScorer:
    """Fit the OOD reference of `predictor` on `data_dir`'s train split, thresholds on val."""
    train, classes = _draw(data_dir, "train", info, predictor.length)
    embeddings, layer, pooling = predictor.embedding(train)
    embedding = Mahalanobis.fit(embeddings, classes)
    stats = StatsOOD.fit(train)
    val, _ = _draw(data_dir, "val", info, predictor.length)
    scorer = OODScorer(embedding, stats, {}, {
        "n_train": len(train), "n_val": len(val), "seed": SEED, "quantile": QUANTILE,
        "layer": layer, "pooling": pooling, "class_means": classes is not None})
    val_scores = scorer.scores(predictor, val)
    scorer.thresholds = {name: float(np.quantile(v[np.isfinite(v)], QUANTILE))
                         for name, v in val_scores.items()}
    return scorer


def write_ood(run_dir, scorer: OODScorer) -> Path:
    """Write RUN/ood.npz atomically."""
    path = layout.ood_path(run_dir)
    with atomic_file(path, "wb") as handle:
        np.savez(handle, **scorer.to_arrays())
    return path


def load_ood(run_dir) -> OODScorer | None:
    """RUN/ood.npz, or None when the run has none (trained before it existed)."""
    if run_dir is None or not layout.ood_path(run_dir).is_file():
        return None
    path = layout.ood_path(run_dir)
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return OODScorer.from_arrays(dict(arrays))
    except RegdnaError as err:
        raise RegdnaError(f"{path}: {err} (regdna.evaluate.ood_fit.write_run_ood refits a "
                          f"run's ood.npz)") from None
    except (OSError, ValueError, KeyError) as err:
        raise RegdnaError(f"{path} is damaged ({err}); delete it and refit it with "
                          f"regdna.evaluate.ood_fit.write_run_ood.") from None


def write_run_ood(run_dir, data_dir, info, predictor=None) -> OODScorer | None:
    """Fit (`fit_ood`) with the run's best checkpoint and write RUN/ood.npz. A model the fit
    cannot embed (no Linear / Conv1d output layer to hook) gets a one-line warning and no
    ood.npz, instead of failing a finished training (predict and vep then say so). `predictor`:
    the run's best checkpoint when already loaded."""
    import sys

    from regdna.runs import load_predictor

    try:
        scorer = fit_ood(predictor or load_predictor(run_dir, threshold=None), data_dir, info)
    except RegdnaError as err:
        print(f"warning: no out-of-distribution reference for {run_dir} ({err})", file=sys.stderr)
        return None
    write_ood(run_dir, scorer)
    return scorer
