"""The bundled example: determinism, windows = genome slices, planted motifs, variants."""
import numpy as np
import pandas as pd
import pytest

from regdna.encode.onehot import reverse_complement
from regdna.errors import RegdnaError
from regdna.io.genome import Genome
from regdna.io.jaspar import load_motif


def _fasta(path):
    records, name = {}, None
    for line in open(path):
        line = line.strip()
        if line.startswith(">"):
            name = line[1:]
            records[name] = ""
        else:
            records[name] += line
    return records


@pytest.fixture(scope="module")
def files(example_dir):
    return {
        "pos": _fasta(example_dir / "pos.fa"),
        "neg": _fasta(example_dir / "neg.fa"),
        "motifs": pd.read_csv(example_dir / "motifs.tsv", sep="\t"),
        "variants": pd.read_csv(example_dir / "variants.tsv", sep="\t", keep_default_na=False),
        "genome": Genome(example_dir / "genome.fa"),
    }


def test_same_seed_same_bytes_other_seed_other_genome(tmp_path):
    from regdna.data.example import run_example

    first = run_example(tmp_path / "a", seed=3, n_per_class=40, length=150)
    second = run_example(tmp_path / "b", seed=3, n_per_class=40, length=150)
    other = run_example(tmp_path / "c", seed=4, n_per_class=40, length=150)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted([".regdna-output.json", "README.txt", "genome.fa", "genome.fa.fai", "motifs.tsv", "neg.fa",
                            "negatives.bed", "pos.fa", "positives.narrowPeak", "variants.tsv",
                            "variants.vcf"])
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert (first / "genome.fa").read_bytes() != (other / "genome.fa").read_bytes()


def test_windows_are_genome_slices_and_match_the_interval_files(example_dir, files):
    genome = files["genome"]
    assert sorted(genome.chrom_sizes) == sorted(f"chr{i}" for i in range(1, 13))
    assert len(files["pos"]) == len(files["neg"]) == 300
    for records in (files["pos"], files["neg"]):
        for header, seq in records.items():
            chrom, span = header.split(":")
            start, end = map(int, span.split("-"))
            assert end - start == len(seq) == 200
            assert genome.fetch(chrom, start, end) == seq
    peaks = pd.read_csv(example_dir / "positives.narrowPeak", sep="\t", header=None)
    bed = pd.read_csv(example_dir / "negatives.bed", sep="\t", header=None)
    assert peaks.shape == (300, 10) and (peaks[9] == 100).all()
    assert [f"{c}:{s}-{e}" for c, s, e in zip(peaks[0], peaks[1], peaks[2])] == list(files["pos"])
    assert [f"{c}:{s}-{e}" for c, s, e in zip(bed[0], bed[1], bed[2])] == list(files["neg"])
    # every chromosome carries windows, so chromosome splits (test chr8,chr9, val chr10) work
    assert set(peaks[0]) == set(bed[0]) == set(genome.chrom_sizes)
    # the hand-written .fai equals the one pyfaidx would build
    import pyfaidx
    rebuilt = example_dir.parent / "rebuilt.fa"
    rebuilt.write_bytes((example_dir / "genome.fa").read_bytes())
    pyfaidx.Faidx(str(rebuilt))
    assert (example_dir / "genome.fa.fai").read_text() == rebuilt.with_suffix(".fa.fai").read_text()


def test_planted_motifs_are_where_motifs_tsv_says(files):
    motifs, genome = files["motifs"], files["genome"]
    windows = {**files["pos"], **files["neg"]}
    pwms = {mid: load_motif(mid) for mid in motifs["matrix_id"].unique()}
    assert sorted(motifs["motif"].unique()) == sorted(m.name for m in pwms.values())
    fraction_consensus, relative_scores = [], []
    for row in motifs.itertuples():
        planted = windows[row.seq_id][row.rel_start:row.rel_end]
        expected = row.site if row.strand == "+" else reverse_complement(row.site)
        assert planted == expected, row
        assert genome.fetch(row.chrom, row.start, row.end) == planted
        pwm = pwms[row.matrix_id]
        assert row.rel_end - row.rel_start == pwm.width
        # sites are sampled from the (sharpened) matrix: a high log-odds score
        weights = pwm.log_odds()
        score = weights[np.arange(pwm.width), ["ACGT".index(b) for b in row.site]].sum()
        relative_scores.append(score / weights.max(axis=1).sum())
        fraction_consensus.append(np.mean([a == b for a, b in zip(row.site, pwm.consensus)]))
    assert np.mean(fraction_consensus) > 0.85
    # sites are sampled, so a few are weak; nearly all stay well above half the best score
    assert np.mean(np.array(relative_scores) > 0.5) > 0.97 and min(relative_scores) > 0.3


def test_grammar_positives_have_two_factors_negatives_one(files):
    motifs = files["motifs"]
    per_window = motifs.groupby("seq_id")
    for seq_id, group in per_window:
        if seq_id in files["pos"]:
            assert (group["role"] == "grammar").all()
            assert 2 <= len(group) <= 3 and group["motif"].nunique() == len(group)
        else:
            assert (group["role"] == "decoy").all()
            assert len(group) == 1
        spans = sorted(zip(group["rel_start"], group["rel_end"]))
        assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))
    assert set(per_window.groups) == set(files["pos"]) | set(files["neg"])
    # single-motif presence is not enough: every factor appears in both classes, about as often
    for factor in motifs["motif"].unique():
        windows = set(motifs.loc[motifs["motif"] == factor, "seq_id"])
        in_pos, in_neg = len(windows & set(files["pos"])), len(windows & set(files["neg"]))
        assert in_pos > 0 and in_neg > 0
        assert 0.3 < in_neg / in_pos < 1.5


def test_variants_ref_alleles_and_positions(example_dir, files):
    variants, motifs, genome = files["variants"], files["motifs"], files["genome"]
    counts = variants["kind"].value_counts()
    assert counts["motif_breaking"] == counts["neutral"] == 45   # 0.15 * n_per_class each
    for var in variants.itertuples():
        assert genome.fetch(var.chrom, var.pos - 1, var.pos) == var.ref != var.alt
        window_motifs = motifs[motifs["seq_id"] == var.seq_id]
        assert var.seq_id in files["pos"]
        inside = window_motifs[(window_motifs["start"] <= var.pos - 1) & (var.pos - 1 < window_motifs["end"])]
        if var.kind == "motif_breaking":
            assert var.expected == "down" and len(inside) == 1 and len(window_motifs) == 2
            hit = inside.iloc[0]
            assert hit["role"] == "grammar" and hit["motif"] == var.motif
            pwm = load_motif(hit["matrix_id"])
            column = int(np.argmax(pwm.information))
            offset = var.pos - 1 - hit["start"]
            assert offset == (column if hit["strand"] == "+" else pwm.width - 1 - column)
            alt = var.alt if hit["strand"] == "+" else reverse_complement(var.alt)
            ref = var.ref if hit["strand"] == "+" else reverse_complement(var.ref)
            assert ref == hit["site"][column]
            assert pwm.ppm[column]["ACGT".index(alt)] <= np.sort(pwm.ppm[column])[1]  # least probable
        else:
            assert var.expected == "none" and var.motif == ""
            distance = np.maximum(window_motifs["start"] - (var.pos - 1), (var.pos - 1) - (window_motifs["end"] - 1))
            assert distance.min() >= 15


def test_measured_effects_follow_the_broken_site(files):
    """The simulated MPRA: motif-breaking SNVs go down by 0.3 x the log2-odds they remove, neutral
    ones only by noise (sd 0.4), and the p-value is the two-sided normal one of that noise."""
    from scipy.stats import norm

    from regdna.data.example import MEASURED_NOISE

    variants = files["variants"]
    breaking = variants[variants["kind"] == "motif_breaking"]["measured"]
    neutral = variants[variants["kind"] == "neutral"]["measured"]
    assert breaking.mean() < -1.0 and (breaking < 0).mean() > 0.9          # drops of 5-10 bits
    assert abs(neutral.mean()) < 3 * MEASURED_NOISE / np.sqrt(len(neutral))   # measured -0.15
    assert 0.3 < neutral.std() < 0.5
    expected = 2 * norm.sf(variants["measured"].abs() / MEASURED_NOISE)
    assert ((variants["pvalue"] - expected).abs() <= 1e-3 * expected + 1e-12).all()


def test_vcf_agrees_with_the_table(example_dir, files):
    from cyvcf2 import VCF

    records = [(v.CHROM, v.POS, v.ID, v.REF, v.ALT[0], v.INFO.get("KIND"), v.INFO.get("EXPECTED"))
               for v in VCF(str(example_dir / "variants.vcf"))]
    table = files["variants"]
    assert records == list(zip(table["chrom"], table["pos"], table["id"], table["ref"],
                               table["alt"], table["kind"], table["expected"]))


def test_decoy_fraction_leaves_the_other_negatives_background_only(tmp_path):
    from regdna.data.example import run_example

    out = run_example(tmp_path / "easy", seed=0, n_per_class=200, decoy_fraction=0.25)
    motifs = pd.read_csv(out / "motifs.tsv", sep="\t")
    negatives = _fasta(out / "neg.fa")
    with_decoy = set(motifs.loc[motifs["role"] == "decoy", "seq_id"])
    assert with_decoy <= set(negatives)
    share = len(with_decoy) / len(negatives)
    assert abs(share - 0.25) < 3 * np.sqrt(0.25 * 0.75 / 200), share
    assert motifs.loc[motifs["role"] == "grammar", "seq_id"].nunique() == 200


def test_bad_arguments_raise_and_leave_nothing(tmp_path):
    from regdna.data.example import run_example

    with pytest.raises(RegdnaError, match="n-per-class"):
        run_example(tmp_path / "x", n_per_class=5)
    with pytest.raises(RegdnaError, match="length"):
        run_example(tmp_path / "x", length=60)
    with pytest.raises(RegdnaError, match="decoy-fraction"):
        run_example(tmp_path / "x", n_per_class=20, decoy_fraction=1.5)
    with pytest.raises(RegdnaError, match="closest names"):
        run_example(tmp_path / "x", n_per_class=20, factors=("GATA1", "NOTAFACTOR1"))
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(RegdnaError, match="was not written by regdna.*--overwrite"):
        run_example(precious, n_per_class=20)
    assert (precious / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]


def test_cli_writes_the_example(tmp_path):
    from typer.testing import CliRunner

    from regdna.cli import app

    result = CliRunner().invoke(app, ["example", "--out", str(tmp_path / "ex"), "--seed", "1",
                                      "--n-per-class", "30", "--length", "160"])
    assert result.exit_code == 0, result.output
    assert len(_fasta(tmp_path / "ex" / "pos.fa")) == 30
    assert "pos.fa" in result.output
