"""Helpers shared by the tests (not fixtures): random DNA and the toy genomes' writers.

Every random sequence of the suite comes from `random_seqs` / `random_seq`, so a test's data is
reproducible from its seed alone.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

BASES = list("ACGT")

# 12 random 3 kb chromosomes chr1..chr12 (the `toy_genome` fixture)
TOY_CHROMS = {f"chr{i}": 3000 for i in range(1, 13)}

# Two contigs written by hand (the `hand_genome` fixture): every base is known to the tests.
HAND_GENOME = {
    # chr1: 60 bp; lower-case (soft-masked) stretch at 20..29
    "chr1": "ACGTACGTACGTACGTACGT" + "aaaaaccccc" + "GGGGGTTTTTACGTACGTACGTACGTACGTAC",
    "chr2": "TTTTTTTTTTGGGGGGGGGGAAAAAAAAAACCCCCCCCCC",
}


def random_seq(length: int, seed: int | np.random.Generator = 0) -> str:
    """One uniform random DNA sequence of `length` bases (A, C, G, T).

    Parameters
    ----------
    length : int
        Number of bases.
    seed : int or numpy.random.Generator
        Seed, or a generator to draw from (advanced by `length` draws).
    """
    return "".join(np.random.default_rng(seed).choice(BASES, length))


def random_seqs(n: int, length: int, seed: int | np.random.Generator = 0) -> list[str]:
    """`n` uniform random DNA sequences of `length` bases, drawn one after the other from `seed`
    (a seed or a generator)."""
    rng = np.random.default_rng(seed)
    return [random_seq(length, rng) for _ in range(n)]


def write_fasta_lines(path: Path, seqs: dict[str, str], width: int) -> Path:
    """Write {name: sequence} as FASTA with lines of `width` bases."""
    with open(path, "w") as handle:
        for name, seq in seqs.items():
            handle.write(f">{name}\n" + "".join(seq[i:i + width] + "\n" for i in range(0, len(seq), width)))
    return path


def write_toy_genome(path: Path, seed: int = 0, sizes: dict | None = None) -> dict[str, str]:
    """Write a random genome FASTA (60 bp lines, bases 100..199 of chr1 soft-masked) and return
    {chrom: sequence} (upper case). `sizes`: {chrom: length}, default `TOY_CHROMS`."""
    rng = np.random.default_rng(seed)
    seqs = {chrom: random_seq(size, rng) for chrom, size in (sizes or TOY_CHROMS).items()}
    text = {chrom: seq[:100] + seq[100:200].lower() + seq[200:] if chrom == "chr1" else seq
            for chrom, seq in seqs.items()}
    write_fasta_lines(path, text, 60)
    return seqs


def write_hand_genome(path: Path) -> dict[str, str]:
    """Write `HAND_GENOME` as FASTA (25 bp lines, chr1 soft-masked in part) and return
    {chrom: sequence} (upper case)."""
    write_fasta_lines(path, HAND_GENOME, 25)
    return {k: v.upper() for k, v in HAND_GENOME.items()}


def run_cli(*args) -> int:
    """`regdna ARGS` in-process; its exit code (0 when main returns)."""
    from regdna.cli import main

    try:
        main([str(a) for a in args])
    except SystemExit as done:
        return int(done.code or 0)
    return 0
