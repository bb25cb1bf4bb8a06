"""The profile example: determinism, coverage = the footprint formula of the truth tables, inactive
factors leave only background, variants where the truth says, peaks = elements above threshold."""
import numpy as np
import pandas as pd
import pytest

from regdna.errors import RegdnaError
from regdna.io.bigwig import BigWig
from regdna.io.genome import Genome
from regdna.io.jaspar import load_motif, position_information

CELLS = ("erythroid", "myeloid")
SIZE = 40_000
BG_LOW, BG_HIGH = 0.05, 0.2     # the documented background range
TOL = 1e-4                      # float32 coverage against a float64 formula


def _tracks(path):
    out = {}
    for cell in CELLS:
        with BigWig(path / "tracks" / f"{cell}.bw") as bw:
            out[cell] = {c: bw.values(c, 0, n) for c, n in bw.chrom_sizes.items()}
    return out


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    from regdna.data.example import run_example

    path = run_example(tmp_path_factory.mktemp("profile") / "ex", seed=1, profile=True,
                       chrom_size=SIZE)
    return {"path": path, "tracks": _tracks(path),
            "sites": pd.read_csv(path / "truth" / "sites.tsv", sep="\t"),
            "footprints": pd.read_csv(path / "truth" / "footprints.tsv", sep="\t"),
            "variants": pd.read_csv(path / "truth" / "variants.tsv", sep="\t", keep_default_na=False),
            "genome": Genome(path / "genome.fa")}


def _expected(sites, footprints, cell, chrom, size):
    """The documented formula, summed over the sites of `chrom`: strength x height (the truth's
    height_<cell>) x exp(-z^2 / 2 sigma^2) x (1 - dip inside the site), |z| <= 4 sigma, with z
    the distance of the base centre from the site centre."""
    fp = footprints[footprints.cell == cell].set_index("motif")
    out = np.zeros(size)
    for s in sites[(sites.chrom == chrom) & (sites[f"height_{cell}"] > 0)].itertuples():
        sigma, dip = fp.loc[s.motif, "sigma"], fp.loc[s.motif, "dip"]
        p = np.arange(size)
        z = p + 0.5 - (s.start + s.end) / 2
        value = getattr(s, f"height_{cell}") * np.exp(-z ** 2 / (2 * sigma ** 2))
        value = np.where(np.abs(z) <= 4 * sigma, value, 0.0)
        out += np.where((p >= s.start) & (p < s.end), value * (1 - dip), value)
    return out


def test_same_seed_same_bytes_other_seed_other_values(tmp_path, example):
    from regdna.data.example_profile import run_example_profile

    first = run_example_profile(tmp_path / "a", seed=1, chrom_size=SIZE)
    other = run_example_profile(tmp_path / "b", seed=2, chrom_size=SIZE)
    names = sorted(str(p.relative_to(first)) for p in first.rglob("*") if p.is_file())
    assert names == sorted([".regdna-output.json", "README.txt", "genome.fa", "genome.fa.fai",
                            "variants.vcf", "tracks/erythroid.bw", "tracks/myeloid.bw",
                            "peaks/erythroid.narrowPeak", "peaks/myeloid.narrowPeak",
                            "truth/sites.tsv", "truth/footprints.tsv", "truth/variants.tsv"])
    for name in names:
        if not name.endswith(".bw"):
            assert (first / name).read_bytes() == (example["path"] / name).read_bytes(), name
    again, different = _tracks(first), _tracks(other)
    for cell in CELLS:
        for chrom, values in example["tracks"][cell].items():
            assert values.tobytes() == again[cell][chrom].tobytes()
        assert not np.array_equal(example["tracks"][cell]["chr1"], different[cell]["chr1"])


def test_coverage_is_background_plus_the_footprint_formula(example):
    sites, footprints = example["sites"], example["footprints"]
    assert len(sites) > 200 and set(sites.motif) == {"GATA1", "TAL1::TCF3", "Spi1", "CTCF"}
    peaks_checked = 0
    for cell in CELLS:
        for chrom, observed in example["tracks"][cell].items():
            residual = observed - _expected(sites, footprints, cell, chrom, len(observed))
            # what is left is the background: within its range and constant per 50-bp block
            assert residual.min() > BG_LOW - TOL and residual.max() < BG_HIGH + TOL
            blocks = residual[:len(residual) // 50 * 50].reshape(-1, 50)
            assert np.ptp(blocks, axis=1).max() < TOL
            # at every active site the footprint is well above the background
            active = sites[(sites.chrom == chrom) & (sites[f"height_{cell}"] > 0)]
            flank = active.start - 3                      # just outside the protected site
            assert (observed[flank.to_numpy()] > BG_HIGH + 0.1 * active[f"height_{cell}"]).all()
            peaks_checked += len(active)
    assert peaks_checked > 200


def test_an_isolated_site_reads_exactly_its_footprint(example):
    """A site with no other site active in the same cell within 400 bp (> 4 sigma of every
    footprint): over the 50-bp background block of its centre, that cell's coverage = one
    constant in the background range + height x exp(-z^2 / (2 sigma^2)) x (1 - dip inside the
    site), e.g. GATA1 in erythroid: sigma 40, dip 0.6. Elements of erythroid factors only leave
    the myeloid track at background, block by block."""
    sites, tracks, footprints = example["sites"], example["tracks"], example["footprints"]
    checked = {}
    for cell in CELLS:
        fp = footprints[footprints.cell == cell].set_index("motif")
        active = sites[sites[f"height_{cell}"] > 0].sort_values(["chrom", "start"])
        gap_before = active.start - active.groupby("chrom").end.shift(1).fillna(-10 ** 9)
        gap_after = active.groupby("chrom").start.shift(-1).fillna(10 ** 9) - active.end
        for s in active[(gap_before > 400) & (gap_after > 400)].itertuples():
            height, sigma, dip = getattr(s, f"height_{cell}"), fp.sigma[s.motif], fp.dip[s.motif]
            first = (s.start + s.end) // 2 // 50 * 50
            block = np.arange(first, first + 50)
            z = block + 0.5 - (s.start + s.end) / 2
            footprint = height * np.exp(-z ** 2 / (2 * sigma ** 2))
            footprint[(block >= s.start) & (block < s.end)] *= 1 - dip
            observed = tracks[cell][s.chrom][block]
            background = observed - footprint
            assert BG_LOW - TOL < background[0] < BG_HIGH + TOL
            assert np.abs(background - background[0]).max() < TOL
            assert observed.max() > background[0] + 0.7 * height
            checked[(cell, s.motif)] = checked.get((cell, s.motif), 0) + 1
    assert checked[("erythroid", "GATA1")] >= 2 and checked[("myeloid", "Spi1")] >= 5
    assert len(checked) >= 4
    erythroid_only = sites.groupby("element").filter(lambda g: (g.height_myeloid == 0).all())
    assert erythroid_only.element.nunique() >= 10
    for element, group in erythroid_only.groupby("element"):
        mye = tracks["myeloid"][group.chrom.iloc[0]]
        first, last = group.start.min() // 50 * 50, -(-group.end.max() // 50) * 50
        blocks = mye[first:last].reshape(-1, 50)
        assert np.ptp(blocks, axis=1).max() == 0
        assert BG_LOW - TOL < blocks.min() <= blocks.max() < BG_HIGH + TOL


def test_variants_break_planted_sites_or_lie_far_from_them(example):
    variants, sites, genome = example["variants"], example["sites"], example["genome"]
    breaking = variants[variants.kind == "motif_breaking"]
    neutral = variants[variants.kind == "neutral"]
    assert len(breaking) == 150 and len(neutral) == 150
    motifs = {m: load_motif(m, release="JASPAR2026") for m in sites.motif.unique()}
    for v in variants.itertuples():
        assert genome.fetch(v.chrom, v.pos - 1, v.pos) == v.ref and v.alt != v.ref
    complement = str.maketrans("ACGT", "TGCA")
    for v in breaking.itertuples():
        hit = sites[(sites.chrom == v.chrom) & (sites.start < v.pos) & (sites.end >= v.pos)]
        assert len(hit) == 1 and hit.motif.iloc[0] == v.motif
        s = hit.iloc[0]
        ppm = motifs[s.motif].ppm
        column = v.pos - 1 - s.start if s.strand == "+" else s.end - v.pos
        assert column == int(np.argmax(position_information(ppm)))
        ref, alt = (v.ref, v.alt) if s.strand == "+" else (v.ref.translate(complement),
                                                           v.alt.translate(complement))
        assert s.site[column] == ref
        least = [b for b in np.argsort(ppm[column], kind="stable") if "ACGT"[b] != ref][0]
        assert alt == "ACGT"[least]
        assert v.affected == ",".join(c for c in CELLS if s[f"height_{c}"] > 0)
        assert v.expected == "down"
    for v in neutral.itertuples():
        near = sites[sites.chrom == v.chrom]
        distance = np.maximum(near.start - (v.pos - 1), (v.pos - 1) - (near.end - 1)).min()
        assert distance > 1000 and v.affected == "none" and v.expected == "none"
    vcf = [line.split("\t") for line in open(example["path"] / "variants.vcf") if line[0] != "#"]
    assert [(r[0], int(r[1]), r[2], r[3], r[4]) for r in vcf] == \
        list(zip(variants.chrom, variants.pos, variants.id, variants.ref, variants.alt))


def test_peaks_are_the_elements_above_threshold(example):
    sites, footprints, tracks = example["sites"], example["footprints"], example["tracks"]
    for cell in CELLS:
        peaks = pd.read_csv(example["path"] / "peaks" / f"{cell}.narrowPeak", sep="\t", header=None)
        by_name = peaks.set_index(3)
        sigma = footprints[footprints.cell == cell].set_index("motif").sigma
        n_pass = 0
        for element, group in sites[sites[f"height_{cell}"] > 0].groupby("element"):
            flank = int(round(2 * sigma[group.motif].max()))
            track = tracks[cell][group.chrom.iloc[0]]
            lo, hi = max(0, group.start.min() - flank), min(len(track), group.end.max() + flank)
            top = track[lo:hi].max()
            if top <= 2.0:
                assert element not in by_name.index
                continue
            n_pass += 1
            peak = by_name.loc[element]
            assert (peak[1], peak[2]) == (lo, hi)           # covers every active site of it
            assert track[peak[1] + peak[9]] == top          # summit = the coverage maximum
            assert float(peak[6]) == pytest.approx(top, abs=1e-3)
        assert n_pass == len(peaks) > 20
        # elements with no factor active in this cell have no peak
        inactive = set(sites.element) - set(sites.loc[sites[f"height_{cell}"] > 0, "element"])
        assert inactive and not inactive & set(peaks[3])


def test_default_size_gives_a_thousand_coverage_windows(tmp_path):
    """Coverage selection as `regdna prepare --selection coverage --length 1024 --margin 256`
    defines it (non-overlapping 1536-bp chunks from 0, kept when any track's maximum exceeds 2):
    ~1200 training windows (chr1..chr7) at the default chromosome size."""
    from regdna.data.example_profile import run_example_profile

    tracks = _tracks(run_example_profile(tmp_path / "ex", seed=0))
    kept = 0
    for chrom in [f"chr{i}" for i in range(1, 8)]:
        n = len(tracks[CELLS[0]][chrom]) // 1536 * 1536
        top = np.max([tracks[c][chrom][:n].reshape(-1, 1536).max(1) for c in CELLS], axis=0)
        kept += int((top > 2.0).sum())
    assert kept == 1209


def test_errors_and_the_cli(tmp_path):
    from typer.testing import CliRunner

    from regdna.cli import app
    from regdna.data.example import run_example

    with pytest.raises(RegdnaError, match="--length applies to the grammar example"):
        run_example(tmp_path / "x", profile=True, length=300)
    with pytest.raises(RegdnaError, match="--chrom-size applies to the profile example"):
        run_example(tmp_path / "x", chrom_size=20_000)
    with pytest.raises(RegdnaError, match="too small"):
        run_example(tmp_path / "x", profile=True, chrom_size=1000)
    result = CliRunner().invoke(app, ["example", "--profile", "--chrom-size", "20000",
                                      "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert "tracks/erythroid.bw" in result.output and "regdna prepare --genome" in result.output
    assert f"--bigwig {tmp_path / 'cli'}/tracks/myeloid.bw:myeloid" in result.output
    assert "--selection coverage --length 1024 --margin 256 --bin-size 32" in \
        (tmp_path / "cli" / "README.txt").read_text()
