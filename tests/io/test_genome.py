"""Genome access (regdna.io.genome): windows padded with N, contig names harmonised."""
import pytest

from regdna.errors import RegdnaError
from regdna.io.genome import Genome


def test_genome_windows_pad_with_n_and_harmonise_names(tmp_path):
    fa = tmp_path / "g.fa"
    fa.write_text(">chr1\nACGTACGTAC\n>2\nggggcccc\n")
    with Genome(fa) as genome:
        assert genome.fetch("1", 2, 6) == "GTAC"
        assert genome.fetch("chr2", 0, 4) == "GGGG"              # lower case upper-cased
        assert genome.window("chr1", 1, 6) == (-2, 4, "NNACGT")  # centred, N-padded on the left
        assert genome.fetch("chr1", 8, 13) == "ACNNN"
        with pytest.raises(RegdnaError, match="chr7.*not in genome"):
            genome.fetch("chr7", 0, 3)


def test_unreadable_genome_is_a_clear_error(tmp_path):
    with pytest.raises(RegdnaError, match="does not exist"):
        Genome(tmp_path / "missing.fa")
