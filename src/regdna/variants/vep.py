"""`regdna vep`: score variants with a trained model (or a pretrained language model, zero-shot),
streaming, resumable, shardable.

Per variant and per model output (Morenu n.d.; Manzo et al. n.d.; Toneyan et al. 2022; Tang &
Koo 2024):

- `p_ref`, `p_alt`, `delta`, `log2_ratio`, `logit_diff`: `regdna.variants.effects`.
- `--rc`: logits averaged over both strands before the activation (default: as the run's
  `predict.rc_average`, like `regdna predict`).
- `--shifts K` (variants on a genome): the shift-robust score of Toneyan et al. 2022 ("robust"
  CAGI5 predictions): K windows shifted evenly within +-max_shift bp around the centred one,
  probabilities averaged over the K windows for each allele, then `p_ref_robust`,
  `p_alt_robust`, `log2_ratio_robust`, `delta_robust`. Profile models: the shifts are rounded
  to whole bins, each window's predicted profile is aligned to the genome and summed over the
  bins every window covers (within the scalar's bins of the centred window,
  `regdna.variants.windows.shared_bins`), the sums are averaged over the windows, then the log
  ratio with a pseudocount of 1.
- profile models (coverage runs): one score per track on the scalar chosen by `--scalar`
  (`regdna.models.scalar`: the summed predicted coverage, p_ref / p_alt, and its log2 ratio with
  a pseudocount of 1; `regdna.variants.effects`), and with several tracks the output `mean`,
  each score averaged over the tracks.
- zero-shot (Tang & Koo 2024, pretrained language models, no training): `cosine_distance` = 1 -
  cos(embed(ref window), embed(alt window)); masked models: `mlm_llr` =
  masked_log_likelihood(alt) - masked_log_likelihood(ref) with the token covering the variant's
  first base masked; causal models (GPT-style; HyenaDNA, Nguyen et al. 2023): `clm_llr` =
  log_likelihood(alt window) - log_likelihood(ref window), each the sum over the window's tokens
  of log p(token | tokens before it).

- out-of-distribution (runs with RUN/ood.npz, `regdna.evaluate.ood_fit`): `ood_embedding`,
  `ood_stats`, `ood_score` and `ood_flag` of the reference window, as `regdna predict` writes them (one extra
  `Predictor.embed` per chunk; one-hot and token models alike).

- ensembles (`regdna train --ensemble K`) and `--mc-dropout T`: every score is that of the
  members' mean logits, `<score>_std` its standard deviation over the members (passes), and
  `log2_ratio_z` = log2_ratio / log2_ratio_std: rank by `|log2_ratio|` for the largest effects,
  by `|log2_ratio_z|` (or a small `log2_ratio_std`) for the ones the members agree on.

With more than one output, score columns are suffixed `.<label>` (e.g. `log2_ratio.K562`).
Rows that cannot be scored keep NaN scores and a non-empty `reason`. Windows:
`regdna.variants.windows`.

Scale: the variant file is read in chunks of `chunk_size`; each chunk is scored in batches and
written as one Parquet part (`regdna.variants.parts`: resume fingerprint, shards, merge).
`shard=(i, n)` scores chunks k with k % n == i; under torchrun / SLURM the rank and world size
are read from the environment.
"""
from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from regdna.errors import RegdnaError
from regdna.evaluate.ood_fit import load_ood
from regdna.io.genome import Genome
from regdna.io.vcf import allele_problem, iter_variants
from regdna.models.published import parse_published, run_source
from regdna.utils.output import check_out_file
from regdna.utils.progress import progress as progress_bar
from regdna.variants.effects import (ROBUST_NAMES, SCORE_NAMES, allele_scores, averaged_scores,
                                     load_scored_predictor, probabilities, with_track_mean)
from regdna.variants.parts import (PartStore, identity_of_published, identity_of_run,
                                   job_fingerprint, language_model_identity, merge_parts,
                                   weights_identity)
from regdna.data.windows import shift_offsets
from regdna.variants.windows import AlleleWindows, make_windows, sequence_windows, shared_bins

ZERO_SHOT_LENGTH = 512  # window length of --zero-shot without a run or --length


# -- scoring one chunk ------------------------------------------------------------------------
@dataclass
class ScoreSettings:
    """Everything that decides the numbers (also the resume fingerprint)."""

    length: int | None
    rc: bool = False
    shifts: int = 0
    max_shift: int | None = None
    strict: bool = False
    zero_shot: bool = False
    extra: dict = field(default_factory=dict)


def _windows(chunk: pd.DataFrame, genome, settings: ScoreSettings, shift: int,
             where: str) -> AlleleWindows:
    if "ref_seq" in chunk.columns and "chrom" not in chunk.columns:
        return sequence_windows(chunk, settings.length)
    if genome is None:
        raise RegdnaError(f"{where}: variants given by position need a genome; pass --genome g.fa "
                          "(or a table with ref_seq / alt_seq columns).")
    return make_windows(chunk, genome, settings.length, shift=shift, strict=settings.strict,
                        where=where)


def score_chunk(chunk: pd.DataFrame, predictor=None, genome=None, settings: ScoreSettings | None = None,
                language_model=None, where: str = "variants", ood=None) -> pd.DataFrame:
    """Score one chunk of variants (columns as from `regdna.io.vcf.iter_variants`).

    Parameters
    ----------
    chunk : DataFrame, one row per variant (chrom, pos (1-based), ref, alt, or ref_seq /
        alt_seq; id, line, reason).
    predictor : `regdna.runs.predictor.Predictor` or None (zero-shot only).
    genome : `regdna.io.genome.Genome` or None (sequence tables).
    settings : `ScoreSettings` (default: the predictor's length, nothing else).
    language_model : `regdna.models.hf.LanguageModel` or None.
    where : the input's name for error messages.
    ood : a `regdna.evaluate.ood_fit.OODScorer` (the run's ood.npz) or None: adds
        ood_embedding, ood_stats, ood_score, ood_flag of the reference windows.

    Returns
    -------
    DataFrame
        The chunk's columns plus `reason` and the score columns (NaN where skipped).
    """
    settings = settings or ScoreSettings(length=predictor.length if predictor else None)
    windows = _windows(chunk, genome, settings, 0, where)
    usable = np.array([r == "" for r in windows.reason], dtype=bool)
    out = chunk.copy()
    out["reason"] = windows.reason
    columns: dict[str, np.ndarray] = {}
    if predictor is not None and not settings.zero_shot:
        columns.update(_model_scores(predictor, windows, settings))
        if settings.shifts and settings.shifts > 1 and "chrom" in chunk.columns:  # needs a genome
            columns.update(_robust_scores(chunk, predictor, genome, settings, usable, where))
        if ood is not None:
            columns.update(ood.columns(predictor, windows.ref))
    if language_model is not None:
        columns.update(_zero_shot_scores(language_model, windows))
    for name, values in columns.items():
        full = np.full(len(chunk), np.nan)
        full[usable] = values
        out[name] = full
    return out


@contextlib.contextmanager
def _strands(predictor, rc: bool):
    """The predictor averaging over both strands (or not) for the duration of a block."""
    saved = predictor.rc_average
    predictor.rc_average = rc
    try:
        yield predictor
    finally:
        predictor.rc_average = saved


def _logits(predictor, seqs: list[str], rc: bool) -> np.ndarray:
    with _strands(predictor, rc):
        return predictor.logits(seqs) if seqs else np.zeros((0, predictor.n_outputs), np.float32)


def _columns(labels: list[str], scores: dict, names, suffix: str = "") -> dict:
    """Score columns `<name><suffix>` (one output) or `<name><suffix>.<label>` (several)."""
    out = {}
    for t, lab in enumerate(labels):
        for name in names:
            out[f"{name}{suffix}" if len(labels) == 1 else f"{name}{suffix}.{lab}"] = scores[name][:, t]
    return out


def _model_scores(predictor, windows: AlleleWindows, settings: ScoreSettings) -> dict:
    n = len(windows.ref)
    if predictor.n_samples == 1:
        z = _logits(predictor, windows.ref + windows.alt, settings.rc)
        labels, scores = with_track_mean(predictor.labels, allele_scores(z[:n], z[n:], predictor.task),
                                         predictor.task)
        return _columns(labels, scores, SCORE_NAMES)
    with _strands(predictor, settings.rc):   # an ensemble or MC dropout: the spread too
        z, samples = predictor.logits_with_samples(windows.ref + windows.alt)
    labels, scores = with_track_mean(predictor.labels, allele_scores(z[:n], z[n:], predictor.task),
                                     predictor.task)
    per_sample = [with_track_mean(predictor.labels, allele_scores(s[:n], s[n:], predictor.task),
                                  predictor.task)[1] for s in samples]
    spread = {name: np.std([d[name] for d in per_sample], axis=0) for name in SCORE_NAMES}
    with np.errstate(divide="ignore", invalid="ignore"):
        spread["log2_ratio_z"] = scores["log2_ratio"] / spread["log2_ratio"]
    return {**_columns(labels, scores, SCORE_NAMES), **_columns(labels, spread, SCORE_NAMES, "_std"),
            **_columns(labels, spread, ("log2_ratio_z",))}


def _robust_scores(chunk, predictor, genome, settings: ScoreSettings, usable, where) -> dict:
    length = settings.length
    max_shift = settings.max_shift if settings.max_shift is not None else max(1, length // 10)
    profile = predictor.profile_model is not None
    step = predictor.bin_size if profile else 1
    offsets = shift_offsets(settings.shifts, max_shift, step)
    regions = shared_bins(offsets, length, step, predictor.model.first, predictor.model.last) \
        if profile else None
    p_ref = p_alt = 0.0
    for k, shift in enumerate(offsets):
        win = _windows(chunk, genome, settings, shift, where)
        n = len(win.ref)
        if profile:   # summed coverage (coverage x bp) over the bins every window shares
            a, b = regions[k]
            with _strands(predictor, settings.rc):
                totals = predictor.profile(win.ref + win.alt)[:, a:b].sum(axis=1) * step
            p_ref, p_alt = p_ref + totals[:n], p_alt + totals[n:]
        else:
            z = _logits(predictor, win.ref + win.alt, settings.rc)
            p_ref = p_ref + probabilities(z[:n], predictor.task)
            p_alt = p_alt + probabilities(z[n:], predictor.task)
    scores = averaged_scores(p_ref / len(offsets), p_alt / len(offsets), predictor.task)
    labels, scores = with_track_mean(predictor.labels, scores, predictor.task)
    return _columns(labels, scores, ROBUST_NAMES, "_robust")


def _zero_shot_scores(lm, windows: AlleleWindows) -> dict:
    """cosine_distance, and clm_llr (causal models) or mlm_llr (masked models)."""
    llr_name = "clm_llr" if lm.causal else "mlm_llr"
    if not windows.ref:
        return {"cosine_distance": np.zeros(0), llr_name: np.zeros(0)}
    e_ref = np.asarray(lm.embed(windows.ref), dtype=np.float64)
    e_alt = np.asarray(lm.embed(windows.alt), dtype=np.float64)
    norms = np.linalg.norm(e_ref, axis=1) * np.linalg.norm(e_alt, axis=1)
    cosine = np.sum(e_ref * e_alt, axis=1) / np.maximum(norms, 1e-12)
    if lm.causal:
        ll_alt, ll_ref = lm.log_likelihood(windows.alt), lm.log_likelihood(windows.ref)
    else:
        ll_alt = lm.masked_log_likelihood(windows.alt, windows.center)
        ll_ref = lm.masked_log_likelihood(windows.ref, windows.center)
    llr = np.asarray(ll_alt, dtype=np.float64) - np.asarray(ll_ref, dtype=np.float64)
    return {"cosine_distance": 1.0 - cosine, llr_name: llr}


# -- shards ------------------------------------------------------------------------------------
def shard_from_env() -> tuple[int, int] | None:
    """(rank, world size) under torchrun / Lightning / SLURM launchers, else None."""
    for rank_key, size_key in (("RANK", "WORLD_SIZE"), ("SLURM_PROCID", "SLURM_NTASKS")):
        if rank_key in os.environ and size_key in os.environ:
            size = int(os.environ[size_key])
            if size > 1:
                return int(os.environ[rank_key]), size
    return None


def parse_shard(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """'i/n' (or (i, n)) -> (i, n) with 0 <= i < n; None stays None."""
    if not text:
        return None
    if isinstance(text, tuple):
        i, n = text
    else:
        try:
            i, n = (int(v) for v in text.split("/"))
        except ValueError:
            raise RegdnaError(f"--shard '{text}' must look like i/n, e.g. 0/4.") from None
    if not 0 <= i < n:
        raise RegdnaError(f"--shard {text if isinstance(text, str) else f'{i}/{n}'}: need 0 <= i < n.")
    return i, n


def _torchrun_device() -> str | None:
    """cuda:<LOCAL_RANK> under torchrun on a GPU machine (one GPU per process), else None."""
    if "LOCAL_RANK" not in os.environ:
        return None
    import torch

    return f"cuda:{os.environ['LOCAL_RANK']}" if torch.cuda.is_available() else None


# -- the verb --------------------------------------------------------------------------------------
def local_model_dir(spec: str | None) -> Path | None:
    """The directory of an hf:<dir> model (an input --out must not replace), else None."""
    if not spec:
        return None
    from regdna.models.hf import model_source

    local = Path(model_source(spec)).expanduser()
    return local if local.is_dir() else None


def model_identity(run: str | Path | None, zero_shot_model: str | None, labels=None) -> dict:
    """The checkpoint and config of a run dir (or the weights file, spec and scored `labels` of a
    published model, `<family>:<path>`) and a zero-shot model spec (with its local files), for
    the resume fingerprint."""
    identity = {}
    if run is not None and parse_published(run) is not None:
        identity["published"] = identity_of_published(run, labels or [])
    elif run is not None:
        identity["run"] = identity_of_run(run, "best")   # load_predictor checked it exists
    if zero_shot_model:
        identity["language_model"] = language_model_identity(zero_shot_model,
                                                              local_model_dir(zero_shot_model))
    return identity


def run_vep(variants: str | Path, out: str | Path, *, run: str | Path | None = None,
            genome: str | Path | None = None, zero_shot: bool = False, model: str | None = None,
            length: int | None = None, rc: bool | None = None, shifts: int = 0,
            max_shift: int | None = None, strict: bool = False, chunk_size: int = 4096,
            batch_size: int | None = None, shard: str | tuple[int, int] | None = None,
            device: str | None = None, trust_remote_code: bool = False, progress: bool = True,
            scalar: str | None = None, overwrite: bool = False, notice=None,
            mc_dropout: int = 0, targets=None) -> dict:
    """`regdna vep`: load the model(s), then `score_variants`.

    Parameters
    ----------
    variants : VCF (.vcf/.vcf.gz) or table (.tsv/.csv/.parquet).
    out : `.parquet` or `.tsv` output; checked against the output policy before any model is
        loaded.
    run : run dir of a trained model (`regdna train`), a published model's spec
        `<family>:<path>` (`regdna.models.published`; windows of its own input length), or None
        with `zero_shot`.
    genome : genome FASTA (None for ref_seq / alt_seq tables).
    zero_shot, model : zero-shot scores with the language model `model` ("hf:<hub id or dir>").
    length : window length in bp (default: the run's input length; 512 for zero-shot alone).
    batch_size : windows per forward pass (default 256; a published model's own default,
        chosen from its input length and the free memory, `regdna.models.published`).
    shard : "i/n" or (i, n) (default: from a torchrun / SLURM environment).
    device : torch device (default: cuda:<LOCAL_RANK> under torchrun, else CUDA if present).
    scalar : profile runs: which number of the predicted coverage is scored, "sum" (default)
        or "center:W" (`regdna.models.scalar`); refused for other runs.
    mc_dropout : T > 0: Monte Carlo dropout, T passes (the scores of their mean, `*_std`).
    targets : published models: the outputs scored (names, parts of names or indices, a
        comma-separated string or a list; None: all); refused for a run dir.
    Other parameters: as `score_variants`.

    Returns
    -------
    dict : the summary of `score_variants`.
    """
    if run is None and not zero_shot:
        raise RegdnaError("give --run RUN (a trained model) or --zero-shot --model hf:<id>.")
    if zero_shot and not model:
        raise RegdnaError("--zero-shot needs --model hf:<hub id or local dir>.")
    if scalar is not None and run is None:
        raise RegdnaError(f"--scalar {scalar} chooses what a profile run's scores sum; give "
                          "--run RUN (a run trained on a coverage dataset) or drop --scalar.")
    if targets is not None and (run is None or parse_published(run) is None):
        raise RegdnaError("--target picks outputs of a published model (--run <family>:<path>); "
                          "a run dir's outputs are all scored: drop --target.")
    shard_range = parse_shard(shard)
    inputs = [variants, genome, run_source(run), local_model_dir(model)]
    check_out_file(out, "vep", inputs=inputs, overwrite=overwrite)
    device = device or _torchrun_device()
    predictor = language_model = None
    if batch_size is None and (run is None or parse_published(run) is None):
        batch_size = 256
    if run is not None:
        predictor = load_scored_predictor(run, scalar, device=device, batch_size=batch_size,
                                          **({"mc_dropout": mc_dropout} if mc_dropout else {}),
                                          **({"targets": targets} if targets is not None else {}))
    if zero_shot:
        from regdna.models.hf import load_language_model

        language_model = load_language_model(model, trust_remote_code=trust_remote_code, device=device)
        length = length or (predictor.length if predictor is not None else None) or ZERO_SHOT_LENGTH
    return score_variants(variants, out, predictor, genome, length=length, rc=rc, shifts=shifts,
                          max_shift=max_shift, strict=strict, language_model=language_model,
                          chunk_size=chunk_size, shard=shard_range, progress=progress,
                          model_id={**model_identity(run, model if zero_shot else None,
                                                     predictor.labels if predictor else None),
                                    **({"mc_dropout": mc_dropout} if mc_dropout else {})},
                          inputs=inputs, overwrite=overwrite, notice=notice)


def score_variants(variants: str | Path | pd.DataFrame, out: str | Path, predictor=None,
                   genome=None, *, length: int | None = None, rc: bool | None = None, shifts: int = 0,
                   max_shift: int | None = None, strict: bool = False, language_model=None,
                   chunk_size: int = 4096, shard: tuple[int, int] | None = None,
                   progress: bool = True, model_id=None, inputs=(), overwrite: bool = False,
                   notice=None) -> dict:
    """Score every variant of a VCF / table with models in memory and write `out`.

    Parameters
    ----------
    variants : VCF (.vcf/.vcf.gz), table (.tsv/.csv/.parquet) or a DataFrame.
    out : output file, `.parquet` or `.tsv` (refused when it exists and is not an unchanged
        earlier `vep` output, unless `overwrite`; see `regdna.utils.output`).
    predictor : a `regdna.runs.predictor.Predictor` (None for zero-shot only).
    genome : a `regdna.io.genome.Genome` or a FASTA path (None for ref_seq/alt_seq tables).
    length : window length in bp (default: the predictor's input length).
    rc : average logits over both strands (None: as the predictor does, i.e. the run's
        `predict.rc_average`, so `vep` and `predict` agree on the same sequence).
    shifts, max_shift : K > 1 adds the shift-robust scores over K windows within +-max_shift bp.
    strict : a RegdnaError on the first unusable record instead of skipping it.
    language_model : a `regdna.models.hf.LanguageModel` for zero-shot scores.
    chunk_size : variants per chunk (= per part file; memory is flat in the file size).
    shard : (i, n) to score only chunks k with k % n == i (default: from torchrun env).
    progress : show a progress bar (on a terminal).
    model_id : JSON-able identity of the model(s) for the resume fingerprint (`model_identity`);
        default: a digest of the weights in memory.
    inputs : further inputs `out` must not be or contain (the run dir, a model dir).
    overwrite : replace a foreign `out`; with `shard`, also discard parts of another job.
    notice : called with one line when parts of an interrupted run are discarded (default:
        printed on stderr).

    Returns
    -------
    dict
        out (None if another shard still runs), n_variants, n_scored, n_skipped,
        skipped_by_reason {reason: count}, skipped_examples (first 20 skipped records).
    """
    out = Path(out)
    if out.suffix not in (".parquet", ".tsv"):
        raise RegdnaError(f"--out {out}: use a .parquet or .tsv file name.")
    if predictor is None and language_model is None:
        raise RegdnaError("score_variants needs a predictor (--run) or a language model (--zero-shot).")
    if chunk_size < 1:
        raise RegdnaError(f"--chunk-size {chunk_size}: give a positive number of variants per chunk.")
    sources = [] if isinstance(variants, pd.DataFrame) else [variants]
    sources.append(getattr(genome, "path", genome))
    check_out_file(out, "vep", inputs=[*sources, *inputs], overwrite=overwrite)
    if isinstance(genome, (str, Path)):
        genome = Genome(genome)
    if rc is None:
        rc = bool(predictor.rc_average) if predictor is not None else False
    length = length or (predictor.length if predictor is not None else None)
    if length is None and genome is not None:
        raise RegdnaError("the window length is unknown: pass --length (the model has no fixed input length).")
    settings = ScoreSettings(length=length, rc=rc, shifts=shifts, max_shift=max_shift, strict=strict,
                             zero_shot=predictor is None)
    if predictor is not None and predictor.profile_model is not None:
        settings.extra["scalar"] = predictor.model.scalar   # profile runs: the scored bins
    ood = load_ood(predictor.run_dir) if predictor is not None else None
    if ood is not None:
        settings.extra["ood"] = True   # parts written without the ood columns are not reused
    shard = shard or shard_from_env()
    where = "variants" if isinstance(variants, pd.DataFrame) else str(variants)
    if isinstance(variants, pd.DataFrame):
        variants = _standard_frame(variants)
    if model_id is None:
        model_id = weights_identity(predictor, language_model)
    job = job_fingerprint(variants, genome, model_id, chunk_size, settings)
    parts = PartStore(out, job, sharded=shard is not None, overwrite=overwrite,
                      notice=notice or _stderr)

    if isinstance(variants, pd.DataFrame):
        chunks = (variants.iloc[i:i + chunk_size] for i in range(0, len(variants), chunk_size))
    else:
        chunks = iter_variants(variants, chunk_size)
    bar = progress_bar(desc="vep", unit=" variants", enabled=progress)
    n_chunks = 0
    for k, chunk in enumerate(chunks):
        n_chunks = k + 1
        if shard is not None and k % shard[1] != shard[0]:
            continue
        if not parts.done(k):  # resume: parts of the same job are kept
            parts.write(k, score_chunk(chunk.reset_index(drop=True), predictor, genome, settings,
                                       language_model, where, ood))
        bar.update(len(chunk))
    bar.close()
    if not all(parts.done(k) for k in range(n_chunks)):
        return {"out": None, "parts": str(parts.dir), "message": "other shards still running"}
    return merge_parts(out, n_chunks, overwrite=overwrite)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def _standard_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """An in-memory variant table: add `line` and `reason` like the file readers do."""
    frame = frame.reset_index(drop=True).copy()
    if "line" not in frame:
        frame["line"] = np.arange(len(frame)) + 1
    if "ref_seq" in frame and "chrom" not in frame:
        frame["reason"] = frame.get("reason", "")
        if "id" not in frame:
            frame["id"] = [f"row{i}" for i in range(len(frame))]
        return frame.fillna({"reason": ""})
    missing = [c for c in ("chrom", "pos", "ref", "alt") if c not in frame]
    if missing:
        raise RegdnaError(f"variant table lacks columns {missing}; give chrom, pos (1-based), ref, alt "
                          "or ref_seq and alt_seq.")
    if "id" not in frame:
        frame["id"] = [f"{c}:{p}:{r}>{a}" for c, p, r, a in
                       zip(frame["chrom"], frame["pos"], frame["ref"], frame["alt"])]
    frame["reason"] = [allele_problem(str(r), str(a)) for r, a in zip(frame["ref"], frame["alt"])]
    return frame
