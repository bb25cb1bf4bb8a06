"""The bundled example: a small synthetic regulatory dataset built from real JASPAR motifs.

Positives ("enhancers") carry a grammar: 2 or 3 *distinct* factors out of GATA1, TAL1::TCF3 and
SPI1, each once, at random non-overlapping positions and orientations. Negatives carry the same
factors as decoys: a single site of one factor. So no single motif marks a positive: the label
needs at least two different factors, which a CNN learns (max-pooled motif detectors, then their
combination), while a linear model on k-mer counts only sees the difference in motif counts
blurred by the variation of the sites.

Sites are drawn base by base from the JASPAR probability matrix sharpened by an exponent
(`sharpen=2`: p**2 renormalised), i.e. consensus-like sites with realistic variation. The
background of every window (and between windows) is drawn from one fixed order-4 Markov chain
with genome-like structure beyond dinucleotides (CpG depletion, poly(dA)-like tracts,
microsatellites, skewed 5-mer frequencies: `regdna.data.simulate.genomic_chain`), tilted to a
per-window GC fraction drawn from the same distribution for both classes (GC-matched). So a
dinucleotide shuffle of a window is out of distribution, as it is for genomic windows.

All windows are embedded in a synthetic genome (chr1..chr12) separated by background gaps of at
least half a window, so a window centred on any base of a window never reaches a neighbour's
motif. Variants: motif-breaking SNVs at the most informative position of a grammar motif in
positives with exactly two factors (the window becomes a one-factor decoy: expected "down"),
and neutral SNVs at least 15 bp from every planted motif that create no new motif match
(expected "none"). Each variant also has a simulated measured effect, as an MPRA would report it
(`measured`, a log2 fold change, and its two-sided `pvalue`): -MEASURED_SLOPE x the drop in
log2-odds of the broken site (0 for neutral SNVs) plus Gaussian noise of sd MEASURED_NOISE, from
a random stream of its own (the other files' bytes do not depend on it), so that
`benchmark-variants` and `benchmark-models` have correlations to compute.

Difficulty, measured on the default size (seed 0; test = chr8, chr9): the default model (`cnn`,
`regdna train` without --model) reaches a test AUROC of 0.966, the k-mer logistic regression
(k = 5) 0.826 (the chain's skew is set where the CNN keeps that margin: `simulate.CHAIN_SKEW`).
With 700 windows per class a CNN overfits (0.71-0.85): the tests train on the default size.
`decoy_fraction` < 1 leaves that share of negatives background-only, an easier task.

Files written (see README.txt in the output and docs/ARCHITECTURE.md): genome.fa + .fai,
positives.narrowPeak, negatives.bed, pos.fa, neg.fa, motifs.tsv, variants.vcf, variants.tsv; the
formats are written by `regdna.io` (fasta, bed, vcf, tables).

Why one module of ~470 lines: it is one simulation whose steps (sites, windows, genome, variants,
README) share the private `_Window` / `_Site` records and one random stream, whose order of draws
decides the bytes a seed writes; the README text alone is ~50 lines.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from regdna.data.simulate import (GC_MEAN, GC_SD, MARKOV_ORDER, codes_to_str, genomic_background,
                                  oriented, sample_site, sharpened, window_gc)
from regdna.errors import RegdnaError
from regdna.io.bed import write_bed
from regdna.io.fasta import write_fasta
from regdna.io.jaspar import load_motif
from regdna.io.tables import write_tsv
from regdna.io.vcf import write_vcf
from regdna.utils.output import check_out_dir, output_dir

DEFAULT_FACTORS = ("GATA1", "TAL1::TCF3", "SPI1")
EXAMPLE_RELEASE = "JASPAR2026"   # pinned: the same seed gives the same bytes after pyjaspar updates
N_CHROMS = 12
LINE_WIDTH = 60
EDGE_MARGIN = 10        # bp kept free of motifs at each window end (random-shift augmentation)
MOTIF_SPACING = 4       # bp between neighbouring planted motifs
NEUTRAL_DISTANCE = 15   # bp between a neutral SNV and the nearest planted motif
VARIANT_FRACTION = 0.15  # variants of each kind per positive window
MEASURED_SLOPE = 0.3     # simulated log2 fold change per bit of log2-odds a variant removes
MEASURED_NOISE = 0.4     # sd of the simulated measurement noise (log2 fold change)



@dataclass
class _Site:
    motif: int          # index into the factor list
    rel_start: int
    strand: str
    site: str           # planted sequence read on the motif's own strand (5'->3')
    role: str           # grammar | decoy


@dataclass
class _Window:
    label: int
    codes: np.ndarray   # (L,) uint8 base indices 0..3
    sites: list[_Site] = field(default_factory=list)
    chrom: str = ""
    start: int = 0

    @property
    def seq_id(self) -> str:
        return f"{self.chrom}:{self.start}-{self.start + len(self.codes)}"


def run_example(out: str | Path, seed: int = 0, n_per_class: int = 2000, length: int = 200,
                factors: tuple[str, ...] = DEFAULT_FACTORS, release: str | None = EXAMPLE_RELEASE,
                sharpen: float = 2.0, decoy_fraction: float = 1.0, overwrite: bool = False,
                profile: bool = False, chrom_size: int | None = None) -> Path:
    """`regdna example`: write the bundled example into `out` (atomically: all files or none).

    Parameters
    ----------
    out : output directory; an existing one is replaced only if it is empty or an earlier
        output of `regdna example` (`regdna.utils.output` policy), unless `overwrite`.
    seed : the only source of randomness: the same seed writes the same bytes.
    n_per_class : number of positive and of negative windows.
    length : window length in bp (>= 120).
    factors : JASPAR factor names or matrix IDs (>= 2 distinct) making up the grammar.
    release : JASPAR release (default JASPAR2026; None = newest bundled with pyjaspar).
    sharpen : exponent applied to the probability matrix before sampling sites (1 = sample
        from the PWM itself; larger = closer to the consensus).
    decoy_fraction : share of negatives carrying decoys (the rest are background only).
        1.0 (default) is the full grammar task; lower values make it easier (at 0 a single
        motif marks a positive, which k-mer models also learn).
    overwrite : replace `out` even when it holds files `regdna example` did not write.
    profile : write the profile example instead (`regdna.data.example_profile`: a genome with
        coverage tracks of two cell types whose footprints are known); `n_per_class`, `length`,
        `factors` and `decoy_fraction` do not apply to it.
    chrom_size : profile example only: bp per chromosome (default 700,000).

    Returns
    -------
    Path
        The output directory (its files are listed in the module docstring and its README.txt).
    """
    if profile:
        return _profile_example(out, seed, n_per_class, length, factors, release, sharpen,
                                decoy_fraction, overwrite, chrom_size)
    if chrom_size is not None:
        raise RegdnaError("--chrom-size applies to the profile example only; add --profile.")
    out = Path(out)
    _check_args(n_per_class, length, factors, sharpen)
    check_out_dir(out, "example", overwrite=overwrite)   # before the motifs are loaded and sampled
    if not 0.0 <= decoy_fraction <= 1.0:
        raise RegdnaError(f"--decoy-fraction must be within [0, 1], got {decoy_fraction}.")
    motifs = [load_motif(name, release=release) for name in factors]
    if len({m.matrix_id for m in motifs}) < 2:
        raise RegdnaError(f"factors {', '.join(factors)} name fewer than 2 distinct JASPAR "
                          "matrices; the grammar needs at least two.")
    widest = max(m.width for m in motifs)
    if 3 * (widest + MOTIF_SPACING) + 2 * EDGE_MARGIN + 2 * NEUTRAL_DISTANCE > length:
        raise RegdnaError(f"--length {length} is too short for motifs up to {widest} bp; "
                          f"use --length {3 * (widest + MOTIF_SPACING) + 2 * (EDGE_MARGIN + NEUTRAL_DISTANCE)} or more.")

    rng = np.random.default_rng(seed)
    sampling = [sharpened(m.ppm, sharpen) for m in motifs]
    gcs = [window_gc(rng) for _ in range(2 * n_per_class)]
    backgrounds = genomic_background(rng, 2 * n_per_class, length, gcs)
    windows = ([_positive(rng, backgrounds[i], motifs, sampling) for i in range(n_per_class)]
               + [_negative(rng, backgrounds[n_per_class + i], motifs, sampling, decoy_fraction)
                  for i in range(n_per_class)])
    chroms = _embed(rng, windows, length)
    n_variants = max(4, int(round(VARIANT_FRACTION * n_per_class)))
    variants = (_motif_breaking(rng, windows, motifs, n_variants, length)
                + _neutral(rng, windows, motifs, n_variants))
    variants.sort(key=lambda v: (int(v["chrom"][3:]), v["pos"]))
    for i, var in enumerate(variants, 1):
        var["id"] = f"{'mb' if var['kind'] == 'motif_breaking' else 'nt'}{i:05d}"
    _measure(np.random.default_rng([seed, 2]), variants)

    with output_dir(out, "example", overwrite=overwrite) as tmp:
        _write_genome(tmp, chroms)
        ordered = sorted(windows, key=lambda w: (int(w.chrom[3:]), w.start))
        _write_windows(tmp, ordered, length)
        _write_motifs(tmp, ordered, motifs)
        _write_variants(tmp, variants, chroms)
        _write_readme(tmp, seed, n_per_class, length, motifs, sharpen, windows, variants,
                      decoy_fraction)
    return out




def _profile_example(out, seed, n_per_class, length, factors, release, sharpen, decoy_fraction,
                     overwrite, chrom_size) -> Path:
    """`run_example(profile=True)`: refuse the grammar's options, then write the profile example."""
    from regdna.data.example_profile import DEFAULT_CHROM_SIZE, run_example_profile

    grammar = {"--n-per-class": n_per_class != 2000, "--length": length != 200,
               "--factors": tuple(factors) != DEFAULT_FACTORS, "--decoy-fraction": decoy_fraction != 1.0}
    if any(grammar.values()):
        given = [k for k, v in grammar.items() if v]
        raise RegdnaError(f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} to the "
                          "grammar example, not to --profile; leave it out.")
    return run_example_profile(out, seed=seed, chrom_size=chrom_size or DEFAULT_CHROM_SIZE,
                               release=release, sharpen=sharpen, overwrite=overwrite)


# --- argument checks -------------------------------------------------------------------------

def _check_args(n_per_class: int, length: int, factors, sharpen: float) -> None:
    if n_per_class < 20:
        raise RegdnaError(f"--n-per-class {n_per_class} is too small; use 20 or more.")
    if length < 120:
        raise RegdnaError(f"--length {length} is too short; use 120 bp or more.")
    if len(factors) < 2:
        raise RegdnaError("the example grammar needs at least 2 factors.")
    if not sharpen > 0:
        raise RegdnaError(f"sharpen must be > 0, got {sharpen}.")


# --- sequences ------------------------------------------------------------------------------

def _place(rng: np.random.Generator, length: int, widths: list[int]) -> list[int]:
    """Random non-overlapping starts for motifs of `widths` (kept MOTIF_SPACING bp apart)."""
    while True:
        starts: list[int] = []
        for width in widths:
            for _ in range(100):
                start = int(rng.integers(EDGE_MARGIN, length - EDGE_MARGIN - width + 1))
                if all(start + width + MOTIF_SPACING <= s or s + w + MOTIF_SPACING <= start
                       for s, w in zip(starts, widths)):
                    starts.append(start)
                    break
            else:
                break
        if len(starts) == len(widths):
            return starts


def _plant(rng, codes, motifs, sampling, chosen: list[int], role: str, label: int) -> _Window:
    """Plant the `chosen` factors' sites into the background `codes` (L,) (changed in place)."""
    length = len(codes)
    window = _Window(label=label, codes=codes)
    starts = _place(rng, length, [motifs[i].width for i in chosen])
    for index, start in zip(chosen, starts):
        site = sample_site(rng, sampling[index])
        planted, strand = oriented(rng, site)
        codes[start:start + len(site)] = planted
        window.sites.append(_Site(index, start, strand, codes_to_str(site), role))
    window.sites.sort(key=lambda s: s.rel_start)
    return window


def _positive(rng, codes, motifs, sampling) -> _Window:
    """2 (60 %) or 3 (40 %) distinct factors, each once."""
    k = 2 if rng.random() < 0.6 or len(motifs) == 2 else 3
    chosen = sorted(rng.choice(len(motifs), size=k, replace=False).tolist())
    return _plant(rng, codes, motifs, sampling, chosen, "grammar", 1)


def _negative(rng, codes, motifs, sampling, decoy_fraction: float) -> _Window:
    """One site of one factor: the decoy (background only for the share 1 - decoy_fraction of
    negatives).

    Why not as many motifs as positives: with equal motif counts in both classes a CNN gets no
    early gradient towards the motifs and stays at chance (measured: small CNN, test AUROC 0.48
    after 12 epochs). An earlier design with 1 or 2 copies of one factor (A + A against A + B)
    needed ~15 epochs to pass the k-mer floor; a single decoy keeps the two-factor rule learnable
    within the demo's budget.
    """
    factor = int(rng.integers(len(motifs)))
    chosen = [factor] if rng.random() < decoy_fraction else []
    return _plant(rng, codes, motifs, sampling, chosen, "decoy", 0)


# --- genome ---------------------------------------------------------------------------------

def _embed(rng, windows: list[_Window], length: int) -> dict[str, np.ndarray]:
    """Place windows in random order on chr1..chr12 with background gaps; return the contigs."""
    order = rng.permutation(len(windows))
    chrom_of = rng.integers(N_CHROMS, size=len(windows))
    pieces: dict[str, list[np.ndarray]] = {f"chr{i + 1}": [] for i in range(N_CHROMS)}
    offsets = {name: 0 for name in pieces}
    # gaps >= length/2 + margin: a window centred anywhere in one window never sees a neighbour's
    # motif; one gap before every window and one at the end of every chromosome
    sizes = rng.integers(length // 2 + EDGE_MARGIN, 2 * length, size=len(windows) + N_CHROMS)
    fill = genomic_background(rng, len(sizes), int(sizes.max()), GC_MEAN)
    gaps = iter(fill[i, :size] for i, size in enumerate(sizes))

    for index in order:
        name = f"chr{chrom_of[index] + 1}"
        spacer = next(gaps)
        pieces[name].append(spacer)
        offsets[name] += len(spacer)
        window = windows[index]
        window.chrom, window.start = name, offsets[name]
        pieces[name].append(window.codes)
        offsets[name] += length
    chroms = {}
    for name, parts in pieces.items():
        parts.append(next(gaps))
        chroms[name] = np.concatenate(parts)
    return chroms


# --- variants -------------------------------------------------------------------------------

def _motif_breaking(rng, windows, motifs, n: int, length: int) -> list[dict]:
    """SNVs at the most informative position of one grammar motif in two-factor positives.

    The least probable base of that matrix column replaces the planted base, so the window
    keeps one factor only, like a decoy. Both motifs lie inside a `length` window centred on
    the variant, so a model scoring that window sees the whole grammar break.
    """
    candidates = []
    for window in windows:
        if window.label != 1 or len(window.sites) != 2:
            continue
        for hit, other in ((0, 1), (1, 0)):
            site, partner = window.sites[hit], window.sites[other]
            rel = _break_position(site, motifs[site.motif])
            lo, hi = rel - length // 2, rel - length // 2 + length
            width = motifs[partner.motif].width
            if lo <= partner.rel_start and partner.rel_start + width <= hi:
                candidates.append((window, site, rel))
    if not candidates:
        return []
    picks = rng.choice(len(candidates), size=min(n, len(candidates)), replace=False)
    variants = []
    for index in sorted(picks.tolist()):
        window, site, rel = candidates[index]
        motif = motifs[site.motif]
        column = int(np.argmax(motif.information))
        ref_motif_strand = "ACGT".index(site.site[column])
        order = np.argsort(motif.ppm[column], kind="stable")      # least probable first
        alt_motif_strand = int(next(b for b in order if b != ref_motif_strand))
        ref, alt = (ref_motif_strand, alt_motif_strand) if site.strand == "+" else \
            (3 - ref_motif_strand, 3 - alt_motif_strand)
        assert window.codes[rel] == ref
        weights = motif.log_odds()
        drop = float(weights[column, ref_motif_strand] - weights[column, alt_motif_strand])
        variants.append(_variant(window, rel, ref, alt, "motif_breaking", "down", motif.name,
                                 drop))
    return variants


def _break_position(site: _Site, motif) -> int:
    """Window position of the motif's most informative column, on either strand."""
    column = int(np.argmax(motif.information))
    offset = column if site.strand == "+" else motif.width - 1 - column
    return site.rel_start + offset


def _neutral(rng, windows, motifs, n: int) -> list[dict]:
    """SNVs in positives >= NEUTRAL_DISTANCE bp from every planted motif, creating no new site."""
    positives = [w for w in windows if w.label == 1]
    scorers = [(m.log_odds(), _max_score(m)) for m in motifs]
    variants: list[dict] = []
    picks = rng.permutation(len(positives))
    for index in picks:
        if len(variants) == n:
            break
        window = positives[index]
        free = np.ones(len(window.codes), dtype=bool)
        for site in window.sites:
            width = motifs[site.motif].width
            free[max(0, site.rel_start - NEUTRAL_DISTANCE):site.rel_start + width + NEUTRAL_DISTANCE] = False
        choices = np.flatnonzero(free)
        if not len(choices):
            continue
        rel = int(rng.choice(choices))
        ref = int(window.codes[rel])
        alt = int(rng.choice([b for b in range(4) if b != ref]))
        mutated = window.codes.copy()
        mutated[rel] = alt
        if any(_best_score_covering(mutated, rel, weights) > 0.6 * best for weights, best in scorers):
            continue  # the SNV would create a motif-like site: not neutral
        variants.append(_variant(window, rel, ref, alt, "neutral", "none", ""))
    return variants


def _max_score(motif) -> float:
    return float(motif.log_odds().max(axis=1).sum())


def _best_score_covering(codes: np.ndarray, pos: int, weights: np.ndarray) -> float:
    """Best log-odds score of any placement (either strand) of `weights` (W, 4) covering `pos`."""
    width = weights.shape[0]
    rc_weights = weights[::-1, ::-1]
    best = -np.inf
    for start in range(max(0, pos - width + 1), min(pos, len(codes) - width) + 1):
        segment = codes[start:start + width]
        rows = np.arange(width)
        best = max(best, weights[rows, segment].sum(), rc_weights[rows, segment].sum())
    return float(best)


def _variant(window: _Window, rel: int, ref: int, alt: int, kind: str, expected: str,
             motif: str, drop: float = 0.0) -> dict:
    """`drop`: the log2-odds the SNV removes from the planted site it breaks (0: none)."""
    return {"chrom": window.chrom, "pos": window.start + rel + 1, "ref": "ACGT"[ref],
            "alt": "ACGT"[alt], "kind": kind, "expected": expected, "motif": motif,
            "seq_id": window.seq_id, "drop": drop}


def _measure(rng, variants: list[dict]) -> None:
    """The simulated measurement of each variant (module doc): `measured` (log2 fold change)
    and its two-sided normal `pvalue` against no effect."""
    from scipy.stats import norm

    noise = rng.normal(0.0, MEASURED_NOISE, size=len(variants))
    for var, eps in zip(variants, noise):
        var["measured"] = round(-MEASURED_SLOPE * var["drop"] + float(eps), 4)
        var["pvalue"] = float(f"{2 * norm.sf(abs(var['measured']) / MEASURED_NOISE):.4g}")


# --- files (the formats are written by regdna.io) ---------------------------------------------

def _write_genome(tmp: Path, chroms: dict[str, np.ndarray]) -> None:
    """genome.fa with 60-bp lines and its samtools-style .fai index."""
    write_fasta(tmp / "genome.fa", ((name, codes_to_str(codes)) for name, codes in chroms.items()),
                width=LINE_WIDTH, index=True)


def _write_windows(tmp: Path, windows: list[_Window], length: int) -> None:
    """positives.narrowPeak (summit at the centre), negatives.bed (BED6), pos.fa and neg.fa."""
    positives = [w for w in windows if w.label == 1]
    negatives = [w for w in windows if w.label != 1]
    summit = length // 2
    write_bed(tmp / "positives.narrowPeak",
              ((w.chrom, w.start, w.start + length, w.seq_id, min(1000, 300 * len(w.sites)), ".",
                f"{len(w.sites)}.0", -1, -1, summit) for w in positives))
    write_bed(tmp / "negatives.bed", ((w.chrom, w.start, w.start + length, w.seq_id, 0, ".") for w in negatives))
    write_fasta(tmp / "pos.fa", ((w.seq_id, codes_to_str(w.codes)) for w in positives), width=None)
    write_fasta(tmp / "neg.fa", ((w.seq_id, codes_to_str(w.codes)) for w in negatives), width=None)


MOTIF_COLUMNS = ["seq_id", "chrom", "start", "end", "rel_start", "rel_end", "motif", "matrix_id",
                 "strand", "role", "site"]
VARIANT_COLUMNS = ["id", "chrom", "pos", "ref", "alt", "kind", "expected", "motif", "seq_id",
                   "measured", "pvalue"]
VCF_INFO = [("KIND", "1", "String", "motif_breaking or neutral"),
            ("EXPECTED", "1", "String", "Expected effect on the positive-class score: down or none"),
            ("MOTIF", "1", "String", "JASPAR factor whose planted site the variant breaks"),
            ("SEQ", "1", "String", "Example window chrom:start-end (0-based, half-open)")]


def _write_motifs(tmp: Path, windows: list[_Window], motifs) -> None:
    def rows():
        for window in windows:
            for site in window.sites:
                motif = motifs[site.motif]
                rel_end = site.rel_start + motif.width
                yield [window.seq_id, window.chrom, window.start + site.rel_start, window.start + rel_end,
                       site.rel_start, rel_end, motif.name, motif.matrix_id, site.strand, site.role, site.site]

    write_tsv(tmp / "motifs.tsv", MOTIF_COLUMNS, rows())


def _write_variants(tmp: Path, variants: list[dict], chroms: dict[str, np.ndarray]) -> None:
    write_tsv(tmp / "variants.tsv", VARIANT_COLUMNS, ([var[c] for c in VARIANT_COLUMNS] for var in variants))
    records = ({**var, "info": {"KIND": var["kind"], "EXPECTED": var["expected"], "MOTIF": var["motif"],
                                "SEQ": var["seq_id"]}} for var in variants)
    write_vcf(tmp / "variants.vcf", records, {name: len(codes) for name, codes in chroms.items()},
              info=VCF_INFO, meta={"source": "regdna example", "reference": "genome.fa"})


def _write_readme(tmp: Path, seed, n_per_class, length, motifs, sharpen, windows, variants,
                  decoy_fraction: float) -> None:
    def gc(label: int) -> float:
        seqs = [w.codes for w in windows if w.label == label]
        codes = np.concatenate(seqs)
        return float(np.isin(codes, (1, 2)).mean())

    n_mb = sum(v["kind"] == "motif_breaking" for v in variants)
    factor_lines = "\n".join(f"  {m.name:<12} {m.matrix_id:<10} {m.width:>2} bp  consensus "
                             f"{m.consensus}  ({m.information.sum():.1f} bits)" for m in motifs)
    release = motifs[0].release
    decoy_note = ("" if decoy_fraction == 1 else
                  f"\n  in a share {decoy_fraction:g} of them; the rest are background only")
    text = f"""regdna bundled example (regdna example --seed {seed} --n-per-class {n_per_class} --length {length})

A synthetic regulatory dataset made from real JASPAR ({release}) motifs.

Factors (CORE vertebrates, latest matrix version; sites sampled from the probability matrix
raised to the power {sharpen:g} and renormalised, i.e. consensus-like):
{factor_lines}

Positives ({n_per_class} windows of {length} bp): 2 (60%) or 3 (40%) DISTINCT factors, each once,
  at random non-overlapping positions (>= {EDGE_MARGIN} bp from the window ends) and orientations.
Negatives ({n_per_class} windows): one site of ONE factor (a decoy){decoy_note}.
  => one motif is never enough, and A+B (positive) vs A+A (negative) have the same motif count:
     the label is an interaction that a CNN learns and a linear k-mer model cannot express.
Background: a fixed order-{MARKOV_ORDER} Markov chain with genome-like structure beyond dinucleotides
  (CpG depletion, poly(dA)-like tracts, microsatellites, skewed 5-mer frequencies), tilted to
  a per-window GC drawn from N({GC_MEAN}, {GC_SD}) for both classes (mean window GC: positives
  {gc(1):.3f}, negatives {gc(0):.3f}); a dinucleotide shuffle of a window is out of distribution.

Files
  genome.fa, genome.fa.fai   chr1..chr12; every window embedded, separated by background gaps
                             of >= {length // 2 + EDGE_MARGIN} bp
  positives.narrowPeak       positive windows (0-based, half-open), summit offset in column 10
  negatives.bed              negative windows (BED6)
  pos.fa, neg.fa             window sequences, headers chrN:start-end (= genome[start:end])
  motifs.tsv                 planted motifs: seq_id, chrom, start, end (genomic, 0-based
                             half-open), rel_start, rel_end (within the window), motif,
                             matrix_id, strand, role (grammar|decoy), site (planted sequence on
                             the motif's strand; on '-' the window holds its reverse complement)
  variants.vcf, variants.tsv {n_mb} motif_breaking SNVs (the most informative position of a
                             grammar motif in a two-factor positive, replaced by the least probable
                             base of that matrix column; expected = down) and {len(variants) - n_mb}
                             neutral SNVs (>= {NEUTRAL_DISTANCE} bp from every planted motif, creating
                             no motif-like site; expected = none). POS is 1-based.
                             variants.tsv also has a simulated MPRA measurement: measured =
                             -{MEASURED_SLOPE:g} x the log2-odds the SNV removes from its site (0 for
                             neutral SNVs) + N(0, {MEASURED_NOISE:g}) noise (log2 fold change), and
                             its two-sided pvalue.

Typical use
  regdna prepare --fasta pos.fa:1 --fasta neg.fa:0 --split chrom \\
      --test-chroms chr8,chr9 --val-chroms chr10 --out dataset
"""
    (tmp / "README.txt").write_text(text)
