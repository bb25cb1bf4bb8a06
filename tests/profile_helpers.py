"""Coverage (profile) test data shared by the evaluate, robustness and records tests: a small
coverage dataset dir in the dataset contract (genome, bigWigs, Parquet, coverage.npy), toy
profile models, and a hand-written run dir."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from helpers import random_seq, write_fasta_lines
from regdna.models.base import RegdnaModel
from regdna.runs.predictor import Predictor

LENGTH, MARGIN, BIN = 64, 16, 4
CHROMS = {"chr1": ("train", 700), "chr2": ("val", 500), "chr3": ("test", 1000)}
BLACKLIST = ("chr3", 100, 110)     # the test chromosome's tile [64, 128) overlaps it
N_STRETCH = ("chr3", 500, 505)     # the test chromosome's tile [448, 512) holds N


def write_coverage_dataset(root, tracks=("a", "b"), length=LENGTH, margin=MARGIN, bin_size=BIN,
                           stride=40, seed=0, peaks=True):
    """A coverage dataset dir (task profile) under `root`, with its sources beside it.

    Genome `root/genome.fa` (chr1 train 700 bp, chr2 val 500 bp, chr3 test 1000 bp with N at
    500..504), one bigWig per track `root/<track>.bw` (smooth positive coverage, float16-exact so
    the stored and the bigWig values agree), blacklist `root/blacklist.bed` (chr3:100-110), and
    `root/data`: stored windows of length + 2 * margin bp every `stride` bp of each chromosome,
    Parquet (id, chrom, start, end, sequence, one total-coverage column per track over the
    central `length` bp, `peak_<track>` = 1.0 when that total is above the split's median),
    {split}.coverage.npy float16 (N, stored, T) and dataset.json.

    Returns
    -------
    (data_dir, genome {chrom: sequence}, coverage {chrom: (size, T) float32 array})
    """
    from regdna.data.dataset import DatasetInfo, ProfileInfo, write_info
    from regdna.io.bigwig import write_bigwig

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    genome = {c: random_seq(size, rng) for c, (_, size) in CHROMS.items()}
    chrom, lo, hi = N_STRETCH
    genome[chrom] = genome[chrom][:lo] + "N" * (hi - lo) + genome[chrom][hi:]
    write_fasta_lines(root / "genome.fa", genome, 60)
    kernel = np.ones(9) / 9
    coverage = {c: np.stack([np.convolve(rng.gamma(1.5, 2.0, size), kernel, mode="same")
                             for _ in tracks], axis=1).astype(np.float16).astype(np.float32)
                for c, (_, size) in CHROMS.items()}
    sizes = {c: size for c, (_, size) in CHROMS.items()}
    for t, track in enumerate(tracks):
        write_bigwig(root / f"{track}.bw", sizes,
                     ((c, i, i + 1, float(v)) for c in CHROMS for i, v in enumerate(coverage[c][:, t])))
    (root / "blacklist.bed").write_text("\t".join(map(str, BLACKLIST)) + "\n")
    data = root / "data"
    data.mkdir()
    stored = length + 2 * margin
    splits = {}
    for c, (split, size) in CHROMS.items():
        starts = list(range(0, size - stored + 1, stride))
        frame = pd.DataFrame({"id": [f"{c}:{s}-{s + stored}" for s in starts], "chrom": c,
                              "start": np.array(starts, dtype=np.int64),
                              "end": np.array(starts, dtype=np.int64) + stored,
                              "sequence": [genome[c][s:s + stored] for s in starts]})
        cover = np.stack([coverage[c][s:s + stored] for s in starts]).astype(np.float16)
        totals = cover[:, margin:margin + length].astype(np.float64).sum(axis=1)
        for t, track in enumerate(tracks):
            frame[track] = totals[:, t]
            if peaks:
                frame[f"peak_{track}"] = (totals[:, t] > np.median(totals[:, t])).astype(float)
        frame.to_parquet(data / f"{split}.parquet", index=False)
        np.save(data / f"{split}.coverage.npy", cover)
        splits[split] = {"n": len(frame)}
    profile = ProfileInfo(tracks=list(tracks), bigwigs=[str(root / f"{t}.bw") for t in tracks],
                          margin=margin, stored_length=stored, bin_size=bin_size,
                          selection="coverage",
                          peak_columns=[f"peak_{t}" for t in tracks] if peaks else [],
                          genome=str(root / "genome.fa"),
                          chroms={split: [c] for c, (split, _) in CHROMS.items()},
                          blacklist=[str(root / "blacklist.bed")], max_n=0.0)
    write_info(data, DatasetInfo(task="profile", labels=list(tracks), length=length,
                                 splits=splits, profile=profile))
    return data, genome, coverage


class ConvProfile(RegdnaModel):
    """A pointwise convolution (kernel 1: each base's output sees that base only, so the model
    is exactly translation-equivariant), exp, mean within bins; `ramp` multiplies the output by
    a ramp over window positions (0.2 at the start to 2 at the end: position-dependent)."""
    output_kind = "profile"

    def __init__(self, n_outputs=2, bin_size=BIN, ramp=False, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.n_outputs, self.bin_size, self.ramp = n_outputs, bin_size, ramp
        self.conv = nn.Conv1d(4, n_outputs, 1)

    def forward(self, x):
        y = torch.exp(self.conv(x))                                   # (N, T, L)
        if self.ramp:
            y = y * torch.linspace(0.2, 2.0, x.shape[-1])
        return nn.functional.avg_pool1d(y, self.bin_size).transpose(1, 2)


class MeanLogit(RegdnaModel):
    """A binary model: the mean over positions of a pointwise convolution, one logit."""

    def __init__(self, seed=1):
        super().__init__()
        torch.manual_seed(seed)
        self.conv = nn.Conv1d(4, 1, 3, padding=1)

    def forward(self, x):
        return self.conv(x).mean(dim=2)


def profile_predictor(tracks=("a", "b"), **kwargs):
    return Predictor(ConvProfile(len(tracks), **kwargs), task="profile", labels=list(tracks),
                     length=LENGTH, device="cpu")


def write_run(run_dir, data_dir, task="profile", labels=("a", "b"), threshold=None):
    """A run dir holding what evaluate reads besides the model: config.yaml (and threshold.json)."""
    from regdna.data.dataset import load_info
    from regdna.runs import layout
    from regdna.runs.config import DatasetRef, RunConfig, save_config

    config = RunConfig()
    config.model.spec = "toy"
    config.data.bin_size = BIN if task == "profile" else None
    config.dataset = DatasetRef(path=str(data_dir), task=task, labels=list(labels),
                                length=LENGTH,
                                profile=load_info(data_dir).profile.model_dump()
                                if task == "profile" else None)
    run_dir.mkdir(parents=True)
    save_config(config, layout.config_path(run_dir))
    if threshold is not None:
        layout.write_threshold(run_dir, {"threshold": threshold, "metric": "f1", "split": "val"})
    return run_dir


def use_predictor(monkeypatch, predictor):
    """`load_predictor` returns `predictor` (the toy model stands for the run's)."""
    import regdna.runs.predictor

    monkeypatch.setattr(regdna.runs.predictor, "load_predictor", lambda *a, **k: predictor)
