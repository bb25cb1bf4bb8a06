"""First-layer filters of CNNs as motifs (Toneyan et al. 2022).

Each first-layer filter becomes a PPM by activation-based alignment (Alipanahi et al. 2015;
Kelley et al. 2016): every window whose activation exceeds half the filter's maximum over the
inputs is a site, and the sites' base counts (each site counted once, not weighted by its
activation) + 0.1 make the PPM. PPMs carrying fewer than `MIN_INFORMATION` bits are not matched;
the rest are Tomtomed (Gupta et al. 2007) against JASPAR minus `FILTER_EXCLUDE` -> hit ratio
(filters whose best match has q < threshold) and mean best q-value, plus the distribution of the
best matches and warnings when it shows that the filters are not motif-like.

Why both cuts (measured by `bench/filter_null.py`, JASPAR2026 vertebrate CORE, 1019 profiles:
1800 width-19 PPMs without a motif per seed, random Dirichlet PPMs and alignments of untrained
Basset filters on random sequence; seeds 0, 1, 2): a PPM without a motif is rarely without a
Tomtom "match". Against every profile, 1347-1364 of the 1800 have a best match at q < 0.05 (all
of those below 8 bits, 94-97% of those with 8-10 bits), nearly all to the two long,
low-information CTCF profiles (MA1929 778-795, MA1930 482-506), then ZNF354A MA1978 (36-39): the
CTCF / ZNF354A "hits" users see from filters that learned nothing. Toneyan et al. 2022 left MA1929
and MA0615 out for this reason; the profiles that take over once those are gone are excluded too
(`FILTER_EXCLUDE`). Removing profiles only moves the matches of low-information PPMs to the next
long, flat profile (with the exclusions, GATA1::TAL1 MA0140 takes 71-74% of them): below 8 bits
79% of the null PPMs still match at q < 0.05 (89-100% below 4 bits, 44-53% at 4-6, 24-33% at
6-8), at or above 8 bits 8% do (12-16% at 8-10 bits, 0-12% above). Hence `MIN_INFORMATION` = 8
bits and not more: a 19-wide filter carrying exactly GATA1's log-odds (JASPAR MA0035.5, 9.8 bits)
aligns to a PPM of 9-10 bits.
"""
from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np
import pandas as pd

from regdna.encode.onehot import one_hot
from regdna.errors import RegdnaError
from regdna.interpret.motif_match import exclude_profiles, match_jaspar
from regdna.io.jaspar import position_information

# JASPAR base ids (any version) left out of filter matching. MA1929 (CTCF) and MA0615 (Gmeb1):
# Toneyan et al. 2022. The others: `bench/filter_null.py`, null PPMs with >= 8 bits (770 / 768 /
# 769 for seeds 0 / 1 / 2): starting without MA1929 and MA0615, the profile taking the most best
# matches at q < 0.05 is removed while it takes >= 10% of them and >= 5; kept here when that
# happens for at least two of the three seeds. Its count in the step that removed it, per seed
# ("-": below the bar there):
#   MA1930 CTCF (the long profile)  186 / 183 / 172 of 266 / 255 / 263 hits  (65-72%)
#   MA1978 ZNF354A                   40 /  37 /  45 of 104 / 101 / 120       (37-39%)
#   MA2510 ZBTB41                    10 /   9 /   -  of  71 /  66            (14%)
#   MA1723 PRDM9                      - /   9 /   8  of       73 /  77       (10-12%)
# Next in line, below the bar for every seed: GATA1::TAL1 MA0140 (5 of 60-61, 8%); after it a tail
# of long, low-information profiles takes 2-6 null matches each.
FILTER_EXCLUDE = ("MA1929", "MA0615", "MA1930", "MA1978", "MA2510", "MA1723")
# Bits (sum over positions of 2 - entropy) below which a filter's PPM is not matched (see above).
MIN_INFORMATION = 8.0
# Sites (windows above threshold x the filter's maximum) below which a filter is not aligned.
MIN_SITES = 10
# A share of the hits above which one JASPAR profile dominating them is reported; only judged
# with at least MIN_HITS_FOR_SHARE hits.
MAX_TOP_SHARE = 0.25
MIN_HITS_FOR_SHARE = 5


def information_content(ppm: np.ndarray) -> float:
    """Information content of a (W, 4) PPM in bits: the sum over positions of 2 - entropy
    (uniform background): 2 x W for a one-hot PPM, 0 for a uniform one."""
    return float(position_information(ppm).sum())


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
                min_sites: int = MIN_SITES) -> list[tuple[int, np.ndarray, int]]:
    """Activation-based alignment of first-layer filters (Alipanahi et al. 2015).

    For each filter, every window whose activation (conv -> batch norm -> activation, as the
    model computes it) exceeds `threshold` x that filter's maximum over all inputs is a site;
    the sites' base counts (unweighted: one count per site) + 0.1 give the filter's PPM.

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
    if not acts:
        return []
    act = np.concatenate(acts)                                      # (N, F, L')
    x = np.concatenate(xs)                                          # (N, 4, L)
    length = x.shape[2]
    # where window j of the activation map starts in the input ('same' padding shifts it)
    offset = (width - 1) // 2 if act.shape[2] == length else 0
    valid = np.arange(act.shape[2]) - offset
    keep = (valid >= 0) & (valid + width <= length)
    act, starts = act[:, :, keep], valid[keep]
    if not act.size:
        raise RegdnaError(f"the sequences ({length} bp) are shorter than the first-layer filters "
                          f"({width} bp); pass longer sequences")
    peak = act.max(axis=(0, 2))                                     # (F,)
    x = torch.from_numpy(np.ascontiguousarray(x[:, :, starts[0]:starts[-1] + width]))
    counts = torch.zeros(act.shape[1], 4, width, dtype=torch.float64)
    n_sites = np.zeros(act.shape[1], dtype=np.int64)
    for start in range(0, len(act), batch_size):                    # bounded memory
        site = (act[start:start + batch_size] > threshold * peak[None, :, None]) \
            & (peak[None, :, None] > 0)                              # (n, F, J)
        n_sites += site.sum(axis=(0, 2))
        # counts[f, b, k] = sum over sites (i, j) of x[i, b, j + k]: a convolution of the
        # sequences (as a batch of 4 one-channel-per-sequence signals) with the site maps
        chunk = x[start:start + batch_size].transpose(0, 1)          # (4, n, L)
        sites = torch.from_numpy(site.astype(np.float32)).transpose(0, 1)  # (F, n, J)
        counts += torch.nn.functional.conv1d(chunk, sites).transpose(0, 1).double()
    counts = counts.transpose(1, 2).numpy()                         # (F, W, 4)
    out = []
    for f in np.nonzero(n_sites >= max(min_sites, 1))[0]:
        ppm = counts[f] + 0.1
        out.append((int(f), ppm / ppm.sum(1, keepdims=True), int(n_sites[f])))
    return out


def filter_report(predictor, seqs: Sequence[str], targets, q_threshold: float = 0.05,
                  threshold: float = 0.5, min_information: float = MIN_INFORMATION,
                  min_sites: int = MIN_SITES) -> tuple[pd.DataFrame, dict]:
    """First-layer filters -> PPMs -> best Tomtom match of each informative one.

    `targets` (JASPAR `Motif`s) lose the `FILTER_EXCLUDE` profiles here, whether or not the
    caller removed them already. Filters with fewer than `min_sites` sites are not aligned; those
    whose PPM carries fewer than `min_information` bits are not matched (see the module doc).

    Returns:
        table: one row per aligned filter: filter, n_sites, information (bits), informative,
            consensus, matrix_id, name, p_value, q_value (empty for uninformative filters), hit
            (q < q_threshold);
        summary: n_filters (first-layer filters), n_aligned, n_informative, n_hits;
            hit_ratio = n_hits / n_informative and mean_best_q (mean over informative filters of
            the best match's q-value); hit_ratio_all = n_hits / n_filters (Toneyan et al. 2022's
            denominator, every filter); matched_names (JASPAR name of the best match -> number
            of hits, most first); top_share (the largest share of one name among the hits);
            warnings (one line each); q_threshold, activation_threshold, min_information,
            excluded (the base ids left out).
    """
    conv = first_conv(predictor.model)
    targets = exclude_profiles(targets, FILTER_EXCLUDE)
    if not targets:
        raise RegdnaError("no JASPAR profiles left to match filters against after leaving out "
                          f"{', '.join(FILTER_EXCLUDE)}; choose a larger collection or tax group")
    aligned = filter_ppms(predictor, seqs, threshold=threshold, min_sites=min_sites)
    information = [information_content(ppm) for _, ppm, _ in aligned]
    informative = [bits >= min_information for bits in information]
    tables = iter(match_jaspar([ppm for (_, ppm, _), ok in zip(aligned, informative) if ok],
                               targets, top=1))
    rows = []
    for (f, ppm, n_sites), bits, ok in zip(aligned, information, informative):
        best = next(tables).iloc[0] if ok else None
        rows.append({"filter": f, "n_sites": n_sites, "information": bits, "informative": ok,
                     "consensus": "".join("ACGT"[i] for i in ppm.argmax(1)),
                     "matrix_id": best.matrix_id if ok else "", "name": best["name"] if ok else "",
                     "p_value": best.p_value if ok else np.nan,
                     "q_value": best.q_value if ok else np.nan,
                     "hit": bool(ok and best.q_value < q_threshold)})
    table = pd.DataFrame(rows, columns=["filter", "n_sites", "information", "informative",
                                        "consensus", "matrix_id", "name", "p_value", "q_value",
                                        "hit"])
    hits = table[table["hit"]]
    names = Counter(hits["name"])
    matched = dict(sorted(names.items(), key=lambda item: (-item[1], item[0])))
    n_filters, n_informative, n_hits = conv.out_channels, int(sum(informative)), len(hits)
    summary = {"n_filters": n_filters, "n_aligned": len(aligned), "n_informative": n_informative,
               "n_hits": n_hits,
               "hit_ratio": n_hits / n_informative if n_informative else 0.0,
               "hit_ratio_all": n_hits / n_filters if n_filters else 0.0,
               "mean_best_q": float(table["q_value"].mean()) if n_informative else float("nan"),
               "matched_names": matched,
               "top_share": max(names.values()) / n_hits if n_hits else 0.0,
               "q_threshold": q_threshold, "activation_threshold": threshold,
               "min_information": min_information, "excluded": list(FILTER_EXCLUDE)}
    summary["warnings"] = _warnings(summary, hits, min_sites)
    return table, summary


_MOTIF_LIKE = ("for motif-like first-layer filters train with an exponential first-layer "
               "activation and global max-pooling (Koo & Ploenzke 2021; basset, deepsea: "
               "--set model.options.exp_activation=true --set model.options.bins=1)")


def _warnings(summary: dict, hits: pd.DataFrame, min_sites: int) -> list[str]:
    """One line per sign that the filters' matches do not mean what a hit ratio suggests."""
    out = []
    n_aligned, n_informative = summary["n_aligned"], summary["n_informative"]
    if n_aligned < summary["n_filters"]:
        out.append(f"{summary['n_filters'] - n_aligned} of {summary['n_filters']} first-layer "
                   f"filters had fewer than {min_sites} sites above "
                   f"{summary['activation_threshold']:g} x their maximum and were not aligned "
                   "(dead filters, or too few sequences: pass more)")
    if n_aligned and n_informative < n_aligned:
        out.append(f"{n_aligned - n_informative} of {n_aligned} aligned filters carry fewer than "
                   f"{summary['min_information']:g} bits and were not matched (a Tomtom match "
                   "of such a PPM is no evidence: most motif-less ones match a long, "
                   "low-information JASPAR profile at q < 0.05)")
    if n_aligned and not n_informative:
        out.append("no first-layer filter is informative enough to match: the filters are not "
                   f"motif-like; {_MOTIF_LIKE}")
    if len(hits) >= MIN_HITS_FOR_SHARE and summary["top_share"] > MAX_TOP_SHARE:
        name, count = next(iter(summary["matched_names"].items()))
        ids = ", ".join(sorted(set(hits.loc[hits["name"] == name, "matrix_id"])))
        out.append(f"one JASPAR profile, {name} {ids}, takes {summary['top_share']:.0%} of "
                   f"filter matches ({count} of {len(hits)}): the filters are not motif-like or "
                   "many learned the same motif; check `information` and `consensus` in "
                   f"filters.tsv; {_MOTIF_LIKE}")
    return out
