"""The dataset directory: the contract between `prepare` and every later stage.

A dataset dir holds `dataset.json` (described by `DatasetInfo`) and one Parquet file per split
(`train.parquet`, `val.parquet`, `test.parquet`) with columns `id`, `chrom`, `start`, `end`,
`sequence` (upper-case string) and one column per label (float; NaN = missing label, masked in
the loss). Sequences stay strings on disk; encoding happens when batches are built.

A coverage (profile) dataset (`task = "profile"`, made from bigWig tracks) adds
`{split}.coverage.npy`: float16 (N, stored_length, T) coverage at base resolution, row i for
row i of the split's Parquet file, track t for `labels[t]`; read it memory-mapped
(`read_coverage`). Its `sequence` is the stored window, `length` + 2 * `profile.margin` bp (the
margin is room for shift augmentation); its label columns hold each track's total coverage over
the central `length` bp (the per-window scalar of binary-style evaluation), and
`profile.peak_columns` (0/1) say whether that central window overlaps a peak of the track.
`profile` (`ProfileInfo`) records the tracks, margin, default bin size and how windows were
selected. Targets are binned to the training resolution on the fly (`regdna.data.profiles`).

`start` / `end` are int64 genome coordinates of the window (null when unknown); a window
N-padded past a chromosome end keeps them, so `start` may be negative and `end` may pass the
chromosome end: base i of `sequence` is genome position start + i. `classes` names the classes
(binary or multiclass) when the labels were names or numbered classes: class k is `classes[k]`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Literal

import pandas as pd
from pydantic import BaseModel, Field

from regdna.errors import RegdnaError
from regdna.utils.jsonio import read_json

FORMAT_VERSION = 1
SPLITS = ("train", "val", "test")
Task = Literal["binary", "multilabel", "multiclass", "regression", "profile"]


class ProfileInfo(BaseModel):
    """What a coverage dataset's `{split}.coverage.npy` holds and how its windows were chosen."""

    tracks: list[str]                       # = DatasetInfo.labels: one coverage track each
    bigwigs: list[str] = Field(default_factory=list)   # the source bigWig files, in track order
    margin: int = 0                         # bp stored on each side of the input window
    stored_length: int                      # length + 2 * margin: bp of sequence and coverage stored
    bin_size: int = 1                       # default target resolution (bp per bin) for training
    selection: Literal["peaks", "coverage"] = "peaks"   # peak-centred or coverage-threshold tiles
    coverage_threshold: float | None = None             # coverage selection: max coverage above this
    peak_columns: list[str] = Field(default_factory=list)  # 0/1 per track: window overlaps a peak
    genome: str | None = None               # genome FASTA (whole-chromosome evaluation tiles it)
    chroms: dict[str, list[str]] = Field(default_factory=dict)   # split -> its chromosomes
    blacklist: list[str] = Field(default_factory=list)  # BEDs of excluded (unmappable) regions
    max_n: float = 0.0                      # largest N fraction of a kept window


class DatasetInfo(BaseModel):
    """Content of `dataset.json`."""

    format_version: int = FORMAT_VERSION
    task: Task
    labels: list[str]                      # label columns; multiclass: one integer column
    classes: list[str] | None = None       # binary / multiclass: class names in index order (None: 0/1)
    length: int | None = None              # fixed window length in bp, None if variable
    splits: dict[str, dict] = Field(default_factory=dict)   # split -> {"n": int, "per_class": {...}}
    provenance: dict = Field(default_factory=dict)          # inputs, arguments, regdna version
    counts: dict = Field(default_factory=dict)              # what each processing step removed
    qc: dict = Field(default_factory=dict)                  # balance tests, GC, leakage
    regression_loss: Literal["mse", "poisson"] = "mse"
    profile: ProfileInfo | None = None      # task "profile": the coverage tracks


def load_info(data_dir: str | Path) -> DatasetInfo:
    """Read and check `dataset.json`; a clear error if it is missing or of another format."""
    path = Path(data_dir) / "dataset.json"
    if not path.is_file():
        raise RegdnaError(f"{data_dir} is not a regdna dataset dir (no dataset.json). "
                          f"Make one with `regdna prepare ... --out {data_dir}`.")
    raw = read_json(path)
    version = raw.get("format_version")
    if version != FORMAT_VERSION:
        raise RegdnaError(f"{path} has format_version {version}, this regdna reads "
                          f"{FORMAT_VERSION}. Re-run `regdna prepare` with this version.")
    return DatasetInfo.model_validate(raw)


def write_info(data_dir: str | Path, info: DatasetInfo) -> None:
    (Path(data_dir) / "dataset.json").write_text(info.model_dump_json(indent=2) + "\n")


def split_path(data_dir: str | Path, split: str) -> Path:
    path = Path(data_dir) / f"{split}.parquet"
    if not path.is_file():
        raise RegdnaError(f"{data_dir} has no split '{split}' ({path.name} missing); "
                          f"available: {', '.join(p.stem for p in Path(data_dir).glob('*.parquet'))}")
    return path


def coverage_path(data_dir: str | Path, split: str) -> Path:
    """`{split}.coverage.npy` of a coverage dataset (float16 (N, stored_length, T))."""
    return Path(data_dir) / f"{split}.coverage.npy"


def read_coverage(data_dir: str | Path, split: str):
    """The base-resolution coverage of one split, memory-mapped: float16 (N, stored_length, T)."""
    import numpy as np

    path = coverage_path(data_dir, split)
    if not path.is_file():
        raise RegdnaError(f"{data_dir} has no coverage for split '{split}' ({path.name} missing); "
                          f"it is not a coverage dataset: make one with `regdna prepare --bigwig ...`.")
    return np.load(path, mmap_mode="r")


def read_split(data_dir: str | Path, split: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Load one split as a DataFrame (small and medium datasets)."""
    return pd.read_parquet(split_path(data_dir, split), columns=columns)


def iter_split(data_dir: str | Path, split: str, batch_size: int = 65536,
               columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """Stream one split in record batches: memory stays flat for millions of sequences."""
    import pyarrow.parquet as pq

    # pre_buffer=False: pyarrow would otherwise read ahead across row groups (memory grows).
    with pq.ParquetFile(split_path(data_dir, split), pre_buffer=False) as handle:
        for batch in handle.iter_batches(batch_size=batch_size, columns=columns):
            yield batch.to_pandas()
