"""Motifs named by JASPAR: Tomtom (memelite) of each motif against a JASPAR collection
(vertebrate CORE of the newest bundled release by default, `regdna.io.jaspar.load_collection`),
with Benjamini-Hochberg q-values over the targets of each query."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from regdna.interpret.modisco import DiscoveredMotif
from regdna.io.jaspar import load_collection


def load_targets(release: str | None = None, collection: str | None = "CORE",
                 tax_group: str | None = "vertebrates", exclude: Sequence[str] = ()):
    """JASPAR matrices to match against (`regdna.io.jaspar.load_collection`), minus every
    version of the base ids in `exclude` (`exclude_profiles`)."""
    targets = load_collection(release=release, collection=collection, tax_group=tax_group)
    return exclude_profiles(targets, exclude)


def base_id(matrix_id: str) -> str:
    """The JASPAR base id of a matrix id, without its version ("MA1930.2" -> "MA1930")."""
    return str(matrix_id).split(".")[0].upper()


def exclude_profiles(targets, exclude: Sequence[str]) -> list:
    """The targets whose base id is not one of `exclude` (ids with or without version: any
    version of an excluded base id is left out, so a later JASPAR release's is too)."""
    out = {base_id(e) for e in exclude}
    return [t for t in targets if base_id(t.matrix_id) not in out]


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
        q = benjamini_hochberg(p[i])
        best = np.argsort(p[i], kind="stable")[:top]
        tables.append(pd.DataFrame({
            "rank": np.arange(1, len(best) + 1),
            "matrix_id": [targets[j].matrix_id for j in best],
            "name": [targets[j].name for j in best],
            "p_value": p[i, best], "q_value": q[best],
            "strand": ["+-"[int(strands[i, j])] for j in best],
            "offset": offsets[i, best].astype(int)}))
    return tables


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
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
