"""Extra BED columns given by 1-based number."""
import pytest

from regdna.errors import RegdnaError
from regdna.io.bed import read_bed


def test_column_numbers_start_at_one(tmp_path):
    bed = tmp_path / "peaks.bed"
    bed.write_text("chr1\t10\t20\tpeakA\t5\n")
    frame = next(read_bed(bed, extra_columns=["4"]))
    assert frame["4"].tolist() == ["peakA"]
    with pytest.raises(RegdnaError, match="start at 1"):
        next(read_bed(bed, extra_columns=["0"]))
