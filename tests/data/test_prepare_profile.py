"""`prepare --bigwig`: coverage datasets from bigWig tracks (Toneyan et al. 2022), checked
against direct numpy computations on a toy genome whose every coverage value is known."""
import json

import numpy as np
import pandas as pd
import pytest

from helpers import random_seq, write_fasta_lines
from regdna.data.dataset import load_info, read_coverage, read_split
from regdna.data.prepare import run_prepare
from regdna.errors import RegdnaError
from regdna.io.bigwig import BigWig, write_bigwig

SIZES = {"chr1": 6000, "chr2": 4000, "chr8": 3000, "chr9": 3000}
LENGTH, MARGIN = 256, 64
STORED = LENGTH + 2 * MARGIN
N_RUN = ("chr2", 1000, 1100)            # N bases in the genome
BLACKLIST = ("chr1", 500, 600)
HUGE = ("chr1", 3000, 70000.0)          # above the float16 maximum (65504), track A
SPLIT_ARGS = {"test_chroms": "chr8", "val_chroms": "chr9"}


def _coverage(seed: int) -> dict[str, np.ndarray]:
    """Per-base coverage of one track: half the bases 0, the rest below 1.5, a few spikes to 3-8."""
    rng = np.random.default_rng(seed)
    out = {}
    for chrom, size in SIZES.items():
        values = (rng.uniform(0, 1.5, size) * (rng.random(size) < 0.5)).astype(np.float32)
        values[rng.choice(size, 5, replace=False)] = rng.uniform(3, 8, 5)
        out[chrom] = values
    return out


def _write_track(path, coverage: dict[str, np.ndarray]):
    sizes = {c: SIZES[c] for c in coverage}
    write_bigwig(path, sizes, ((c, int(i), int(i) + 1, float(v[i])) for c, v in coverage.items()
                               for i in np.flatnonzero(v)))
    return path


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """A 4-chromosome genome (chr1 soft-masked at 100..199, N at chr2:1000-1100), track A on
    every chromosome, track B lacking chr2, a blacklist BED, and the coverage as numpy arrays."""
    root = tmp_path_factory.mktemp("profile")
    rng = np.random.default_rng(0)
    seqs = {c: random_seq(n, rng) for c, n in SIZES.items()}
    chrom, lo, hi = N_RUN
    seqs[chrom] = seqs[chrom][:lo] + "N" * (hi - lo) + seqs[chrom][hi:]
    text = dict(seqs, chr1=seqs["chr1"][:100] + seqs["chr1"][100:200].lower() + seqs["chr1"][200:])
    write_fasta_lines(root / "genome.fa", text, 60)
    a = _coverage(1)
    a[HUGE[0]][HUGE[1]] = HUGE[2]
    b = {c: v for c, v in _coverage(2).items() if c != "chr2"}
    _write_track(root / "A.bw", a)
    _write_track(root / "B.bw", b)
    (root / "blacklist.bed").write_text("\t".join(map(str, BLACKLIST)) + "\n")
    b_full = dict(b, chr2=np.zeros(SIZES["chr2"], np.float32))
    return {"root": root, "genome": root / "genome.fa", "seqs": seqs, "a": root / "A.bw", "b": root / "B.bw",
            "cov": {"A": a, "B": b_full}, "blacklist": root / "blacklist.bed"}


def _all_rows(out):
    frames = [read_split(out, s).assign(split=s, row=lambda f: np.arange(len(f))) for s in ("train", "val", "test")]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def tiles(toy, tmp_path_factory):
    """A coverage-threshold dataset over every chromosome (track B read as 0 on chr2)."""
    out = tmp_path_factory.mktemp("tiles") / "D"
    run_prepare(out, genome=toy["genome"], bigwig=[f"{toy['a']}:A", toy["b"]], length=LENGTH, margin=MARGIN,
                bin_size=32, chroms="chr1,chr2,chr8,chr9", blacklist=[toy["blacklist"]], chunk_size=4,
                **SPLIT_ARGS)
    return out


def test_coverage_selection_keeps_exactly_the_tiles_numpy_keeps(toy, tiles):
    expected, counts = set(), dict.fromkeys(["input", "removed_edge", "removed_blacklist", "removed_n",
                                             "removed_threshold"], 0)
    for chrom, size in SIZES.items():
        n_tiles = -(-size // STORED)
        counts["input"] += n_tiles
        for k in range(n_tiles):
            start, end = k * STORED, (k + 1) * STORED
            if end > size:
                counts["removed_edge"] += 1
            elif chrom == BLACKLIST[0] and start < BLACKLIST[2] and end > BLACKLIST[1]:
                counts["removed_blacklist"] += 1
            elif "N" in toy["seqs"][chrom][start:end]:
                counts["removed_n"] += 1
            elif max(toy["cov"][t][chrom][start:end].max() for t in "AB") <= 2.0:
                counts["removed_threshold"] += 1
            else:
                expected.add((chrom, start))
    info = load_info(tiles)
    rows = _all_rows(tiles)
    assert set(zip(rows["chrom"], rows["start"])) == expected
    assert len(expected) == len(rows) == info.counts["final"]
    assert {k: info.counts[k] for k in counts} == counts
    assert counts["removed_edge"] == 4 and counts["removed_blacklist"] == 1 and counts["removed_n"] == 1
    assert 0 < counts["removed_threshold"] < len(expected)       # the threshold decides for some tiles
    assert info.counts["merged_peaks"] == 0 and info.counts["removed_chroms"] == 0


def test_stored_coverage_labels_and_sequences_match_the_bigwigs(toy, tiles):
    info = load_info(tiles)
    p = info.profile
    assert info.task == "profile" and info.labels == ["A", "B"] and info.length == LENGTH
    assert (p.margin, p.stored_length, p.bin_size, p.selection, p.coverage_threshold) == \
        (MARGIN, STORED, 32, "coverage", 2.0)
    assert p.chroms == {"train": ["chr1", "chr2"], "val": ["chr9"], "test": ["chr8"]}
    assert p.bigwigs == [str(toy["a"].resolve()), str(toy["b"].resolve())] and p.peak_columns == []
    readers = [BigWig(toy["a"]), BigWig(toy["b"])]
    checked = 0
    for split in ("train", "val", "test"):
        frame, cover = read_split(tiles, split), read_coverage(tiles, split)
        assert cover.dtype == np.float16 and cover.shape == (len(frame), STORED, 2)
        assert set(frame["chrom"]) <= set(p.chroms[split])
        for i, row in enumerate(frame.itertuples()):
            assert row.id == f"{row.chrom}:{row.start}-{row.end}" and row.end - row.start == STORED
            assert row.sequence == toy["seqs"][row.chrom][row.start:row.end]     # upper-case, no margin lost
            for t, (name, reader) in enumerate(zip("AB", readers)):
                values = reader.values(row.chrom, row.start, row.end)
                np.testing.assert_array_equal(values, toy["cov"][name][row.chrom][row.start:row.end])
                clipped = np.clip(values, -65504, 65504)
                np.testing.assert_allclose(cover[i, :, t].astype(np.float32), clipped, rtol=1e-3, atol=1e-3)
                central = values[MARGIN:MARGIN + LENGTH].astype(np.float64).sum()
                assert getattr(row, name) == pytest.approx(central, rel=1e-9)
            checked += 1
    assert checked == info.counts["final"]
    # track B has no chr2: read as 0 there; the huge value is clipped in the .npy, exact in the label
    train = read_split(tiles, "train")
    assert (train.loc[train["chrom"] == "chr2", "B"] == 0).all() and (train["chrom"] == "chr2").any()
    assert info.qc["clipped_float16"] == {"train": 1, "val": 0, "test": 0}
    assert len(info.qc["warnings"]) == 1 and "65504" in info.qc["warnings"][0]
    huge = train[(train["chrom"] == "chr1") & (train["start"] <= HUGE[1]) & (train["end"] > HUGE[1])]
    assert len(huge) == 1 and huge["A"].iloc[0] > HUGE[2]


def test_split_summary_and_qc_are_the_window_totals(tiles):
    info = load_info(tiles)
    for split in ("train", "val", "test"):
        frame = read_split(tiles, split)
        assert info.splits[split]["n"] == len(frame)
        for track in ("A", "B"):
            totals = frame[track].to_numpy()
            qc = info.qc["coverage"][track][split]
            assert info.splits[split]["per_class"][track] == pytest.approx(totals.mean())
            assert qc["mean"] == pytest.approx(totals.mean())
            assert qc["zero_fraction"] == pytest.approx((totals == 0).mean())
            assert list(qc["quantiles"]) == ["0", "0.25", "0.5", "0.75", "0.95", "1"]
            assert qc["quantiles"]["0.5"] == pytest.approx(np.median(totals))
            assert qc["quantiles"]["1"] == pytest.approx(totals.max())
    assert (tiles / "figures" / "coverage.png").stat().st_size > 1000


def test_a_batch_of_the_profile_loader_is_the_binned_stored_coverage(tiles):
    from regdna.data.profiles import ProfileCollate, bin_mean, load_profile_dataset
    from regdna.encode.onehot import one_hot

    info = load_info(tiles)
    dataset = load_profile_dataset(tiles, "train", info)
    batch = ProfileCollate(dataset, info.profile.bin_size)(list(range(len(dataset))))
    stored = np.asarray(read_coverage(tiles, "train"), dtype=np.float32)[:, MARGIN:MARGIN + LENGTH]
    assert batch["y"].shape == (len(dataset), LENGTH // 32, 2)
    np.testing.assert_allclose(batch["y"].numpy(), bin_mean(stored, 32), rtol=1e-6)
    seqs = read_split(tiles, "train")["sequence"].str.slice(MARGIN, MARGIN + LENGTH).tolist()
    np.testing.assert_array_equal(batch["x"].numpy(), np.asarray(one_hot(seqs)).transpose(0, 2, 1))


# -- peak-centred windows -------------------------------------------------------------------------
# summits (chrom, position) of track A (narrowPeak) and midpoints of track B (BED)
PEAKS_A = [("chr1", 1000), ("chr1", 1100), ("chr1", 1000 + LENGTH // 2), ("chr1", 5900),
           ("chr1", 550), ("chr2", 1050), ("chr8", 1500), ("chr9", 1500), ("chrUn_x", 500)]
PEAKS_B = [("chr1", 3000), ("chr1", 3000), ("chr8", 2000), ("chr9", 100)]


def _write_peaks(toy):
    root = toy["root"]
    with open(root / "A.narrowPeak", "w") as handle:
        for chrom, summit in PEAKS_A:       # peak [summit - 30, summit + 50), summit offset 30
            handle.write(f"{chrom}\t{summit - 30}\t{summit + 50}\tp\t0\t.\t1\t1\t1\t30\n")
    with open(root / "B.bed", "w") as handle:
        for chrom, mid in PEAKS_B:          # midpoint (start + end) // 2 = mid
            handle.write(f"{chrom}\t{mid - 20}\t{mid + 20}\n")
    return root / "A.narrowPeak", root / "B.bed"


@pytest.fixture(scope="module")
def peaks(toy, tmp_path_factory):
    a_peaks, b_peaks = _write_peaks(toy)
    out = tmp_path_factory.mktemp("peaks") / "D"
    run_prepare(out, genome=toy["genome"], bigwig=[f"{toy['a']}:A", f"{toy['b']}:B"],
                bed=[f"{a_peaks}:A", b_peaks], length=LENGTH, chroms=["chr1", "chr2", "chr8", "chr9"],
                blacklist=[toy["blacklist"]], figures=False, **SPLIT_ARGS)
    return out


def test_peak_windows_are_centred_on_summits_merged_and_filtered(peaks):
    info = load_info(peaks)
    assert info.profile.selection == "peaks" and info.profile.coverage_threshold is None
    assert info.profile.margin == LENGTH // 4                      # the default margin
    stored = LENGTH + 2 * (LENGTH // 4)
    rows = _all_rows(peaks)
    centres = sorted(zip(rows["chrom"], rows["start"] + stored // 2))
    # chr1:1100 merged into chr1:1000 (central windows overlap by 156 bp > 128); chr1:1128 is
    # compared with the kept 1000, not the merged 1100: overlap 128, not more than half, kept;
    # chr1:5900 past the end; chr1:550 on the blacklist; chr2:1050 on N; chrUn_x not a chosen
    # chromosome; B's duplicate chr1:3000 merged; chr9:100 before the start
    assert centres == [("chr1", 1000), ("chr1", 1128), ("chr1", 3000), ("chr8", 1500), ("chr8", 2000),
                       ("chr9", 1500)]
    assert (rows["end"] - rows["start"] == stored).all()
    assert {k: info.counts[k] for k in ("input", "removed_chroms", "removed_edge", "removed_blacklist",
                                        "removed_n", "merged_peaks", "removed_threshold", "final")} == \
        {"input": 13, "removed_chroms": 1, "removed_edge": 2, "removed_blacklist": 1, "removed_n": 1,
         "merged_peaks": 2, "removed_threshold": 0, "final": 6}


def test_peak_columns_mark_central_windows_overlapping_each_tracks_peaks(peaks):
    info = load_info(peaks)
    assert info.profile.peak_columns == ["peak_A", "peak_B"]
    rows = _all_rows(peaks)
    margin = LENGTH // 4
    for row in rows.itertuples():
        lo, hi = row.start + margin, row.start + margin + LENGTH
        in_a = any(c == row.chrom and s - 30 < hi and s + 50 > lo for c, s in PEAKS_A)
        # B.bed has no label: it applies to every track, so peak_A also counts B's peaks
        in_b = any(c == row.chrom and m - 20 < hi and m + 20 > lo for c, m in PEAKS_B)
        assert row.peak_A == float(in_a or in_b) and row.peak_B == float(in_b)
    assert rows["peak_B"].sum() == 2 and rows["peak_A"].sum() == 6


# -- errors ---------------------------------------------------------------------------------------
def _fails(tmp_path, *parts, **kwargs):
    out = tmp_path / "D"
    with pytest.raises(RegdnaError) as err:
        run_prepare(out, **kwargs)
    message = str(err.value)
    for part in parts:
        assert part in message, message
    assert "\n" not in message and not out.exists()
    return message


def test_a_bigwig_naming_no_genome_chromosome_is_refused(toy, tmp_path):
    bare = tmp_path / "bare.bw"
    write_bigwig(bare, {"1": 100, "2": 100}, [("1", 0, 10, 1.0)])
    _fails(tmp_path, str(bare), "'1'", "'chr1'", genome=toy["genome"], bigwig=[bare], length=LENGTH)


def test_unknown_chromosome_in_chroms_is_refused(toy, tmp_path):
    _fails(tmp_path, "--chroms", "chr77", genome=toy["genome"], bigwig=[toy["a"]], length=LENGTH,
           chroms="chr1,chr77", **SPLIT_ARGS)


def test_random_and_column_splits_are_refused_with_bigwig(toy, tmp_path):
    for split in ("random", "column"):
        _fails(tmp_path, f"--split {split}", "leak", genome=toy["genome"], bigwig=[toy["a"]], length=LENGTH,
               split=split)


def test_bin_size_must_divide_the_length(toy, tmp_path):
    _fails(tmp_path, "bin size 48", "256", genome=toy["genome"], bigwig=[toy["a"]], length=LENGTH, bin_size=48)


def test_track_names_must_be_unique(toy, tmp_path):
    _fails(tmp_path, "'A'", "both named", genome=toy["genome"], bigwig=[toy["a"], f"{toy['b']}:A"], length=LENGTH)


def test_other_refusals(toy, tmp_path):
    common = {"genome": toy["genome"], "bigwig": [toy["a"]], "length": LENGTH}
    _fails(tmp_path, "--selection peaks", "--bed", selection="peaks", **common)
    _fails(tmp_path, "--margin", "must be >= 0", margin=-1, **common)
    _fails(tmp_path, "--bed", "'C' is not a track", bed=[f"{toy['blacklist']}:C"], **common)
    _fails(tmp_path, "--length", genome=toy["genome"], bigwig=[toy["a"]])
    # the default chromosomes are those in every bigWig: B lacks chr2, but chr8 / chr9 are there
    _fails(tmp_path, "split(s) test", genome=toy["genome"], bigwig=[toy["a"], toy["b"]], length=LENGTH,
           test_chroms="chr2", val_chroms="chr9")
    _fails(tmp_path, "--margin", "--bigwig", fasta=[f"{toy['genome']}:1"], margin=10, split="random")


def test_the_cli_prints_the_coverage_summary(toy, tmp_path):
    from typer.testing import CliRunner

    from regdna.cli import app

    out = tmp_path / "D"
    result = CliRunner().invoke(app, ["prepare", "-g", str(toy["genome"]), "--bigwig", f"{toy['a']}:A",
                                      "--length", str(LENGTH), "--margin", "0", "--bin-size", "8",
                                      "--test-chroms", "chr8", "--val-chroms", "chr9", "--no-figures", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "mean total A" in result.output and "coverage tiles, max > 2" in result.output
    assert "warning:" in result.output and "65504" in result.output
    raw = json.loads((out / "dataset.json").read_text())
    assert raw["profile"]["stored_length"] == LENGTH and raw["profile"]["bin_size"] == 8
    assert raw["provenance"]["input_kind"] == "bigwig"
