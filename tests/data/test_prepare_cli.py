"""`regdna prepare` end to end through the CLI, with dataset.json numbers checked exactly."""
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner
from helpers import random_seqs

from regdna.cli import app
from regdna.data.dataset import load_info, read_split
from regdna.encode.onehot import reverse_complement

SPLIT_OF = {"chr8": "test", "chr9": "test", "chr10": "val"}



@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """a.fa (label 1) and b.fa (label 0) with planted duplicates, reverse complements,
    cross-class collisions and an N-containing record; headers chr:start-end."""
    d = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(7)
    a, b = random_seqs(40, 60, rng), random_seqs(40, 60, rng)
    a[5] = a[5][:30].lower() + a[5][30:]                      # soft-masked: must be upper-cased
    chrom = lambda i: f"chr{i % 12 + 1}"                       # noqa: E731
    a_recs = [(f"{chrom(i)}:{1000 * i}-{1000 * i + 60}", s) for i, s in enumerate(a)]
    a_recs += [(f"chr1:{90000 + i}-{90060 + i}", a[i].upper()) for i in (0, 1, 2)]      # 3 exact duplicates
    a_recs += [(f"chr2:{95000 + i}-{95060 + i}", reverse_complement(a[i])) for i in (3, 4)]  # 2 rc duplicates
    a_recs += [("chr3:99000-99060", "ACGTN" + a[6][5:])]                                 # dropped (N)
    b_recs = [(f"{chrom(i)}:{500 + 1000 * i}-{560 + 1000 * i}", s) for i, s in enumerate(b)]
    b_recs += [("chr4:70000-70060", a[10]), ("chr5:71000-71060", reverse_complement(a[11]))]  # collisions
    for name, recs in (("a.fa", a_recs), ("b.fa", b_recs)):
        (d / name).write_text("".join(f">{h}\n{s[:25]}\n{s[25:]}\n" for h, s in recs))
    # expected split sizes: the 40 + 40 originals minus the collided a[10], a[11]
    expected = {"train": {"0": 0, "1": 0}, "val": {"0": 0, "1": 0}, "test": {"0": 0, "1": 0}}
    for i in range(40):
        if i not in (10, 11):
            expected[SPLIT_OF.get(chrom(i), "train")]["1"] += 1
        expected[SPLIT_OF.get(chrom(i), "train")]["0"] += 1
    return d, expected, a


def test_prepare_cli_fasta_chrom_split(planted):
    d, expected, a = planted
    out = d / "D"
    result = CliRunner().invoke(app, ["prepare", "--fasta", f"{d}/a.fa:1", "--fasta", f"{d}/b.fa:0",
                                      "--split", "chrom", "--test-chroms", "chr8,chr9", "--val-chroms", "chr10",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "leakage across splits: 0" in result.output
    raw = json.loads((out / "dataset.json").read_text())
    info = load_info(out)
    assert info.task == "binary" and info.labels == ["label"] and info.length == 60
    c = info.counts
    assert c["input"] == 46 + 42
    assert c["too_many_n"] == 1
    assert c["within_class_duplicates"] == 5
    # 2 rc copies of a[3], a[4] plus a[11] and its rc in b.fa (a collision only under rc equivalence)
    assert c["removed_by_reverse_complement"] == 4
    assert c["cross_class_collisions"] == 4 and c["cross_class_sequences"] == 2
    assert c["final"] == 88 - 1 - 5 - 4 == 78
    assert c["leakage_shared_sequences"] == 0
    for split in ("train", "val", "test"):
        assert info.splits[split]["per_class"] == expected[split], split
        assert info.splits[split]["n"] == sum(expected[split].values())
        frame = read_split(out, split)
        assert len(frame) == info.splits[split]["n"]
        assert list(frame.columns) == ["id", "chrom", "start", "end", "sequence", "label"]
        assert frame["sequence"].str.len().eq(60).all()
        assert (frame["sequence"] == frame["sequence"].str.upper()).all()
    test = read_split(out, "test")
    assert set(test["chrom"]) == {"chr8", "chr9"}
    assert set(read_split(out, "val")["chrom"]) == {"chr10"}
    train = read_split(out, "train")
    assert a[5].upper() in set(train["sequence"]) or a[5].upper() in set(test["sequence"]) \
        or a[5].upper() in set(read_split(out, "val")["sequence"])
    # ids are the FASTA record names, coordinates parsed from them
    row = train[train["id"] == "chr1:0-60"].iloc[0]
    assert (row["chrom"], row["start"], row["end"]) == ("chr1", 0, 60)
    # QC: balance tests, GC and length summaries, figures
    balance = raw["qc"]["class_balance"]["all"]
    assert balance["counts"] == {"0": 40, "1": 38}
    assert balance["effect"] == "negligible"
    assert set(raw["qc"]["gc"]) == {"train", "val", "test"}
    assert raw["qc"]["length"]["train"]["all"]["min"] == 60
    for name in ("qc_class_balance.png", "qc_gc.png", "qc_length.png"):
        assert (out / "figures" / name).stat().st_size > 10_000
    assert raw["provenance"]["input_kind"] == "fasta"


def test_no_rc_dedup_keeps_reverse_complements_and_leakage_fails(planted):
    """Without reverse-complement de-dup the rc copies stay; they sit on chr2 (train) like their
    originals' ... unless an original is on a held-out chromosome, when the leakage check fires."""
    d, _, _ = planted
    out = d / "D_norc"
    result = CliRunner().invoke(app, ["prepare", "--fasta", f"{d}/a.fa:1", "--fasta", f"{d}/b.fa:0",
                                      "--no-rc-dedup", "--no-figures", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    info = load_info(out)
    # rc copies of a[3], a[4] survive; b's rc collision with a[11] is no longer a collision
    assert info.counts["within_class_duplicates"] == 3
    assert info.counts["cross_class_collisions"] == 2
    assert info.counts["final"] == 88 - 1 - 3 - 2


def test_leakage_check_fails_loudly_when_forced(tmp_path):
    from regdna.data.prepare import run_prepare
    from regdna.data.qc import LeakageError

    rng = np.random.default_rng(0)
    seqs = random_seqs(30, 60, rng)
    # the same sequence on chr1 (train) and, reverse-complemented, on chr8 (test)
    recs = [(f"chr{i % 12 + 1}:{i * 100}-{i * 100 + 60}", s) for i, s in enumerate(seqs)]
    recs.append(("chr8:5000-5060", reverse_complement(seqs[0])))
    (tmp_path / "p.fa").write_text("".join(f">{h}\n{s}\n" for h, s in recs))
    (tmp_path / "n.fa").write_text("".join(f">{h}\n{s}\n" for h, s in
                                           ((f"chr{i % 12 + 1}:{i}-{i + 60}", s) for i, s in
                                            enumerate(random_seqs(30, 60, rng)))))
    out = tmp_path / "D"
    with pytest.raises(LeakageError, match=r"1 sequence\(s\).*train-test: 1.*chr1:0-60 \(train\)"):
        run_prepare(out, fasta=[f"{tmp_path}/p.fa:1", f"{tmp_path}/n.fa:0"], dedup=False)
    assert not out.exists()
    # with de-duplication on, the copy is removed and the dataset is written
    run_prepare(out, fasta=[f"{tmp_path}/p.fa:1", f"{tmp_path}/n.fa:0"], figures=False)
    assert load_info(out).counts["within_class_duplicates"] == 1


def test_leakage_check_direct():
    from regdna.data.qc import LeakageError, check_leakage

    keys = np.array([1, 2, 3, 4, 2, 5, 4], dtype=np.uint64)
    splits = np.array([0, 0, 0, 1, 1, 2, 2])
    result = check_leakage(keys, splits, raise_error=False)
    assert result == {"shared_sequences": 2, "pairs": {"train-val": 1, "train-test": 0, "val-test": 1}}
    with pytest.raises(LeakageError, match="2 sequence"):
        check_leakage(keys, splits, ids=[f"s{i}" for i in range(7)])
    assert check_leakage(np.array([1, 2, 3], dtype=np.uint64), np.array([0, 1, 2]))["shared_sequences"] == 0


def test_export_npz_round_trip(planted, tmp_path):
    from regdna.encode.onehot import one_hot_to_strings

    d, _, _ = planted
    out = tmp_path / "E"
    result = CliRunner().invoke(app, ["prepare", "--fasta", f"{d}/a.fa:1", "--fasta", f"{d}/b.fa:0",
                                      "--split", "random", "--export", "npz", "--quiet", "--no-figures",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    train = read_split(out, "train")
    with np.load(out / "train.npz") as data:
        assert data["X"].shape == (len(train), 60, 4) and data["y"].shape == (len(train),)
        assert one_hot_to_strings(data["X"]) == train["sequence"].tolist()
        assert data["y"].tolist() == train["label"].tolist()
    # and the NPZ files read back as input, their names acting as the split column
    back = tmp_path / "F"
    result = CliRunner().invoke(app, ["prepare", *sum((["--npz", str(out / f"{s}.npz")] for s in
                                                       ("train", "val", "test")), []),
                                      "--split", "column", "--quiet", "--no-figures", "--out", str(back)])
    assert result.exit_code == 0, result.output
    again = load_info(back)
    assert {s: again.splits[s]["n"] for s in again.splits} == {s: load_info(out).splits[s]["n"] for s in again.splits}
    assert pd.read_parquet(back / "train.parquet")["sequence"].tolist() == train["sequence"].tolist()
