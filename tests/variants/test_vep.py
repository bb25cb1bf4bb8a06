"""VCF / table reading, windows and variant scores, checked against hand-computed values."""
from __future__ import annotations

import gzip
import math

import numpy as np
import pandas as pd
import pytest
from var_helpers import GC_LENGTH, gc_logit, gc_predictor

from regdna.errors import RegdnaError
from regdna.io.genome import Genome
from regdna.io.vcf import iter_table, iter_variants, iter_vcf
from regdna.variants.effects import allele_scores, margin_logits
from regdna.variants.vep import score_variants
from regdna.data.windows import shift_offsets
from regdna.variants.windows import make_windows

HEADER = "##fileformat=VCFv4.2\n##contig=<ID=chr1>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
RECORDS = [
    ("chr1", 23, "v1", "A", "G"),      # inside the soft-masked (lower-case) stretch
    ("1", 5, "v2", "A", "C,T"),        # bare contig name + multi-allelic
    ("chr1", 6, "v3", "G", "T"),       # reference mismatch (genome has C)
    ("chrX", 10, "v4", "A", "G"),      # contig missing from the genome
    ("chr1", 10, "v5", "A", "<DEL>"),  # symbolic allele
    ("chr2", 2, "v6", "T", "TGG"),     # insertion near the start (N padding)
    ("chr2", 38, "v7", "CC", "C"),     # deletion near the end (N padding)
]


def write_vcf(path, records=RECORDS, header=HEADER, gz=False):
    text = header + "".join(f"{c}\t{p}\t{i}\t{r}\t{a}\t.\t.\t.\n" for c, p, i, r, a in records)
    if gz:
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


# -- reading -------------------------------------------------------------------------------------
def test_vcf_split_multiallelic_and_reasons(tmp_path):
    frame = pd.concat(list(iter_vcf(write_vcf(tmp_path / "v.vcf.gz", gz=True), chunk_size=3)))
    assert list(frame["id"]) == ["v1", "v2_1", "v2_2", "v3", "v4", "v5", "v6", "v7"]
    assert list(frame["alt"][1:3]) == ["C", "T"] and list(frame["line"][1:3]) == [5, 5]
    assert frame.set_index("id").loc["v5", "reason"].startswith("symbolic allele <DEL>")
    assert (frame["reason"] == "").sum() == 7


def test_vcf_without_header_is_one_clear_error(tmp_path):
    path = write_vcf(tmp_path / "nohead.vcf", header="")
    with pytest.raises(RegdnaError, match=r"nohead.vcf, line 1: no VCF header.*chrom, pos, ref, alt"):
        list(iter_vcf(path))


def test_table_missing_allele_columns(tmp_path):
    path = tmp_path / "bad.tsv"
    pd.DataFrame({"chrom": ["chr1"], "pos": [3], "ref": ["G"]}).to_csv(path, sep="\t", index=False)
    with pytest.raises(RegdnaError, match=r"bad.tsv: table has no allele columns \(missing alt"):
        list(iter_table(path))


def test_table_aliases_and_extra_columns(tmp_path):
    path = tmp_path / "v.tsv"
    pd.DataFrame({"#CHROM": ["chr1"], "POS": [3], "REF": ["G"], "ALT": ["A"], "kind": ["x"]}).to_csv(
        path, sep="\t", index=False)
    frame = next(iter_variants(path))
    assert frame.loc[0, ["chrom", "pos", "ref", "alt", "kind", "line"]].tolist() == ["chr1", 3, "G", "A", "x", 2]


# -- windows -------------------------------------------------------------------------------------
def test_windows_centre_pad_harmonise_and_skip(tmp_path, hand_genome):
    path, seqs = hand_genome
    frame = pd.concat(list(iter_vcf(write_vcf(tmp_path / "v.vcf"))))
    with Genome(path) as genome:
        win = make_windows(frame, genome, GC_LENGTH)
    reasons = dict(zip(frame["id"], win.reason))
    assert reasons["v3"].startswith("reference mismatch: REF 'G' but the genome has 'C'")
    assert reasons["v4"].startswith("contig 'chrX' is not in genome")
    assert reasons["v5"].startswith("symbolic allele")
    assert len(win.ref) == 5 and all(len(w) == GC_LENGTH for w in win.ref + win.alt)
    chr1, chr2 = seqs["chr1"], seqs["chr2"]
    # v1: SNV at 0-based 22 in the lower-case stretch: base L//2 of a window genome[12:32]
    assert win.ref[0] == chr1[12:32] and win.alt[0] == chr1[12:22] + "G" + chr1[23:32]
    # v2 ('1' -> chr1, 0-based 4): window starts 6 bp before the contig: N padding
    assert win.ref[1] == "N" * 6 + chr1[:14] and win.alt[2] == "N" * 6 + chr1[:4] + "T" + chr1[5:14]
    # v6 insertion T -> TGG at 0-based 1: alt allele centred (left = 10 - 1), ref like an SNV
    assert win.ref[3] == "N" * 9 + chr2[:11]
    assert win.alt[3] == "N" * 8 + chr2[:1] + "TGG" + chr2[2:10]
    # v7 deletion CC -> C at 0-based 37 (contig length 40): right flank N-padded
    assert win.ref[4] == chr2[28:37] + "CC" + chr2[39:] + "N" * 8
    assert win.alt[4] == chr2[27:37] + "C" + chr2[39:] + "N" * 8


def test_strict_raises_on_the_first_bad_record(tmp_path, hand_genome):
    path, _ = hand_genome
    frame = pd.concat(list(iter_vcf(write_vcf(tmp_path / "v.vcf"))))
    with Genome(path) as genome, pytest.raises(RegdnaError, match=r"v.vcf, line 6, record v3: reference mismatch"):
        make_windows(frame, genome, GC_LENGTH, strict=True, where=str(tmp_path / "v.vcf"))


# -- scores ---------------------------------------------------------------------------------------
def test_allele_scores_by_hand():
    z_ref, z_alt = np.array([[0.0], [2.0]]), np.array([[1.0], [-1.0]])
    s = allele_scores(z_ref, z_alt, "binary")
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    assert s["p_ref"][1, 0] == pytest.approx(sig(2.0))
    assert s["log2_ratio"][0, 0] == pytest.approx(math.log2(sig(1.0) / sig(0.0)))
    assert s["delta"][1, 0] == pytest.approx(sig(-1.0) - sig(2.0))
    assert s["logit_diff"][:, 0].tolist() == [1.0, -3.0]
    # saturated outputs stay finite: log2(sig(-60)/sig(-40)) ~ -20 / ln 2
    assert allele_scores(np.array([[-40.0]]), np.array([[-60.0]]), "binary")["log2_ratio"][0, 0] == \
        pytest.approx(-20 / math.log(2), rel=1e-6)
    # multiclass: sigmoid(margin) is the softmax probability
    z = np.array([[1.0, 2.0, 0.5]])
    soft = np.exp(z) / np.exp(z).sum()
    assert 1 / (1 + np.exp(-margin_logits(z, "multiclass"))) == pytest.approx(soft)


def test_score_variants_tsv_by_hand(tmp_path, hand_genome):
    path, seqs = hand_genome
    vcf = write_vcf(tmp_path / "v.vcf")
    summary = score_variants(vcf, tmp_path / "s.tsv", gc_predictor(), path, progress=False, chunk_size=3)
    out = pd.read_csv(tmp_path / "s.tsv", sep="\t", keep_default_na=False, na_values=["NA"])
    assert summary["n_variants"] == 8 and summary["n_scored"] == 5 and summary["n_skipped"] == 3
    assert "reference mismatch" in summary["skipped_by_reason"]
    assert [e["id"] for e in summary["skipped_examples"]] == ["v3", "v4", "v5"]
    row = out.set_index("id").loc["v1"]
    chr1 = seqs["chr1"]
    ref, alt = chr1[12:32], chr1[12:22] + "G" + chr1[23:32]
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    assert row["p_ref"] == pytest.approx(sig(gc_logit(ref)), rel=1e-5)
    assert row["log2_ratio"] == pytest.approx(math.log2(sig(gc_logit(alt)) / sig(gc_logit(ref))), rel=1e-4)
    assert row["logit_diff"] == pytest.approx(0.5, rel=1e-5)  # one A -> G in 20 bp: 10 / 20
    assert np.isnan(out.set_index("id").loc["v4", "p_ref"])
    assert not (tmp_path / ".s.tsv.parts").exists()


def test_rc_and_shift_robust_scores(tmp_path, hand_genome):
    path, seqs = hand_genome
    variants = pd.DataFrame({"chrom": ["chr1"], "pos": [23], "ref": ["A"], "alt": ["G"]})
    pred = gc_predictor()
    score_variants(variants, tmp_path / "s.parquet", pred, path, rc=True, shifts=3, max_shift=2,
                   progress=False)
    row = pd.read_parquet(tmp_path / "s.parquet").iloc[0]
    assert shift_offsets(3, 2) == [-2, 0, 2]
    chr1 = seqs["chr1"]
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    # GC content is strand-symmetric: RC averaging leaves the GC model unchanged
    assert row["p_ref"] == pytest.approx(sig(gc_logit(chr1[12:32])), rel=1e-5)
    # shift s moves the window start by +s (variant further left)
    p_ref = np.mean([sig(gc_logit(chr1[12 + s:32 + s])) for s in (-2, 0, 2)])
    p_alt = np.mean([sig(gc_logit(chr1[12 + s:22] + "G" + chr1[23:32 + s])) for s in (-2, 0, 2)])
    assert row["p_ref_robust"] == pytest.approx(p_ref, rel=1e-5)
    assert row["log2_ratio_robust"] == pytest.approx(math.log2(p_alt / p_ref), rel=1e-4)


def test_multi_output_columns_and_sequence_table(tmp_path):
    seqs = pd.DataFrame({"id": ["a", "b"], "ref_seq": ["A" * 20, "acgt" * 4],
                         "alt_seq": ["A" * 19 + "G", "ACGTACGTACGTACGG"]})
    table = tmp_path / "mpra.tsv"
    seqs.to_csv(table, sep="\t", index=False)
    score_variants(table, tmp_path / "s.tsv", gc_predictor(two=True), None, progress=False)
    out = pd.read_csv(tmp_path / "s.tsv", sep="\t")
    assert {"log2_ratio.y", "log2_ratio.z", "p_ref.y"} <= set(out.columns)
    # 16-bp sequences are centred in 20 bp with N (2 each side); logit_diff = 10 * (+1 GC) / 20
    assert out["logit_diff.y"].tolist() == pytest.approx([0.5, 0.5])
    assert out["logit_diff.z"].tolist() == pytest.approx([-0.5, -0.5])


class _Crash(Exception):
    pass


def test_resume_after_kill_and_shards_merge(tmp_path, hand_genome, monkeypatch):
    path, seqs = hand_genome
    rng = np.random.default_rng(0)
    pos = rng.integers(1, 60, 50)
    chr1 = seqs["chr1"]
    variants = pd.DataFrame({"chrom": "chr1", "pos": pos, "ref": [chr1[p - 1] for p in pos],
                             "alt": ["G" if chr1[p - 1] != "G" else "T" for p in pos]})
    table = tmp_path / "v.tsv"
    variants.to_csv(table, sep="\t", index=False)
    full = score_variants(table, tmp_path / "full.parquet", gc_predictor(), path, chunk_size=8,
                          progress=False)
    assert full["n_scored"] == 50
    expected = pd.read_parquet(tmp_path / "full.parquet")

    # a run killed after 3 chunks leaves 3 parts and no output; the rerun computes only the rest
    import regdna.variants.vep as score_mod

    real, calls = score_mod.score_chunk, []

    def crashing(*args, **kwargs):
        calls.append(1)
        if len(calls) > 3:
            raise _Crash()
        return real(*args, **kwargs)

    monkeypatch.setattr(score_mod, "score_chunk", crashing)
    out = tmp_path / "resumed.parquet"
    with pytest.raises(_Crash):
        score_variants(table, out, gc_predictor(), path, chunk_size=8, progress=False)
    assert not out.exists() and len(list((tmp_path / ".resumed.parquet.parts").glob("part-*"))) == 3
    calls.clear()
    monkeypatch.setattr(score_mod, "score_chunk", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    score_variants(table, out, gc_predictor(), path, chunk_size=8, progress=False)
    assert len(calls) == 4  # 7 chunks, 3 already done
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected)

    # two shards: the first leaves parts, the second finds all parts and merges
    sharded = tmp_path / "sharded.tsv"
    first = score_variants(table, sharded, gc_predictor(), path, chunk_size=8, shard=(0, 2), progress=False)
    assert first["out"] is None and not sharded.exists()
    second = score_variants(table, sharded, gc_predictor(), path, chunk_size=8, shard=(1, 2), progress=False)
    assert second["out"] == str(sharded) and second["n_variants"] == 50
    merged = pd.read_csv(sharded, sep="\t")
    assert merged["log2_ratio"].to_numpy() == pytest.approx(expected["log2_ratio"].to_numpy(), rel=1e-5)


def test_zero_shot_scores_with_a_tiny_language_model(tmp_path, hand_genome, tiny_esm_dir):
    from regdna.models.hf import load_language_model

    path, seqs = hand_genome
    lm = load_language_model(f"hf:{tiny_esm_dir}", device="cpu")
    variants = pd.DataFrame({"chrom": ["chr1", "chr2"], "pos": [23, 15], "ref": ["A", "G"], "alt": ["G", "A"]})
    summary = score_variants(variants, tmp_path / "z.tsv", None, path, length=24, language_model=lm,
                             progress=False)
    out = pd.read_csv(tmp_path / "z.tsv", sep="\t")
    assert summary["n_scored"] == 2 and {"cosine_distance", "mlm_llr"} <= set(out.columns)
    assert "log2_ratio" not in out.columns
    # by hand: windows of 24 bp with the SNV at base 12, the token covering base 12 masked
    ref = seqs["chr2"][14 - 12:14 + 12]
    alt = ref[:12] + "A" + ref[13:]
    e = lm.embed([ref, alt])
    cos = float(e[0] @ e[1] / np.linalg.norm(e[0]) / np.linalg.norm(e[1]))
    llr = lm.masked_log_likelihood([alt], [12])[0] - lm.masked_log_likelihood([ref], [12])[0]
    assert out["cosine_distance"][1] == pytest.approx(1 - cos, abs=1e-5)
    assert out["mlm_llr"][1] == pytest.approx(llr, abs=1e-4)
    assert out["cosine_distance"][1] > 0
