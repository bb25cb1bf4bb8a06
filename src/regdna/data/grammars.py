"""Synthetic regulatory grammars with known answers: the suite that chooses regdna's default model
(`bench/model_defaults.py`) and the tests of shortcut diagnostics and motif discovery.

Each grammar says which JASPAR factors a positive and a negative window carry and where. Sites
are sampled from the sharpened probability matrix like the bundled example's
(`regdna.data.simulate`), on a random strand, in GC-matched i.i.d. background. Members:

- `two-factor`: positives carry factor A once, negatives factor B once, both anywhere (a
  two-factor ChIP-seq comparison: "A peaks vs B peaks"); a third of the negatives are
  background only, so B's absence alone does not make a positive: a model must learn A too.
- `shortcut`: as `two-factor`, but B sits exactly at the window centre while A sits anywhere,
  so a model can separate the classes by what is at the centre: a head that keeps positions
  (Basset's flatten + dense) may learn the centre instead of the motifs.
- `decoy-4`: four factors; positives carry two distinct factors, negatives one site of one
  factor (a decoy), so no single motif marks a positive.
- `long`: 1 kb windows, positives carry A and B, negatives one of them: sparse signal.
- `large`: `decoy-4` at 300 bp with 25,000 windows per class (the `--full` suite only).

`write_grammar` writes `sequences.tsv` (id, sequence, label, split: a random stratified
70 / 15 / 15 split) for `regdna prepare --table ... --split-column split` and `sites.tsv`
(seq_id, start, end (0-based, in the sequence), motif, role) for `regdna attribute --motifs`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from regdna.data.simulate import (background, codes_to_str, oriented, sample_site, sharpened,
                                  window_gc)
from regdna.errors import RegdnaError
from regdna.io.jaspar import load_motif

RELEASE = "JASPAR2026"   # pinned like the bundled example: a seed writes the same bytes
EDGE = 10                # bp kept free of sites at each end (shift augmentation)
SPACING = 4              # bp between neighbouring sites
SPLITS = (("train", 0.70), ("val", 0.15), ("test", 0.15))


@dataclass(frozen=True)
class Grammar:
    """One suite member: `positive` / `negative` are rules (see `_factors`), `centre` the
    factor indices planted at the window centre instead of anywhere."""

    name: str
    length: int
    n_per_class: int        # default size (2 CPU cores)
    n_full: int             # --full size (a GPU)
    factors: tuple[str, ...]
    positive: str
    negative: str
    centre: tuple[int, ...] = ()
    empty_negatives: float = 0.0   # share of negatives that are background only
    in_default: bool = True


GRAMMARS = {g.name: g for g in (
    Grammar("two-factor", 200, 2000, 10000, ("GATA1", "SPI1"), "A", "B", empty_negatives=1 / 3),
    Grammar("shortcut", 200, 2000, 10000, ("GATA1", "SPI1"), "A", "B", centre=(1,),
            empty_negatives=1 / 3),
    Grammar("decoy-4", 300, 3000, 10000, ("GATA1", "SPI1", "CEBPB", "FOXA2"), "pair", "one"),
    Grammar("long", 1000, 1000, 5000, ("GATA1", "SPI1"), "AB", "one"),
    Grammar("large", 300, 25000, 25000, ("GATA1", "SPI1", "CEBPB", "FOXA2"), "pair", "one",
            in_default=False),
)}


def _factors(rule: str, rng: np.random.Generator, n_factors: int) -> list[int]:
    """Factor indices a window carries: A / B / AB fixed, `pair` two distinct at random,
    `one` one at random."""
    if rule == "pair":
        return sorted(rng.choice(n_factors, size=2, replace=False).tolist())
    if rule == "one":
        return [int(rng.integers(n_factors))]
    return ["AB".index(c) for c in rule]


def _starts(rng, length: int, widths: list[int], fixed: list[int | None]) -> list[int]:
    """Start of each site: the fixed ones as given, the others at random, non-overlapping."""
    taken = [(s, w) for s, w in zip(fixed, widths) if s is not None]
    starts = []
    for width, start in zip(widths, fixed):
        while start is None:
            pick = int(rng.integers(EDGE, length - EDGE - width + 1))
            if all(pick + width + SPACING <= s or s + w + SPACING <= pick for s, w in taken):
                start = pick
                taken.append((pick, width))
        starts.append(start)
    return starts


def simulate(grammar: Grammar | str, seed: int = 0, full: bool = False,
             n_per_class: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sample a grammar: (sequences: id, sequence, label, split; sites: seq_id, start, end,
    motif, role, strand). `n_per_class` overrides the member's size (tests use small ones)."""
    if isinstance(grammar, str):
        if grammar not in GRAMMARS:
            raise RegdnaError(f"unknown grammar '{grammar}'; valid: {', '.join(GRAMMARS)}")
        grammar = GRAMMARS[grammar]
    motifs = [load_motif(name, release=RELEASE) for name in grammar.factors]
    tables = [sharpened(m.ppm, 2.0) for m in motifs]
    rng = np.random.default_rng(seed)
    n = n_per_class or (grammar.n_full if full else grammar.n_per_class)
    rows, sites = [], []
    for label, rule in ((1, grammar.positive), (0, grammar.negative)):
        for _ in range(n):
            seq_id = f"{grammar.name}_{len(rows):06d}"
            codes = background(rng, grammar.length, window_gc(rng))
            chosen = _factors(rule, rng, len(motifs))
            if not label and rng.random() < grammar.empty_negatives:
                chosen = []
            widths = [motifs[i].width for i in chosen]
            fixed = [(grammar.length - w) // 2 if i in grammar.centre else None
                     for i, w in zip(chosen, widths)]
            for index, start in zip(chosen, _starts(rng, grammar.length, widths, fixed)):
                planted, strand = oriented(rng, sample_site(rng, tables[index]))
                codes[start:start + len(planted)] = planted
                sites.append((seq_id, start, start + len(planted), motifs[index].name,
                              "positive" if label else "negative", strand))
            rows.append((seq_id, codes_to_str(codes), label))
    seqs = pd.DataFrame(rows, columns=["id", "sequence", "label"])
    seqs["split"] = _stratified_split(seqs.label.to_numpy(), rng)
    return seqs, pd.DataFrame(sites, columns=["seq_id", "start", "end", "motif", "role",
                                              "strand"])


def _stratified_split(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.empty(len(labels), dtype=object)
    for value in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == value))
        bounds = np.cumsum([int(round(f * len(idx))) for _, f in SPLITS])
        for (name, _), part in zip(SPLITS, np.split(idx, bounds[:-1])):
            out[part] = name
    return out


def write_grammar(out: str | Path, grammar: Grammar | str, seed: int = 0, full: bool = False,
                  n_per_class: int | None = None) -> tuple[Path, Path]:
    """Write `sequences.tsv` and `sites.tsv` of a grammar into the directory `out` (created);
    returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seqs, sites = simulate(grammar, seed=seed, full=full, n_per_class=n_per_class)
    seqs.to_csv(out / "sequences.tsv", sep="\t", index=False)
    sites.to_csv(out / "sites.tsv", sep="\t", index=False)
    return out / "sequences.tsv", out / "sites.tsv"
