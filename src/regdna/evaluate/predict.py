"""`regdna predict`: stream a FASTA file or a table through a run's model into a TSV.

Input is read chunk by chunk (`chunk_size` sequences), predicted in batches and appended to the
output, so memory stays flat in the input size; the TSV appears under its final name only when
complete. Within a chunk, sequences are predicted in groups of equal length (a model never sees
N padding that the user did not put there).

Output columns: `id`, then per output the probability (value for regression) named after the
label (class for multi-class), then the call: `<label>_call` = 1 when the probability reaches
the validation threshold of `threshold.json` (0.5 when the run has none) for binary and
multi-label runs, `call` = the arg-max class for multi-class runs. A binary run whose dataset
named its classes (`classes` of dataset.json, index = class number) also gets `call`: the class
name of the thresholded call.
An ensemble run (`regdna train --ensemble K`) or `mc_dropout=T` adds `<label>_std`: the
standard deviation over the members (or dropout passes) of each probability (value).
A run with RUN/ood.npz (`regdna.evaluate.ood_fit`) adds `ood_embedding` (Mahalanobis distance of
the penultimate embedding from the train split's), `ood_stats` (distance of length, GC, N
content, 4-mer spectrum and an order-4 Markov likelihood ratio), `ood_score` (the larger of
the two over its 0.99-quantile-on-val threshold) and `ood_flag` (1 when `ood_score` > 1);
a run trained before ood.npz existed gets no such columns and one note line.

`out` follows the output policy (`regdna.utils.output`): it is written atomically, and an
existing file is replaced only when it is an unchanged earlier `predict` output or with
`overwrite=True`.
"""
from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path
from typing import Iterator

import numpy as np

from regdna.errors import RegdnaError
from regdna.evaluate.ood_fit import COLUMNS as OOD_COLUMNS, load_ood
from regdna.io.fasta import read_fasta
from regdna.io.tables import read_table, table_columns
from regdna.runs.config import read_run_config, dataset_info_of_run
from regdna.utils.output import check_out_file, output_file


def fasta_chunks(path, chunk_size: int) -> Iterator[tuple[list[str], list[str]]]:
    """(ids, sequences) of at most `chunk_size` FASTA records at a time."""
    ids, seqs = [], []
    for record in read_fasta(path):
        ids.append(record.name)
        seqs.append(record.sequence.upper())
        if len(ids) >= chunk_size:
            yield ids, seqs
            ids, seqs = [], []
    if ids:
        yield ids, seqs


def table_chunks(path, chunk_size: int) -> Iterator[tuple[list[str], list[str]]]:
    """(ids, sequences) from a CSV / TSV / Parquet table with `sequence` (and optional `id`)."""
    has_id = "id" in table_columns(path)
    columns = ["id", "sequence"] if has_id else ["sequence"]
    for frame in read_table(path, columns=columns, chunk_size=chunk_size):
        seqs = frame["sequence"].astype(str).str.upper().tolist()
        ids = frame["id"].astype(str).tolist() if has_id else [str(r) for r in frame["row"]]
        yield ids, seqs


def _length_groups(seqs: list[str]) -> list[list[int]]:
    groups: dict[int, list[int]] = defaultdict(list)
    for i, seq in enumerate(seqs):
        groups[len(seq)].append(i)
    return list(groups.values())


def predict_by_length(predictor, seqs: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """Probabilities (N, T) with sequences grouped by length (no padding inside a batch), and
    for an ensemble or MC dropout their standard deviation over the members / passes (N, T),
    else None."""
    from regdna.models.base import activate

    out = np.zeros((len(seqs), predictor.n_outputs), dtype=np.float32)
    std = np.zeros_like(out) if predictor.n_samples > 1 else None
    for members in _length_groups(seqs):
        group = [seqs[i] for i in members]
        if std is None:
            out[members] = predictor.predict(group)
            continue
        logits, samples = predictor.logits_with_samples(group)
        out[members] = activate(logits, predictor.task)
        std[members] = predictor.predict_std(samples)
    return out, std


def ood_by_length(scorer, predictor, seqs: list[str]) -> np.ndarray:
    """(N, len(OOD_COLUMNS)) ood_embedding, ood_stats, ood_score, ood_flag, sequences grouped by length as
    `predict_by_length`."""
    out = np.zeros((len(seqs), len(OOD_COLUMNS)))
    for members in _length_groups(seqs):
        columns = scorer.columns(predictor, [seqs[i] for i in members])
        out[members] = np.column_stack([columns[name] for name in OOD_COLUMNS])
    return out


def binary_classes(run_dir) -> list[str] | None:
    """Names of class 0 and class 1 of a binary run, when its dataset named them."""
    from regdna.models.published import parse_published

    if parse_published(run_dir) is not None:
        return None
    info = dataset_info_of_run(read_run_config(run_dir))
    if info.task == "binary" and info.classes and len(info.classes) == 2:
        return [str(c) for c in info.classes]
    return None


def _header(predictor, classes=None) -> list[str]:
    names = [str(n) for n in predictor.labels]
    if predictor.task in ("binary", "multilabel"):
        head = ["id", *names, *[f"{n}_call" for n in names], *(["call"] if classes else [])]
    elif predictor.task == "multiclass":
        head = ["id", *names, "call"]
    else:
        head = ["id", *names]
    return head + ([f"{n}_std" for n in names] if predictor.n_samples > 1 else [])


def _number(value) -> str:
    return f"{value:.6g}"


def _rows(predictor, ids, probs, thresholds, classes=None, std=None, ood=None) -> list[str]:
    """TSV lines: probabilities, calls, `*_std` (ensembles, MC dropout), the OOD columns in
    `OOD_COLUMNS` order (a flag as 0/1)."""
    lines = []
    for i, row_id in enumerate(ids):
        values = [_number(v) for v in probs[i]]
        if predictor.task in ("binary", "multilabel"):
            calls = [int(v >= t) for v, t in zip(probs[i], thresholds)]
            values += [str(c) for c in calls]
            if classes:
                values.append(classes[calls[0]])
        elif predictor.task == "multiclass":
            values.append(str(predictor.labels[int(np.argmax(probs[i]))]))
        if std is not None:
            values += [_number(v) for v in std[i]]
        if ood is not None:
            values += [str(int(v)) if name.endswith("_flag") else _number(v)
                       for name, v in zip(OOD_COLUMNS, ood[i])]
        lines.append("\t".join([row_id, *values]) + "\n")
    return lines


def run_predict(run_dir, out, fasta=None, table=None, batch_size: int | None = None,
                chunk_size: int = 10_000, rc_average: bool | None = None,
                checkpoint: str = "best", device=None, overwrite: bool = False,
                notice=None, mc_dropout: int = 0) -> dict:
    """`regdna predict`: predict every sequence of `fasta` or `table` with the model of
    `run_dir`; write `out` (TSV).

    Parameters
    ----------
    run_dir : path or str
        Run dir written by `regdna train` (an ensemble's too), or a published model's spec
        `<family>:<path>` (`regdna.models.published`).
    out : path
        TSV to write (`regdna.utils.output` policy, checked before the model is loaded): `id`,
        one probability (or value, regression) column per output, and for binary / multilabel
        runs `<label>_call` (0/1 at the validation threshold, 0.5 without one) and `call`
        (the class name, when the dataset named its classes); multiclass: `call`; then
        `ood_embedding`, `ood_stats`, `ood_score`, `ood_flag` when the run has ood.npz (module
        doc).
    fasta, table : path
        Exactly one: a FASTA, or a CSV / TSV / Parquet with a `sequence` (and `id`) column.
        Sequences of any length are predicted in groups of equal length.
    batch_size : int, optional
        Sequences per forward pass (default: the run's predict.batch_size).
    chunk_size : int, default 10000
        Records read and written at a time (memory).
    rc_average : bool, optional
        Average over the sequence and its reverse complement (default: the run's setting).
    checkpoint : str, default "best"
        "best", "last" or a path to a .ckpt file.
    device : str or torch.device, optional
        Torch device (default: CUDA when present, else CPU).
    overwrite : bool, default False
        Replace `out` even when it is not an unchanged earlier `predict` output.
    notice : called with one line when the run has no ood.npz (default: printed on stderr).
    mc_dropout : int, default 0
        T > 0: Monte Carlo dropout (Gal & Ghahramani 2016), the mean of T passes with dropout on
        and `<label>_std` columns (ensemble runs write them without it).

    Returns
    -------
    dict
        out (Path, the TSV), n (int, the number of sequences predicted), ood (bool, whether
        the OOD columns were written).
    """
    from regdna.models.published import parse_published, run_source
    from regdna.runs import load_predictor

    if (fasta is None) == (table is None):
        raise RegdnaError("give exactly one of fasta= or table= (--fasta / --table).")
    published = parse_published(run_dir)
    inputs = [fasta if fasta is not None else table, run_source(run_dir)]
    check_out_file(out, "predict", inputs, overwrite)   # before the model is loaded: fail fast
    options = {}
    if batch_size is not None:
        options["batch_size"] = batch_size
    if rc_average is not None:
        options["rc_average"] = rc_average
    if mc_dropout:
        options["mc_dropout"] = mc_dropout
    predictor = load_predictor(run_dir, device=device, checkpoint=checkpoint, **options)
    threshold = predictor.threshold
    thresholds = threshold if isinstance(threshold, list) else \
        [0.5 if threshold is None else float(threshold)] * predictor.n_outputs
    chunks = fasta_chunks(fasta, chunk_size) if fasta is not None else table_chunks(table, chunk_size)
    classes = binary_classes(run_dir)
    scorer = load_ood(run_dir) if published is None else None
    if scorer is None and published is None:
        (notice or _stderr)(f"note: {run_dir} has no ood.npz (trained before out-of-distribution "
                            f"scores existed): no ood_* columns.")
    header = _header(predictor, classes) + (list(OOD_COLUMNS) if scorer is not None else [])
    n = 0
    with output_file(out, "predict", inputs, overwrite) as handle:
        handle.write("\t".join(header) + "\n")
        for ids, seqs in chunks:
            probs, std = predict_by_length(predictor, seqs)
            ood = ood_by_length(scorer, predictor, seqs) if scorer is not None else None
            handle.writelines(_rows(predictor, ids, probs, thresholds, classes, std, ood))
            n += len(ids)
        if n == 0:   # inside the block: no empty output file is left behind
            raise RegdnaError(f"{fasta or table} holds no sequences; nothing was written.")
    return {"out": Path(out), "n": n, "ood": scorer is not None}


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)
