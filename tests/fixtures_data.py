"""Session fixtures of the data domain: the prepared example dataset and the two toy genomes."""
from pathlib import Path

import pytest

from helpers import write_hand_genome, write_toy_genome


@pytest.fixture(scope="session")
def dataset_dir(example_dir, tmp_path_factory):
    """Dataset dir prepared from the bundled example exactly as the demo does:
    `regdna prepare --fasta pos.fa:1 --fasta neg.fa:0 --split chrom --test-chroms chr8,chr9
    --val-chroms chr10` (binary, 200 bp, train/val/test.parquet + dataset.json + figures/)."""
    from regdna.data.prepare import run_prepare

    example = Path(example_dir)
    return run_prepare(tmp_path_factory.mktemp("dataset") / "dataset",
                       fasta=[(example / "pos.fa", "1"), (example / "neg.fa", "0")],
                       split="chrom", test_chroms="chr8,chr9", val_chroms="chr10", seed=0)


@pytest.fixture(scope="session")
def toy_genome(tmp_path_factory):
    """(genome.fa path, {chrom: sequence}) for 12 random 3 kb chromosomes chr1..chr12
    (`helpers.write_toy_genome`)."""
    path = tmp_path_factory.mktemp("toy_genome") / "genome.fa"
    return path, write_toy_genome(path)


@pytest.fixture(scope="session")
def hand_genome(tmp_path_factory):
    """(toy.fa path, {chrom: sequence}) for the two hand-written contigs of
    `helpers.HAND_GENOME` (chr1 60 bp, soft-masked at 20..29; chr2 40 bp)."""
    path = tmp_path_factory.mktemp("hand_genome") / "toy.fa"
    return path, write_hand_genome(path)
