"""Tables, BED + genome with interval filters, NPZ, task detection, splits and balance tests."""
import math

import numpy as np
import pandas as pd
import pytest
from helpers import random_seqs

from regdna.data.dataset import load_info, read_split
from regdna.data.prepare import run_prepare



def test_table_multilabel_detected_with_missing_labels(tmp_path):
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame({"sequence": random_seqs(n, 40, rng), "cell_a": rng.integers(0, 2, n).astype(float),
                          "cell_b": rng.integers(0, 2, n).astype(float), "other": 1})
    frame.loc[3, "cell_b"] = np.nan
    frame.to_parquet(tmp_path / "t.parquet")
    out = run_prepare(tmp_path / "D", table=tmp_path / "t.parquet", labels="cell_a,cell_b", split="random",
                      figures=False)
    info = load_info(out)
    assert info.task == "multilabel" and info.labels == ["cell_a", "cell_b"]
    assert sum(info.splits[s]["n"] for s in info.splits) == n
    assert sum(info.splits[s]["per_class"]["cell_a"] for s in info.splits) == int(frame["cell_a"].sum())
    all_rows = pd.concat([read_split(out, s) for s in ("train", "val", "test")])
    assert all_rows["cell_b"].isna().sum() == 1
    assert list(all_rows.columns) == ["id", "chrom", "start", "end", "sequence", "cell_a", "cell_b"]


def test_table_regression_and_multiclass(tmp_path):
    rng = np.random.default_rng(1)
    n = 120
    seqs = random_seqs(n, 40, rng)
    pd.DataFrame({"sequence": seqs, "activity": rng.normal(size=n)}).to_csv(tmp_path / "r.csv", index=False)
    info = load_info(run_prepare(tmp_path / "R", table=tmp_path / "r.csv", labels="activity", split="random",
                                 figures=False))
    assert info.task == "regression"
    classes = np.array(["GATA", "SPI1", "TAL1"])[rng.integers(0, 3, n)]
    pd.DataFrame({"sequence": seqs, "tf": classes}).to_csv(tmp_path / "m.tsv", sep="\t", index=False)
    out = run_prepare(tmp_path / "M", table=tmp_path / "m.tsv", labels="tf", split="random", figures=True)
    info = load_info(out)
    assert info.task == "multiclass" and info.labels == ["tf"]
    assert sorted(info.classes) == ["GATA", "SPI1", "TAL1"]
    total = {c: sum(info.splits[s]["per_class"][c] for s in info.splits) for c in info.classes}
    assert total == {c: int((classes == c).sum()) for c in info.classes}
    assert "cohens_w" in info.qc["class_balance"]["all"]
    # --task overrides detection, and is checked
    with pytest.raises(Exception, match="--task binary needs labels 0/1"):
        run_prepare(tmp_path / "X", table=tmp_path / "r.csv", labels="activity", split="random", task="binary")


def test_random_split_is_stratified_with_72_5_12_75_15_fractions(tmp_path):
    rng = np.random.default_rng(2)
    n0, n1 = 400, 600
    pd.DataFrame({"sequence": random_seqs(n0 + n1, 40, rng), "y": [0] * n0 + [1] * n1}).to_csv(tmp_path / "t.csv", index=False)
    out = run_prepare(tmp_path / "D", table=tmp_path / "t.csv", labels="y", split="random", seed=3, figures=False)
    info = load_info(out)
    # val and test are 12.75 % and 15 % of each class; train takes the rest (72.25 %)
    assert info.splits["test"]["per_class"] == {"0": 60, "1": 90}
    assert info.splits["val"]["per_class"] == {"0": 51, "1": 76}
    assert info.splits["train"]["per_class"] == {"0": 289, "1": 434}
    again = load_info(run_prepare(tmp_path / "E", table=tmp_path / "t.csv", labels="y", split="random", seed=3,
                                  figures=False))
    assert read_split(out, "test")["id"].tolist() == read_split(tmp_path / "E", "test")["id"].tolist()
    assert again.splits == info.splits


def test_class_balance_matches_hand_computation():
    from scipy import stats

    from regdna.data.qc import class_balance

    result = class_balance({"0": 40, "1": 60})
    assert result["chi2"] == pytest.approx(4.0)                 # (10^2 / 50) * 2
    assert result["chi2_p"] == pytest.approx(stats.chi2.sf(4.0, 1))
    assert result["binomial_p"] == pytest.approx(stats.binomtest(60, 100, 0.5).pvalue)
    assert result["cohens_h"] == pytest.approx(2 * math.asin(math.sqrt(0.6)) - 2 * math.asin(math.sqrt(0.5)))
    assert result["cohens_h"] == pytest.approx(0.2013579, abs=1e-6)
    assert result["cohens_w"] == pytest.approx(0.2)
    assert result["effect"] == "small" and result["ratio_major_minor"] == pytest.approx(1.5)
    # King et al. n.d.: 1,146,321 normal vs 1,191,958 tumour: both tests reject 50/50, the effect is
    # negligible
    big = class_balance({"normal": 1_146_321, "tumour": 1_191_958})
    assert big["chi2_p"] < 1e-100 and big["binomial_p"] < 1e-100
    assert big["effect"] == "negligible" and big["ratio_major_minor"] == pytest.approx(1.0398, abs=1e-4)


def test_chrom_split_names_with_and_without_chr():
    from regdna.data.splits import chrom_split

    codes = chrom_split(["chr1", "8", "chr9", "10", "chrX"], ["chr8", "chr9"], ["chr10"])
    assert codes.tolist() == [0, 2, 2, 1, 0]


def test_bed_filters_and_narrowpeak_summits(tmp_path, toy_genome):
    genome, seqs = toy_genome
    peaks = tmp_path / "peaks.narrowPeak"
    rows = [
        ("chr1", 400, 600, 20),     # kept; summit at 420
        ("chr2", 400, 600, -1),     # kept; midpoint 500
        ("chrUn_x", 400, 600, 10),  # non-canonical
        ("chr3", 400, 600, 50),     # blacklisted
        ("chr4", 400, 600, 50),     # not in --intersect set
        ("chr5", 400, 600, 50),     # within --exclude-window of an exon
        ("chr6", 10, 30, 5),        # kept, window padded at the chromosome start (N; padding not counted by --max-n)
    ] + [(c, 400, 600, 0) for c in ("chr7", "chr8", "chr9", "chr10")]   # kept, one per split chromosome
    peaks.write_text("".join(f"{c}\t{s}\t{e}\tp\t0\t.\t1\t1\t1\t{m}\n" for c, s, e, m in rows))
    (tmp_path / "black.bed").write_text("chr3\t550\t560\n")
    (tmp_path / "h3k27ac.bed").write_text("".join(f"{c}\t450\t460\n" for c in ("chr1", "chr2", "chr3", "chr5", "chr6",
                                                                              "chr7", "chr8", "chr9", "chr10"))
                                          + "chr6\t0\t20\nchrUn_x\t0\t1000\n")
    (tmp_path / "exons.bed").write_text("chr5\t700\t710\nchr1\t2000\t2100\n")
    common = dict(bed=[f"{peaks}:1"], genome=genome, length=100, blacklist=[tmp_path / "black.bed"],
                  intersect=[tmp_path / "h3k27ac.bed"], exclude=[tmp_path / "exons.bed"], exclude_window=150,
                  negatives="shuffle", split="chrom", figures=False)
    out = run_prepare(tmp_path / "D", **common)
    info = load_info(out)
    c = info.counts
    assert (c["input"], c["non_canonical"], c["blacklist"], c["intersect"], c["exclude"]) == (11, 1, 1, 1, 1)
    assert c["padded_windows"] == 1 and c["too_many_n"] == 0
    rows_out = pd.concat([read_split(out, s) for s in ("train", "val", "test")])
    pos = rows_out[rows_out["label"] == 1].set_index("id")
    assert {"chr1:370-470", "chr10:350-450"} <= set(pos.index)
    assert "chr2:450-550" in pos.index and len(pos) == 7
    assert pos.loc["chr6:-35-65", "sequence"] == "N" * 35 + seqs["chr6"][:65] and pos["start"].dtype == np.int64
    assert pos.loc["chr1:370-470", "sequence"] == seqs["chr1"][370:470].upper()
    assert pos.loc["chr2:450-550", "sequence"] == seqs["chr2"][450:550]
    assert c["negatives_added"] == 7 and c["final"] == 14
    # shuffled negatives stay on their positive's chromosome, hence in its split
    assert info.splits["test"]["per_class"] == {"0": 2, "1": 2} and info.splits["val"]["per_class"] == {"0": 1, "1": 1}
    # a smaller exclusion window keeps the chr5 peak (exon 100 bp away from its end)
    info2 = load_info(run_prepare(tmp_path / "E", **{**common, "exclude_window": 50}))
    assert info2.counts["exclude"] == 0 and info2.counts["final"] == 16


def test_bed_label_columns_from_header(tmp_path, toy_genome):
    genome, _ = toy_genome
    bed = tmp_path / "cells.bed"
    lines = ["#chrom\tstart\tend\tcell_a\tcell_b"]
    rng = np.random.default_rng(5)
    for i in range(60):
        chrom = f"chr{i % 12 + 1}"
        lines.append(f"{chrom}\t{100 + 40 * (i // 12)}\t{140 + 40 * (i // 12)}\t{i % 2}\t{rng.integers(0, 2)}")
    bed.write_text("\n".join(lines) + "\n")
    out = run_prepare(tmp_path / "D", bed=[str(bed)], labels="cell_a,cell_b", genome=genome, length=30,
                      split="chrom", test_chroms="chr8,chr9", val_chroms="chr10", figures=False)
    info = load_info(out)
    assert info.task == "multilabel" and info.labels == ["cell_a", "cell_b"]
    assert info.splits["test"]["n"] == 10 and info.splits["val"]["n"] == 5 and info.splits["train"]["n"] == 45


def test_bed_streams_in_chunks(tmp_path, toy_genome):
    """The same dataset whether intervals are read 7 at a time or all at once."""
    genome, _ = toy_genome
    bed_pos, bed_neg = tmp_path / "pos.bed", tmp_path / "neg.bed"
    bed_pos.write_text("".join(f"chr{i % 12 + 1}\t{100 + 50 * (i // 12)}\t{150 + 50 * (i // 12)}\n" for i in range(48)))
    bed_neg.write_text("".join(f"chr{i % 12 + 1}\t{2000 + 50 * (i // 12)}\t{2050 + 50 * (i // 12)}\n" for i in range(48)))
    args = dict(bed=[f"{bed_pos}:1", f"{bed_neg}:0"], genome=genome, length=40, figures=False)
    a = run_prepare(tmp_path / "A", chunk_size=7, **args)
    b = run_prepare(tmp_path / "B", chunk_size=100_000, **args)
    for split in ("train", "val", "test"):
        pd.testing.assert_frame_equal(read_split(a, split), read_split(b, split))
    assert load_info(a).counts == load_info(b).counts


def test_fasta_non_canonical_contigs_dropped_and_counted(tmp_path):
    rng = np.random.default_rng(9)
    names = [f"chr{i % 12 + 1}:{i * 100}-{i * 100 + 40}" for i in range(48)] + ["chrUn_gl000220:0-40", "chr1_random:5-45"]
    for label in ("1", "0"):
        (tmp_path / f"{label}.fa").write_text("".join(f">{n}\n{s}\n" for n, s in zip(names, random_seqs(len(names), 40, rng))))
    fasta = [f"{tmp_path}/1.fa:1", f"{tmp_path}/0.fa:0"]
    info = load_info(run_prepare(tmp_path / "D", fasta=fasta, figures=False))
    assert info.counts["non_canonical"] == 4 and info.counts["final"] == 96
    info = load_info(run_prepare(tmp_path / "E", fasta=fasta, canonical=False, split="random", figures=False))
    assert info.counts.get("non_canonical", 0) == 0 and info.counts["final"] == 100


def test_gc_matched_negatives_through_prepare(tmp_path):
    from helpers import write_toy_genome

    genome = tmp_path / "genome.fa"
    write_toy_genome(genome, seed=4, sizes={f"chr{i}": 20_000 for i in range(1, 13)})
    bed = tmp_path / "pos.bed"
    bed.write_text("".join(f"chr{i % 12 + 1}\t{300 + 400 * (i // 12)}\t{400 + 400 * (i // 12)}\n" for i in range(36)))
    out = run_prepare(tmp_path / "D", bed=[f"{bed}:1"], genome=genome, length=100, negatives="gc-matched",
                      gc_tolerance=0.03, figures=False)
    info = load_info(out)
    gc = info.counts["gc_matched"]
    assert gc["requested"] == 36 and gc["matched"] == 36 and gc["max_gc_difference"] < 0.03
    assert info.counts["negatives_added"] == 36
    rows = pd.concat([read_split(out, s) for s in ("train", "val", "test")])
    neg = rows[rows["label"] == 0]
    pos = rows[rows["label"] == 1]
    # negatives avoid the positive windows
    for r in neg.itertuples():
        same = pos[pos["chrom"] == r.chrom]
        assert not ((same["start"] < r.end) & (same["end"] > r.start)).any()
    # class GC means agree within the tolerance in every split
    for split, entry in info.qc["gc_difference"].items():
        assert abs(entry["mean_difference"]) < 0.03, split


def test_fasta_length_crops_and_pads_around_the_centre(tmp_path):
    rng = np.random.default_rng(11)
    seqs = random_seqs(48, 60, rng)
    names = [f"chr{i % 12 + 1}:{1000 + i * 100}-{1060 + i * 100}" for i in range(48)]
    (tmp_path / "a.fa").write_text("".join(f">{n}\n{s}\n" for n, s in zip(names, seqs)))
    (tmp_path / "b.fa").write_text("".join(f">{n}\n{s}\n" for n, s in zip(names, random_seqs(48, 60, rng))))
    fasta = [f"{tmp_path}/a.fa:1", f"{tmp_path}/b.fa:0"]
    out = run_prepare(tmp_path / "C", fasta=fasta, length=40, figures=False)
    rows = pd.concat([read_split(out, s) for s in ("train", "val", "test")]).set_index("id")
    row = rows[rows["label"] == 1].loc[names[0]]
    assert (row["start"], row["end"], row["sequence"]) == (1010, 1050, seqs[0][10:50])
    assert load_info(out).counts["resized_to_length"] == 96 and load_info(out).length == 40
    out = run_prepare(tmp_path / "P", fasta=fasta, length=80, max_n=0.25, figures=False)
    rows = pd.concat([read_split(out, s) for s in ("train", "val", "test")]).set_index("id")
    row = rows[rows["label"] == 1].loc[names[0]]
    assert (row["start"], row["end"], row["sequence"]) == (990, 1070, "N" * 10 + seqs[0] + "N" * 10)
    # padding N are not the sequence's own: the default --max-n 0 keeps padded sequences
    info = load_info(run_prepare(tmp_path / "Z", fasta=fasta, length=80, figures=False))
    assert info.counts["too_many_n"] == 0 and info.counts["final"] == 96
