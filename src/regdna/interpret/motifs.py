"""The verb `regdna motifs`: the motifs a trained model learned for each class, named by JASPAR.

Motifs are found per class, each class from its own attributions (`class_groups`):

- binary: class 1 from the attributions of the logit on the positives, class 0 from those of
  the negated logit (the log-odds of class 0) on the negatives;
- multiclass: class k from the attributions of logit k on the sequences of class k;
- multi-label: output t from the attributions of logit t on the positives of output t;
- regression: output t from the attributions of output t on every sequence (both signs kept).

Each class gets its own TF-MoDISco run (`regdna.interpret.modisco`) and keeps the patterns that
push its own logit up (regression: both signs), so every class has its own seqlet threshold
and its own `max_seqlets`. One run over both classes of a binary task, split by the sign of
the patterns, sets one threshold for both signs from all windows (modisco-lite), which costs
the class with the weaker contributions its seqlets. Measured on the two-factor task of
tests/interpret/test_motifs_classes.py (CTCF in positives, SPI1 in negatives): per class, CTCF
gets one pattern of 71 seqlets, against 54 split over two patterns in one joint run; with a
weaker model (150 bp, sites drawn from the matrices themselves) the joint run found no CTCF
pattern at all and the per-class run one of 14 seqlets.

From attributions written by `regdna attribute` (one output, whatever sequences it explained),
there is one TF-MoDISco run: positive patterns belong to the class that output's logit stands
for (binary: class 1), negative ones to the other (binary: class 0; otherwise "not <output>";
regression: the output itself). Motifs are matched to JASPAR with Tomtom
(`regdna.interpret.motif_match`); with a CNN run, its first-layer filters too
(`regdna.interpret.filters`).

Output dir (`regdna.utils.output`, checked before anything is loaded): `motifs.tsv` (the
matches, with a `class` column), `motifs.json` (per class: its sequences and each motif's best
match; JASPAR release, filter summary), `logos/<class>_<motif>.png` (each motif beside its best
match), `filters.tsv` (CNN runs).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from regdna.data.dataset import load_info
from regdna.data.records import class_value, load_records
from regdna.encode.onehot import one_hot, one_hot_to_strings
from regdna.errors import RegdnaError
from regdna.interpret.attributions import attribute, check_method
from regdna.interpret.filters import filter_report
from regdna.interpret.inputs import check_length
from regdna.interpret.modisco import discover_motifs
from regdna.interpret.motif_match import load_targets, match_motifs
from regdna.plot.logos import plot_motif_match
from regdna.runs.config import dataset_info_of_run, read_run_config
from regdna.utils.jsonio import read_json, write_json
from regdna.utils.output import check_out_dir, output_dir
from regdna.utils.paths import safe_filename
from regdna.variants.effects import load_scored_predictor

VERB = "motifs"
MAX_DEFAULT_GROUPS = 8   # without --class / --target: every class or output up to this many


@dataclass
class ClassGroup:
    """The sequences explained for one class and how: the attributions of logit `output`,
    times `sign` (-1: the negated logit, binary class 0); patterns of the signs in `keep`."""

    name: str
    output: int
    sign: int
    seqs: list[str]
    keep: tuple[int, ...] = (1,)


@dataclass
class ClassMotifs:
    """The motifs found for one class."""

    name: str
    output: str
    n_sequences: int
    motifs: list = field(default_factory=list)


def run_motifs(out: str | Path, attributions: str | Path | None = None,
               run: str | Path | None = None, data: str | Path | None = None,
               split: str = "test", label: str | None = None, target: str | None = None,
               method: str = "deeplift_shap", n_per_class: int = 500,
               jaspar_release: str | None = None, collection: str = "CORE",
               tax_group: str = "vertebrates", top: int = 5, max_seqlets: int = 2000,
               min_seqlets: int = 50, q_threshold: float = 0.05, scalar: str | None = None,
               device: str | None = None, overwrite: bool = False, say: Callable[[str], None] = print) -> dict:
    """Discover motifs per class in attributions and name them by JASPAR; match a CNN's
    filters too.

    Parameters
    ----------
    out : output dir (see the module doc); refused before any work unless new, empty, an
        earlier `motifs` output, or `overwrite`.
    attributions : dir written by `regdna attribute` for a one-hot model (attributions.npz with
        `onehot` and `hypothetical`, (N, L, 4)); its summary.json names the output and task.
    run : run dir: its first-layer filters are matched too (one-hot CNNs); without
        `attributions`, the attributions of split `split` of `data` are computed with `method`
        for each class (see the module doc).
    label : only this class (binary, multiclass; name or index); None: every class.
    target : only this output (multi-label, regression, multiclass; index or label name);
        None: every output. Without `label` and `target`, more than `MAX_DEFAULT_GROUPS`
        classes or outputs are cut to the first, with a note.
    n_per_class : the first `n_per_class` sequences of each class are explained.
    jaspar_release, collection, tax_group : the JASPAR matrices matched against.
    top : matches listed per motif.
    max_seqlets : seqlets clustered per class and sign (`discover_motifs`).
    min_seqlets : fewest seqlets of one class and sign worth clustering.
    q_threshold : q-value below which a filter's best match is a hit.
    scalar : profile runs: which number of the predicted coverage is explained, "sum"
        (default) or "center:W" (`regdna.models.scalar`); refused for other runs.
    say : called with each note for the user (that `n_per_class` cut a class, that a class has
        no sequences), as it arises.

    Returns
    -------
    dict
        The report written to motifs.json: classes (per class: class, output, n_sequences,
        motifs: per motif: motif, n_seqlets, consensus, best_match, matrix_id, q_value; None
        without a match), jaspar (release, collection, tax_group), [filters: n_filters,
        n_aligned, hit_ratio, mean_best_q, q_threshold]; and motifs (every class's motifs in
        one list, each with its `class`) and out.
    """
    if attributions is None and run is None:
        raise RegdnaError("give --attributions DIR (from `regdna attribute`) or --run RUN --data D")
    inputs = [attributions, run, data]
    check_out_dir(out, VERB, inputs, overwrite)
    options = dict(max_seqlets=max_seqlets, min_metacluster_size=min_seqlets)
    predictor, seqs = None, None
    if attributions is not None:
        onehot, hyp, saved = _saved_attributions(attributions)
        if run is not None:  # the model whose first-layer filters are matched too
            predictor = load_scored_predictor(run, scalar, device=device)
            seqs = one_hot_to_strings(onehot)
            if predictor.input_kind != "onehot":
                predictor = None
        info = dataset_info_of_run(read_run_config(run)) if run is not None else None
        found = _by_sign(discover_motifs(onehot, hyp, **options), saved, info, len(onehot))
    else:
        if data is None:
            raise RegdnaError("--run needs --data DATASET_DIR")
        predictor = load_scored_predictor(run, scalar, device=device)
        check_method(predictor, method)
        if predictor.input_kind != "onehot":
            raise RegdnaError("motif discovery needs a one-hot (CNN) model's attributions")
        table = load_records(None, data, split)
        check_length(predictor, table)
        groups = class_groups(load_info(data), predictor, table, label, target, n_per_class, say)
        found = []
        for group in groups:
            hyp = group.sign * attribute(predictor, group.seqs, method, output=group.output,
                                         hypothetical=True)
            motifs = [m for m in discover_motifs(one_hot(group.seqs), hyp, **options)
                      if m.sign in group.keep]
            found.append(ClassMotifs(group.name, predictor.labels[group.output],
                                     len(group.seqs), motifs))
        seqs = list(dict.fromkeys(s for group in groups for s in group.seqs))
    targets = load_targets(jaspar_release, collection, tax_group)
    matches = _match(found, targets, top)
    by_id = {m.matrix_id: m for m in targets}
    filters = None
    if predictor is not None:
        # filter_report leaves out the profiles motif-less filters match (FILTER_EXCLUDE) itself
        filters = filter_report(predictor, seqs, targets, q_threshold=q_threshold)
    classes = [{"class": c.name, "output": c.output, "n_sequences": c.n_sequences,
                "motifs": [_best_match(motif) for motif in c.motifs]} for c in found]
    report = {"classes": classes,
              "jaspar": {"release": targets[0].release if targets else "",
                         "collection": collection, "tax_group": tax_group}}
    if filters is not None:
        report["filters"] = filters[1]
    with output_dir(out, VERB, inputs, overwrite) as tmp:
        matches.to_csv(tmp / "motifs.tsv", sep="\t", index=False, float_format="%.4g")
        (tmp / "logos").mkdir()
        for c in found:
            for motif in c.motifs:
                _plot_motif(tmp / "logos" / f"{safe_filename(c.name)}_{motif.name}.png",
                            motif, by_id)
        if filters is not None:
            filters[0].to_csv(tmp / "filters.tsv", sep="\t", index=False, float_format="%.4g")
        write_json(tmp / "motifs.json", report)
    flat = [{"class": c["class"], **m} for c in classes for m in c["motifs"]]
    return {**report, "motifs": flat, "out": str(out)}


def class_groups(info, predictor, table: pd.DataFrame, label: str | None, target: str | None,
                 n_per_class: int, say: Callable[[str], None] = print) -> list[ClassGroup]:
    """The classes to explain (see the module doc) and the first `n_per_class` sequences of each.

    Parameters
    ----------
    info : the `DatasetInfo` of the dataset the records come from.
    predictor : the run's `Predictor` (its outputs must be the dataset's labels or classes).
    table : the records (`load_records`), with the label columns.
    label, target : one class (binary, multiclass) or one output (multiclass, multi-label,
        regression); None: all (the first only, with a note, beyond `MAX_DEFAULT_GROUPS`).
    """
    classifier = info.task in ("binary", "multiclass")
    n_outputs = {"binary": 1, "multiclass": len(info.classes or [])}.get(info.task, len(info.labels))
    if n_outputs != predictor.n_outputs:
        raise RegdnaError(f"the dataset's {info.task} labels give {n_outputs} outputs but the "
                          f"run's model has {predictor.n_outputs}; give the dataset dir the run "
                          "was trained on (or one with the same labels)")
    if label is not None and not classifier:
        raise RegdnaError(f"--class applies to binary and multiclass runs; this run is "
                          f"{info.task}: choose an output with --target")
    if classifier:
        column = table[info.labels[0]]
        names = [str(c) for c in info.classes] if info.classes else ["0", "1"]
        values = list(range(len(names)))
        if label is not None:
            values = [int(class_value(info, label))]
        elif target is not None and info.task == "multiclass":   # an output is a class
            values = [predictor.output_index(target)]
        binary = info.task == "binary"
        groups = [ClassGroup(names[v], 0 if binary else v, -1 if binary and v == 0 else 1,
                             list(table.sequence[column == v])) for v in values]
    else:
        outputs = list(range(n_outputs)) if target is None else [predictor.output_index(target)]
        regression = info.task == "regression"
        groups = [ClassGroup(predictor.labels[t], t, 1,
                             list(table.sequence if regression
                                  else table.sequence[table[info.labels[t]] == 1]),
                             keep=(1, -1) if regression else (1,))
                  for t in outputs]
    if label is None and target is None and len(groups) > MAX_DEFAULT_GROUPS:
        say(f"explaining {groups[0].name} only, the first of {len(groups)} classes or outputs "
            "(each is one attribution and TF-MoDISco run); choose others with --class or "
            "--target")
        groups = groups[:1]
    kept = []
    for group in groups:
        if not group.seqs:
            say(f"class {group.name}: no sequences in this split; no motifs for it")
            continue
        if len(group.seqs) > n_per_class:
            say(f"class {group.name}: using the first {n_per_class} of {len(group.seqs)} "
                f"sequences (--n-per-class {n_per_class})")
            group.seqs = group.seqs[:n_per_class]
        kept.append(group)
    if not kept:
        raise RegdnaError("no sequences to explain in this split for the chosen classes")
    return kept


def _by_sign(motifs, saved: dict, info, n_sequences: int) -> list[ClassMotifs]:
    """Motifs of one TF-MoDISco run over saved attributions, split into the classes their sign
    stands for (see the module doc)."""
    output = str(saved.get("output", "0"))
    task = info.task if info is not None else saved.get("task")
    classes = (info.classes if info is not None else saved.get("classes")) or ["0", "1"]
    if task == "binary":
        up, down = str(classes[1]), str(classes[0])
    elif task == "regression":
        up = down = output
    else:
        up, down = output, f"not {output}"
    sides = [(up, [m for m in motifs if m.sign > 0]), (down, [m for m in motifs if m.sign < 0])]
    if up == down:
        sides = [(up, motifs)]
    return [ClassMotifs(name, output, n_sequences, found) for name, found in sides]


def _match(found: list[ClassMotifs], targets, top: int) -> pd.DataFrame:
    """Tomtom matches of every class's motifs (attached to each motif), one table with a
    `class` column first."""
    tables = []
    for c in found:
        table = match_motifs(c.motifs, targets, top=top)
        table.insert(0, "class", c.name)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def _plot_motif(path: Path, motif, by_id: dict) -> None:
    """One motif beside its best JASPAR match (alone without one)."""
    best = motif.matches.iloc[0] if len(motif.matches) else None
    target = by_id.get(best.matrix_id) if best is not None else None
    plot_motif_match(path, motif.name, motif.ppm, motif.cwm,
                     f"{best['name']} {best.matrix_id}" if best is not None else "",
                     target.ppm if target is not None else None,
                     q_value=float(best.q_value) if best is not None else None,
                     strand=best.strand if best is not None else "+",
                     offset=int(best.offset) if best is not None else 0)


def _saved_attributions(directory) -> tuple[np.ndarray, np.ndarray, dict]:
    """(onehot, hypothetical), both (N, L, 4), from `regdna attribute`'s attributions.npz, and
    its summary.json ({} when missing)."""
    path = Path(directory) / "attributions.npz"
    if not path.is_file():
        raise RegdnaError(f"{path} not found; write it with `regdna attribute --out "
                          f"{directory}`")
    saved = np.load(path)
    if "hypothetical" not in saved:
        raise RegdnaError(f"{path} has no hypothetical contributions (a transformer's base "
                          "scores); motif discovery needs a one-hot model's attributions")
    return saved["onehot"], saved["hypothetical"], read_json(Path(directory) / "summary.json") or {}


def _best_match(motif) -> dict:
    """One motif's line of motifs.json: its best JASPAR match, or None fields without one."""
    best = motif.matches.iloc[0] if len(motif.matches) else None
    return {"motif": motif.name, "n_seqlets": motif.n_seqlets, "consensus": motif.consensus,
            "best_match": None if best is None else best["name"],
            "matrix_id": None if best is None else best.matrix_id,
            "q_value": None if best is None else float(best.q_value)}
