"""Input files are opened through regdna.io.textfile: a truncated or corrupt compressed file is one
line naming it, from the readers and from the command line."""
import gzip
import subprocess
import sys

import pytest

from regdna.errors import RegdnaError


def _regdna(*args, **kw):
    return subprocess.run([sys.executable, "-m", "regdna", *map(str, args)], capture_output=True,
                          text=True, timeout=120, **kw)


def _truncated_gz(path, text):
    data = gzip.compress(text.encode())
    path.write_bytes(data[: len(data) // 2])


def test_truncated_and_corrupt_gzip_inputs_are_one_line(tmp_path):
    _truncated_gz(tmp_path / "pos.fa.gz", "".join(f">s{i}\n{'ACGTTGCA' * 25}\n" for i in range(400)))
    (tmp_path / "neg.fa").write_text(">n\nACGT\n")
    result = _regdna("prepare", "--fasta", f"{tmp_path}/pos.fa.gz:1", "--fasta", f"{tmp_path}/neg.fa:0",
                     "--out", tmp_path / "data")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pos.fa.gz is corrupt or truncated" in lines[0], result.stderr
    assert not (tmp_path / "data").exists()

    good = bytearray(gzip.compress(b">a\nACGTACGT\n" * 50))
    good[-8] ^= 0xFF  # break the CRC
    (tmp_path / "crc.fa.gz").write_bytes(bytes(good))
    from regdna.io.fasta import read_fasta

    with pytest.raises(RegdnaError, match="crc.fa.gz is corrupt or truncated"):
        list(read_fasta(tmp_path / "crc.fa.gz"))


def test_truncated_table_and_vcf(tmp_path):
    from regdna.io.tables import read_table
    from regdna.io.vcf import iter_variants

    _truncated_gz(tmp_path / "t.tsv.gz", "sequence\tlabel\n" + "ACGTACGTAC\t1\n" * 5000)
    with pytest.raises(RegdnaError, match="t.tsv.gz is corrupt or truncated"):
        list(read_table(tmp_path / "t.tsv.gz"))
    header = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\n"
    _truncated_gz(tmp_path / "v.vcf.gz", header + "".join(f"chr1\t{i}\t.\tA\tC\n" for i in range(1, 5000)))
    with pytest.raises(RegdnaError, match="v.vcf.gz is corrupt or truncated near line"):
        list(iter_variants(tmp_path / "v.vcf.gz"))
