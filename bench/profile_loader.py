"""Can the profile loader keep the default profile model busy, and does its memory stay flat in the
number of regions? The measurement behind `regdna.data.profiles` (Toneyan et al. 2022 train on
coverage windows with random shifts and reverse complements, which the loader makes per batch).

Builds coverage dataset dirs in the dataset contract (`regdna.data.dataset`: dataset.json with a
ProfileInfo, train.parquet with the stored windows, train.coverage.npy float16 (N, S, T)) from
random sequences and gamma-distributed coverage, then measures:

- batches/s of `make_profile_loader` (ProfileCollate: bin 32, shift within the margin, RC;
  num_workers=0) and batches/s of the default profile model's forward (`build_model(
  "residualbind-32", info)`, eval, no grad) on the same batches; the ratio loader / forward
  (target >= 3: the loader is not the bottleneck);
- in a fresh process per size, for `--n` and 10 x `--n` regions, the memory of loading the split
  and then of one epoch: tracemalloc's peak (Python and numpy heap) and the growth of anonymous
  resident memory (RssAnon, Linux) in each phase, and the process's peak resident set
  (ru_maxrss, which also counts the touched pages of the memory-mapped coverage and torch
  itself). Target: the epoch flat in the number of regions (coverage is read per batch from the
  memory-mapped file); loading grows with the sequences (1 byte per stored base as codes).

Until `regdna.models.profile` exists the forward pass is timed on a stand-in of similar shape
(printed as such). Run with OMP_NUM_THREADS=1:

    OMP_NUM_THREADS=1 python bench/profile_loader.py [--length 2048] [--n 2000]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TRACKS = ["erythroid", "myeloid"]
BIN_SIZE = 32
CHUNK = 1000          # windows written at a time


def build_dataset(out: Path, n: int, length: int, margin: int, seed: int = 0) -> Path:
    """A coverage dataset dir with one split (train) of `n` random windows."""
    import pandas as pd

    from regdna.data.dataset import DatasetInfo, ProfileInfo, coverage_path, write_info

    out.mkdir(parents=True, exist_ok=True)
    stored = length + 2 * margin
    rng = np.random.default_rng(seed)
    coverage = np.lib.format.open_memmap(coverage_path(out, "train"), mode="w+", dtype=np.float16,
                                         shape=(n, stored, len(TRACKS)))
    bases = np.frombuffer(b"ACGT", dtype=np.uint8)
    rows = []
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        codes = rng.integers(0, 4, size=(hi - lo, stored))
        values = rng.gamma(0.5, 2.0, size=(hi - lo, stored, len(TRACKS))).astype(np.float16)
        coverage[lo:hi] = values
        central = values[:, margin:margin + length].astype(np.float64).sum(1)
        for i in range(hi - lo):
            start = (lo + i) * stored
            rows.append({"id": f"chr1:{start}-{start + stored}", "chrom": "chr1", "start": start,
                         "end": start + stored, "sequence": bases[codes[i]].tobytes().decode(),
                         **{t: float(central[i, k]) for k, t in enumerate(TRACKS)}})
    coverage.flush()
    del coverage
    pd.DataFrame(rows).to_parquet(out / "train.parquet", index=False)
    profile = ProfileInfo(tracks=TRACKS, margin=margin, stored_length=stored, bin_size=BIN_SIZE,
                          selection="coverage", coverage_threshold=2.0,
                          chroms={"train": ["chr1"]})
    write_info(out, DatasetInfo(task="profile", labels=TRACKS, length=length,
                                splits={"train": {"n": n}}, profile=profile))
    return out


def loader(data: Path, batch_size: int):
    from regdna.data.dataset import load_info
    from regdna.data.profiles import load_profile_dataset, make_profile_loader

    info = load_info(data)
    dataset = load_profile_dataset(data, "train", info)
    return info, make_profile_loader(dataset, batch_size, BIN_SIZE, train=True, rc=True,
                                     max_shift=info.profile.margin)


class StandIn:
    """Until `regdna.models.profile` lands: conv stages pooling to the bin size, each followed
    by a dilated residual block (the shape of ResidualBind, Koo et al. 2021)."""

    def __new__(cls, n_outputs: int, channels: int = 96):
        import torch.nn as nn

        class Residual(nn.Module):
            def __init__(self, c, n):
                super().__init__()
                self.convs = nn.ModuleList(nn.Sequential(
                    nn.Conv1d(c, c, 3, padding=2 ** i, dilation=2 ** i), nn.BatchNorm1d(c), nn.ReLU())
                    for i in range(n))

            def forward(self, x):
                y = x
                for conv in self.convs:
                    y = conv(y)
                return x + y

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                layers, c_in = [], 4
                for kernel, pool, n in ((19, 4, 5), (7, 4, 5), (7, 2, 3)):
                    layers += [nn.Conv1d(c_in, channels, kernel, padding=kernel // 2),
                               nn.BatchNorm1d(channels), nn.ReLU(), Residual(channels, n),
                               nn.MaxPool1d(pool)]
                    c_in = channels
                self.trunk = nn.Sequential(*layers)
                self.head = nn.Sequential(nn.Linear(channels, channels), nn.ReLU(),
                                          nn.Linear(channels, n_outputs), nn.Softplus())

            def forward(self, x):
                return self.head(self.trunk(x).transpose(1, 2))

        return Net()


def model_for(info):
    """(model, name): the default profile model, or the stand-in until it exists."""
    try:
        from regdna.models.registry import build_model

        return build_model("residualbind-32", info), "residualbind-32"
    except ImportError:
        return StandIn(len(info.labels)), "stand-in (regdna.models.profile missing)"


def throughput(data: Path, batch_size: int, n_batches: int) -> dict:
    import torch

    info, batches = loader(data, batch_size)
    torch.manual_seed(0)
    kept, t0 = [], time.perf_counter()
    for batch in batches:
        kept.append(batch)
        if len(kept) == n_batches:
            break
    load_s = time.perf_counter() - t0
    model, name = model_for(info)
    model.eval()
    with torch.no_grad():
        out = model(kept[0]["x"])                      # warm-up, shape check
        assert out.shape == kept[0]["y"].shape, (out.shape, kept[0]["y"].shape)
        t0 = time.perf_counter()
        for batch in kept:
            model(batch["x"])
        forward_s = time.perf_counter() - t0
    params = sum(p.numel() for p in model.parameters())
    return {"model": name, "params": params, "batches": len(kept),
            "loader_batches_s": len(kept) / load_s, "forward_batches_s": len(kept) / forward_s,
            "ratio": forward_s / load_s, "threads": torch.get_num_threads()}


def _rss_anon_kb() -> int:
    try:
        for line in open("/proc/self/status"):
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def memory_probe(data: Path, batch_size: int) -> dict:
    """Load the split, then one epoch of the loader, in this (fresh) process: memory of each,
    over a baseline taken after the imports."""
    import tracemalloc

    import pyarrow.parquet  # noqa: F401  (the imports are not the loader's memory)
    import torch  # noqa: F401

    import regdna.data.profiles  # noqa: F401

    mb = 2 ** 20
    base_anon = _rss_anon_kb()
    tracemalloc.start()
    info, batches = loader(data, batch_size)
    loaded_anon = _rss_anon_kb()
    held, load_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    peak_anon, n = loaded_anon, 0
    for _batch in batches:
        n += 1
        peak_anon = max(peak_anon, _rss_anon_kb())
    _, epoch_peak = tracemalloc.get_traced_memory()
    return {"regions": info.splits["train"]["n"], "batches": n,
            "coverage_file_mb": (data / "train.coverage.npy").stat().st_size / mb,
            "load_heap_peak_mb": load_peak / mb, "load_heap_held_mb": held / mb,
            "load_anon_mb": (loaded_anon - base_anon) / 1024,
            "epoch_heap_peak_mb": (epoch_peak - held) / mb,
            "epoch_anon_growth_mb": (peak_anon - loaded_anon) / 1024,
            "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def markdown(rows: list[dict], columns: list[str]) -> str:
    def cell(v):
        return f"{v:.1f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--length", type=int, default=1024, help="input length (bp)")
    parser.add_argument("--margin", type=int, default=None, help="bp stored each side (length / 4)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--n", type=int, default=2000,
                        help="regions of the small dataset (x10 for the large)")
    parser.add_argument("--batches", type=int, default=20, help="batches timed")
    parser.add_argument("--work", type=Path, default=None, help="where the datasets go (a temp dir)")
    parser.add_argument("--memory-probe", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        print(json.dumps(memory_probe(args.memory_probe, args.batch_size)))
        return
    margin = args.length // 4 if args.margin is None else args.margin
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        small = build_dataset(Path(tmp) / "small", args.n, args.length, margin)
        large = build_dataset(Path(tmp) / "large", 10 * args.n, args.length, margin, seed=1)
        speed = throughput(small, args.batch_size, args.batches)
        print(f"\n### loader vs forward (batch {args.batch_size}, length {args.length}, margin "
              f"{margin}, bin {BIN_SIZE}, {speed['threads']} thread(s), {speed['batches']} batches)\n")
        print(markdown([speed], ["model", "params", "loader_batches_s", "forward_batches_s", "ratio"]))
        memory = []
        for data in (small, large):
            probe = subprocess.run([sys.executable, __file__, "--memory-probe", str(data),
                                    "--batch-size", str(args.batch_size)],
                                   capture_output=True, text=True, check=True)
            memory.append(json.loads(probe.stdout.strip().splitlines()[-1]))
        print("\n### loader memory (fresh process per size): loading the split, then one epoch\n")
        print(markdown(memory, ["regions", "batches", "coverage_file_mb", "load_heap_peak_mb",
                                "load_heap_held_mb", "load_anon_mb", "epoch_heap_peak_mb",
                                "epoch_anon_growth_mb", "ru_maxrss_mb"]))

        def per_region(key: str) -> float:
            return (memory[1][key] - memory[0][key]) * 1024 / (9 * args.n)

        print(f"\nper region: loading holds {per_region('load_heap_held_mb'):.2f} kB (the stored "
              f"bases as uint8 codes: {(args.length + 2 * margin) / 1024:.2f} kB), peaks at "
              f"{per_region('load_heap_peak_mb'):.2f} kB of heap while the Parquet strings are read "
              f"and leaves {per_region('load_anon_mb'):.2f} kB of anonymous memory; an epoch adds "
              f"{per_region('epoch_heap_peak_mb'):.4f} kB of heap and "
              f"{per_region('epoch_anon_growth_mb'):.3f} kB of anonymous memory (coverage stays in the memory-mapped file: "
              f"{(args.length + 2 * margin) * len(TRACKS) * 2 / 1024:.2f} kB per region on disk)")

if __name__ == "__main__":
    main()
