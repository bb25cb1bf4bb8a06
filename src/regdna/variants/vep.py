"""Score variants with a trained model (or a pretrained language model, zero-shot), streaming.

Per variant and per model output (Morenu n.d.; Manzo et al. n.d.;
Toneyan et al. 2022; Tang & Koo 2024):

- `p_ref`, `p_alt`: p = sigmoid(margin logit). The margin logit of a binary / multilabel output
  is its logit; of a multiclass output c it is z_c - logsumexp(z_other), so sigmoid(margin) is
  the softmax probability of c (Manzo et al. n.d.: "margin logits ... transformed into probabilities
  using the sigmoid"). Regression outputs use the predicted value; Poisson outputs exp(logit).
- `delta` = p_alt - p_ref (Morenu n.d.), `log2_ratio` = log2(p_alt / p_ref) (Manzo et al. n.d.;
  computed as a difference of log-sigmoids so it stays finite for saturated outputs), `logit_diff` =
  margin_alt - margin_ref.
- `--rc`: logits averaged over both strands before the sigmoid (default: as the run's
  `predict.rc_average`, like `regdna predict`).
- `--shifts K` (variants on a genome): the shift-robust score of Toneyan et al. 2022 ("robust" CAGI5
  predictions): K windows shifted evenly within +-max_shift bp around the centred one,
  probabilities averaged over the K windows for each allele, then `p_ref_robust`,
  `p_alt_robust`, `log2_ratio_robust`, `delta_robust`.
- zero-shot (Tang & Koo 2024, pretrained language models, no training): `cosine_distance` = 1 -
  cos(embed(ref window), embed(alt window)) and `mlm_llr` = masked_log_likelihood(alt) -
  masked_log_likelihood(ref) with the token covering the variant's first base masked.

With more than one output, score columns are suffixed `.<label>` (e.g. `log2_ratio.K562`).
Rows that cannot be scored keep NaN scores and a non-empty `reason`.

Scale: the variant file is read in chunks of `chunk_size`; each chunk is scored in batches and
written as one Parquet part under `.<out>.parts/` (atomic rename). A killed job re-run resumes:
the parts dir holds the job's resume fingerprint (`regdna.utils.fingerprint`: the content of the
variants file and of the genome, the model weights, the chunk size and every setting above), and
parts are reused only when the re-run has the same fingerprint. Otherwise an unsharded job says
what changed and starts over; a sharded one is refused. `shard=(i, n)` scores chunks k with
k % n == i; under torchrun / SLURM the rank and world size are read from the environment. The
process that finds every part present merges them (a lock directory makes that one process) into
`out` (Parquet via ParquetWriter, or TSV) with an atomic rename, registers it as a `vep` output
(`regdna.utils.output`) and removes the parts.
"""
from __future__ import annotations

import hashlib
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from regdna.errors import RegdnaError
from regdna.variants.windows import AlleleWindows, make_windows, sequence_windows

SCORE_NAMES = ("p_ref", "p_alt", "delta", "log2_ratio", "logit_diff")
ROBUST_NAMES = ("p_ref_robust", "p_alt_robust", "delta_robust", "log2_ratio_robust")
ZERO_SHOT_NAMES = ("cosine_distance", "mlm_llr")
_LN2 = math.log(2.0)


# -- per-allele numbers ----------------------------------------------------------------------
def margin_logits(logits: np.ndarray, task: str) -> np.ndarray:
    """(N, T) logits -> (N, T) margin logits (see module docstring)."""
    z = np.asarray(logits, dtype=np.float64)
    if task != "multiclass":
        return z
    out = np.empty_like(z)
    for c in range(z.shape[1]):
        others = np.delete(z, c, axis=1)
        out[:, c] = z[:, c] - np.logaddexp.reduce(others, axis=1)
    return out


def _log_sigmoid(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z)


def allele_scores(z_ref: np.ndarray, z_alt: np.ndarray, task: str) -> dict[str, np.ndarray]:
    """p_ref, p_alt, delta, log2_ratio, logit_diff, each (N, T), from logits (N, T)."""
    if task in ("binary", "multilabel", "multiclass"):
        m_ref, m_alt = margin_logits(z_ref, task), margin_logits(z_alt, task)
        p_ref, p_alt = 1 / (1 + np.exp(-m_ref)), 1 / (1 + np.exp(-m_alt))
        log2_ratio = (_log_sigmoid(m_alt) - _log_sigmoid(m_ref)) / _LN2
    elif task == "poisson":
        m_ref, m_alt = np.asarray(z_ref, np.float64), np.asarray(z_alt, np.float64)
        p_ref, p_alt = np.exp(m_ref), np.exp(m_alt)
        log2_ratio = (m_alt - m_ref) / _LN2
    else:  # regression: values; a ratio only means something for positive values
        m_ref, m_alt = np.asarray(z_ref, np.float64), np.asarray(z_alt, np.float64)
        p_ref, p_alt = m_ref, m_alt
        with np.errstate(divide="ignore", invalid="ignore"):
            log2_ratio = np.where((p_ref > 0) & (p_alt > 0), np.log2(p_alt / p_ref), np.nan)
    return {"p_ref": p_ref, "p_alt": p_alt, "delta": p_alt - p_ref, "log2_ratio": log2_ratio,
            "logit_diff": m_alt - m_ref}


def probabilities(logits: np.ndarray, task: str) -> np.ndarray:
    """p per output as defined above (sigmoid of the margin, value, or rate)."""
    return allele_scores(logits, logits, task)["p_ref"]


def shift_offsets(k: int, max_shift: int) -> list[int]:
    """K window offsets evenly spaced in [-max_shift, max_shift] (K = 1: [0])."""
    if k <= 1:
        return [0]
    return sorted({int(round(v)) for v in np.linspace(-max_shift, max_shift, k)})


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
                language_model=None, where: str = "variants") -> pd.DataFrame:
    """Score one chunk of variants (columns as from `regdna.io.vcf.iter_variants`).

    Returns the chunk's columns plus `reason` and the score columns (NaN where skipped).
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
    if language_model is not None:
        columns.update(_zero_shot_scores(language_model, windows))
    for name, values in columns.items():
        full = np.full(len(chunk), np.nan)
        full[usable] = values
        out[name] = full
    return out


def _logits(predictor, seqs: list[str], rc: bool) -> np.ndarray:
    saved = predictor.rc_average
    predictor.rc_average = rc
    try:
        return predictor.logits(seqs) if seqs else np.zeros((0, predictor.n_outputs), np.float32)
    finally:
        predictor.rc_average = saved


def _model_scores(predictor, windows: AlleleWindows, settings: ScoreSettings) -> dict:
    n = len(windows.ref)
    z = _logits(predictor, windows.ref + windows.alt, settings.rc)
    scores = allele_scores(z[:n], z[n:], predictor.task)
    labels = predictor.labels
    out = {}
    for t, lab in enumerate(labels):
        for name in SCORE_NAMES:
            out[name if len(labels) == 1 else f"{name}.{lab}"] = scores[name][:, t]
    return out


def _robust_scores(chunk, predictor, genome, settings: ScoreSettings, usable, where) -> dict:
    length = settings.length
    max_shift = settings.max_shift if settings.max_shift is not None else max(1, length // 10)
    p_ref = p_alt = 0.0
    offsets = shift_offsets(settings.shifts, max_shift)
    for shift in offsets:
        win = _windows(chunk, genome, settings, shift, where)
        n = len(win.ref)
        z = _logits(predictor, win.ref + win.alt, settings.rc)
        p_ref = p_ref + probabilities(z[:n], predictor.task)
        p_alt = p_alt + probabilities(z[n:], predictor.task)
    p_ref, p_alt = p_ref / len(offsets), p_alt / len(offsets)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log2(p_alt / p_ref)
    out = {}
    labels = predictor.labels
    for t, lab in enumerate(labels):
        sfx = "" if len(labels) == 1 else f".{lab}"
        out[f"p_ref_robust{sfx}"] = p_ref[:, t]
        out[f"p_alt_robust{sfx}"] = p_alt[:, t]
        out[f"delta_robust{sfx}"] = p_alt[:, t] - p_ref[:, t]
        out[f"log2_ratio_robust{sfx}"] = ratio[:, t]
    return out


def _zero_shot_scores(lm, windows: AlleleWindows) -> dict:
    if not windows.ref:
        return {"cosine_distance": np.zeros(0), "mlm_llr": np.zeros(0)}
    e_ref = np.asarray(lm.embed(windows.ref), dtype=np.float64)
    e_alt = np.asarray(lm.embed(windows.alt), dtype=np.float64)
    norms = np.linalg.norm(e_ref, axis=1) * np.linalg.norm(e_alt, axis=1)
    cosine = np.sum(e_ref * e_alt, axis=1) / np.maximum(norms, 1e-12)
    ll_alt = np.asarray(lm.masked_log_likelihood(windows.alt, windows.center), dtype=np.float64)
    ll_ref = np.asarray(lm.masked_log_likelihood(windows.ref, windows.center), dtype=np.float64)
    return {"cosine_distance": 1.0 - cosine, "mlm_llr": ll_alt - ll_ref}


# -- streaming driver --------------------------------------------------------------------------
def shard_from_env() -> tuple[int, int] | None:
    """(rank, world size) under torchrun / Lightning / SLURM launchers, else None."""
    for rank_key, size_key in (("RANK", "WORLD_SIZE"), ("SLURM_PROCID", "SLURM_NTASKS")):
        if rank_key in os.environ and size_key in os.environ:
            size = int(os.environ[size_key])
            if size > 1:
                return int(os.environ[rank_key]), size
    return None


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """'i/n' -> (i, n) with 0 <= i < n."""
    if not text:
        return None
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise RegdnaError(f"--shard '{text}' must look like i/n, e.g. 0/4.") from None
    if not 0 <= i < n:
        raise RegdnaError(f"--shard {text}: need 0 <= i < n.")
    return i, n


def parts_dir(out: Path) -> Path:
    return out.parent / f".{out.name}.parts"


def score_variants(variants: str | Path | pd.DataFrame, out: str | Path, predictor=None,
                   genome=None, *, length: int | None = None, rc: bool | None = None, shifts: int = 0,
                   max_shift: int | None = None, strict: bool = False, language_model=None,
                   chunk_size: int = 4096, shard: tuple[int, int] | None = None,
                   progress: bool = True, model_id=None, inputs=(), overwrite: bool = False,
                   notice=None) -> dict:
    """Score every variant of a VCF / table and write `out` (.parquet or .tsv).

    Args:
        variants: VCF (.vcf/.vcf.gz), table (.tsv/.csv/.parquet) or a DataFrame.
        out: output file; `.parquet` or `.tsv` (refused when it exists and is not an unchanged
            earlier `vep` output, unless `overwrite`; see `regdna.utils.output`).
        predictor: a `regdna.runs.predictor.Predictor` (None for zero-shot only).
        genome: a `regdna.io.genome.Genome` or a FASTA path (None for ref_seq/alt_seq tables).
        length: window length (default: the predictor's input length).
        rc: average logits over both strands (None: as the predictor does, i.e. the run's
            `predict.rc_average`, so `vep` and `predict` agree on the same sequence).
        shifts: K > 1 adds the shift-robust scores over K windows within +-max_shift bp.
        strict: a RegdnaError on the first unusable record instead of skipping it.
        language_model: a `regdna.models.hf.LanguageModel` for zero-shot scores.
        chunk_size: variants per chunk (= per part file; memory is flat in the file size).
        shard: (i, n) to score only chunks k with k % n == i (default: from torchrun env).
        model_id: JSON-able identity of the model(s) for the resume fingerprint (`run_identity`,
            `language_model_identity`); default: a digest of the weights in memory.
        inputs: further inputs `out` must not be or contain (the run dir, a model dir).
        overwrite: replace a foreign `out`; with `shard`, also discard parts of another job.
        notice: called with one line when parts of an interrupted run are discarded
            (default: printed on stderr).

    Returns:
        summary dict: out (None if another shard still runs), n_variants, n_scored, n_skipped,
        skipped_by_reason {reason: count}, skipped_examples (first 20 skipped records).
    """
    from regdna.io.genome import Genome
    from regdna.io.vcf import iter_variants
    from regdna.utils.output import check_out_file

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
    shard = shard or shard_from_env()
    where = "variants" if isinstance(variants, pd.DataFrame) else str(variants)
    if isinstance(variants, pd.DataFrame):
        variants = _standard_frame(variants)
    if model_id is None:
        model_id = _weights_identity(predictor, language_model)
    job = job_fingerprint(variants, genome, model_id, chunk_size, settings)
    parts = _Parts(out, job, sharded=shard is not None, overwrite=overwrite, notice=notice or _stderr)

    if isinstance(variants, pd.DataFrame):
        chunks = (variants.iloc[i:i + chunk_size] for i in range(0, len(variants), chunk_size))
    else:
        chunks = iter_variants(variants, chunk_size)
    bar = _progress(progress)
    n_chunks = 0
    for k, chunk in enumerate(chunks):
        n_chunks = k + 1
        if shard is not None and k % shard[1] != shard[0]:
            continue
        if not parts.done(k):  # resume: parts of the same job are kept
            parts.write(k, score_chunk(chunk.reset_index(drop=True), predictor, genome, settings,
                                       language_model, where))
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    if not all(parts.done(k) for k in range(n_chunks)):
        return {"out": None, "parts": str(parts.dir), "message": "other shards still running"}
    return merge_parts(out, n_chunks, overwrite=overwrite)


def _stderr(line: str) -> None:
    import sys

    print(line, file=sys.stderr)


def _standard_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """An in-memory variant table: add `line` and `reason` like the file readers do."""
    from regdna.io.vcf import allele_problem

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


def _progress(enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    # disable=None: no bar when stderr is not a terminal (a CI log gets the summary line only)
    return tqdm(unit=" variants", desc="vep", smoothing=0.1, disable=None)


# -- resume fingerprint --------------------------------------------------------------------------
def run_identity(run_dir: str | Path, checkpoint_file: str | Path) -> dict:
    """The model of a run dir as the fingerprint sees it: the checkpoint loaded and config.yaml."""
    from regdna.utils.fingerprint import file_identity

    config = Path(run_dir) / "config.yaml"
    return {"checkpoint": file_identity(checkpoint_file),
            "config": file_identity(config) if config.is_file() else None}


def language_model_identity(spec: str) -> dict:
    """A zero-shot model spec, with the files of a local model dir (a hub id is its own name)."""
    from regdna.models.hf import model_source
    from regdna.utils.fingerprint import file_identity

    local = Path(model_source(spec)).expanduser()
    return {"spec": spec, "files": file_identity(local) if local.is_dir() else None}


def _weights_digest(module) -> str:
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        # raw bytes of any dtype (bf16 has no numpy form)
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _weights_identity(predictor, language_model) -> dict:
    """Identity of models given in memory (no run dir to point at): a digest of their weights."""
    out = {}
    if predictor is not None:
        out["predictor"] = {"task": predictor.task, "labels": list(predictor.labels),
                            "weights": _weights_digest(predictor.model)}
    if language_model is not None:
        module = getattr(language_model, "mlm", None)
        out["language_model"] = _weights_digest(module) if module is not None else \
            type(language_model).__name__
    return out


def _variants_identity(variants) -> dict:
    from regdna.utils.fingerprint import file_identity

    if isinstance(variants, pd.DataFrame):
        hashed = pd.util.hash_pandas_object(variants, index=False).to_numpy()
        return {"table": hashlib.sha256(hashed.tobytes()).hexdigest(), "rows": len(variants),
                "columns": list(map(str, variants.columns))}
    return file_identity(variants)


def job_fingerprint(variants, genome, model_id, chunk_size: int, settings: ScoreSettings) -> dict:
    """Everything that decides the numbers or the row set of a `vep` job (see utils.fingerprint)."""
    from dataclasses import asdict

    from regdna.utils.fingerprint import file_identity, fingerprint

    return fingerprint(variants=_variants_identity(variants),
                       genome=file_identity(genome.path) if genome is not None else None,
                       model=model_id, chunk_size=chunk_size, **asdict(settings))


_CHANGED = {"variants": "variants file", "genome": "genome", "model": "model weights",
            "chunk_size": "--chunk-size", "extra": "settings"}


def _describe(changed: list[str]) -> str:
    return " and ".join(_CHANGED.get(key, "--" + key.replace("_", "-")) for key in changed)


class _Parts:
    """The part files of one job under `.<out>.parts/`, beside its fingerprint.

    The directory is created with the first part written, so a job that fails before (a bad VCF
    header, a missing genome) leaves nothing behind. Parts of another job (other input content,
    genome, model, chunk size or settings) are never mixed in: unsharded, they are discarded
    with a notice; sharded (other shards may be writing), the job is refused unless `overwrite`.
    """

    FINGERPRINT = "fingerprint.json"

    def __init__(self, out: Path, job: dict, sharded: bool, overwrite: bool, notice):
        from regdna.utils.fingerprint import differences, read_fingerprint

        self.dir, self.job, self._claimed = parts_dir(out), job, False
        if not self.dir.exists():
            return
        changed = differences(read_fingerprint(self.dir / self.FINGERPRINT), job)
        if not changed:
            return
        stored = changed != ["(no fingerprint stored)"]
        what = f"{_describe(changed)} changed since the interrupted run" if stored else \
            "the interrupted run stored no resume fingerprint"
        if sharded and not overwrite:
            raise RegdnaError(f"{self.dir} holds parts of another job ({what}); remove {self.dir} or "
                              "pass --overwrite to every shard to start over.")
        notice(f"{what}: starting over ({self.dir} discarded)")
        _discard(self.dir)

    def path(self, k: int) -> Path:
        return self.dir / f"part-{k:06d}.parquet"

    def done(self, k: int) -> bool:
        return self.path(k).exists()

    def write(self, k: int, frame: pd.DataFrame) -> None:
        from regdna.utils.atomic import atomic_path

        self._claim()
        with atomic_path(self.path(k)) as tmp:
            frame.to_parquet(tmp, index=False)

    def _claim(self) -> None:
        """Create the directory with this job's fingerprint (once; shards may race here)."""
        from regdna.utils.fingerprint import differences, read_fingerprint, write_fingerprint

        if self._claimed:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        stored = read_fingerprint(self.dir / self.FINGERPRINT)
        if stored is None:
            write_fingerprint(self.dir / self.FINGERPRINT, self.job)
        elif differences(stored, self.job):
            raise RegdnaError(f"{self.dir} was started meanwhile by another job ("
                              f"{_describe(differences(stored, self.job))} differ); give each job "
                              "its own --out.")
        self._claimed = True


def _discard(directory: Path) -> None:
    """Remove a parts dir; renamed first, so a shard racing here never deletes fresh parts."""
    trash = directory.with_name(f"{directory.name}.stale-{os.getpid()}")
    try:
        os.replace(directory, trash)
    except FileNotFoundError:  # another shard discarded it first
        return
    shutil.rmtree(trash, ignore_errors=True)


def merge_parts(out: str | Path, n_chunks: int | None = None, overwrite: bool = False) -> dict:
    """Merge the part files of `out` into `out` (atomic), register it, remove the parts, summarise."""
    from regdna.utils.atomic import atomic_path
    from regdna.utils.output import check_out_file, record_file

    out = Path(out)
    parts = parts_dir(out)
    files = sorted(parts.glob("part-*.parquet"))
    if n_chunks is not None and len(files) != n_chunks:
        raise RegdnaError(f"{parts}: {len(files)} of {n_chunks} parts present; finish the other shards.")
    check_out_file(out, "vep", overwrite=overwrite)
    parts.mkdir(parents=True, exist_ok=True)  # an empty input has no parts dir
    try:
        (parts / "merge.lock").mkdir()
    except FileExistsError:
        return {"out": None, "parts": str(parts), "message": "another process is merging"}
    summary = {"n_variants": 0, "n_scored": 0, "skipped_by_reason": {}, "skipped_examples": []}
    try:
        with atomic_path(out) as tmp:
            _concatenate(files, tmp, out.suffix, summary)
    except BaseException:
        shutil.rmtree(parts / "merge.lock", ignore_errors=True)
        raise
    record_file(out, "vep")
    shutil.rmtree(parts, ignore_errors=True)
    summary["n_skipped"] = summary["n_variants"] - summary["n_scored"]
    summary["out"] = str(out)
    return summary


def _concatenate(files: list[Path], tmp: Path, suffix: str, summary: dict) -> None:
    """Write the parts, in order, into one Parquet (ParquetWriter) or TSV file; summarise them."""
    import pyarrow.parquet as pq

    writer = None
    for index, file in enumerate(files):
        table = pq.read_table(file)
        frame = table.to_pandas()
        _summarise(frame, summary)
        if suffix == ".parquet":
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table.cast(writer.schema) if table.schema != writer.schema else table)
        else:
            frame.to_csv(tmp, sep="\t", index=False, mode="a" if index else "w",
                         header=index == 0, float_format="%.6g", na_rep="NA")
    if writer is not None:
        writer.close()
    if not files:
        empty = pd.DataFrame()
        empty.to_parquet(tmp) if suffix == ".parquet" else empty.to_csv(tmp, sep="\t", index=False)


def _summarise(frame: pd.DataFrame, summary: dict) -> None:
    summary["n_variants"] += len(frame)
    skipped = frame[frame["reason"] != ""]
    summary["n_scored"] += len(frame) - len(skipped)
    # the reason's text before ':' is its kind (the rest names the record)
    for reason, count in skipped["reason"].str.split(":").str[0].value_counts().items():
        summary["skipped_by_reason"][reason] = summary["skipped_by_reason"].get(reason, 0) + int(count)
    room = 20 - len(summary["skipped_examples"])
    for row in skipped.head(max(room, 0)).itertuples(index=False):
        summary["skipped_examples"].append(
            {"id": row.id, "line": int(getattr(row, "line", -1)), "reason": row.reason})
