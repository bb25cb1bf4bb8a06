"""The verb `regdna attribute`: attribution maps of a run's model for FASTA records or a dataset
split, written with per-sequence figures: letter logos of one-hot contributions, tracks of a
token model's base scores (the methods themselves: `regdna.interpret.attributions`).

Output dir (`regdna.utils.output`, checked before the model is loaded): `attributions.npz`
(`attributions` (N, L, 4) or (N, L), `hypothetical` (N, L, 4) for one-hot models, `onehot`
(N, L, 4), `ids`), `logos/<rank>_<id>.png`, `summary.json`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from regdna.data.records import load_records, subset_note
from regdna.encode.onehot import one_hot
from regdna.interpret.attributions import attribute, check_method
from regdna.interpret.inputs import check_length
from regdna.interpret.sites import load_sites, site_auroc, site_boxes, site_mask
from regdna.plot.logos import plot_attribution_logo
from regdna.runs.config import dataset_info_of_run, read_run_config
from regdna.utils.jsonio import write_json
from regdna.utils.output import check_out_dir, output_dir
from regdna.utils.paths import safe_filename
from regdna.variants.effects import load_scored_predictor

VERB = "attribute"


def run_attribute(run: str | Path, out: str | Path, method: str = "integrated_gradients",
                  fasta: str | Path | None = None, data: str | Path | None = None,
                  split: str = "test", label: str | None = None, n: int | None = None,
                  motifs: str | Path | None = None, output: str = "0", logos: int = 6,
                  n_references: int = 8, n_steps: int = 20, batch_size: int = 32, seed: int = 0,
                  scalar: str | None = None, device: str | None = None, overwrite: bool = False,
                  say: Callable[[str], None] = print) -> dict:
    """Explain output `output` of the run's model for every record of `fasta` (or of split
    `split` of the dataset dir `data`, optionally only class `label`; `n` keeps the first n).

    Parameters
    ----------
    run : run dir (`regdna train`).
    out : output dir (see the module doc); refused before any work unless new, empty, an
        earlier `attribute` output, or `overwrite`.
    method : one of `regdna.interpret.attributions.available_methods` (default
        "integrated_gradients"; "deeplift_shap", "grad_x_input", "ism"...).
    fasta, data, split, label, n : the records: a FASTA, or split `split` of the dataset dir
        `data` (only class `label` when given); `n` keeps the first n (default: all).
    motifs : known-site table (`regdna.interpret.sites.load_sites`): sites boxed on the logos,
        AUROC of |attribution| at sites reported.
    output : output index or label name.
    logos : number of per-sequence logos (sequences with known sites first).
    n_references, n_steps, batch_size, seed : see `regdna.interpret.attributions.attribute`.
    scalar : profile runs: which number of the predicted coverage is explained, "sum"
        (default) or "center:W" (`regdna.models.scalar`); refused for other runs.
    device : torch device (default: CUDA when present, else CPU).
    overwrite : replace a foreign `out` (see the output policy).
    say : called with each note for the user (e.g. that `n` cut the records), as it arises.

    Returns
    -------
    dict
        run, method, output (label name), task, classes (class names of a binary or
        multiclass run, else None; `regdna motifs` reads them), n_sequences, shape (of
        `attributions`: (N, L, 4) for one-hot models, (N, L) for token models), [n_with_sites, site_auroc (float in [0, 1],
        NaN without both kinds of position)], n_logos, out.
    """
    inputs = [run, fasta, data, motifs]
    check_out_dir(out, VERB, inputs, overwrite)
    predictor = load_scored_predictor(run, scalar, device=device)
    check_method(predictor, method)
    table = load_records(fasta, data, split, n, label)
    check_length(predictor, table)
    note = subset_note(table)
    if note:
        say(note)
    sites = load_sites(motifs) if motifs else None
    seqs = list(table.sequence)
    index = predictor.output_index(output)
    kwargs = dict(output=index, batch_size=batch_size, n_references=n_references,
                  n_steps=n_steps, seed=seed)
    if predictor.input_kind == "onehot":
        hyp = attribute(predictor, seqs, method, hypothetical=True, **kwargs)
        # saliency is the corrected gradient at every base; the others score the observed base
        attr = hyp if method == "saliency" else hyp * one_hot(seqs, length=hyp.shape[1])
    else:
        hyp, attr = None, attribute(predictor, seqs, method, **kwargs)
    boxes = site_boxes(table, sites) if sites is not None else [[] for _ in seqs]
    info = dataset_info_of_run(read_run_config(run))
    summary = {"run": str(run), "method": method, "output": predictor.labels[index],
               "task": info.task, "classes": info.classes, "n_sequences": len(seqs),
               "shape": list(attr.shape)}
    if sites is not None:
        mask = site_mask(boxes, attr.shape[1])
        summary["n_with_sites"] = int(mask.any(1).sum())
        summary["site_auroc"] = site_auroc(attr, mask)
    order = sorted(range(len(seqs)), key=lambda i: (not boxes[i], i))[:logos]
    # token models' (N, L) base scores are drawn as tracks, one-hot contributions as logos
    ylabel = f"{method} score" if attr.ndim == 2 else "attribution"
    with output_dir(out, VERB, inputs, overwrite) as tmp:
        arrays = {"attributions": attr.astype(np.float32), "ids": np.asarray(table.id, dtype=str),
                  "onehot": one_hot(seqs)}
        if hyp is not None:
            arrays["hypothetical"] = hyp.astype(np.float32)
        np.savez_compressed(tmp / "attributions.npz", **arrays)
        (tmp / "logos").mkdir()
        for rank, i in enumerate(order):
            plot_attribution_logo(tmp / "logos" / f"{rank:02d}_{safe_filename(table.id[i])}.png",
                                  attr[i], seqs[i], boxes[i],
                                  title=f"{table.id[i]}  ({method}, output "
                                  f"{predictor.labels[index]})",
                                  zoom=_zoom(boxes[i], len(seqs[i])), ylabel=ylabel)
        write_json(tmp / "summary.json", summary)
    return {**summary, "n_logos": len(order), "out": str(out)}


def _zoom(boxes, length: int, margin: int = 12) -> tuple[int, int] | None:
    """The window around a sequence's known sites (+- `margin` bp) for a logo's zoomed panel,
    or None when there are none or it would span most (80%) of the sequence."""
    if not boxes:
        return None
    lo = min(b[0] for b in boxes) - margin
    hi = max(b[1] for b in boxes) + margin
    return (lo, hi) if hi - lo < length * 0.8 else None
