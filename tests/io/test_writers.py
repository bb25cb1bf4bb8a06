"""The io writers read back through the io readers (the example writes its files with them)."""
import pandas as pd

from regdna.io.bed import read_bed, write_bed
from regdna.io.fasta import read_fasta, write_fasta
from regdna.io.genome import Genome
from regdna.io.tables import read_table, write_tsv
from regdna.io.vcf import iter_vcf, write_vcf


def test_write_fasta_with_index_is_read_by_pyfaidx(tmp_path):
    seqs = {"chr1": "ACGT" * 40 + "A", "chr2": "GGCC" * 7}
    path = write_fasta(tmp_path / "g.fa", seqs.items(), width=60, index=True)
    assert (tmp_path / "g.fa.fai").read_text().splitlines()[0] == "chr1\t161\t6\t60\t61"
    with Genome(path) as genome:
        assert genome.chrom_sizes == {"chr1": 161, "chr2": 28}
        assert genome.fetch("chr1", 58, 65) == seqs["chr1"][58:65]
        assert genome.fetch("chr2", 20, 30) == seqs["chr2"][20:] + "NN"
    one_line = write_fasta(tmp_path / "r.fa", [("a", "ACGT" * 30)], width=None)
    assert one_line.read_text() == ">a\n" + "ACGT" * 30 + "\n"
    assert [r.sequence for r in read_fasta(one_line)] == ["ACGT" * 30]


def test_write_bed_and_tsv_read_back(tmp_path):
    bed = write_bed(tmp_path / "p.narrowPeak", [("chr1", 10, 50, "p1", 600, ".", "2.0", -1, -1, 20)])
    frame = pd.concat(read_bed(bed))
    assert frame[["chrom", "start", "end", "summit"]].values.tolist() == [["chr1", 10, 50, 20]]
    tsv = write_tsv(tmp_path / "t.tsv", ["sequence", "y"], [("ACGT", 1), ("GGCC", 0)])
    table = pd.concat(read_table(tsv))
    assert table["sequence"].tolist() == ["ACGT", "GGCC"] and table["y"].tolist() == [1, 0]


def test_write_vcf_reads_back(tmp_path):
    records = [{"chrom": "chr1", "pos": 5, "id": "v1", "ref": "A", "alt": "C", "info": {"KIND": "x", "MOTIF": ""}},
               {"chrom": "chr2", "pos": 9, "id": "v2", "ref": "G", "alt": "T"}]
    path = write_vcf(tmp_path / "v.vcf", records, {"chr1": 100, "chr2": 50},
                     info=[("KIND", "1", "String", "a kind")], meta={"source": "test"})
    text = path.read_text()
    assert '##INFO=<ID=KIND,Number=1,Type=String,Description="a kind">' in text
    assert "chr1\t5\tv1\tA\tC\t.\tPASS\tKIND=x\n" in text and "chr2\t9\tv2\tG\tT\t.\tPASS\t.\n" in text
    frame = pd.concat(list(iter_vcf(path)))
    assert frame[["id", "chrom", "pos", "ref", "alt"]].values.tolist() == [["v1", "chr1", 5, "A", "C"],
                                                                         ["v2", "chr2", 9, "G", "T"]]
    assert (frame["reason"] == "").all()
