"""The verb `regdna motifs`: motifs a trained model learned, named by JASPAR.

From the attributions of a one-hot model (written by `regdna attribute`, or computed here from
`--run` and `--data`): TF-MoDISco motifs (`regdna.interpret.modisco`) matched to JASPAR with
Tomtom (`regdna.interpret.motif_match`); with a CNN run, its first-layer filters too
(`regdna.interpret.filters`).

Output dir (`regdna.utils.output`, checked before anything is loaded): `motifs.tsv` (the
matches), `motifs.json` (best match per motif, JASPAR release, filter summary), `logos/<motif>.png`
(each motif beside its best match), `filters.tsv` (CNN runs).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from regdna.data.records import load_records, subset_note
from regdna.encode.onehot import one_hot, one_hot_to_strings
from regdna.errors import RegdnaError
from regdna.interpret.attributions import attribute, check_method
from regdna.interpret.filters import FILTER_EXCLUDE, filter_report
from regdna.interpret.modisco import discover_motifs
from regdna.interpret.motif_match import load_targets, match_motifs
from regdna.plot.logos import plot_motif_match
from regdna.runs import load_predictor
from regdna.utils.jsonio import write_json
from regdna.utils.output import check_out_dir, output_dir
from regdna.utils.paths import safe_filename

VERB = "motifs"


def run_motifs(out: str | Path, attributions: str | Path | None = None,
               run: str | Path | None = None, data: str | Path | None = None,
               split: str = "test", label: str = "1", method: str = "deeplift_shap",
               n: int = 500, jaspar_release: str | None = None, collection: str = "CORE",
               tax_group: str = "vertebrates", top: int = 5, max_seqlets: int = 2000,
               q_threshold: float = 0.05, device: str | None = None, overwrite: bool = False,
               say: Callable[[str], None] = print) -> dict:
    """Discover motifs in attributions and name them by JASPAR; match a CNN's filters too.

    Parameters
    ----------
    out : output dir (see the module doc); refused before any work unless new, empty, an
        earlier `motifs` output, or `overwrite`.
    attributions : dir written by `regdna attribute` for a one-hot model (attributions.npz with
        `onehot` and `hypothetical`, (N, L, 4)).
    run : run dir: its first-layer filters are matched too (one-hot CNNs); without
        `attributions`, the attributions of split `split` of `data` (class `label`, the first
        `n` sequences) are computed with `method`.
    jaspar_release, collection, tax_group : the JASPAR matrices matched against.
    top : matches listed per motif.
    max_seqlets : seqlets clustered per sign (`discover_motifs`).
    q_threshold : q-value below which a filter's best match is a hit.
    say : called with each note for the user (that `n` cut the records), as it arises.

    Returns
    -------
    dict
        The report written to motifs.json: motifs (per motif: motif, n_seqlets, consensus,
        best_match, matrix_id, q_value; None without a match), jaspar (release, collection,
        tax_group), [filters: n_filters, n_aligned, hit_ratio, mean_best_q, q_threshold]; and
        out.
    """
    if attributions is None and run is None:
        raise RegdnaError("give --attributions DIR (from `regdna attribute`) or --run RUN --data D")
    inputs = [attributions, run, data]
    check_out_dir(out, VERB, inputs, overwrite)
    predictor, seqs = None, None
    if attributions is not None:
        onehot, hyp = _saved_attributions(attributions)
        if run is not None:  # the model whose first-layer filters are matched too
            predictor = load_predictor(run, device=device)
            seqs = one_hot_to_strings(onehot)
            if predictor.input_kind != "onehot":
                predictor = None
    else:
        if data is None:
            raise RegdnaError("--run needs --data DATASET_DIR")
        predictor = load_predictor(run, device=device)
        check_method(predictor, method)
        if predictor.input_kind != "onehot":
            raise RegdnaError("motif discovery needs a one-hot (CNN) model's attributions")
        table = load_records(None, data, split, n, label)
        note = subset_note(table)
        if note:
            say(note)
        seqs = list(table.sequence)
        hyp = attribute(predictor, seqs, method, hypothetical=True)
        onehot = one_hot(seqs)
    motifs = discover_motifs(onehot, hyp, max_seqlets=max_seqlets)
    targets = load_targets(jaspar_release, collection, tax_group)
    matches = match_motifs(motifs, targets, top=top)
    by_id = {m.matrix_id: m for m in targets}
    filters = None
    if predictor is not None:
        filter_targets = [t for t in targets if not t.matrix_id.startswith(FILTER_EXCLUDE)]
        filters = filter_report(predictor, seqs, filter_targets, q_threshold=q_threshold)
    summary = [_best_match(motif) for motif in motifs]
    report = {"motifs": summary, "jaspar": {"release": targets[0].release if targets else "",
                                            "collection": collection, "tax_group": tax_group}}
    if filters is not None:
        report["filters"] = filters[1]
    with output_dir(out, VERB, inputs, overwrite) as tmp:
        matches.to_csv(tmp / "motifs.tsv", sep="\t", index=False, float_format="%.4g")
        (tmp / "logos").mkdir()
        for motif in motifs:
            best = motif.matches.iloc[0] if len(motif.matches) else None
            target = by_id.get(best.matrix_id) if best is not None else None
            plot_motif_match(tmp / "logos" / f"{safe_filename(motif.name)}.png", motif.name,
                             motif.ppm, motif.cwm,
                             f"{best['name']} {best.matrix_id}" if best is not None else "",
                             target.ppm if target is not None else None,
                             q_value=float(best.q_value) if best is not None else None,
                             strand=best.strand if best is not None else "+",
                             offset=int(best.offset) if best is not None else 0)
        if filters is not None:
            filters[0].to_csv(tmp / "filters.tsv", sep="\t", index=False, float_format="%.4g")
        write_json(tmp / "motifs.json", report)
    return {**report, "out": str(out)}


def _saved_attributions(directory) -> tuple[np.ndarray, np.ndarray]:
    """(onehot, hypothetical), both (N, L, 4), from `regdna attribute`'s attributions.npz."""
    path = Path(directory) / "attributions.npz"
    if not path.is_file():
        raise RegdnaError(f"{path} not found; write it with `regdna attribute --out "
                          f"{directory}`")
    saved = np.load(path)
    if "hypothetical" not in saved:
        raise RegdnaError(f"{path} has no hypothetical contributions (a transformer's base "
                          "scores); motif discovery needs a one-hot model's attributions")
    return saved["onehot"], saved["hypothetical"]


def _best_match(motif) -> dict:
    """One motif's line of motifs.json: its best JASPAR match, or None fields without one."""
    best = motif.matches.iloc[0] if len(motif.matches) else None
    return {"motif": motif.name, "n_seqlets": motif.n_seqlets, "consensus": motif.consensus,
            "best_match": None if best is None else best["name"],
            "matrix_id": None if best is None else best.matrix_id,
            "q_value": None if best is None else float(best.q_value)}
