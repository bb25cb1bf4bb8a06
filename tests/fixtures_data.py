"""Session fixtures of the data domain: the prepared example dataset and a toy genome."""
from pathlib import Path

import numpy as np
import pytest

TOY_CHROMS = {f"chr{i}": 3000 for i in range(1, 13)}


@pytest.fixture(scope="session")
def dataset_dir(example_dir, tmp_path_factory):
    """Dataset dir prepared from the bundled example exactly as the demo does:
    `regdna prepare --fasta pos.fa:1 --fasta neg.fa:0 --split chrom --test-chroms chr8,chr9
    --val-chroms chr10` (binary, 200 bp, train/val/test.parquet + dataset.json + figures/)."""
    from regdna.data.prepare import prepare

    example = Path(example_dir)
    return prepare(tmp_path_factory.mktemp("dataset") / "dataset",
                   fasta=[(example / "pos.fa", "1"), (example / "neg.fa", "0")],
                   split="chrom", test_chroms="chr8,chr9", val_chroms="chr10", seed=0)


def write_toy_genome(path: Path, seed: int = 0, sizes: dict | None = None) -> dict[str, str]:
    """Write a random genome FASTA (60 bp lines, with a soft-masked stretch on chr1) and
    return {chrom: sequence} (upper case)."""
    rng = np.random.default_rng(seed)
    seqs = {}
    with open(path, "w") as handle:
        for chrom, size in (sizes or TOY_CHROMS).items():
            seq = "".join(rng.choice(list("ACGT"), size))
            seqs[chrom] = seq
            text = seq[:100] + seq[100:200].lower() + seq[200:] if chrom == "chr1" else seq
            handle.write(f">{chrom}\n" + "\n".join(text[i:i + 60] for i in range(0, len(text), 60)) + "\n")
    return seqs


@pytest.fixture(scope="session")
def toy_genome(tmp_path_factory):
    """(genome.fa path, {chrom: sequence}) for 12 random 3 kb chromosomes chr1..chr12."""
    path = tmp_path_factory.mktemp("toy_genome") / "genome.fa"
    return path, write_toy_genome(path)
