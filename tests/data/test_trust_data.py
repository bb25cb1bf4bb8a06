"""`prepare` and `example` never destroy what the user did not ask for, never map labels
silently, keep genome-edge windows, and say which filter emptied a class."""
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from helpers import random_seq, random_seqs

from regdna.data.dataset import load_info, read_split
from regdna.data.prepare import run_prepare
from regdna.errors import RegdnaError

SPLITS = ("train", "val", "test")



def _fastas(root, n=30, seed=0, neg_text=None):
    """pos.fa (label 1) and neg.fa (label 0) of random 40-bp sequences on chr1..chr12."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for name in ("pos", "neg"):
        records = [f">chr{i % 12 + 1}:{1000 + 100 * i}-{1040 + 100 * i}\n{s}\n"
                   for i, s in enumerate(random_seqs(n, 40, rng))]
        (root / f"{name}.fa").write_text("".join(records))
    if neg_text is not None:
        (root / "neg.fa").write_text(neg_text)
    return [f"{root / 'pos.fa'}:1", f"{root / 'neg.fa'}:0"]


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if ".tmp-" in p.name or p.name.endswith(".new")
                  or ".old-" in p.name)


def _all_rows(out):
    return pd.concat([read_split(out, s) for s in SPLITS], ignore_index=True)


# --------------------------------------------------------------------------- output policy
def test_prepare_refuses_a_dir_with_unrelated_files_and_keeps_them(tmp_path):
    fasta = _fastas(tmp_path / "in")
    out = tmp_path / "D"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    with pytest.raises(RegdnaError, match="notes.txt|not written by regdna") as err:
        run_prepare(out, fasta=fasta, split="random", figures=False)
    assert "--overwrite" in str(err.value)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "my notes"
    assert _leftovers(tmp_path) == []


def test_prepare_refuses_an_out_holding_its_inputs(tmp_path):
    fasta = _fastas(tmp_path / "d")
    for overwrite in (False, True):
        with pytest.raises(RegdnaError, match="contains the input"):
            run_prepare(tmp_path / "d", fasta=fasta, split="random", figures=False, overwrite=overwrite)
    assert (tmp_path / "d" / "pos.fa").is_file() and (tmp_path / "d" / "neg.fa").is_file()
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["neg.fa", "pos.fa"]


def test_prepare_checks_out_before_any_work(tmp_path):
    """A refused --out is reported first: no genome is opened, nothing is read."""
    out = tmp_path / "D"
    out.mkdir()
    (out / "x.txt").write_text("x")
    (tmp_path / "peaks.bed").write_text("chr1\t10\t20\n")
    with pytest.raises(RegdnaError, match="--out"):
        run_prepare(out, bed=[f"{tmp_path / 'peaks.bed'}:1"], genome=tmp_path / "no_such_genome.fa", length=10)
    assert not (tmp_path / "no_such_genome.fa.fai").exists()


def test_prepare_out_dot_writes_the_working_dir_and_leaves_no_tmp(tmp_path, monkeypatch):
    fasta = _fastas(tmp_path / "in")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    run_prepare(".", fasta=fasta, split="random", figures=False)
    names = sorted(p.name for p in work.iterdir())
    assert {"dataset.json", "train.parquet", "val.parquet", "test.parquet"} <= set(names)
    assert _leftovers(work) == [] and _leftovers(tmp_path) == []
    assert not [n for n in names if n.startswith(".") and n != ".regdna-output.json"]
    run_prepare(".", fasta=fasta, split="random", figures=False)      # its own earlier output: replaced
    assert load_info(work).counts["final"] == 60


def test_prepare_refuses_an_existing_file_as_out(tmp_path):
    fasta = _fastas(tmp_path / "in")
    target = tmp_path / "existing_file.txt"
    target.write_text("precious")
    for overwrite in (False, True):
        with pytest.raises(RegdnaError, match="is a file"):
            run_prepare(target, fasta=fasta, split="random", figures=False, overwrite=overwrite)
    assert target.is_file() and target.read_text() == "precious"


def test_prepare_replaces_its_own_output_and_overwrite_replaces_a_foreign_dir(tmp_path):
    fasta = _fastas(tmp_path / "in")
    out = run_prepare(tmp_path / "D", fasta=fasta, split="random", figures=False)
    run_prepare(out, fasta=fasta, split="random", seed=1, figures=False)
    assert load_info(out).provenance["seed"] == 1
    (out / "mine.txt").write_text("added by hand")          # no longer only prepare's files
    with pytest.raises(RegdnaError, match="mine.txt"):
        run_prepare(out, fasta=fasta, split="random", figures=False)
    assert (out / "mine.txt").is_file()
    foreign = tmp_path / "F"
    foreign.mkdir()
    (foreign / "old.txt").write_text("old")
    run_prepare(foreign, fasta=fasta, split="random", figures=False, overwrite=True)
    assert not (foreign / "old.txt").exists() and (foreign / "dataset.json").is_file()


def test_cli_prepare_refusal_is_one_line_and_overwrite_flag_works(tmp_path):
    fasta = _fastas(tmp_path / "in")
    out = tmp_path / "D"
    out.mkdir()
    (out / "keep.txt").write_text("keep")
    command = [sys.executable, "-m", "regdna", "prepare", "--fasta", fasta[0], "--fasta", fasta[1],
               "--split", "random", "--no-figures", "--quiet", "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error:") and "--overwrite" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (out / "keep.txt").read_text() == "keep"
    result = subprocess.run(command + ["--overwrite"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert not (out / "keep.txt").exists() and (out / "dataset.json").is_file()


def test_example_follows_the_output_policy(tmp_path):
    from regdna.data.example import run_example

    out = run_example(tmp_path / "ex", n_per_class=20, length=150)
    run_example(out, n_per_class=20, length=150, seed=1)          # an earlier example: replaced
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("years of work")
    with pytest.raises(RegdnaError, match="--overwrite"):
        run_example(foreign, n_per_class=20, length=150)
    assert (foreign / "thesis.tex").read_text() == "years of work"
    run_example(foreign, n_per_class=20, length=150, overwrite=True)
    assert not (foreign / "thesis.tex").exists() and (foreign / "genome.fa").is_file()
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(RegdnaError, match="is a file"):
        run_example(target, n_per_class=20, length=150)
    assert target.read_text() == "x"
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------- labels
def _yes_no_table(tmp_path, extra=None, first="yes", n=60):
    rng = np.random.default_rng(4)
    labels = [first] + list(rng.choice(["yes", "no"], n - 1))
    if extra:
        for row, value in extra.items():
            labels[row] = value
    path = tmp_path / "t.csv"
    pd.DataFrame({"sequence": random_seqs(n, 40, rng), "label": labels}).to_csv(path, index=False)
    return path, labels


def test_named_labels_are_numbered_in_sorted_order_and_stored(tmp_path):
    path, labels = _yes_no_table(tmp_path, first="yes")
    out = run_prepare(tmp_path / "D", table=path, labels="label", split="random", figures=False)
    info = load_info(out)
    assert info.task == "binary" and info.classes == ["no", "yes"]
    assert json.loads((out / "dataset.json").read_text())["classes"] == ["no", "yes"]
    rows = _all_rows(out)
    table = pd.read_csv(path)
    expected = dict(zip(table["sequence"], (table["label"] == "yes").astype(float)))
    assert all(expected[s] == y for s, y in zip(rows["sequence"], rows["label"]))
    assert sum(info.splits[s]["per_class"]["yes"] for s in SPLITS) == labels.count("yes")


def test_classes_option_fixes_the_order(tmp_path):
    path, labels = _yes_no_table(tmp_path)
    out = run_prepare(tmp_path / "D", table=path, labels="label", split="random", figures=False, classes="yes,no")
    info = load_info(out)
    assert info.classes == ["yes", "no"]
    rows = _all_rows(out)
    table = pd.read_csv(path)
    expected = dict(zip(table["sequence"], (table["label"] == "no").astype(float)))
    assert all(expected[s] == y for s, y in zip(rows["sequence"], rows["label"]))
    with pytest.raises(RegdnaError, match="'yes' is not in --classes no,maybe"):
        run_prepare(tmp_path / "E", table=path, labels="label", split="random", classes="no,maybe")
    with pytest.raises(RegdnaError, match="twice"):
        run_prepare(tmp_path / "E", table=path, labels="label", split="random", classes="no,no")
    assert not (tmp_path / "E").exists()


def test_stray_text_in_a_numeric_label_column_is_an_error_naming_the_rows(tmp_path):
    rng = np.random.default_rng(5)
    labels = [str(v) for v in rng.integers(0, 2, 50)]
    labels[7] = "oops"
    path = tmp_path / "t.csv"
    pd.DataFrame({"sequence": random_seqs(50, 40, rng), "label": labels}).to_csv(path, index=False)
    with pytest.raises(RegdnaError) as err:
        run_prepare(tmp_path / "D", table=path, labels="label", split="random")
    message = str(err.value)
    # data row 8 is line 9 of the CSV (the header is line 1)
    assert str(path) in message and "'label'" in message and "line 9" in message and "'oops'" in message
    assert not (tmp_path / "D").exists()


def test_missing_label_in_a_class_column_is_an_error_naming_the_rows(tmp_path):
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 2, 50).astype(float)
    labels[[3, 11]] = np.nan
    path = tmp_path / "t.csv"
    pd.DataFrame({"sequence": random_seqs(50, 40, rng), "label": labels}).to_csv(path, index=False)
    with pytest.raises(RegdnaError) as err:
        run_prepare(tmp_path / "D", table=path, labels="label", split="random")
    message = str(err.value)
    assert "2 missing" in message and "line 5" in message and "line 13" in message and "binary" in message


def test_named_file_labels_are_sorted_and_checked(tmp_path):
    fasta = _fastas(tmp_path / "in")
    pos, neg = (spec.rsplit(":", 1)[0] for spec in fasta)
    out = run_prepare(tmp_path / "D", fasta=[f"{pos}:enhancer", f"{neg}:background"], split="random", figures=False)
    info = load_info(out)
    assert info.task == "binary" and info.classes == ["background", "enhancer"]
    rows = _all_rows(out)
    pos_seqs = {line for line in open(pos).read().split("\n") if line and not line.startswith(">")}
    assert set(rows.loc[rows["label"] == 1, "sequence"]) == pos_seqs
    with pytest.raises(RegdnaError, match="mix numbers and names"):
        run_prepare(tmp_path / "E", fasta=[f"{pos}:1", f"{neg}:background"], split="random")
    with pytest.raises(RegdnaError, match="--classes orders named labels"):
        run_prepare(tmp_path / "E", fasta=fasta, split="random", classes="a,b")


# --------------------------------------------------------------------------- genome edges
def _edge_genome(path, n_run_chrom="chr5"):
    """chr1..chr12 of 2000 random bases; `n_run_chrom` has 30 N at 900-930."""
    rng = np.random.default_rng(7)
    seqs = {}
    with open(path, "w") as handle:
        for i in range(1, 13):
            seq = random_seq(2000, rng)
            if f"chr{i}" == n_run_chrom:
                seq = seq[:900] + "N" * 30 + seq[930:]
            seqs[f"chr{i}"] = seq
            handle.write(f">chr{i}\n{seq}\n")
    return seqs


def test_genome_edge_windows_are_kept_with_integer_coordinates(tmp_path):
    genome = tmp_path / "genome.fa"
    seqs = _edge_genome(genome)
    peaks = tmp_path / "peaks.narrowPeak"
    rows = [("chr1", 0, 40, 10),            # summit 10 bp from the chromosome start
            ("chr2", 1960, 2000, 30),       # summit 10 bp from the chromosome end
            ("chr5", 880, 950, 35)]         # genome's own N (30 of 100) inside the window
    rows += [(f"chr{i}", 500, 600, 50) for i in range(1, 13)]
    peaks.write_text("".join(f"{c}\t{s}\t{e}\tp\t0\t.\t1\t1\t1\t{m}\n" for c, s, e, m in rows))
    out = run_prepare(tmp_path / "D", bed=[f"{peaks}:1"], genome=genome, length=100, negatives="shuffle",
                      split="chrom", test_chroms="chr8,chr9", val_chroms="chr10", figures=False)
    info = load_info(out)
    assert info.counts["padded_windows"] == 2 and info.counts["too_many_n"] == 1
    train = read_split(out, "train")
    assert train["start"].dtype == np.int64 and train["end"].dtype == np.int64
    positives = train[train["label"] == 1].set_index("id")
    left, right = positives.loc["chr1:-40-60"], positives.loc["chr2:1940-2040"]
    assert (left["start"], left["end"]) == (-40, 60) and left["sequence"] == "N" * 40 + seqs["chr1"][:60]
    assert (right["start"], right["end"]) == (1940, 2040) and right["sequence"] == seqs["chr2"][1940:] + "N" * 40
    assert not any(i.startswith("chr5:835") for i in positives.index)
    # shuffled negatives of padded positives carry the same padding count, so they are kept too
    assert info.counts["negatives_added"] == info.counts["final"] // 2
    # a window whose own sequence has N above --max-n stays dropped when the padding is allowed for
    info = load_info(run_prepare(tmp_path / "E", bed=[f"{peaks}:1"], genome=genome, length=100,
                                 negatives="shuffle", max_n=0.3, split="chrom", test_chroms="chr8,chr9",
                                 val_chroms="chr10", figures=False))
    assert info.counts["too_many_n"] == 0


def test_a_class_emptied_by_a_filter_names_the_filter_and_the_option(tmp_path):
    rng = np.random.default_rng(8)
    neg = "".join(f">chr{i % 12 + 1}:{100 * i}-{100 * i + 40}\n{s[:20]}NN{s[22:]}\n"
                  for i, s in enumerate(random_seqs(30, 40, rng)))
    fasta = _fastas(tmp_path / "in", neg_text=neg)
    with pytest.raises(RegdnaError) as err:
        run_prepare(tmp_path / "D", fasta=fasta, split="random", figures=False)
    message = str(err.value)
    assert "class 0" in message and "neg.fa" in message and "all 30 record(s)" in message
    assert "--max-n 0" in message and "raise --max-n" in message
    names = "".join(f">chrUn_{i}:0-40\n{s}\n" for i, s in enumerate(random_seqs(30, 40, rng)))
    fasta = _fastas(tmp_path / "in2", neg_text=names)
    with pytest.raises(RegdnaError, match="--no-canonical"):
        run_prepare(tmp_path / "D", fasta=fasta, split="random", figures=False)


# --------------------------------------------------------------------------- summary
def test_summary_prints_the_mapping_short_numbers_and_no_figures_line_without_figures(tmp_path, capsys,
                                                                                       monkeypatch):
    from regdna.cli.data import print_summary

    monkeypatch.setenv("COLUMNS", "200")
    path, _ = _yes_no_table(tmp_path)
    out = run_prepare(tmp_path / "D", table=path, labels="label", split="random", figures=False)
    print_summary(out)
    text = capsys.readouterr().out
    assert "classes: no=0, yes=1" in text and "figures in" not in text
    rng = np.random.default_rng(9)
    pd.DataFrame({"sequence": random_seqs(60, 40, rng), "activity": rng.normal(size=60) / 3}).to_csv(tmp_path / "r.csv",
                                                                                          index=False)
    out = run_prepare(tmp_path / "R", table=tmp_path / "r.csv", labels="activity", split="random", figures=True)
    print_summary(out)
    text = capsys.readouterr().out
    assert "figures in" in text
    decimals = re.findall(r"\d*\.\d+", text)
    assert decimals and all(len(d.replace(".", "").lstrip("0")) <= 4 for d in decimals), decimals


def test_class_by_name_for_a_binary_dataset_with_named_classes():
    from types import SimpleNamespace

    from regdna.data.records import class_value

    info = SimpleNamespace(task="binary", classes=["no", "yes"])
    assert class_value(info, "yes") == 1 and class_value(info, "no") == 0 and class_value(info, "1") == 1.0
