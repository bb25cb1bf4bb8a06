"""The shared building blocks: one-hot encoding, genome access, shuffles, atomic writes, CLI."""
import collections
import subprocess
import sys

import numpy as np
import pytest
from helpers import random_seq

from regdna.data.shuffle import dinucleotide_shuffles
from regdna.encode.onehot import base_indices, one_hot, one_hot_to_strings, reverse_complement
from regdna.errors import RegdnaError
from regdna.io.genome import Genome
from regdna.utils.atomic import atomic_dir, atomic_file


def test_one_hot_layout_and_roundtrip():
    x = one_hot(["ACGTN", "acg"], length=5)
    assert x.shape == (2, 5, 4)
    assert x[0, :4].argmax(axis=1).tolist() == [0, 1, 2, 3]
    assert x[0, 4].sum() == 0 and x[1, 3:].sum() == 0          # N and padding are all zeros
    assert one_hot_to_strings(x) == ["ACGTN", "ACGNN"]
    xc = one_hot(["ACGT"], channels_first=True)
    assert xc.shape == (1, 4, 4) and np.array_equal(xc[0], np.eye(4))
    with pytest.raises(ValueError):
        base_indices(["ACGTA"], length=3)


def test_reverse_complement_flips_onehot_both_axes():
    seq = "AACGTTTGCAN"
    assert reverse_complement(seq) == "NTGCAAACGTT"
    assert reverse_complement("acgR") == "Ycgt"
    flipped = one_hot([seq], channels_first=True)[:, ::-1, ::-1]
    assert np.array_equal(flipped, one_hot([reverse_complement(seq)], channels_first=True))


def test_dinucleotide_shuffle_keeps_counts_exactly():
    rng = np.random.default_rng(0)
    seq = random_seq(300, rng)
    shuffles = dinucleotide_shuffles(seq, 20, seed=1)
    pairs = lambda s: collections.Counter(zip(s[:-1], s[1:]))  # noqa: E731
    assert all(pairs(s) == pairs(seq) for s in shuffles)
    assert len(set(shuffles)) == 20                              # they really are shuffled
    assert shuffles == dinucleotide_shuffles(seq, 20, seed=1)    # and reproducible


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


def test_atomic_dir_leaves_nothing_on_failure(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as tmp:
            (tmp / "partial.txt").write_text("x")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with atomic_dir(out) as tmp:
        (tmp / "done.txt").write_text("ok")
    with atomic_file(out / "f.txt") as handle:
        handle.write("hello")
    assert sorted(p.name for p in out.iterdir()) == ["done.txt", "f.txt"]


def test_cli_version_and_every_verb_has_help():
    version = subprocess.run([sys.executable, "-m", "regdna", "--version"], capture_output=True, text=True)
    assert version.stdout.strip().startswith("regdna ")
    import typer.main
    from typer.testing import CliRunner

    from regdna.cli import app

    runner = CliRunner()
    listing = runner.invoke(app, ["--help"]).output
    verbs = sorted(typer.main.get_command(app).commands)
    assert {"prepare", "train", "evaluate", "vep", "attribute"} <= set(verbs)
    for verb in verbs:
        assert verb in listing
        result = runner.invoke(app, [verb, "--help"])
        assert result.exit_code == 0 and "--" in result.output, verb


def test_load_records_from_fasta_or_a_dataset_split(tmp_path):
    import pandas as pd

    from regdna.data.dataset import DatasetInfo, write_info
    from regdna.data.records import load_records

    fa = tmp_path / "x.fa"
    fa.write_text(">chr2:10-14\nacgt\n>free\nTTTT\n>chr3:0-4\nGGGG\n")
    table = load_records(fasta=fa, n=2)
    assert table.id.tolist() == ["chr2:10-14", "free"] and table.sequence.tolist() == ["ACGT", "TTTT"]
    assert (table.chrom[0], table.start[0], table.end[0]) == ("chr2", 10, 14)
    data = tmp_path / "d"
    data.mkdir()
    write_info(data, DatasetInfo(task="binary", labels=["y"]))
    pd.DataFrame({"id": list("abc"), "chrom": "chr1", "start": 0, "end": 4,
                  "sequence": ["AAAA", "CCCC", "GGGG"], "y": [1.0, 0.0, 1.0]}
                 ).to_parquet(data / "test.parquet")
    assert load_records(data=data, label="1").id.tolist() == ["a", "c"]
    with pytest.raises(RegdnaError, match="exactly one"):
        load_records(fasta=fa, data=data)
    with pytest.raises(RegdnaError, match="no sequences"):
        load_records(data=data, label="1", n=0)


def test_predictor_output_index_by_name_or_number():
    import torch

    from regdna.runs.predictor import Predictor

    predictor = Predictor(torch.nn.Linear(1, 2), task="multilabel", labels=["dnase", "atac"],
                          device="cpu")
    assert predictor.output_index("atac") == 1 and predictor.output_index("0") == 0
    with pytest.raises(RegdnaError, match="dnase, atac"):
        predictor.output_index("2")
