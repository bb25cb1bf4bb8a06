"""The resumable part store of `regdna vep`: one Parquet part per chunk of variants under
`.<out>.parts/`, the job's resume fingerprint beside them, and the merge into `out`.

A killed job re-run resumes: the parts dir holds the job's fingerprint (`regdna.utils.fingerprint`:
the content of the variants file and of the genome, the model weights, the chunk size and every
scoring setting; `job_fingerprint`), and parts are reused only when the re-run has the same
fingerprint. Otherwise an unsharded job says what changed and starts over; a sharded one is
refused (other shards may be writing) unless `overwrite`. The process that finds every part
present merges them (a lock directory makes that one process; a lock left by a merge killed on
the same host is taken over) into `out` (Parquet via
ParquetWriter, or TSV) with an atomic rename, registers it as a `vep` output
(`regdna.utils.output`) and removes the parts.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from regdna.errors import RegdnaError
from regdna.models.published import run_source
from regdna.runs.layout import checkpoint_file, config_path
from regdna.utils.atomic import atomic_path
from regdna.utils.fingerprint import (differences, file_identity, fingerprint, read_fingerprint,
                                      write_fingerprint)
from regdna.utils.output import check_out_file, record_file

FINGERPRINT = "fingerprint.json"
N_EXAMPLES = 20  # skipped records listed in the summary


def parts_dir(out: str | Path) -> Path:
    """The hidden directory beside `out` that holds its parts: `.<out name>.parts`."""
    out = Path(out)
    return out.parent / f".{out.name}.parts"


# -- what identifies a job -----------------------------------------------------------------------
def identity_of_run(run_dir: str | Path, checkpoint: str = "best") -> dict:
    """The model of a run dir as the fingerprint sees it: the checkpoint loaded
    (RUN/checkpoints/<checkpoint>.ckpt, which must exist) and config.yaml (`regdna.runs.layout`)."""
    config = config_path(run_dir)
    return {"checkpoint": file_identity(checkpoint_file(run_dir, checkpoint)),
            "config": file_identity(config) if config.is_file() else None}


def identity_of_published(spec: str | Path, labels) -> dict:
    """A published model as the fingerprint sees it: the spec, the files it names
    (`file_identity` of the weights file, or of every file of the directory) and the output
    names scored (label file and `--target` selection)."""
    return {"spec": str(spec), "weights": file_identity(run_source(spec)), "labels": list(labels)}


def language_model_identity(spec: str, local_dir: Path | None) -> dict:
    """A zero-shot model spec, with the files of its local model dir (a hub id is its own name)."""
    return {"spec": spec, "files": file_identity(local_dir) if local_dir is not None else None}


def _weights_digest(module) -> str:
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        # raw bytes of any dtype (bf16 has no numpy form)
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def weights_identity(predictor, language_model) -> dict:
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
    if isinstance(variants, pd.DataFrame):
        hashed = pd.util.hash_pandas_object(variants, index=False).to_numpy()
        return {"table": hashlib.sha256(hashed.tobytes()).hexdigest(), "rows": len(variants),
                "columns": list(map(str, variants.columns))}
    return file_identity(variants)


def job_fingerprint(variants, genome, model_id, chunk_size: int, settings) -> dict:
    """Everything that decides the numbers or the row set of a `vep` job.

    Parameters
    ----------
    variants : path or DataFrame (content identity).
    genome : `regdna.io.genome.Genome` or None.
    model_id : JSON-able identity of the model(s) (`identity_of_run`, `weights_identity`, ...).
    chunk_size : variants per part.
    settings : dataclass of the scoring settings (`regdna.variants.vep.ScoreSettings`).
    """
    return fingerprint(variants=_variants_identity(variants),
                       genome=file_identity(genome.path) if genome is not None else None,
                       model=model_id, chunk_size=chunk_size, **asdict(settings))


_CHANGED = {"variants": "variants file", "genome": "genome", "model": "model weights",
            "chunk_size": "--chunk-size", "extra": "settings"}


def _describe(changed: list[str]) -> str:
    return " and ".join(_CHANGED.get(key, "--" + key.replace("_", "-")) for key in changed)


# -- the store -------------------------------------------------------------------------------------
class PartStore:
    """The part files of one job under `.<out>.parts/`, beside its fingerprint.

    The directory is created with the first part written, so a job that fails before (a bad VCF
    header, a missing genome) leaves nothing behind. Parts of another job (other input content,
    genome, model, chunk size or settings) are never mixed in: unsharded, they are discarded
    with a `notice`; sharded (other shards may be writing), the job is refused unless `overwrite`.
    """

    def __init__(self, out: Path, job: dict, sharded: bool, overwrite: bool, notice):
        self.dir, self.job, self._claimed = parts_dir(out), job, False
        if not self.dir.exists():
            return
        changed = differences(read_fingerprint(self.dir / FINGERPRINT), job)
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
        """Write part `k` (atomic rename)."""
        self._claim()
        with atomic_path(self.path(k)) as tmp:
            frame.to_parquet(tmp, index=False)

    def _claim(self) -> None:
        """Create the directory with this job's fingerprint (once; shards may race here)."""
        if self._claimed:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        stored = read_fingerprint(self.dir / FINGERPRINT)
        if stored is None:
            write_fingerprint(self.dir / FINGERPRINT, self.job)
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


# -- the merge ---------------------------------------------------------------------------------------
def merge_parts(out: str | Path, n_chunks: int | None = None, overwrite: bool = False) -> dict:
    """Merge the part files of `out` into `out` (atomic), register it, remove the parts.

    Parameters
    ----------
    out : the `.parquet` or `.tsv` output.
    n_chunks : parts expected (None: whatever is there).
    overwrite : replace a foreign `out`.

    Returns
    -------
    dict
        out (None when another process is merging), n_variants, n_scored, n_skipped,
        skipped_by_reason {reason kind: count}, skipped_examples (first 20 skipped records).
    """
    out = Path(out)
    parts = parts_dir(out)
    files = sorted(parts.glob("part-*.parquet"))
    if n_chunks is not None and len(files) != n_chunks:
        raise RegdnaError(f"{parts}: {len(files)} of {n_chunks} parts present; finish the other shards.")
    check_out_file(out, "vep", overwrite=overwrite)
    parts.mkdir(parents=True, exist_ok=True)  # an empty input has no parts dir
    if not _take_merge_lock(parts / "merge.lock"):
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


def _take_merge_lock(lock: Path) -> bool:
    """Create the merge lock (a directory naming its host and process); False when another live
    process holds it. A lock left by a merge killed on this host is taken over, so a kill during
    the merge never blocks the job for good."""
    import socket

    owner = f"{socket.gethostname()} {os.getpid()}"
    try:
        lock.mkdir()
    except FileExistsError:
        try:
            host, pid = (lock / "owner").read_text().split()
        except (OSError, ValueError):
            return False  # being created right now, or by an older regdna
        if host != socket.gethostname() or _alive(int(pid)):
            return False
        shutil.rmtree(lock, ignore_errors=True)  # its merge was killed: take over
        return _take_merge_lock(lock)
    (lock / "owner").write_text(owner)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


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
    room = N_EXAMPLES - len(summary["skipped_examples"])
    for row in skipped.head(max(room, 0)).itertuples(index=False):
        summary["skipped_examples"].append(
            {"id": row.id, "line": int(getattr(row, "line", -1)), "reason": row.reason})
