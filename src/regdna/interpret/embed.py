"""The verb `regdna embed`: a 2-D map of what a trained model's last layer reads, one point per
sequence of a dataset split (UMAP, McInnes et al. 2018), coloured by class or by coverage, as
Toneyan et al. 2022 embedded the penultimate (bottleneck) representations of test sequences.

The embedding of a sequence is the input of the model's output layer: a forward hook on every
`nn.Linear` and `nn.Conv1d` of the model records its input, and the one that runs last in the
forward pass is the output layer (for a profile model the model itself, not the scalar every
other analysis explains). Its input is pooled to one vector per sequence: a `Conv1d` input
(N, C, positions) is averaged over positions (a profile model's output layer runs along the
sequence), a `Linear` input (N, ..., D) over every axis between the first and the last (already
(N, D) for a classifier's dense head). The forward strand only (no reverse-complement average).

Colour (`--color-by`): `class`, the label of a binary or multiclass dataset, or for a coverage
dataset the peak column of its first track (1 = the window overlaps a peak); `coverage`,
log(1 + the total coverage over the window) of the first track; or a track (or peak column)
name. Sequences: `n` drawn at random (seed `seed`) from the split when it holds more; a
coverage dataset's stored windows are cut to the model's input (their central `length` bp).

Output dir (`regdna.utils.output`, checked before the model is loaded): `embedding.tsv` (id, x,
y and the colour column), `umap.png` (`regdna.plot.embedding`), `summary.json` (layer,
dimension, pooling, n, colour).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from regdna.data.dataset import load_info
from regdna.data.records import load_records
from regdna.errors import RegdnaError
from regdna.interpret.inputs import check_length
from regdna.plot.embedding import embedding_scatter
from regdna.runs import load_predictor
from regdna.utils.jsonio import write_json
from regdna.utils.output import check_out_dir, output_dir

VERB = "embed"
COLOURS = ("class", "coverage")   # or a track / peak column name


def penultimate(predictor, seqs: list[str], batch_size: int | None = None
                ) -> tuple[np.ndarray, str, str]:
    """(features float32 (N, D), layer, pooling): `regdna.runs.predictor.Predictor.embedding`,
    the input of the model's output layer pooled to one vector per sequence (module doc)."""
    return predictor.embedding(seqs, batch_size)


def colour_values(info, table: pd.DataFrame, color_by: str) -> tuple[np.ndarray, str, bool]:
    """The colour of each record (module doc): (values, column name, categorical)."""
    profile = info.profile
    tracks = list(profile.tracks) if profile is not None else []
    peaks = list(profile.peak_columns) if profile is not None else []
    if color_by == "class":
        if profile is not None:
            if not peaks:
                raise RegdnaError(f"--color-by class: the coverage dataset has no peak columns; "
                                  f"use --color-by coverage or a track ({', '.join(tracks)}).")
            return table[peaks[0]].astype(int).to_numpy(), peaks[0], True
        if info.task not in ("binary", "multiclass"):
            raise RegdnaError(f"--color-by class needs a binary or multiclass dataset (this one "
                              f"is {info.task}); give a label column: {', '.join(info.labels)}.")
        column = info.labels[0]
        values = table[column].astype(int).to_numpy()
        names = info.classes or [str(v) for v in range(int(values.max()) + 1)]
        return np.asarray([names[v] for v in values]), column, True
    if color_by == "coverage":
        if not tracks:
            raise RegdnaError("--color-by coverage needs a coverage dataset (regdna prepare "
                              "--bigwig); use --color-by class or a label column.")
        color_by = tracks[0]
    if color_by in peaks:
        return table[color_by].astype(int).to_numpy(), color_by, True
    if color_by in tracks:
        return np.log1p(table[color_by].astype(float).to_numpy()), f"log1p_{color_by}", False
    if color_by in info.labels:
        values = table[color_by].to_numpy()
        return values, color_by, info.task in ("binary", "multilabel", "multiclass")
    choices = ", ".join([*COLOURS, *tracks, *peaks, *(info.labels if not tracks else [])])
    raise RegdnaError(f"--color-by {color_by}: choose one of {choices}.")


def umap_2d(features: np.ndarray, seed: int = 0, n_neighbors: int = 15) -> np.ndarray:
    """UMAP (McInnes et al. 2018, umap-learn) of (N, D) features to (N, 2), `random_state=seed`."""
    try:
        import umap
    except ImportError:
        raise RegdnaError("regdna embed needs umap-learn: pip install 'regdna[interpret]' "
                          "(or pip install umap-learn).") from None
    if len(features) < 4:
        raise RegdnaError(f"{len(features)} sequences are too few for a UMAP map; give at "
                          "least 4 (--n, --split).")
    with warnings.catch_warnings():   # "n_jobs overridden by random_state": intended
        warnings.simplefilter("ignore")
        reducer = umap.UMAP(n_components=2, n_neighbors=min(n_neighbors, len(features) - 1),
                            random_state=seed)
        return np.asarray(reducer.fit_transform(np.asarray(features, dtype=np.float32)))


def run_embed(run: str | Path, data: str | Path, out: str | Path, split: str = "test",
              color_by: str = "class", n: int | None = 2000, seed: int = 0,
              device: str | None = None, overwrite: bool = False) -> dict:
    """`regdna embed`: UMAP of the penultimate embeddings of split `split` of `data`.

    Parameters
    ----------
    run : run dir (`regdna train`).
    data : dataset dir whose split is embedded (its labels / coverage give the colours).
    out : output dir (module doc); refused before any work unless new, empty, an earlier
        `embed` output, or `overwrite`.
    split : split of `data`.
    color_by : "class", "coverage", or a track / peak column / label name (`colour_values`).
    n : sequences embedded at most, drawn at random (seed `seed`); None: all.
    seed : seed of the draw and of UMAP.
    device : torch device (default: CUDA when present).

    Returns
    -------
    dict
        The summary written to summary.json (run, data, split, n, layer, dim, pooling, colour,
        categorical) and out.
    """
    inputs = [run, data]
    check_out_dir(out, VERB, inputs, overwrite)
    info = load_info(data)
    table = load_records(data=data, split=split)          # input windows, label columns kept
    if n is not None and len(table) > n:
        keep = np.sort(np.random.default_rng(seed).choice(len(table), size=n, replace=False))
        table = table.iloc[keep]
    table = table.reset_index(drop=True)
    values, column, categorical = colour_values(info, table, color_by)
    predictor = load_predictor(run, device=device)
    seqs = list(table.sequence)
    check_length(predictor, table)
    features, layer, pooling = penultimate(predictor, seqs)
    points = umap_2d(features, seed=seed)
    summary = {"run": str(run), "data": str(data), "split": split, "n": len(table),
               "layer": layer, "dim": int(features.shape[1]), "pooling": pooling,
               "colour": column, "categorical": categorical, "seed": seed}
    frame = pd.DataFrame({"id": table.id.astype(str), "x": points[:, 0], "y": points[:, 1],
                          column: values})
    with output_dir(out, VERB, inputs, overwrite) as tmp:
        frame.to_csv(tmp / "embedding.tsv", sep="\t", index=False, float_format="%.6g")
        embedding_scatter(points, values, tmp / "umap.png", categorical, column,
                          title=f"UMAP of the input of {layer} ({split}, n = {len(table)})")
        write_json(tmp / "summary.json", summary)
    return {**summary, "out": str(out)}
