"""The verb `regdna attribute`: attribution maps of a run's model for FASTA records or a dataset
split, written with per-sequence figures: letter logos of one-hot contributions, tracks of a
token model's base scores (the methods themselves: `regdna.interpret.attributions`).

Output dir (`regdna.utils.output`, checked before the model is loaded): `attributions.npz`
(`attributions` (N, L, 4) or (N, L), `hypothetical` (N, L, 4) for one-hot models, `onehot`
(N, L, 4), `ids`), `logos/<rank>_<id>.png`, `summary.json`; for an ensemble run also
`agreement.tsv`.

Ensembles. Attribution maps of models trained from different random initialisations differ,
and averaging the maps of an ensemble's members gives a more reliable map (Koo & Ploenzke
2021; Majdandzic et al. 2023). On an ensemble run (`regdna train --ensemble K`) `attribute`
therefore computes every member's map with the same method, references and seed
(`Predictor.member_predictors`) and writes their mean (`ensemble_attributions`), streamed per
batch of sequences: a running sum of the maps, and only the batch's K maps at a time. Agreement
is the mean pairwise Pearson correlation of the members' maps per sequence (`agreement.tsv`,
its mean in `summary.json`), over the observed-base scores (L values: each position's
contribution summed over the 4 bases) of the contribution methods and token models, and over
the full L x 4 map for `saliency`. `ensemble=False` attributes the ensemble's mean model once
instead (same cost: every forward runs every member). The ensemble's logit is the members' mean,
so every method here that is linear in the explained output gives the same map both ways, up to
rounding: saliency and grad_x_input (the gradient of the mean is the mean of the gradients),
integrated gradients and DeepLIFT with the same references (the rescale rule acts on each
member's own neurons; measured on a 5-member basset: 1e-7), and ism on the logit scale. They
differ where the explained number is not linear in the members' outputs: multiclass ism (the
log-softmax of the mean logits) and profile runs (log of the summed mean coverage). What only
the members' maps give is their agreement.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from regdna.data.records import load_records, subset_note
from regdna.encode.onehot import one_hot
from regdna.errors import RegdnaError
from regdna.evaluate.correlation import row_correlation
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
                  scalar: str | None = None, ensemble: bool | None = None,
                  device: str | None = None, overwrite: bool = False,
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
    ensemble : ensemble runs: True or None (default) write the mean of the members' maps and
        their agreement (module doc), False the map of the mean model; True on a run of one
        model is refused.
    device : torch device (default: CUDA when present, else CPU).
    overwrite : replace a foreign `out` (see the output policy).
    say : called with each note for the user (e.g. that `n` cut the records), as it arises.

    Returns
    -------
    dict
        run, method, output (label name), task, classes (class names of a binary or
        multiclass run, else None; `regdna motifs` reads them), n_sequences, shape (of
        `attributions`: (N, L, 4) for one-hot models, (N, L) for token models), [n_with_sites, site_auroc (float in [0, 1],
        NaN without both kinds of position)], [ensemble: n_members, averaged, and when
        averaged agreement_map, agreement_mean, agreement_min, [site_auroc_members]],
        n_logos, out.
    """
    inputs = [run, fasta, data, motifs]
    check_out_dir(out, VERB, inputs, overwrite)
    predictor = load_scored_predictor(run, scalar, device=device)
    if ensemble and not predictor.is_ensemble:
        raise RegdnaError(f"--ensemble: run {run} holds one model, not an ensemble; drop "
                          f"--ensemble, or train one with `regdna train --ensemble K`.")
    check_method(predictor, method)
    table = load_records(fasta, data, split, n, label)
    check_length(predictor, table)
    note = subset_note(table)
    if note:
        say(note)
    sites = load_sites(motifs) if motifs else None
    seqs = list(table.sequence)
    index = predictor.output_index(output)
    averaged = predictor.is_ensemble and ensemble is not False
    kwargs = dict(output=index, batch_size=batch_size, n_references=n_references,
                  n_steps=n_steps, seed=seed)
    boxes = site_boxes(table, sites) if sites is not None else [[] for _ in seqs]
    mask = site_mask(boxes, max(map(len, seqs), default=0)) if sites is not None else None
    if averaged:
        maps = ensemble_attributions(predictor, seqs, method, site_rows=mask, **kwargs)
        hyp, attr = maps["hypothetical"], maps["attributions"]
    else:
        hyp, attr = _maps(predictor, seqs, method, **kwargs)
    info = dataset_info_of_run(read_run_config(run))
    summary = {"run": str(run), "method": method, "output": predictor.labels[index],
               "task": info.task, "classes": info.classes, "n_sequences": len(seqs),
               "shape": list(attr.shape)}
    if sites is not None:
        summary["n_with_sites"] = int(mask.any(1).sum())
        summary["site_auroc"] = site_auroc(attr, mask)
    if predictor.is_ensemble:
        summary["ensemble"] = {"n_members": len(predictor.ensemble), "averaged": averaged}
        if averaged:
            summary["ensemble"].update(_agreement_summary(maps, mask))
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
            title = f"{table.id[i]}  ({method}, output {predictor.labels[index]})"
            if averaged:
                title += (f"\nmean of {len(predictor.ensemble)} members' maps, agreement "
                          f"r = {maps['agreement'][i]:.2f}")
            plot_attribution_logo(tmp / "logos" / f"{rank:02d}_{safe_filename(table.id[i])}.png",
                                  attr[i], seqs[i], boxes[i], title=title,
                                  zoom=_zoom(boxes[i], len(seqs[i])), ylabel=ylabel)
        if averaged:
            pd.DataFrame({"id": table.id, "agreement": maps["agreement"]}).to_csv(
                tmp / "agreement.tsv", sep="\t", index=False, float_format="%.6g")
        write_json(tmp / "summary.json", summary)
    return {**summary, "n_logos": len(order), "out": str(out)}


def _maps(predictor, seqs: Sequence[str], method: str, **kwargs):
    """(hypothetical (N, L, 4) or None for token models, attributions) of one predictor."""
    if predictor.input_kind != "onehot":
        return None, attribute(predictor, seqs, method, **kwargs)
    hyp = attribute(predictor, seqs, method, hypothetical=True, **kwargs)
    # saliency is the corrected gradient at every base; the others score the observed base
    attr = hyp if method == "saliency" else hyp * one_hot(seqs, length=hyp.shape[1])
    return hyp, attr


def agreement_scores(attr: np.ndarray, method: str) -> np.ndarray:
    """The values whose correlation is the members' agreement, (n, B): the full map (B = 4L)
    for saliency (a score at every base), else each position's observed-base score (B = L;
    a token model's base scores as they are)."""
    if attr.ndim == 2:
        return attr
    return attr.reshape(len(attr), -1) if method == "saliency" else attr.sum(-1)


def mean_pairwise_correlation(maps: Sequence[np.ndarray]) -> np.ndarray:
    """(n,) mean Pearson r over the K (K - 1) / 2 member pairs of K (n, B) arrays, over the
    pairs where it is defined (`regdna.evaluate.correlation.row_correlation`: NaN where a map
    is flat); NaN where no pair is."""
    pairs = np.stack([row_correlation(maps[j], maps[k]) for j in range(len(maps))
                      for k in range(j + 1, len(maps))])
    defined = np.isfinite(pairs)
    total = np.where(defined, pairs, 0.0).sum(axis=0)
    count = defined.sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def ensemble_attributions(predictor, seqs: Sequence[str], method: str, batch_size: int = 32,
                          seed: int = 0, site_rows: np.ndarray | None = None, **kwargs) -> dict:
    """The mean of an ensemble's member maps and their agreement (module doc).

    Every member (`predictor.member_predictors()`) explains each batch of `batch_size`
    sequences with the same method, references and seed (the ones `attribute` draws for the
    whole list), so the maps differ only by the members' weights. Memory: the running sum of
    the maps and the batch's K maps.

    Parameters
    ----------
    predictor : the Predictor of a `regdna.models.ensemble.Ensemble` (an ensemble run's).
    seqs, method, batch_size, seed, **kwargs : as `regdna.interpret.attributions.attribute`
        (output, n_references, n_steps).
    site_rows : optional (N, L) bool site mask (`regdna.interpret.sites.site_mask`): each
        member's observed-base scores are kept for the sequences with a site, for each
        member's own site AUROC.

    Returns
    -------
    dict
        attributions, hypothetical (None for token models): the members' mean maps;
        agreement (N,): mean pairwise Pearson r per sequence; agreement_map: what was
        correlated; member_site_scores: K arrays (sequences with a site, L), or None.
    """
    members = predictor.member_predictors()
    if members is None:
        raise RegdnaError("ensemble_attributions needs an ensemble's Predictor (regdna train "
                          "--ensemble K).")
    rows = site_rows.any(1) if site_rows is not None else None
    hyp_parts, attr_parts, agreement = [], [], []
    site_scores = [[] for _ in members] if rows is not None else None
    for start in range(0, len(seqs), batch_size):
        chunk = seqs[start:start + batch_size]
        hyp_sum = attr_sum = None
        scores = []
        for k, member in enumerate(members):
            hyp, attr = _maps(member, chunk, method, batch_size=batch_size, seed=seed + start,
                              **kwargs)
            hyp_sum = hyp if k == 0 or hyp is None else hyp_sum + hyp
            attr_sum = attr if k == 0 else attr_sum + attr
            scores.append(agreement_scores(attr, method))
            if site_scores is not None:
                part = rows[start:start + len(chunk)]
                site_scores[k].append(attr[part].sum(-1) if attr.ndim == 3 else attr[part])
        agreement.append(mean_pairwise_correlation(scores))
        attr_parts.append(attr_sum / len(members))
        if hyp_sum is not None:
            hyp_parts.append(hyp_sum / len(members))
    one_hot_model = predictor.input_kind == "onehot"
    empty = np.zeros((0, predictor.length or 0, 4) if one_hot_model else
                     (0, predictor.length or 0), dtype=np.float32)
    return {"attributions": np.concatenate(attr_parts) if attr_parts else empty,
            "hypothetical": (np.concatenate(hyp_parts) if hyp_parts else empty)
            if one_hot_model else None,
            "agreement": np.concatenate(agreement) if agreement else np.zeros(0),
            "agreement_map": ("full map (L x 4)" if method == "saliency" else
                              "observed-base scores (L)") if one_hot_model else "base scores (L)",
            "member_site_scores": [np.concatenate(s) for s in site_scores]
            if site_scores is not None and len(seqs) else None}


def _agreement_summary(maps: dict, mask: np.ndarray | None) -> dict:
    """summary.json's ensemble entries: agreement over sequences, each member's site AUROC."""
    values = maps["agreement"]
    finite = values[np.isfinite(values)]
    out = {"agreement": "mean pairwise Pearson r of the members' maps per sequence",
           "agreement_map": maps["agreement_map"],
           "agreement_mean": float(finite.mean()) if len(finite) else float("nan"),
           "agreement_min": float(finite.min()) if len(finite) else float("nan")}
    if mask is not None and maps["member_site_scores"] is not None:
        rows = mask.any(1)
        out["site_auroc_members"] = [site_auroc(s, mask[rows]) for s in maps["member_site_scores"]]
    return out


def _zoom(boxes, length: int, margin: int = 12) -> tuple[int, int] | None:
    """The window around a sequence's known sites (+- `margin` bp) for a logo's zoomed panel,
    or None when there are none or it would span most (80%) of the sequence."""
    if not boxes:
        return None
    lo = min(b[0] for b in boxes) - margin
    hi = max(b[1] for b in boxes) + margin
    return (lo, hi) if hi - lo < length * 0.8 else None
