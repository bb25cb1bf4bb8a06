"""Every bad input gets one RegdnaError naming the file and line / record, and no output dir."""
import gzip

import numpy as np
import pytest

from regdna.data.prepare import run_prepare
from regdna.errors import RegdnaError

GOOD = ">chr1:0-8\nACGTACGT\n>chr8:0-8\nTTGACCAA\n"


def _no_output(out):
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    return not out.exists() and not leftovers


def _fails(tmp_path, match_parts, **kwargs):
    out = tmp_path / "D"
    with pytest.raises(RegdnaError) as err:
        run_prepare(out, **kwargs)
    message = str(err.value)
    for part in match_parts:
        assert part in message, message
    assert _no_output(out)
    return message


def _two_fastas(tmp_path, bad_text, bad_name="bad.fa"):
    good = tmp_path / "good.fa"
    good.write_text(GOOD)
    bad = tmp_path / bad_name
    bad.write_text(bad_text)
    return [f"{good}:0", f"{bad}:1"], bad


def test_fasta_without_header(tmp_path):
    fasta, bad = _two_fastas(tmp_path, "ACGTACGT\n>chr2:0-8\nACGTACGT\n")
    message = _fails(tmp_path, [str(bad), "line 1", "first header"], fasta=fasta, split="random")
    assert "'>name'" in message


def test_fasta_empty_record(tmp_path):
    fasta, bad = _two_fastas(tmp_path, ">chr2:0-8\nACGTACGT\n>chr3:0-8\n\n>chr4:0-8\nACGTACGA\n")
    _fails(tmp_path, [str(bad), "line 3", "record chr3:0-8", "empty record"], fasta=fasta, split="random")


def test_fasta_bad_characters(tmp_path):
    fasta, bad = _two_fastas(tmp_path, ">chr2:0-8\nACGTACGT\n>chr3:0-8\nACGT\nAC-Z\n")
    _fails(tmp_path, [str(bad), "line 5", "record chr3:0-8", "'-'", "'Z'", "IUPAC"], fasta=fasta, split="random")


def test_fasta_iupac_codes_are_accepted_but_dropped_by_max_n(tmp_path):
    rng = np.random.default_rng(0)
    extra = "".join(f">chr2:{i}-{i + 8}\n{''.join(rng.choice(list('acgt'), 8))}\n" for i in range(10))
    fasta, _ = _two_fastas(tmp_path, ">chr2:0-8\nACGTRYKM\n>chr3:0-8\nACGTNCGT\n" + extra)
    out = run_prepare(tmp_path / "D", fasta=fasta, split="random", figures=False)
    from regdna.data.dataset import load_info, read_split

    info = load_info(out)
    assert info.counts["too_many_n"] == 2 and info.counts["final"] == 12
    # soft-masked (lower-case) input is upper-cased
    seqs = {s for split in ("train", "val", "test") for s in read_split(out, split)["sequence"]}
    assert all(s == s.upper() for s in seqs)


def test_fasta_without_coordinates_for_chrom_split(tmp_path):
    fasta, bad = _two_fastas(tmp_path, ">enhancer_7\nACGTACGT\n")
    _fails(tmp_path, [str(bad), "line 1", "record enhancer_7", "--split random"], fasta=fasta, split="chrom")


def test_bed_start_not_below_end(tmp_path, toy_genome):
    genome, _ = toy_genome
    bed = tmp_path / "peaks.bed"
    bed.write_text("chr1\t100\t200\nchr1\t500\t500\n")
    _fails(tmp_path, [str(bed), "line 2", "start 500 >= end 500"], bed=[f"{bed}:1"], genome=genome, length=50,
           negatives="shuffle")


def test_bed_bad_columns(tmp_path, toy_genome):
    genome, _ = toy_genome
    bed = tmp_path / "peaks.bed"
    bed.write_text("track name=x\nchr1\t100\t200\nchr1\tabc\t300\n")
    _fails(tmp_path, [str(bed), "line 3", "not integers"], bed=[f"{bed}:1"], genome=genome, negatives="shuffle")


def test_bed_chromosome_absent_from_genome(tmp_path, toy_genome):
    genome, _ = toy_genome
    bed = tmp_path / "peaks.bed"
    bed.write_text("chr1\t100\t200\nchr2\t100\t200\nchr13\t100\t200\n")
    _fails(tmp_path, [str(bed), "line 3", "'chr13'", "not in genome"], bed=[f"{bed}:1"], genome=genome,
           length=50, negatives="shuffle")


def test_missing_label_column(tmp_path):
    table = tmp_path / "t.tsv"
    table.write_text("sequence\tcell_a\nACGTACGT\t1\n")
    _fails(tmp_path, [str(table), "'cell_b'", "sequence, cell_a"], table=table, labels="cell_a,cell_b",
           split="random")


def test_table_bad_sequence_names_line(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("sequence,y\nACGTACGT,1\nACGTXCGT,0\n")
    _fails(tmp_path, [str(table), "line 3", "'X'"], table=table, labels="y", split="random")


@pytest.mark.parametrize("content", ["not a fasta\n", "gzip"])
def test_unreadable_genome(tmp_path, content):
    bed = tmp_path / "peaks.bed"
    bed.write_text("chr1\t100\t200\n")
    genome = tmp_path / ("genome.fa.gz" if content == "gzip" else "genome.fa")
    if content == "gzip":
        genome.write_bytes(gzip.compress(b">chr1\nACGT\n"))
        parts = [str(genome), "bgzip"]
    else:
        genome.write_text(content)
        parts = [str(genome), "line 1"]
    _fails(tmp_path, parts, bed=[f"{bed}:1"], genome=genome, negatives="shuffle")


def test_missing_genome_file(tmp_path):
    bed = tmp_path / "peaks.bed"
    bed.write_text("chr1\t100\t200\n")
    _fails(tmp_path, [str(tmp_path / "nope.fa"), "does not exist"], bed=[f"{bed}:1"], genome=tmp_path / "nope.fa",
           negatives="shuffle")


def test_npz_wrong_layout(tmp_path):
    path = tmp_path / "train.npz"
    np.savez(path, X=np.zeros((3, 4, 10)), y=np.zeros(3))
    _fails(tmp_path, [str(path), "channels-first"], npz=[path], split="random")


def test_label_missing_after_colon(tmp_path):
    good = tmp_path / "good.fa"
    good.write_text(GOOD)
    _fails(tmp_path, [str(good), f"{good}:1"], fasta=[str(good)])


def test_single_class_without_negatives(tmp_path):
    good = tmp_path / "good.fa"
    good.write_text(GOOD * 2)
    _fails(tmp_path, ["only one class", "--negatives"], fasta=[f"{good}:1"], split="random", dedup=False)


def test_existing_output_survives_a_failed_run(tmp_path):
    fasta, bad = _two_fastas(tmp_path, ">chr2:0-8\nACGTACGT\n")
    out = tmp_path / "D"
    out.mkdir()
    (out / "keep.txt").write_text("previous dataset")
    bad.write_text("oops\n")
    with pytest.raises(RegdnaError):
        run_prepare(out, fasta=fasta, split="random")
    assert (out / "keep.txt").read_text() == "previous dataset"


def test_cli_prints_one_line_and_exits_2(tmp_path):
    import subprocess
    import sys

    fasta, bad = _two_fastas(tmp_path, "ACGT\n")
    result = subprocess.run([sys.executable, "-m", "regdna", "prepare", "--fasta", fasta[0], "--fasta", fasta[1],
                             "--out", str(tmp_path / "D")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error:") and str(bad) in result.stderr
    assert "Traceback" not in result.stderr
    assert _no_output(tmp_path / "D")
