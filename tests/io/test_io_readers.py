"""Streaming readers: FASTA (plain / gzip), BED / narrowPeak, tables."""
import gzip

import numpy as np
import pandas as pd
import pytest

from regdna.errors import RegdnaError
from regdna.io.bed import read_bed, read_header
from regdna.io.fasta import parse_region, read_fasta
from regdna.io.tables import read_table


def test_read_fasta_multiline_gzip_and_case(tmp_path):
    text = ">chr1:10-22 some description\nACGTac\ngtNNRY\n\n>second\nAC GT\n"
    (tmp_path / "a.fa").write_text(text)
    (tmp_path / "a.fa.gz").write_bytes(gzip.compress(text.encode()))
    for name in ("a.fa", "a.fa.gz"):
        records = list(read_fasta(tmp_path / name))
        assert [(r.name, r.sequence, r.line) for r in records] == [("chr1:10-22", "ACGTacgtNNRY", 1), ("second", "ACGT", 5)]
        assert records[0].description == "chr1:10-22 some description"


def test_read_fasta_empty_file(tmp_path):
    (tmp_path / "e.fa").write_text("\n")
    with pytest.raises(RegdnaError, match="no FASTA records"):
        list(read_fasta(tmp_path / "e.fa"))


def test_parse_region():
    assert parse_region("chr8:1000-1200") == ("chr8", 1000, 1200)
    assert parse_region("8:1,000-1,200(+)") == ("8", 1000, 1200)
    assert parse_region("enhancer_12") is None
    assert parse_region("chr1:5") is None


def test_read_bed_chunks_narrowpeak_and_header(tmp_path):
    path = tmp_path / "p.narrowPeak"
    path.write_text("browser hide\n#chrom\tstart\tend\tname\tscore\tstrand\tsignal\tp\tq\tpeak\n"
                    + "".join(f"chr1\t{i * 10}\t{i * 10 + 8}\tp{i}\t0\t.\t1\t1\t1\t{i % 8}\n" for i in range(25)))
    chunks = list(read_bed(path, chunk_size=10))
    assert [len(c) for c in chunks] == [10, 10, 5]
    frame = pd.concat(chunks)
    assert frame["summit"].tolist() == [i % 8 for i in range(25)]
    assert frame["line"].tolist()[:2] == [3, 4]
    assert read_header(path)[:3] == ["chrom", "start", "end"]
    named = pd.concat(read_bed(path, extra_columns=["name", "5"]))
    assert named["name"].tolist()[:2] == ["p0", "p1"] and named["5"].iloc[0] == "0"
    plain = tmp_path / "p.bed"
    plain.write_text("chr1\t0\t10\tx\t0\t.\t1\t1\t1\t3\n")
    assert next(read_bed(plain))["summit"].tolist() == [-1]      # only .narrowPeak files carry summits


def test_read_bed_summit_outside_peak(tmp_path):
    path = tmp_path / "p.narrowPeak"
    path.write_text("chr1\t0\t10\tp\t0\t.\t1\t1\t1\t10\n")
    with pytest.raises(RegdnaError, match=r"line 1: summit offset 10"):
        list(read_bed(path))


def test_read_table_csv_and_parquet_rows(tmp_path):
    frame = pd.DataFrame({"sequence": ["ACGT"] * 5, "y": np.arange(5.0)})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    csv = pd.concat(read_table(tmp_path / "t.csv", chunk_size=2))
    assert csv["row"].tolist() == [2, 3, 4, 5, 6] and csv["y"].tolist() == [0, 1, 2, 3, 4]
    pq = pd.concat(read_table(tmp_path / "t.parquet", chunk_size=2))
    assert pq["row"].tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(RegdnaError, match="unknown table format"):
        list(read_table(tmp_path / "t.xlsx"))
