"""The profile example (`regdna example --profile`): a synthetic genome with coverage tracks of
two cell types whose footprints are known exactly, for quantitative profile models (Toneyan et
al. 2022).

Genome: chr1..chr10 of i.i.d. background (GC_MEAN of `regdna.data.simulate`). Every 3-6 kb
sits a regulatory element: a cluster of 2-4 planted JASPAR sites whose factors are drawn (with
replacement) from one program (PROGRAMS): erythroid (GATA1, TAL1::TCF3), myeloid (SPI1) or
mixed (those three and CTCF). Sites are sampled from the sharpened probability matrix like the
bundled example's, on a random strand, each with a strength exp(N(0, STRENGTH_SD^2)).

Coverage of a cell type ("erythroid": GATA1, TAL1::TCF3, CTCF active; "myeloid": SPI1, CTCF):
a background drawn uniformly from BACKGROUND for every BACKGROUND_BLOCK bp, plus, over the
sites of the factors active in that cell,

    strength * height * exp(-z^2 / (2 sigma^2)) * (1 - dip inside the site),   |z| <= 4 sigma

where z = p + 0.5 - (site start + width / 2) is the distance of base p from the site centre and
(sigma, dip, height) is the factor's footprint in that cell (FOOTPRINTS: a Gaussian bump of
accessibility with the protected site as a dip, as in footprinting). A factor inactive in a cell
adds nothing there. Tracks are written at base resolution (runs of equal float32 values merged).

Peaks of a cell: the elements whose coverage in that cell exceeds PEAK_THRESHOLD (= the default
`--coverage-threshold` of `regdna prepare`) within their span of active sites +- 2 sigma; the
summit (narrowPeak column 10) is the coverage maximum there.

Variants: SNVs that break a planted site (its most informative matrix column replaced by the
least probable base, `regdna.data.simulate.breaking_snv`; `affected` = the tracks where that
factor is active, whose coverage must drop) and neutral SNVs more than NEUTRAL_DISTANCE bp from
every site that create no motif-like match.

Files: genome.fa (+ .fai), tracks/<cell>.bw, peaks/<cell>.narrowPeak, truth/sites.tsv,
truth/footprints.tsv, truth/variants.tsv, variants.vcf, README.txt (which lists the next
commands). A seed writes the same bytes.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from regdna.data.grammars import RELEASE
from regdna.data.simulate import (GC_MEAN, background, best_match_covering, breaking_snv,
                                  codes_to_str, oriented, sample_site, sharpened)
from regdna.errors import RegdnaError
from regdna.io.bed import write_bed
from regdna.io.bigwig import write_bigwig
from regdna.io.fasta import write_fasta
from regdna.io.jaspar import load_motif
from regdna.io.tables import write_tsv
from regdna.io.vcf import write_vcf
from regdna.utils.output import check_out_dir, output_dir

CELLS = ("erythroid", "myeloid")
N_CHROMS = 10                       # chr8, chr9 test and chr10 validation (the default splits)
DEFAULT_CHROM_SIZE = 700_000        # bp per chromosome
MIN_CHROM_SIZE = 20_000
ELEMENT_SPACING = (3000, 6000)      # bp between neighbouring elements (uniform)
SITES_PER_ELEMENT = (2, 4)          # planted sites per element (uniform, inclusive)
SITE_GAP = (6, 40)                  # bp between neighbouring sites of an element (uniform)
STRENGTH_SD = 0.5                   # site strength = exp(N(0, STRENGTH_SD^2))
BACKGROUND = (0.05, 0.2)            # background coverage range (uniform per block)
BACKGROUND_BLOCK = 50               # bp per background block
TRUNCATE = 4.0                      # footprints end at 4 sigma from the site centre
PEAK_THRESHOLD = 2.0                # = `regdna prepare --coverage-threshold` default
PEAK_FLANK = 2.0                    # peaks span the active sites +- 2 sigma
NEUTRAL_DISTANCE = 1000             # bp between a neutral SNV and the nearest site
N_VARIANTS = 150                    # variants of each kind
LINE_WIDTH = 60


@dataclass(frozen=True)
class Footprint:
    """A factor's footprint in one cell type: Gaussian width (bp), relative dip over the
    protected site, height (coverage at the centre for strength 1, before the dip)."""

    sigma: float
    dip: float
    height: float


FACTORS = ("GATA1", "TAL1::TCF3", "SPI1", "CTCF")
# an element's sites are drawn (with replacement) from one program: (name, factor indices, share)
PROGRAMS = (("erythroid", (0, 1), 0.35), ("myeloid", (2,), 0.35), ("mixed", (0, 1, 2, 3), 0.30))
FOOTPRINTS: dict[str, dict[str, Footprint]] = {     # factor -> active cell -> footprint
    "GATA1": {"erythroid": Footprint(40, 0.6, 5.0)},
    "TAL1::TCF3": {"erythroid": Footprint(60, 0.4, 3.0)},
    "SPI1": {"myeloid": Footprint(50, 0.7, 6.0)},
    "CTCF": {"erythroid": Footprint(25, 0.85, 8.0), "myeloid": Footprint(25, 0.85, 5.0)},
}


@dataclass
class _Site:
    element: str
    chrom: str
    start: int
    factor: int         # index into FACTORS
    strand: str
    strength: float
    site: np.ndarray    # planted bases read on the motif's own strand


def run_example_profile(out: str | Path, seed: int = 0, chrom_size: int = DEFAULT_CHROM_SIZE,
                        n_variants: int = N_VARIANTS, release: str | None = None,
                        sharpen: float = 2.0, overwrite: bool = False) -> Path:
    """Write the profile example into `out` (atomically: all files or none).

    Parameters
    ----------
    out : output directory (`regdna.utils.output` policy, verb `example`).
    seed : the only source of randomness: the same seed writes the same bytes.
    chrom_size : bp of each of chr1..chr10 (the default gives ~1200 training windows of a
        coverage-threshold dataset at length 1024, margin 256: 1209 for seed 0).
    n_variants : motif-breaking and neutral SNVs to write (each; fewer when the genome is small).
    release : JASPAR release (default: the release the bundled example pins).
    sharpen : exponent of the probability matrix sites are sampled from (as the bundled example).
    overwrite : replace `out` even when it holds files `regdna example` did not write.
    """
    out = Path(out)
    if chrom_size < MIN_CHROM_SIZE:
        raise RegdnaError(f"--chrom-size {chrom_size} is too small; use {MIN_CHROM_SIZE} bp or more.")
    if n_variants < 1:
        raise RegdnaError(f"n_variants must be >= 1, got {n_variants}.")
    if not sharpen > 0:
        raise RegdnaError(f"sharpen must be > 0, got {sharpen}.")
    check_out_dir(out, "example", overwrite=overwrite)
    motifs = [load_motif(name, release=release or RELEASE) for name in FACTORS]
    rng = np.random.default_rng(seed)
    chroms, sites = _genome(rng, chrom_size, motifs, [sharpened(m.ppm, sharpen) for m in motifs])
    sizes = {name: len(codes) for name, codes in chroms.items()}
    coverage = {cell: _coverage(rng, sizes, sites, motifs, cell) for cell in CELLS}
    variants = (_breaking(rng, chroms, sites, motifs, n_variants)
                + _neutral(rng, chroms, sites, motifs, n_variants))
    variants.sort(key=lambda v: (int(v["chrom"][3:]), v["pos"]))
    for i, var in enumerate(variants, 1):
        var["id"] = f"{'mb' if var['kind'] == 'motif_breaking' else 'nt'}{i:05d}"

    with output_dir(out, "example", overwrite=overwrite) as tmp:
        write_fasta(tmp / "genome.fa", ((n, codes_to_str(c)) for n, c in chroms.items()),
                    width=LINE_WIDTH, index=True)
        for folder in ("tracks", "peaks", "truth"):
            (tmp / folder).mkdir()
        n_peaks = {}
        for cell in CELLS:
            write_bigwig(tmp / "tracks" / f"{cell}.bw", sizes, _intervals(coverage[cell]))
            peaks = _peaks(sites, motifs, coverage[cell], cell)
            write_bed(tmp / "peaks" / f"{cell}.narrowPeak", peaks)
            n_peaks[cell] = len(peaks)
        _write_truth(tmp, sites, motifs, variants)
        write_vcf(tmp / "variants.vcf", variants, sizes, info=VCF_INFO,
                  meta={"source": "regdna example --profile", "reference": "genome.fa"})
        _write_readme(tmp, seed, chrom_size, motifs, sites, variants, n_peaks)
    return out


# --- genome and sites ---------------------------------------------------------------------------

def _genome(rng, chrom_size: int, motifs, tables) -> tuple[dict[str, np.ndarray], list[_Site]]:
    """chr1..chr10 of background with an element every ELEMENT_SPACING bp."""
    chroms, sites = {}, []
    widest = max(m.width for m in motifs)
    span = SITES_PER_ELEMENT[1] * (widest + SITE_GAP[1])       # longest possible element
    n_elements = 0
    for c in range(1, N_CHROMS + 1):
        name = f"chr{c}"
        codes = background(rng, chrom_size, GC_MEAN)
        cursor = int(rng.integers(*ELEMENT_SPACING)) // 2
        while cursor + span + ELEMENT_SPACING[0] // 2 <= chrom_size:
            n_elements += 1
            element = f"el{n_elements:05d}"
            program = PROGRAMS[int(rng.choice(len(PROGRAMS), p=[p[2] for p in PROGRAMS]))][1]
            for _ in range(int(rng.integers(SITES_PER_ELEMENT[0], SITES_PER_ELEMENT[1] + 1))):
                factor = program[int(rng.integers(len(program)))]
                site = sample_site(rng, tables[factor])
                planted, strand = oriented(rng, site)
                codes[cursor:cursor + len(planted)] = planted
                sites.append(_Site(element, name, cursor, factor, strand,
                                   float(np.exp(rng.normal(0.0, STRENGTH_SD))), site))
                cursor += len(planted) + int(rng.integers(SITE_GAP[0], SITE_GAP[1] + 1))
            cursor += int(rng.integers(*ELEMENT_SPACING))
        chroms[name] = codes
    return chroms, sites


def _footprint(site: _Site, width: int, fp: Footprint) -> tuple[int, np.ndarray]:
    """(first base, values) of one site's footprint: the formula of the module docstring."""
    centre = site.start + width / 2
    reach = int(np.ceil(TRUNCATE * fp.sigma)) + 1
    lo = max(0, site.start - reach)
    z = np.arange(lo, site.start + width + reach) + 0.5 - centre
    values = site.strength * fp.height * np.exp(-z ** 2 / (2 * fp.sigma ** 2))
    values[np.abs(z) > TRUNCATE * fp.sigma] = 0.0
    values[site.start - lo:site.start - lo + width] *= 1.0 - fp.dip
    return lo, values


def _coverage(rng, sizes: dict[str, int], sites: list[_Site], motifs, cell: str) -> dict[str, np.ndarray]:
    """float32 base-resolution coverage of one cell type per chromosome."""
    out = {}
    for name, size in sizes.items():
        blocks = rng.uniform(*BACKGROUND, size=-(-size // BACKGROUND_BLOCK))
        out[name] = np.repeat(blocks, BACKGROUND_BLOCK)[:size]
    for site in sites:
        fp = FOOTPRINTS[FACTORS[site.factor]].get(cell)
        if fp is not None:
            lo, values = _footprint(site, motifs[site.factor].width, fp)
            track = out[site.chrom]
            track[lo:lo + len(values)] += values[:len(track) - lo]
    return {name: values.astype(np.float32) for name, values in out.items()}


def _intervals(coverage: dict[str, np.ndarray]):
    """(chrom, start, end, value) runs of equal values, chromosome by chromosome."""
    for name, values in coverage.items():
        bounds = np.concatenate([[0], np.flatnonzero(np.diff(values)) + 1, [len(values)]])
        for start, end in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            yield name, start, end, float(values[start])


def _peaks(sites: list[_Site], motifs, coverage: dict[str, np.ndarray], cell: str) -> list[tuple]:
    """narrowPeak rows of the elements whose coverage in `cell` exceeds PEAK_THRESHOLD."""
    by_element: dict[str, list[_Site]] = {}
    for site in sites:
        if cell in FOOTPRINTS[FACTORS[site.factor]]:
            by_element.setdefault(site.element, []).append(site)
    rows = []
    for element, active in by_element.items():
        flank = int(round(PEAK_FLANK * max(FOOTPRINTS[FACTORS[s.factor]][cell].sigma for s in active)))
        track = coverage[active[0].chrom]
        lo = max(0, min(s.start for s in active) - flank)
        hi = min(len(track), max(s.start + motifs[s.factor].width for s in active) + flank)
        summit = int(np.argmax(track[lo:hi]))
        peak = float(track[lo + summit])
        if peak > PEAK_THRESHOLD:
            rows.append((active[0].chrom, lo, hi, element, min(1000, int(round(100 * peak))), ".",
                         f"{peak:.3f}", -1, -1, summit))
    return rows


# --- variants -----------------------------------------------------------------------------------

def _variant(chrom: str, pos0: int, ref: int, alt: int, kind: str, motif: str, element: str,
             affected: str) -> dict:
    return {"chrom": chrom, "pos": pos0 + 1, "ref": "ACGT"[ref], "alt": "ACGT"[alt], "kind": kind,
            "expected": "down" if kind == "motif_breaking" else "none", "affected": affected,
            "motif": motif, "element": element}


def _breaking(rng, chroms, sites: list[_Site], motifs, n: int) -> list[dict]:
    """SNVs at the most informative position of `n` planted sites chosen at random."""
    picks = rng.choice(len(sites), size=min(n, len(sites)), replace=False)
    variants = []
    for index in sorted(picks.tolist()):
        site = sites[index]
        motif = motifs[site.factor]
        offset, ref, alt = breaking_snv(motif.ppm, site.site, site.strand)
        assert chroms[site.chrom][site.start + offset] == ref
        cells = [c for c in CELLS if c in FOOTPRINTS[FACTORS[site.factor]]]
        variants.append(_variant(site.chrom, site.start + offset, ref, alt, "motif_breaking",
                                 motif.name, site.element, ",".join(cells)))
    return variants


def _neutral(rng, chroms, sites: list[_Site], motifs, n: int) -> list[dict]:
    """SNVs > NEUTRAL_DISTANCE bp from every site that create no site scoring above 0.6 of a
    factor's best log-odds score."""
    free = {name: np.ones(len(codes), dtype=bool) for name, codes in chroms.items()}
    for site in sites:
        end = site.start + motifs[site.factor].width
        free[site.chrom][max(0, site.start - NEUTRAL_DISTANCE):end + NEUTRAL_DISTANCE] = False
    allowed = {name: np.flatnonzero(mask) for name, mask in free.items()}
    names = [name for name in chroms if len(allowed[name])]
    scorers = [(m.log_odds(), float(m.log_odds().max(axis=1).sum())) for m in motifs]
    variants, taken = [], set()
    for _ in range(50 * n):
        if len(variants) == n or not names:
            break
        name = names[int(rng.integers(len(names)))]
        pos = int(rng.choice(allowed[name]))
        codes = chroms[name]
        ref = int(codes[pos])
        alt = int(rng.choice([b for b in range(4) if b != ref]))
        if (name, pos) in taken:
            continue
        mutated = codes[max(0, pos - 30):pos + 30].copy()
        mutated[pos - max(0, pos - 30)] = alt
        if any(best_match_covering(mutated, pos - max(0, pos - 30), w) > 0.6 * best
               for w, best in scorers):
            continue
        taken.add((name, pos))
        variants.append(_variant(name, pos, ref, alt, "neutral", "", "", "none"))
    return variants


# --- files --------------------------------------------------------------------------------------

SITE_COLUMNS = ["chrom", "start", "end", "motif", "matrix_id", "strand", "strength", "element",
                *(f"height_{cell}" for cell in CELLS), "site"]
FOOTPRINT_COLUMNS = ["motif", "matrix_id", "cell", "sigma", "dip", "height"]
VARIANT_COLUMNS = ["id", "chrom", "pos", "ref", "alt", "kind", "expected", "affected", "motif",
                   "element"]
VCF_INFO = [("KIND", "1", "String", "motif_breaking or neutral"),
            ("EXPECTED", "1", "String", "Expected effect on the affected tracks: down or none"),
            ("AFFECTED", "1", "String", "Tracks whose coverage must drop (comma-separated) or none"),
            ("MOTIF", "1", "String", "JASPAR factor whose planted site the variant breaks"),
            ("ELEMENT", "1", "String", "Regulatory element of that site")]


def _write_truth(tmp: Path, sites: list[_Site], motifs, variants: list[dict]) -> None:
    def site_rows():
        for s in sites:
            motif, fps = motifs[s.factor], FOOTPRINTS[FACTORS[s.factor]]
            heights = [round(s.strength * fps[c].height, 6) if c in fps else 0 for c in CELLS]
            yield [s.chrom, s.start, s.start + motif.width, motif.name, motif.matrix_id, s.strand,
                   round(s.strength, 6), s.element, *heights, codes_to_str(s.site)]

    def footprint_rows():
        for factor, motif in zip(FACTORS, motifs):
            for cell in CELLS:
                fp = FOOTPRINTS[factor].get(cell, Footprint(0, 0, 0))
                yield [motif.name, motif.matrix_id, cell, fp.sigma, fp.dip, fp.height]

    write_tsv(tmp / "truth" / "sites.tsv", SITE_COLUMNS, site_rows())
    write_tsv(tmp / "truth" / "footprints.tsv", FOOTPRINT_COLUMNS, footprint_rows())
    write_tsv(tmp / "truth" / "variants.tsv", VARIANT_COLUMNS,
              ([v[c] for c in VARIANT_COLUMNS] for v in variants))
    for var in variants:
        var["info"] = {"KIND": var["kind"], "EXPECTED": var["expected"], "AFFECTED": var["affected"],
                       "MOTIF": var["motif"], "ELEMENT": var["element"]}


def next_commands(out: str | Path) -> str:
    """The commands that prepare, train on and evaluate the profile example written to `out`."""
    o = str(out).rstrip("/") or "."
    return f"""regdna prepare --genome {o}/genome.fa \\
      --bigwig {o}/tracks/erythroid.bw:erythroid --bigwig {o}/tracks/myeloid.bw:myeloid \\
      --bed {o}/peaks/erythroid.narrowPeak:erythroid --bed {o}/peaks/myeloid.narrowPeak:myeloid \\
      --selection coverage --length 1024 --margin 256 --bin-size 32 --out profile-dataset
  regdna train --data profile-dataset --out profile-run
  regdna evaluate --run profile-run --split test
  regdna vep --run profile-run --variants {o}/variants.vcf --genome {o}/genome.fa \\
      --out profile-variants/scores.tsv
  regdna benchmark-variants --scores profile-variants/scores.tsv \\
      --measured {o}/truth/variants.tsv --out profile-variants/benchmark"""


def _write_readme(tmp: Path, seed: int, chrom_size: int, motifs, sites, variants, n_peaks) -> None:
    n_mb = sum(v["kind"] == "motif_breaking" for v in variants)
    n_elements = len({s.element for s in sites})
    footprints = "\n".join(
        f"  {motif.name:<11} {cell:<10} sigma {fp.sigma:>3g} bp  dip {fp.dip:.2f}  height {fp.height:g}"
        for factor, motif in zip(FACTORS, motifs) for cell, fp in FOOTPRINTS[factor].items())
    programs = "; ".join(f"{name} {int(100 * share)}% ({', '.join(motifs[i].name for i in factors)})"
                         for name, factors, share in PROGRAMS)
    spacing = "-".join(map(str, ELEMENT_SPACING))
    per_element = "-".join(map(str, SITES_PER_ELEMENT))
    counts = ", ".join(f"{c}: {n}" for c, n in n_peaks.items())
    text = f"""regdna profile example (regdna example --profile --seed {seed} --chrom-size {chrom_size})

A synthetic genome with base-resolution coverage of two cell types whose footprints are known.

Genome: chr1..chr{N_CHROMS}, {chrom_size} bp each, i.i.d. background (GC {GC_MEAN}); {n_elements} regulatory
elements, one every {spacing} bp, each a cluster of {per_element} planted JASPAR ({motifs[0].release})
sites ({len(sites)} in all), random strand, strength exp(N(0, {STRENGTH_SD}^2)); an element's factors come
from one program: {programs}.

Coverage of a cell = background U{BACKGROUND} per {BACKGROUND_BLOCK}-bp block
  + over the sites of its active factors
  strength * height * exp(-z^2 / (2 sigma^2)) * (1 - dip within the site),  |z| <= {TRUNCATE:g} sigma,
  z = distance of the base centre from the site centre. Footprints (inactive factors add nothing):
{footprints}

Files
  genome.fa, genome.fa.fai       the genome (test chr8,chr9; validation chr10)
  tracks/<cell>.bw               coverage at base resolution (erythroid, myeloid)
  peaks/<cell>.narrowPeak        elements whose coverage exceeds {PEAK_THRESHOLD:g} in that cell
                                 ({counts}); summit offset in column 10
  truth/sites.tsv                every planted site: chrom, start, end (0-based, half-open), motif,
                                 matrix_id, strand, strength, element, height_<cell> (= strength x
                                 height, 0 where inactive), site (on the motif's strand)
  truth/footprints.tsv           motif x cell: sigma, dip, height (0 where inactive)
  variants.vcf, truth/variants.tsv
                                 {n_mb} motif_breaking SNVs (most informative position of a site ->
                                 least probable base; expected = down on the `affected` tracks) and
                                 {len(variants) - n_mb} neutral SNVs (> {NEUTRAL_DISTANCE} bp from every site).
                                 POS is 1-based.

Next
  {next_commands('OUT')}
(OUT = this directory)
"""
    (tmp / "README.txt").write_text(text)
