"""Session fixture: a small bundled example (300 windows per class, 200 bp), built once."""
import pytest

EXAMPLE_N_PER_CLASS = 300
EXAMPLE_LENGTH = 200


@pytest.fixture(scope="session")
def example_dir(tmp_path_factory):
    """Directory written by `regdna.data.example.run_example(seed=0, n_per_class=300)`:
    genome.fa(.fai), positives.narrowPeak, negatives.bed, pos.fa, neg.fa, motifs.tsv,
    variants.vcf, variants.tsv, README.txt."""
    from regdna.data.example import run_example

    return run_example(tmp_path_factory.mktemp("example") / "example", seed=0,
                       n_per_class=EXAMPLE_N_PER_CLASS, length=EXAMPLE_LENGTH)
