"""`regdna ism`: in-silico saturation mutagenesis (as in Morenu n.d.), every single-base
substitution of every sequence.

`saturation_mutagenesis(predictor, x)` returns delta (N, L, 4) = f(x') - f(x), where x' is x with
base j at position i and f is one output of the model on a `scale` (`score`):

- **logit** (the default): the model's raw output, the logit of a binary or multilabel output,
  the value of a regression output (the log rate of a Poisson one); for a multiclass output
  the log-softmax of the class, log p(class) = logit - logsumexp(logits), since softmax logits
  are defined only up to a shift shared by all classes. A confident model's probability
  saturates (sigmoid(20) is 1.0 in float32, so every Δp is 0) while its logit still moves.
- **probability**: f is the predicted probability (`regdna.models.base.activate`: sigmoid /
  softmax; the value for regression, the rate for Poisson), the variant-effect maps of
  Morenu n.d.: Δp = p(mutant) - p(reference).

The reference base keeps 0: identity edits are never computed.

Two ways to get f(x'):

- **plain**: every mutant is a full forward pass through the `Predictor` (one-hot batches for
  CNNs; for token models the mutated strings are re-tokenized in batches, which handles k-mer and
  BPE tokenizers whose tokens shift after an edit).
- **fast** (one-hot models): the receptive-field engine `regdna.variants.fast_ism.FastISM`
  recomputes only the slice of each convolutional layer an edit can reach. A model it cannot
  follow falls back to plain with a warning; the fast result is also checked against plain on a
  few edits (both sequence ends included) before it is used.

`run_ism` is the verb: sequences from a FASTA file or a dataset split, the ISM array and tables,
heatmaps and top-K bars (`regdna.plot.variants`), every label and summary.json naming the scale.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from regdna.data.records import load_records
from regdna.encode.onehot import ALPHABET, one_hot, one_hot_to_strings
from regdna.errors import RegdnaError
from regdna.models.published import parse_published, run_source
from regdna.models.base import activate
from regdna.plot.variants import ism_heatmap, topk_bar
from regdna.utils.jsonio import write_json
from regdna.utils.output import check_out_dir, output_dir
from regdna.utils.paths import safe_filename
from regdna.variants.effects import load_scored_predictor
from regdna.variants.fast_ism import FastISM

# --data splits can hold thousands of sequences: without `n`, ISM takes this many (and says so)
DATA_DEFAULT_N = 8


# -- inputs -----------------------------------------------------------------------------------
def _as_onehot(x) -> np.ndarray:
    """Strings or (N, 4, L) one-hot -> float32 (N, 4, L)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        if x.ndim != 3 or x.shape[1] != 4:
            raise RegdnaError(f"one-hot input must be (N, 4, L); got shape {x.shape}.")
        return x.astype(np.float32)
    seqs = list(x)
    if not seqs:
        raise RegdnaError("saturation_mutagenesis got no sequences.")
    lengths = {len(s) for s in seqs}
    if len(lengths) != 1:
        raise RegdnaError(f"sequences have different lengths {sorted(lengths)[:5]}; ISM needs one length: "
                          "give sequences of equal length (or select some with --n).")
    return one_hot(seqs, dtype=np.float32, channels_first=True)


def parse_region(region: str | tuple | None) -> tuple[int | None, int | None] | None:
    """'START:END' (0-based, half-open; either side may be empty) or (start, end) -> a tuple."""
    if not region:
        return None
    if not isinstance(region, str):
        return tuple(region)
    try:
        start, end = region.split(":")
        return (int(start) if start else None, int(end) if end else None)
    except ValueError:
        raise RegdnaError(f"--region '{region}' must look like START:END (0-based, half-open).") from None


def _region_bounds(region, length: int) -> tuple[int, int]:
    """(start, end) of `region` within a sequence of `length` bp (all of it when None)."""
    if region is None:
        return 0, length
    start, end = region
    start = 0 if start is None else int(start)
    end = length if end is None else int(end)
    if not 0 <= start < end <= length:
        raise RegdnaError(f"region {start}:{end} must satisfy 0 <= start < end <= {length}.")
    return start, end


def _edits(x: np.ndarray, start: int, end: int) -> np.ndarray:
    """All non-identity edits in [start, end) as rows (seq, pos, base): (E, 3) int64.

    Positions holding N (all zero) get all 4 bases as edits.
    """
    n = x.shape[0]
    seq, base, pos = np.meshgrid(np.arange(n), np.arange(4), np.arange(start, end), indexing="ij")
    keep = x[seq, base, pos] == 0
    return np.stack([seq[keep], pos[keep], base[keep]], axis=1).astype(np.int64)


# -- scales ----------------------------------------------------------------------------------
SCALES = ("logit", "probability")


def check_scale(scale: str) -> None:
    """Refuse a scale other than logit or probability."""
    if scale not in SCALES:
        raise RegdnaError(f"--scale '{scale}': use logit or probability.")


def score(logits: np.ndarray, task: str, output: int, scale: str = "logit") -> np.ndarray:
    """f of one output on `scale` (module docstring) from logits (N, T) -> (N,) float32."""
    logits = torch.as_tensor(np.asarray(logits, dtype=np.float32))
    if scale == "probability":
        return activate(logits, task)[:, output].numpy()
    if task == "multiclass":
        return torch.log_softmax(logits, dim=-1)[:, output].numpy()
    return logits[:, output].numpy()


def scale_label(task: str, scale: str) -> str:
    """What Δ measures, for axis labels and titles: 'Δ logit', 'Δ probability', ..."""
    if task == "regression":
        return "Δ output"
    if task == "poisson":
        return "Δ log rate" if scale == "logit" else "Δ rate"
    if task == "profile":      # the scalar of regdna.models.scalar
        return "Δ log(1 + summed coverage)" if scale == "logit" else "Δ summed coverage"
    if task == "multiclass" and scale == "logit":
        return "Δ log-probability"
    return f"Δ {scale}"


# -- ISM -------------------------------------------------------------------------------------
def saturation_mutagenesis(predictor, x, output: int = 0, region: tuple[int, int] | None = None,
                           fast: bool = True, batch_size: int = 512, check: bool = True,
                           group_size: int = 8, scale: str = "logit") -> np.ndarray:
    """Delta = f(x') - f(x) for every single-base substitution.

    Parameters
    ----------
    predictor : a `regdna.runs.predictor.Predictor`.
    x : list of N equal-length strings, or one-hot (N, 4, L).
    output : index of the model output f (column of `predictor.predict`).
    region : (start, end) 0-based half-open window of positions to mutate (default all);
        positions outside stay 0.
    fast : use the receptive-field fast path for one-hot models when possible.
    batch_size : mutants per forward pass.
    check : compare the fast path with plain on a few edits before trusting it.
    group_size : sequences whose activations the fast path caches at a time (memory).
    scale : "logit" (default: the raw output; log-softmax of the class for multiclass) or
        "probability" (Δp, as Morenu n.d.); see the module docstring.

    Returns
    -------
    float32 array, shape (N, L, 4)
        Delta on `scale` of `output`; 0 at the reference base and outside `region`.
    """
    return mutagenesis_with_path(predictor, x, output, region, fast, batch_size, check, group_size,
                                 scale)[0]


def mutagenesis_with_path(predictor, x, output: int = 0, region=None, fast: bool = True,
                          batch_size: int = 512, check: bool = True, group_size: int = 8,
                          scale: str = "logit") -> tuple[np.ndarray, str]:
    """`saturation_mutagenesis` plus which path ran: (delta (N, L, 4), 'fast' or 'plain')."""
    check_scale(scale)
    onehot = _as_onehot(x)
    n, _, length = onehot.shape
    if not 0 <= output < predictor.n_outputs:
        raise RegdnaError(f"output {output} out of range: the model has {predictor.n_outputs} outputs "
                          f"({', '.join(predictor.labels)}).")
    start, end = _region_bounds(region, length)
    f_ref = score(predictor.logits(_model_input(predictor, onehot)), predictor.task, output, scale)
    engine = None
    if fast and predictor.input_kind == "onehot":
        engine = FastISM.build(predictor.model, onehot.shape[1:], predictor.device)
        if engine is not None:
            engine.rc_average = predictor.rc_average
    delta = np.zeros((n, length, 4), dtype=np.float32)
    # sequences in groups: the fast path caches every trunk activation of a group
    for g0 in range(0, n, group_size):
        group = onehot[g0:g0 + group_size]
        edits = _edits(group, start, end)
        if engine is not None:
            engine.set_reference(group)
            plain = lambda batch, group=group: _plain_logits(predictor, group, batch)  # noqa: E731
            if g0 == 0 and check and not engine.agrees_with_plain(plain, edits):
                engine = None
        for lo in range(0, len(edits), batch_size):
            batch = edits[lo:lo + batch_size]
            logits = engine.mutant_logits(batch) if engine is not None else \
                _plain_logits(predictor, group, batch)
            rows = g0 + batch[:, 0]
            delta[rows, batch[:, 1], batch[:, 2]] = score(logits, predictor.task, output, scale) - f_ref[rows]
    return delta, "fast" if engine is not None else "plain"


def _model_input(predictor, onehot: np.ndarray):
    if predictor.input_kind == "tokens":
        return one_hot_to_strings(onehot, channels_first=True)
    return onehot


def _mutants(onehot: np.ndarray, batch: np.ndarray) -> np.ndarray:
    mutants = onehot[batch[:, 0]].copy()
    rows = np.arange(len(batch))
    mutants[rows, :, batch[:, 1]] = 0.0
    mutants[rows, batch[:, 2], batch[:, 1]] = 1.0
    return mutants


def _plain_logits(predictor, onehot: np.ndarray, batch: np.ndarray) -> np.ndarray:
    mutants = _mutants(onehot, batch)
    if predictor.input_kind == "tokens":  # re-tokenize the mutated strings
        return predictor.logits(one_hot_to_strings(mutants, channels_first=True))
    return predictor.logits(mutants)


def ism_table(delta: np.ndarray, onehot_or_seqs, seq_ids: Sequence[str]) -> pd.DataFrame:
    """Long table of the non-identity edits of an ISM array.

    Parameters
    ----------
    delta : array, shape (N, L, 4).
    onehot_or_seqs : N strings of L bp, or one-hot (N, 4, L).
    seq_ids : N names.

    Returns
    -------
    DataFrame with columns seq_id, pos (0-based), ref, alt, delta; one row per edit.
    """
    onehot = _as_onehot(onehot_or_seqs)
    seq, pos, base = np.nonzero(onehot.transpose(0, 2, 1) == 0)
    ref_idx = np.where(onehot.max(axis=1) > 0, onehot.argmax(axis=1), 4)  # (N, L)
    letters = np.array(list(ALPHABET + "N"))
    return pd.DataFrame({"seq_id": np.asarray(seq_ids)[seq], "pos": pos,
                         "ref": letters[ref_idx[seq, pos]], "alt": letters[base],
                         "delta": delta[seq, pos, base]})


# -- the verb --------------------------------------------------------------------------------
SELECTIONS = ("first", "top")


def _check_select(select: str) -> None:
    if select not in SELECTIONS:
        raise RegdnaError(f"--select '{select}': use first or top.")


def select_sequences(predictor, fasta=None, data=None, split: str = "test", n: int | None = None,
                     select: str = "first", output: int = 0) -> tuple[list[str], list[str], str]:
    """The sequences to mutate: every record of `fasta`, or `n` of them (of a dataset split:
    `DATA_DEFAULT_N` by default), the first n or the n with the highest predicted probability of
    `output` (ranked by its logit, which orders sequences whose probabilities saturate at 1).

    Returns
    -------
    (ids, sequences, note) : `note` says how many of how many are mutated.
    """
    _check_select(select)
    if n is None and data is not None:
        n = DATA_DEFAULT_N
    table = load_records(fasta, data, split, n if select == "first" else None)
    available = table.attrs.get("n_available", len(table))
    ids, seqs = table["id"].astype(str).tolist(), table["sequence"].tolist()
    if select == "top" and n is not None and len(seqs) > n:
        scores = score(predictor.logits(seqs), predictor.task, output)
        keep = np.argsort(-scores, kind="stable")[:n]
        ids, seqs = [ids[i] for i in keep], [seqs[i] for i in keep]
    source = f"{data} ({split} split)" if data is not None else str(fasta)
    note = f"mutating {len(seqs)} of {available} sequences of {source}"
    if len(seqs) < available:
        which = "first" if select == "first" else "highest-scoring"
        default = " (the default for --data)" if data is not None and n == DATA_DEFAULT_N else ""
        note += f": the {which} {len(seqs)}{default}; --n sets how many"
    return ids, seqs, note


def published_predictor(spec, output, device=None):
    """The Predictor of a published model (`regdna.models.published`) computing only the output
    `output` names (a name, a part of one name, or an index): ISM explains one output."""
    from regdna.runs import load_predictor

    predictor = load_predictor(spec, device=device, targets=[str(output)])
    if predictor.n_outputs != 1:
        shown = ", ".join(predictor.labels[:5]) + (" ..." if predictor.n_outputs > 5 else "")
        raise RegdnaError(f"--target '{output}' names {predictor.n_outputs} outputs of {spec} "
                          f"({shown}); ISM explains one: give its full name or index.")
    return predictor


def run_ism(run, out, *, fasta=None, data=None, split: str = "test", n: int | None = None,
            select: str = "first", region: str | tuple | None = None, output: str | int = 0,
            top_k: int = 25, fast: bool = True, batch_size: int = 512, scale: str = "logit",
            scalar: str | None = None, device=None, overwrite: bool = False, notice=None) -> dict:
    """`regdna ism`: ISM of sequences from `fasta` or a dataset split `data`/`split`, written to
    the directory `out` (atomically).

    `out` holds ism.npz with `delta` (N, L, 4), `onehot` (N, L, 4), `ids`, `output` and `scale`;
    ism.tsv (seq_id, pos, ref, alt, delta, scale); heatmaps/<i>_<id>.png; topk.tsv and topk.png
    (the K edits with the largest |delta|); summary.json (scale, what Δ measures, output, task,
    path, sequences, length, region). It follows the output policy (`regdna.utils.output`): checked
    before the model is loaded, an existing directory that is not an earlier `ism` output is
    refused unless `overwrite`, and an `out` that is or contains an input is always refused.

    Parameters
    ----------
    run : run dir of a trained model, or a published model's spec `<family>:<path>`
        (`regdna.models.published`; sequences of its input length), loaded with only the
        output `output` names (`published_predictor`).
    fasta, data, split, n, select : the sequences (`select_sequences`).
    region : 'START:END' or (start, end), 0-based half-open positions to mutate.
    output : model output to explain, index or label name.
    top_k : rows of topk.tsv and bars of topk.png.
    fast, batch_size, scale : as `saturation_mutagenesis` (scale "logit" or "probability").
    scalar : profile runs: which number of the predicted coverage is explained, "sum"
        (default) or "center:W" (`regdna.models.scalar`); refused for other runs.
    device : torch device (default: CUDA when present).
    notice : called with one line saying how many sequences are mutated, before the work.

    Returns
    -------
    dict
        delta (N, L, 4), table (ism.tsv), top (topk.tsv), path ('fast' or 'plain'), scale,
        label (what Δ measures, e.g. 'Δ logit'), note, n_sequences, length, out.
    """
    _check_select(select)
    check_scale(scale)
    region = parse_region(region)
    inputs = [run_source(run), fasta, data]
    check_out_dir(out, "ism", inputs=inputs, overwrite=overwrite)
    if parse_published(run) is not None:
        if scalar is not None:
            raise RegdnaError(f"--scalar {scalar} is for runs trained on a coverage dataset; "
                              f"{run} is a published model: drop --scalar.")
        predictor, index = published_predictor(run, output, device), 0
    else:
        predictor = load_scored_predictor(run, scalar, device=device)
        index = predictor.output_index(output)
    ids, seqs, note = select_sequences(predictor, fasta, data, split, n, select, index)
    if notice is not None:
        notice(note)
    delta, path = mutagenesis_with_path(predictor, seqs, index, region, fast, batch_size, scale=scale)
    onehot = _as_onehot(seqs)
    table = ism_table(delta, onehot, ids)
    bounds = _region_bounds(region, onehot.shape[-1]) if region is not None else None
    if bounds is not None:
        table = table[(table["pos"] >= bounds[0]) & (table["pos"] < bounds[1])]
    table = table.assign(scale=scale)
    top = table.reindex(table["delta"].abs().sort_values(ascending=False).index).head(top_k)
    label = predictor.labels[index]
    measure = scale_label(predictor.task, scale)
    summary = {"verb": "ism", "scale": scale, "delta": f"{measure} = f(x') - f(x)", "output": label,
               "task": predictor.task, "path": path, "n_sequences": len(seqs), "length": len(seqs[0]),
               "region": list(bounds) if bounds is not None else None, "note": note}
    with output_dir(out, "ism", inputs=inputs, overwrite=overwrite) as tmp:
        tmp = Path(tmp)
        np.savez_compressed(tmp / "ism.npz", delta=delta, onehot=onehot.transpose(0, 2, 1),
                            ids=np.asarray(ids, dtype=str), output=label, scale=scale)
        table.to_csv(tmp / "ism.tsv", sep="\t", index=False, float_format="%.6g")
        top.to_csv(tmp / "topk.tsv", sep="\t", index=False, float_format="%.6g")
        write_json(tmp / "summary.json", summary)
        for i, (name, seq) in enumerate(zip(ids, seqs)):
            ism_heatmap(delta[i], seq, tmp / "heatmaps" / f"{i:03d}_{safe_filename(name, 60)}.png",
                        title=f"ISM of {name} (output {label}, {measure}, {path} path)",
                        region=bounds, label=f"{measure} = f(x') − f(x)")
        topk_bar(top, tmp / "topk.png", k=top_k,
                 title=f"Top {len(top)} mutations by |{measure}| (output {label})")
    return {"delta": delta, "table": table, "top": top, "path": path, "scale": scale,
            "label": measure, "note": note, "n_sequences": len(seqs), "length": len(seqs[0]),
            "out": str(out)}
