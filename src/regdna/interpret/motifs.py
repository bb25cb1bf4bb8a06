"""Motifs from a trained model, named by JASPAR.

- `discover_motifs`: TF-MoDISco (modisco-lite) clusters high-attribution seqlets into motifs
  (PPM, contribution weight matrix) from contribution + hypothetical contribution maps;
- `match_jaspar`: Tomtom (memelite) of each motif against a JASPAR collection (vertebrate
  CORE of the newest bundled release by default, `regdna.io.jaspar.load_collection`), with
  Benjamini-Hochberg q-values over the targets of each query;
- `filter_ppms` + `filter_report` (CNNs, Toneyan et al. 2022): first-layer filters -> PPMs by
  activation-based alignment (Alipanahi et al. 2015; Kelley et al. 2016: every window whose
  activation exceeds half the filter's maximum over the inputs is a site) -> Tomtom -> hit
  ratio (filters with a match at q < threshold) and mean best q-value. As in Toneyan et al. 2022,
  MA1929 and MA0615 are left out of filter matching: low-information filters hit them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from regdna.errors import RegdnaError

FILTER_EXCLUDE = ("MA1929", "MA0615")


@dataclass
class DiscoveredMotif:
    """One motif found in attribution maps.

    ppm, cwm: (W, 4) position probability and contribution weight matrices, trimmed to the
    columns carrying at least `trim` of the peak contribution.
    """

    name: str
    sign: int
    n_seqlets: int
    ppm: np.ndarray
    cwm: np.ndarray
    matches: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def consensus(self) -> str:
        return "".join("ACGT"[i] for i in self.ppm.argmax(1))


def discover_motifs(onehot: np.ndarray, hypothetical: np.ndarray, max_seqlets: int = 2000,
                    window: int = 15, flank: int = 5, min_metacluster_size: int = 50,
                    final_min_cluster_size: int = 20, n_leiden_runs: int = 4, trim: float = 0.3,
                    seed: int = 0) -> list[DiscoveredMotif]:
    """TF-MoDISco on attribution maps.

    Args:
        onehot: (N, L, 4) one-hot sequences.
        hypothetical: (N, L, 4) hypothetical contributions (`attribute(..., hypothetical=True)`).
        max_seqlets: seqlets kept per sign (modisco's max_seqlets_per_metacluster).
        window, flank: seqlet core width and flank in bp.
        min_metacluster_size: fewest seqlets of one sign worth clustering.
        final_min_cluster_size: fewest seqlets a reported motif needs.
        n_leiden_runs: Leiden clusterings (modisco default 50; a few suffice for clear motifs).

    Returns:
        motifs sorted by number of seqlets, positive patterns first ("pos_0", "neg_0", ...).
    """
    import modiscolite

    onehot = np.asarray(onehot, dtype=np.float32)
    hypothetical = np.asarray(hypothetical, dtype=np.float32)
    if onehot.shape != hypothetical.shape or onehot.ndim != 3 or onehot.shape[-1] != 4:
        raise RegdnaError(f"motif discovery needs one-hot and hypothetical contributions of the "
                          f"same shape (N, L, 4); got {onehot.shape} and {hypothetical.shape}. "
                          "Run `regdna attribute` with a one-hot model and a gradient method.")
    np.random.seed(seed)
    pos, neg = modiscolite.tfmodisco.TFMoDISco(
        one_hot=onehot, hypothetical_contribs=hypothetical, sliding_window_size=window,
        flank_size=flank, min_metacluster_size=min_metacluster_size,
        max_seqlets_per_metacluster=max_seqlets, target_seqlet_fdr=0.05,
        n_leiden_runs=n_leiden_runs, final_min_cluster_size=final_min_cluster_size,
        trim_to_window_size=window + 2 * flank, initial_flank_to_add=flank)
    motifs = []
    for sign, patterns in ((1, pos), (-1, neg)):
        for i, pattern in enumerate(patterns or []):
            ppm, cwm = _trimmed(np.asarray(pattern.sequence), np.asarray(pattern.contrib_scores),
                                trim)
            motifs.append(DiscoveredMotif(name=f"{'pos' if sign > 0 else 'neg'}_{i}", sign=sign,
                                          n_seqlets=len(pattern.seqlets), ppm=ppm, cwm=cwm))
    return motifs


def _trimmed(ppm: np.ndarray, cwm: np.ndarray, trim: float):
    """Keep the span of columns whose |contribution| reaches `trim` x the peak column's."""
    score = np.abs(cwm).sum(1)
    keep = np.flatnonzero(score >= trim * score.max())
    lo, hi = keep.min(), keep.max() + 1
    return ppm[lo:hi], cwm[lo:hi]


def load_targets(release: str | None = None, collection: str | None = "CORE",
                 tax_group: str | None = "vertebrates", exclude: Sequence[str] = ()):
    """JASPAR matrices to match against (`regdna.io.jaspar.load_collection`), minus any whose
    matrix id starts with one of `exclude`."""
    from regdna.io.jaspar import load_collection

    targets = load_collection(release=release, collection=collection, tax_group=tax_group)
    return [m for m in targets if not m.matrix_id.startswith(tuple(exclude))]


def match_jaspar(ppms: Sequence[np.ndarray], targets, top: int = 5) -> list[pd.DataFrame]:
    """Tomtom each query (W, 4) PPM against the targets (JASPAR `Motif`s).

    Returns one table per query with its `top` matches, best first: rank, matrix_id, name,
    p_value, q_value (Benjamini-Hochberg over all targets of that query), strand, offset.
    """
    import warnings

    from memelite import tomtom

    if not len(ppms):
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, _, offsets, _, strands = tomtom([np.ascontiguousarray(q.T, dtype=np.float64)
                                            for q in ppms],
                                           [np.ascontiguousarray(m.ppm.T) for m in targets])[:5]
    tables = []
    for i in range(len(ppms)):
        q = _bh(p[i])
        best = np.argsort(p[i], kind="stable")[:top]
        tables.append(pd.DataFrame({
            "rank": np.arange(1, len(best) + 1),
            "matrix_id": [targets[j].matrix_id for j in best],
            "name": [targets[j].name for j in best],
            "p_value": p[i, best], "q_value": q[best],
            "strand": ["+-"[int(strands[i, j])] for j in best],
            "offset": offsets[i, best].astype(int)}))
    return tables


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of one vector of p-values."""
    p = np.asarray(p, dtype=float)
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    out = np.empty_like(q)
    out[order] = q
    return out


def match_motifs(motifs: list[DiscoveredMotif], targets, top: int = 5) -> pd.DataFrame:
    """Attach Tomtom matches to each motif (in place) and return one long table."""
    tables = match_jaspar([m.ppm for m in motifs], targets, top=top)
    rows = []
    for motif, table in zip(motifs, tables):
        motif.matches = table
        rows.append(table.assign(motif=motif.name, consensus=motif.consensus,
                                 n_seqlets=motif.n_seqlets))
    if not rows:
        return pd.DataFrame(columns=["motif", "consensus", "n_seqlets", "rank", "matrix_id",
                                     "name", "p_value", "q_value", "strand", "offset"])
    table = pd.concat(rows, ignore_index=True)
    return table[["motif", "consensus", "n_seqlets", "rank", "matrix_id", "name", "p_value",
                  "q_value", "strand", "offset"]]


# -- first-layer filters (CNNs) -------------------------------------------------------------------
def first_conv(model):
    """The first Conv1d that reads the 4 one-hot channels."""
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Conv1d) and module.in_channels == 4:
            return module
    raise RegdnaError(f"{type(model).__name__} has no first-layer Conv1d over the 4 bases; "
                      "filter motifs apply to one-hot CNNs only")


def _first_layer(model):
    """The first Conv1d over the 4 bases and the modules that follow it in its block up to and
    including its activation (batch norm, ReLU / exp): the filter's activation map."""
    import torch

    conv = first_conv(model)
    for parent in model.modules():
        if isinstance(parent, torch.nn.Sequential):
            children = list(parent.children())
            if any(c is conv for c in children):
                after = children[[id(c) for c in children].index(id(conv)) + 1:]
                tail = []
                for module in after:
                    tail.append(module)
                    if not isinstance(module, (torch.nn.BatchNorm1d, torch.nn.Identity)):
                        break
                return conv, torch.nn.Sequential(conv, *tail)
    return conv, conv


def filter_ppms(predictor, seqs: Sequence[str], threshold: float = 0.5, batch_size: int = 256,
                min_sites: int = 10) -> list[tuple[int, np.ndarray, int]]:
    """Activation-based alignment of first-layer filters.

    For each filter, every window whose activation (conv -> batch norm -> activation, as the
    model computes it) exceeds `threshold` x that filter's maximum over all inputs is a site;
    the sites' base counts + 0.1 give the filter's PPM.

    Returns:
        (filter index, (W, 4) PPM, number of sites) for filters with >= min_sites sites.
    """
    import torch

    from regdna.encode.onehot import one_hot

    conv, layer = _first_layer(predictor.model)
    width = conv.kernel_size[0]
    acts, xs = [], []
    with torch.inference_mode():
        for start in range(0, len(seqs), batch_size):
            x = one_hot(list(seqs[start:start + batch_size]), channels_first=True)
            acts.append(layer(torch.from_numpy(x).to(conv.weight.device)).float().cpu().numpy())
            xs.append(x)
    act = np.concatenate(acts)                                      # (N, F, L')
    x = np.concatenate(xs)                                          # (N, 4, L)
    length = x.shape[2]
    # where window j of the activation map starts in the input ('same' padding shifts it)
    offset = (width - 1) // 2 if act.shape[2] == length else 0
    valid = np.arange(act.shape[2]) - offset
    keep = (valid >= 0) & (valid + width <= length)
    act, starts = act[:, :, keep], valid[keep]
    windows = np.lib.stride_tricks.sliding_window_view(x, width, axis=2)  # (N, 4, L-W+1, W)
    out = []
    for f in range(act.shape[1]):
        peak = act[:, f].max()
        if peak <= 0:
            continue
        n_idx, pos_idx = np.nonzero(act[:, f] > threshold * peak)
        if len(n_idx) < min_sites:
            continue
        counts = windows[n_idx, :, starts[pos_idx], :].sum(0).T + 0.1  # (W, 4)
        out.append((f, counts / counts.sum(1, keepdims=True), int(len(n_idx))))
    return out


def filter_report(predictor, seqs: Sequence[str], targets, q_threshold: float = 0.05,
                  threshold: float = 0.5) -> tuple[pd.DataFrame, dict]:
    """First-layer filters -> PPMs -> best Tomtom match each.

    Returns:
        (table: filter, n_sites, consensus, matrix_id, name, p_value, q_value, hit;
         summary: n_filters, n_aligned, hit_ratio, mean_best_q) where hit = q < q_threshold and
        hit_ratio counts every first-layer filter in the denominator (Toneyan et al. 2022).
    """
    conv = first_conv(predictor.model)
    aligned = filter_ppms(predictor, seqs, threshold=threshold)
    tables = match_jaspar([ppm for _, ppm, _ in aligned], targets, top=1)
    rows = []
    for (f, ppm, n_sites), table in zip(aligned, tables):
        best = table.iloc[0]
        rows.append({"filter": f, "n_sites": n_sites,
                     "consensus": "".join("ACGT"[i] for i in ppm.argmax(1)),
                     "matrix_id": best.matrix_id, "name": best["name"],
                     "p_value": best.p_value, "q_value": best.q_value,
                     "hit": bool(best.q_value < q_threshold)})
    table = pd.DataFrame(rows, columns=["filter", "n_sites", "consensus", "matrix_id", "name",
                                        "p_value", "q_value", "hit"])
    n_filters = conv.out_channels
    summary = {"n_filters": n_filters, "n_aligned": len(aligned),
               "hit_ratio": float(table["hit"].sum() / n_filters) if n_filters else 0.0,
               "mean_best_q": float(table["q_value"].mean()) if len(table) else float("nan"),
               "q_threshold": q_threshold}
    return table, summary
