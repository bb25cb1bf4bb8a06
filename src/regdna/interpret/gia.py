"""Global importance analysis (Koo et al. 2021; Toneyan et al. 2022), and the verb `regdna gia`
(`run_gia`).

Embed a pattern into many dinucleotide-shuffled background sequences (shuffling keeps the
composition and destroys motifs) and measure the mean change of the model output (the logit for
classifiers, as in Toneyan et al. 2022): the global importance of the pattern, with its 95%
interval. Sweeps test hypotheses about grammar: the distance and orientation between two motifs, and
the bases flanking a core motif.

A motif is a consensus string ("TGACTCA") or a JASPAR name or matrix id; with `sample=True`
each background receives its own site sampled from the JASPAR PWM, otherwise the consensus.

Output dir of the verb (`regdna.utils.output`, checked before the model is loaded): `gia.json`,
`effects.tsv`, `gia_effects.png`; with a second motif `distance.tsv`, `gia_distance.png`; with
flanks `flanks.tsv`, `gia_flanks.png`.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from regdna.data.records import load_records
from regdna.data.shuffle import dinucleotide_shuffle
from regdna.encode.onehot import reverse_complement
from regdna.errors import RegdnaError
from regdna.io.jaspar import load_motif
from regdna.plot.gia import plot_gia_distance, plot_gia_effects, plot_gia_flanks
from regdna.runs.config import read_run_config
from regdna.utils.jsonio import write_json
from regdna.utils.output import check_out_dir, output_dir
from regdna.variants.effects import load_scored_predictor

VERB = "gia"


@dataclass
class MotifSource:
    """What to embed: a fixed consensus, or a PWM (W, 4) to sample from."""

    name: str
    consensus: str
    ppm: np.ndarray | None = None

    def sites(self, n: int, rng: np.random.Generator, sample: bool) -> list[str]:
        if sample and self.ppm is not None:
            cumulative = np.cumsum(self.ppm / self.ppm.sum(1, keepdims=True), axis=1)
            draws = (rng.random((n, len(self.ppm), 1)) > cumulative[None]).sum(-1)
            return ["".join("ACGT"[min(i, 3)] for i in row) for row in draws]
        return [self.consensus] * n

    @property
    def width(self) -> int:
        return len(self.consensus)


def resolve_motif(spec: str, release: str | None = None) -> MotifSource:
    """A consensus (letters A, C, G, T, N only) or a JASPAR name / matrix id
    (`regdna.io.jaspar.load_motif`, which names the closest matches when unknown)."""
    text = spec.strip()
    if text and set(text) <= set("ACGTN"):
        return MotifSource(name=text, consensus=text)
    motif = load_motif(text, release=release)
    return MotifSource(name=f"{motif.name} ({motif.matrix_id})", consensus=motif.consensus,
                       ppm=np.asarray(motif.ppm, dtype=float))


def make_backgrounds(seqs: Sequence[str], n: int = 1000, seed: int = 0) -> list[str]:
    """n dinucleotide shuffles of sequences drawn at random (with replacement if needed)."""
    if not len(seqs):
        raise RegdnaError("global importance analysis needs background sequences; got none")
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(seqs), n, replace=n > len(seqs))
    return [dinucleotide_shuffle(seqs[i], rng) for i in picks]


def embed(seqs: Sequence[str], sites: Sequence[str], position: int) -> list[str]:
    """Write sites[i] into seqs[i] starting at `position` (same length out)."""
    out = []
    for seq, site in zip(seqs, sites):
        if position < 0 or position + len(site) > len(seq):
            raise RegdnaError(f"a {len(site)} bp motif at position {position} does not fit a "
                              f"{len(seq)} bp sequence")
        out.append(seq[:position] + site + seq[position + len(site):])
    return out


def _output(predictor, seqs, output: int) -> np.ndarray:
    return predictor.logits(list(seqs))[:, output].astype(np.float64)


def _summary(effects: np.ndarray) -> dict:
    """Mean effect with a normal 95% interval of the mean."""
    mean = float(effects.mean())
    half = 1.96 * float(effects.std(ddof=1)) / np.sqrt(len(effects)) if len(effects) > 1 else 0.0
    return {"mean": mean, "lo": mean - half, "hi": mean + half, "n": int(len(effects))}


def global_importance(predictor, backgrounds: Sequence[str],
                      placements: Sequence[tuple[MotifSource, int, str]], output: int = 0,
                      sample: bool = False, seed: int = 0,
                      baseline: np.ndarray | None = None) -> tuple[dict, np.ndarray]:
    """Effect of embedding motifs at given places: f(background + motifs) - f(background).

    Args:
        placements: (motif, start, strand "+" or "-") triples embedded in order.
        baseline: f(backgrounds) if already computed, (B,).

    Returns:
        ({mean, lo, hi, n}, per-background effects (B,)).
    """
    rng = np.random.default_rng(seed)
    seqs = list(backgrounds)
    for motif, start, strand in placements:
        sites = motif.sites(len(seqs), rng, sample)
        if strand == "-":
            sites = [reverse_complement(s) for s in sites]
        seqs = embed(seqs, sites, start)
    base = _output(predictor, backgrounds, output) if baseline is None else baseline
    effects = _output(predictor, seqs, output) - base
    return _summary(effects), effects


def motif_effect(predictor, backgrounds, motif: MotifSource, position: int | None = None,
                 output: int = 0, sample: bool = False, seed: int = 0) -> dict:
    """Global importance of one motif at `position` (default: the centre)."""
    length = len(backgrounds[0])
    position = (length - motif.width) // 2 if position is None else position
    summary, _ = global_importance(predictor, backgrounds, [(motif, position, "+")],
                                   output=output, sample=sample, seed=seed)
    return {"motif": motif.name, "position": position, **summary}


def distance_sweep(predictor, backgrounds, motif1: MotifSource, motif2: MotifSource,
                   distances: Sequence[int] | None = None, orientations: Sequence[str] = ("+", "-"),
                   output: int = 0, sample: bool = False, seed: int = 0) -> pd.DataFrame:
    """motif1 fixed at the centre, motif2 placed `d` bp from it (start to start; negative =
    upstream), in each orientation; rows for each (d, orientation) plus the single motifs.

    Columns: distance, orientation, mean, lo, hi, n, and `additive` = effect(motif1) +
    effect(motif2 alone at that place) for judging cooperativity.
    """
    length = len(backgrounds[0])
    centre = (length - motif1.width) // 2
    if distances is None:
        reach = min(centre, length - centre - motif1.width) - motif2.width
        step = max(1, reach // 20)
        distances = [d for d in range(-reach - motif1.width, reach + motif1.width + 1, step)]
    base = _output(predictor, backgrounds, output)
    single1, _ = global_importance(predictor, backgrounds, [(motif1, centre, "+")], output,
                                   sample, seed, baseline=base)
    rows = []
    for d, strand in itertools.product(distances, orientations):
        start = centre + d
        overlaps = start < centre + motif1.width and start + motif2.width > centre
        if overlaps or start < 0 or start + motif2.width > length:
            continue
        both, _ = global_importance(predictor, backgrounds,
                                    [(motif1, centre, "+"), (motif2, start, strand)], output,
                                    sample, seed, baseline=base)
        alone, _ = global_importance(predictor, backgrounds, [(motif2, start, strand)], output,
                                     sample, seed, baseline=base)
        rows.append({"distance": d, "orientation": strand, **both,
                     "additive": single1["mean"] + alone["mean"]})
    return pd.DataFrame(rows)


def flank_sweep(predictor, backgrounds, motif: MotifSource, n_flank: int = 2, output: int = 0,
                seed: int = 0) -> pd.DataFrame:
    """Every combination of `n_flank` bases on each side of the core motif at the centre:
    one row per flank pair, sorted by mean effect; `random_flanks` = the core alone with the
    background's own (random) flanks, the reference line of the flank analysis of
    Toneyan et al. (2022)."""
    length = len(backgrounds[0])
    centre = (length - motif.width) // 2
    base = _output(predictor, backgrounds, output)
    core, _ = global_importance(predictor, backgrounds, [(motif, centre, "+")], output,
                                seed=seed, baseline=base)
    rows = []
    for left in map("".join, itertools.product("ACGT", repeat=n_flank)):
        for right in map("".join, itertools.product("ACGT", repeat=n_flank)):
            full = MotifSource(name=f"{left}.{right}", consensus=left + motif.consensus + right)
            summary, _ = global_importance(predictor, backgrounds,
                                           [(full, centre - n_flank, "+")], output, seed=seed,
                                           baseline=base)
            rows.append({"left": left, "right": right, "site": full.consensus, **summary,
                         "random_flanks": core["mean"]})
    return pd.DataFrame(rows).sort_values("mean", ascending=False, ignore_index=True)


def run_gia(run: str | Path, motif: str, out: str | Path, motif2: str | None = None,
            data: str | Path | None = None, split: str = "test", n_backgrounds: int = 1000,
            sample: bool = False, flanks: int = 0, distances: Sequence[int] | None = None,
            output: str = "0", jaspar_release: str | None = None, seed: int = 0,
            scalar: str | None = None, device: str | None = None, overwrite: bool = False) -> dict:
    """Global importance of `motif` (and of `motif2`, with the distance / orientation sweep of
    the two; and the sweep of `flanks` bases on each side of `motif`) for the run's model, on
    dinucleotide shuffles of split `split` of `data` (default: the run's dataset).

    Parameters
    ----------
    run : run dir (`regdna train`).
    motif, motif2 : JASPAR name / matrix id, or a consensus (letters ACGTN) (`resolve_motif`).
    out : output dir (see the module doc); refused before any work unless new, empty, an
        earlier `gia` output, or `overwrite`.
    n_backgrounds : shuffled backgrounds (`make_backgrounds`).
    sample : sample each site from the JASPAR PWM instead of embedding the consensus.
    distances : distances (bp, start to start) of `motif2` from `motif`; None: the window.
    output : output index or label name; effects are changes of its logit.
    scalar : profile runs: which number of the predicted coverage is explained, "sum"
        (default) or "center:W" (`regdna.models.scalar`); refused for other runs.

    Returns
    -------
    dict
        The report written to gia.json: run, output, backgrounds, sampled_sites, effects (one
        dict per motif: label, motif, position, mean, lo, hi (change of the logit and its 95%
        interval), n), [best_distance (bp)]; and out.
    """
    if data is None:
        data = read_run_config(run).dataset.path
        if not data or not Path(data).is_dir():
            raise RegdnaError(f"the run's dataset ({data}) is not available; pass --data")
    inputs = [run, data]
    check_out_dir(out, VERB, inputs, overwrite)
    predictor = load_scored_predictor(run, scalar, device=device)
    index = predictor.output_index(output)
    seqs = load_records(data=data, split=split)["sequence"].tolist()   # input windows
    backgrounds = make_backgrounds(seqs, n=n_backgrounds, seed=seed)
    first = resolve_motif(motif, jaspar_release)
    effects = [{"label": first.name, **motif_effect(predictor, backgrounds, first,
                                                    output=index, sample=sample, seed=seed)}]
    label = predictor.labels[index]
    report = {"run": str(run), "output": label, "backgrounds": n_backgrounds,
              "sampled_sites": sample}
    tables = {}
    if motif2:
        second = resolve_motif(motif2, jaspar_release)
        effects.append({"label": second.name, **motif_effect(
            predictor, backgrounds, second, output=index, sample=sample, seed=seed)})
        tables["distance"] = distance_sweep(predictor, backgrounds, first, second, distances,
                                            output=index, sample=sample, seed=seed)
    if flanks:
        tables["flanks"] = flank_sweep(predictor, backgrounds, first, n_flank=flanks,
                                       output=index, seed=seed)
    report["effects"] = effects
    with output_dir(out, VERB, inputs, overwrite) as tmp:
        plot_gia_effects(tmp / "gia_effects.png", effects, title=f"Global importance ({label})")
        pd.DataFrame(effects).to_csv(tmp / "effects.tsv", sep="\t", index=False,
                                     float_format="%.4g")
        if "distance" in tables:
            tables["distance"].to_csv(tmp / "distance.tsv", sep="\t", index=False,
                                      float_format="%.4g")
            plot_gia_distance(tmp / "gia_distance.png", tables["distance"],
                              f"{first.name} at the centre, {second.name} moved")
            best = tables["distance"].sort_values("mean", ascending=False).iloc[0]
            report["best_distance"] = {"distance": int(best.distance),
                                       "orientation": best.orientation, "mean": best["mean"]}
        if "flanks" in tables:
            tables["flanks"].to_csv(tmp / "flanks.tsv", sep="\t", index=False,
                                    float_format="%.4g")
            plot_gia_flanks(tmp / "gia_flanks.png", tables["flanks"], f"Flanks of {first.name}")
        write_json(tmp / "gia.json", report)
    return {**report, "out": str(out)}
