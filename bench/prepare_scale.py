"""Scale benchmark for `regdna prepare` on BED intervals + a genome.

Writes a synthetic genome (default 100 Mb, 12 chromosomes) and BED files of N random intervals
(half positives as narrowPeak with summits, half negatives), then runs `prepare` (200-bp
windows, chromosome split, de-dup with reverse complements, QC and figures) once per size, each
in a fresh process, and prints intervals per second and peak memory. Sequences never accumulate:
intervals are read, windowed, staged and written in chunks of 10,000, so the sequence-handling
part of memory is flat in N. What does grow is the per-record index used for de-duplication,
splits and QC (8-byte digests, GC, length, label, split: ~35 bytes a record, plus sort
temporaries at the de-dup step), about 0.12 KB per interval at peak, against the ~1 KB per
interval a non-streaming pipeline would hold for 200-bp windows and their strings.

Measured on the shared 2-core machine (load average ~13), 100 Mb genome, 200-bp windows:
    n=  100,000   20.6 s wall   4,864 intervals/s (14,119 per CPU-second)  peak RSS 366 MB
    n=  400,000   40.8 s wall   9,807 intervals/s (22,309 per CPU-second)  peak RSS 411 MB  (x1.12)
    n=1,000,000  136.7 s wall   7,316 intervals/s (22,181 per CPU-second)  peak RSS 473 MB  (x1.29)
(252 MB of that is the interpreter with numpy / pandas / pyarrow / scipy / matplotlib loaded.)

    python bench/prepare_scale.py                  # sizes 100k, 200k, 400k on a 100 Mb genome
    python bench/prepare_scale.py --n 1000000      # add the 1 M run (several minutes on 2 cores)

Ratios are against the smallest size measured in the same run. Intervals per CPU-second are
printed beside wall-clock throughput because a shared machine stretches wall time.
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


def write_genome(path: Path, total_bp: int, n_chroms: int = 12, seed: int = 0) -> dict[str, int]:
    """Random genome FASTA with 60-bp lines; returns chromosome sizes."""
    rng = np.random.default_rng(seed)
    sizes = {f"chr{i + 1}": total_bp // n_chroms for i in range(n_chroms)}
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    with open(path, "wb") as handle:
        for chrom, size in sizes.items():
            handle.write(f">{chrom}\n".encode())
            for lo in range(0, size, 6_000_000):           # 6 Mb blocks: flat memory while writing
                n = min(6_000_000, size - lo)
                codes = letters[rng.integers(0, 4, n)]
                full = n - n % 60
                lines = np.concatenate([codes[:full].reshape(-1, 60),
                                        np.full((full // 60, 1), ord("\n"), np.uint8)], axis=1)
                handle.write(lines.tobytes())
                if n % 60:
                    handle.write(codes[full:].tobytes() + b"\n")
    return sizes


def write_intervals(path: Path, sizes: dict[str, int], n: int, seed: int, narrowpeak: bool) -> None:
    """`n` random 300-1000 bp intervals (narrowPeak with a summit, or BED3)."""
    rng = np.random.default_rng(seed)
    chroms = list(sizes)
    with open(path, "w") as handle:
        for lo in range(0, n, 100_000):
            m = min(100_000, n - lo)
            ci = rng.integers(0, len(chroms), m)
            widths = rng.integers(300, 1000, m)
            starts = (rng.random(m) * (np.array([sizes[chroms[c]] for c in ci]) - widths)).astype(np.int64)
            if narrowpeak:
                summits = (rng.random(m) * widths).astype(np.int64)
                handle.writelines(f"{chroms[c]}\t{s}\t{s + w}\tpeak\t0\t.\t1\t1\t1\t{m_}\n"
                                  for c, s, w, m_ in zip(ci, starts, widths, summits))
            else:
                handle.writelines(f"{chroms[c]}\t{s}\t{s + w}\n" for c, s, w in zip(ci, starts, widths))


def worker(genome: str, pos: str, neg: str, out: str) -> None:
    """Run one `prepare` and print JSON: seconds, peak RSS, RSS before, records kept."""
    from regdna.data.dataset import load_info
    from regdna.data.prepare import run_prepare
    import matplotlib.pyplot  # noqa: F401  (imports are process start-up, not prepare work)
    import pyarrow.parquet  # noqa: F401
    import scipy.stats  # noqa: F401

    before = _rss_now_mb()
    start, cpu_start = time.perf_counter(), time.process_time()
    run_prepare(out, bed=[f"{pos}:1", f"{neg}:0"], genome=genome, length=200, split="chrom",
                test_chroms="chr8,chr9", val_chroms="chr10", progress=False)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    info = load_info(out)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak, "rss_before_mb": before,
                      "final": info.counts["final"], "input": info.counts["input"]}))


def _rss_now_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,200000,400000",
                        help="comma-separated interval counts (total over both classes)")
    parser.add_argument("--n", type=int, default=None, help="add one more size (e.g. 1000000)")
    parser.add_argument("--genome-mb", type=int, default=100, help="synthetic genome size in Mb")
    parser.add_argument("--workdir", default=None, help="where to write inputs and outputs (default: a temp dir)")
    parser.add_argument("--worker", nargs=4, metavar=("GENOME", "POS", "NEG", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    sizes = [int(s) for s in args.sizes.split(",") if s] + ([args.n] if args.n else [])
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        chrom_sizes = write_genome(tmp / "genome.fa", args.genome_mb * 1_000_000)
        print(f"synthetic genome: {args.genome_mb} Mb, {len(chrom_sizes)} chromosomes "
              f"({time.perf_counter() - t0:.1f} s to write)")
        rows = []
        for n in sizes:
            pos, neg = tmp / f"pos_{n}.narrowPeak", tmp / f"neg_{n}.bed"
            write_intervals(pos, chrom_sizes, n // 2, seed=n, narrowpeak=True)
            write_intervals(neg, chrom_sizes, n - n // 2, seed=n + 1, narrowpeak=False)
            cmd = [sys.executable, __file__, "--worker", str(tmp / "genome.fa"), str(pos), str(neg), str(tmp / f"D{n}")]
            result = subprocess.run(cmd, capture_output=True, text=True)
            if result.returncode:
                sys.exit(f"prepare failed for n={n}:\n{result.stderr}")
            stats = json.loads(result.stdout.strip().splitlines()[-1])
            stats["n"] = n
            stats["per_second"] = n / stats["seconds"]
            stats["per_cpu_second"] = n / stats["cpu_seconds"]
            rows.append(stats)
            base = rows[0]
            print(f"n={n:>9,d}  {stats['seconds']:6.1f} s wall  {stats['per_second']:7,.0f} intervals/s "
                  f"({stats['per_cpu_second']:7,.0f} per CPU-second)  "
                  f"peak RSS {stats['peak_rss_mb']:7.1f} MB (after imports {stats['rss_before_mb']:.0f} MB; "
                  f"growth {stats['peak_rss_mb'] - stats['rss_before_mb']:6.1f} MB)  kept {stats['final']:,d}  | "
                  f"vs n={base['n']:,d}: size x{n / base['n']:.1f}, time x{stats['seconds'] / base['seconds']:.2f}, "
                  f"peak memory x{stats['peak_rss_mb'] / base['peak_rss_mb']:.2f}", flush=True)
            for path in (pos, neg):
                path.unlink()


if __name__ == "__main__":
    main()
