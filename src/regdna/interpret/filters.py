"""First-layer filters of CNNs as motifs (Toneyan et al. 2022): filters -> PPMs by
activation-based alignment (Alipanahi et al. 2015; Kelley et al. 2016: every window whose
activation exceeds half the filter's maximum over the inputs is a site) -> Tomtom against JASPAR
-> hit ratio (filters with a match at q < threshold) and mean best q-value. As in Toneyan et al.
2022, MA1929 and MA0615 are left out of filter matching (`FILTER_EXCLUDE`): low-information
filters hit them."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from regdna.encode.onehot import one_hot
from regdna.errors import RegdnaError
from regdna.interpret.motif_match import match_jaspar

FILTER_EXCLUDE = ("MA1929", "MA0615")


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
