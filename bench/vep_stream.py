"""Streaming variant scoring: 200,000 variants on a synthetic genome, variants/s and peak memory.

Writes a synthetic genome (6 contigs x 2 Mb) and a VCF of random SNVs (ref = the genome base),
scores it with `regdna.variants.vep.score_variants` (a small basset: filters 0.1, global max-pool;
200 bp windows; Parquet output)
and prints variants per second and the peak resident memory of the process, also measured for a
run 10x smaller in a fresh process so that "flat in the number of variants" is visible
(goal: peak < 1.5 GB).

    .venv/bin/python bench/vep_stream.py [--n 200000] [--length 200] [--threads 2]
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


def write_inputs(root: Path, n: int, seed: int = 0) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    genome = root / "genome.fa"
    sizes = {f"chr{i}": 2_000_000 for i in range(1, 7)}
    seqs = {}
    with open(genome, "w") as handle:
        for name, size in sizes.items():
            seq = rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), size).tobytes().decode()
            seqs[name] = seq
            handle.write(f">{name}\n")
            for i in range(0, size, 80):
                handle.write(seq[i:i + 80] + "\n")
    vcf = root / "variants.vcf"
    names = list(sizes)
    chroms = rng.integers(0, len(names), n)
    order = np.lexsort((rng.integers(1, 2_000_000, n), chroms))
    with open(vcf, "w") as handle:
        handle.write("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        positions = rng.integers(1, 2_000_000, n)
        for i in order:
            chrom = names[chroms[i]]
            pos = int(positions[i])
            ref = seqs[chrom][pos - 1]
            alt = "ACGT"[("ACGT".index(ref) + 1 + int(rng.integers(0, 3))) % 4]
            handle.write(f"{chrom}\t{pos}\tv{i}\t{ref}\t{alt}\t.\t.\t.\n")
    return genome, vcf


def score(genome: Path, vcf: Path, out: Path, length: int, threads: int) -> dict:
    import torch

    from regdna.data.dataset import DatasetInfo
    from regdna.models.registry import build_model
    from regdna.runs.predictor import Predictor
    from regdna.variants.vep import score_variants

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build_model("basset", DatasetInfo(task="binary", labels=["y"], length=length),
                        filters=0.1, hidden=32, bins=1)
    pred = Predictor(model, task="binary", labels=["y"], length=length, device="cpu", batch_size=512)
    start = time.perf_counter()
    summary = score_variants(vcf, out, pred, genome, chunk_size=8192, progress=False)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": summary["n_variants"], "scored": summary["n_scored"], "seconds": seconds,
            "variants_per_s": summary["n_variants"] / seconds, "peak_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one measured run in a fresh process (peak memory of that run only)
        genome, vcf, out = (Path(p) for p in args.child)
        print(json.dumps(score(genome, vcf, out, args.length, args.threads)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        results = []
        for n in (args.n // 10, args.n):
            sub = root / f"n{n}"
            sub.mkdir()
            genome, vcf = write_inputs(sub, n)
            out = subprocess.run([sys.executable, __file__, "--length", str(args.length), "--threads",
                                  str(args.threads), "--child", str(genome), str(vcf),
                                  str(sub / "scores.parquet")], capture_output=True, text=True, check=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'variants':>10}{'seconds':>10}{'variants/s':>12}{'peak MB':>10}")
    for r in results:
        print(f"{r['n']:>10,}{r['seconds']:>10.1f}{r['variants_per_s']:>12.0f}{r['peak_mb']:>10.0f}")
    small, big = results
    print(f"peak memory ratio {big['n'] // small['n']}x variants: {big['peak_mb'] / small['peak_mb']:.2f}x; "
          f"{'under' if big['peak_mb'] < 1536 else 'OVER'} 1.5 GB")


if __name__ == "__main__":
    main()
