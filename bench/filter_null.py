"""Which JASPAR profiles do motif-less filters match, and below what information content is a
filter's Tomtom match meaningless? The measurement behind `FILTER_EXCLUDE` and
`MIN_INFORMATION` in `regdna.interpret.filters`.

Toneyan et al. 2022 left MA1929 and MA0615 out of filter matching because low-information
first-layer filters hit them. This script measures the same for the JASPAR release regdna uses
(vertebrate CORE, `regdna.interpret.motif_match.load_targets`): it makes PPMs that carry no
motif, Tomtoms them with regdna's own `match_jaspar` (memelite's Tomtom, Gupta et al. 2007;
Benjamini-Hochberg q-values over the targets of each query) and counts which profiles take the
best match at q < 0.05. Null PPMs of width 19 (Basset's first layer), `--n` of each kind:

- `dirichlet`: every position drawn from Dirichlet(0.5): spiky, information-rich random PPMs;
- `dirichlet_mixed`: Dirichlet(alpha) with one alpha per PPM, log-uniform in [0.6, 1.6]: random
  PPMs spread over 4-12 bits, where the hit ratio by information content drops;
- `flat`: near-uniform, every position Dirichlet(20);
- `random_relu`, `random_exp`: activation-based alignments (Alipanahi et al. 2015; sites above
  0.5 x each filter's maximum, `regdna.interpret.filters.filter_ppms`) of the first-layer
  filters of untrained Bassets (Kelley et al. 2016; ReLU, or the exponential activation of Koo &
  Ploenzke 2021) on random 200-bp sequences;
- `random_sharp`: the same with the exponential activation and the first-layer weights x 8, the
  weight scale of a trained first layer, so each filter's alignment is as tight as a trained
  filter's (few, similar sites).

Printed: the information content (bits: sum over positions of 2 - entropy) of each kind; the
profiles taking the most best matches over all profiles; the hit ratio (q < 0.05) of the null
PPMs by information content; then a greedy exclusion that starts from `--exclude` (default
Toneyan et al.'s MA1929, MA0615) and adds, one at a time, the profile taking the most best
matches of the null PPMs with at least `--min-information` bits while it takes >= `--share` (10%)
of them and at least `--min-count` (5); that list compared with the shipped `FILTER_EXCLUDE`;
and the matches and the hit ratio by information content with the shipped list removed. The shipped list holds the profiles this greedy step picks for at least two
of the seeds 0, 1 and 2 (`--seed`).

    .venv/bin/python bench/filter_null.py [--n 300] [--release JASPAR2026] [--seqs 500]

Runs in 25-110 s on 2 shared CPU cores.
"""
from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np

WIDTH = 19
BINS = (0, 2, 4, 6, 8, 10, 12, 14, 16, 100)


def dirichlet_ppms(alphas, rng) -> list[np.ndarray]:
    return [rng.dirichlet([alpha] * 4, size=WIDTH) for alpha in alphas]


def random_filter_ppms(n: int, exp_activation: bool, scale: float, seqs, seed: int):
    """Alignment PPMs of the first-layer filters of untrained Bassets on random sequences."""
    import torch

    from regdna.data.dataset import DatasetInfo
    from regdna.interpret.filters import filter_ppms
    from regdna.models.registry import build_model
    from regdna.runs.predictor import Predictor

    info = DatasetInfo(task="binary", labels=["y"], length=200)
    out: list[np.ndarray] = []
    while len(out) < n:
        torch.manual_seed(seed + len(out))
        model = build_model("basset", info, exp_activation=exp_activation, hidden=16).eval()
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, torch.nn.Conv1d) and module.in_channels == 4:
                    module.weight.mul_(scale)
                    break
        predictor = Predictor(model, task="binary", labels=["y"], length=200, device="cpu")
        out += [ppm for _, ppm, _ in filter_ppms(predictor, seqs)]
    return out[:n]


def best_hits(ppms, targets, q: float = 0.05) -> list[str | None]:
    """Best match 'NAME MATRIX_ID' of each PPM when its q < `q`, else None."""
    from regdna.interpret.motif_match import match_jaspar

    return [f"{t['name'].iloc[0]} {t.matrix_id.iloc[0]}" if t.q_value.iloc[0] < q else None
            for t in match_jaspar(ppms, targets, top=1)]


def show(title: str, hits: list, top: int) -> None:
    n_hits = sum(h is not None for h in hits)
    counts = Counter(h for h in hits if h is not None)
    print(f"{title}: {n_hits}/{len(hits)} best matches at q < 0.05")
    for name, count in counts.most_common(top):
        print(f"  {count:4d}  {count / max(n_hits, 1):6.1%}  {name}")


def by_information(hits, ic, kind_of) -> None:
    """Hit ratio of the null PPMs per information bin, per kind (hits/PPMs)."""
    kinds = list(dict.fromkeys(kind_of))
    print("  bits     " + "".join(f"{k:>17s}" for k in kinds) + "              all")
    for lo, hi in zip(BINS[:-1], BINS[1:]):
        sel = (ic >= lo) & (ic < hi)
        cells = []
        for kind in kinds + [None]:
            s = sel & ((kind_of == kind) if kind else True)
            n = int(s.sum())
            k = sum(hits[i] is not None for i in np.nonzero(s)[0])
            cells.append(f"{k:4d}/{n:4d} {k / n:5.0%}" if n else f"{'-':>15s}")
        label = f"{lo:2d}-{hi:<3d}" if hi < 100 else f">={lo:<3d} "
        print(f"  {label}  " + "".join(f"{c:>17s}" for c in cells))


def main() -> None:
    from regdna.interpret.filters import information_content
    from regdna.interpret.motif_match import load_targets

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="null PPMs of each kind")
    parser.add_argument("--release", default=None, help="JASPAR release (default: regdna's)")
    parser.add_argument("--seqs", type=int, default=500, help="random sequences for alignment")
    parser.add_argument("--top", type=int, default=10, help="profiles listed per table")
    parser.add_argument("--exclude", default="MA1929,MA0615",
                        help="comma-separated base ids the greedy exclusion starts from")
    parser.add_argument("--min-information", type=float, default=None,
                        help="bits; null PPMs below it are left out of the greedy exclusion "
                             "(default: the shipped MIN_INFORMATION)")
    parser.add_argument("--share", type=float, default=0.10,
                        help="a profile is excluded while it takes this share of null matches")
    parser.add_argument("--min-count", type=int, default=5,
                        help="... and at least this many of them")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.min_information is None:
        from regdna.interpret.filters import MIN_INFORMATION
        args.min_information = MIN_INFORMATION

    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    seqs = ["".join(rng.choice(list("ACGT"), 200)) for _ in range(args.seqs)]
    kinds = {"dirichlet": dirichlet_ppms([0.5] * args.n, rng),
             "dirichlet_mixed": dirichlet_ppms(np.exp(rng.uniform(np.log(0.6), np.log(1.6),
                                                                  args.n)), rng),
             "flat": dirichlet_ppms([20.0] * args.n, rng),
             "random_relu": random_filter_ppms(args.n, False, 1.0, seqs, args.seed),
             "random_exp": random_filter_ppms(args.n, True, 1.0, seqs, args.seed),
             "random_sharp": random_filter_ppms(args.n, True, 8.0, seqs, args.seed)}
    ppms = [p for group in kinds.values() for p in group]
    kind_of = np.array([k for k, group in kinds.items() for _ in group])
    ic = np.array([information_content(p) for p in ppms])
    targets = load_targets(args.release)
    print(f"JASPAR {targets[0].release} vertebrate CORE: {len(targets)} profiles; "
          f"{args.n} null PPMs of width {WIDTH} per kind")

    print("\ninformation content (bits) per kind: 5%, 50%, 95%, max")
    for kind in kinds:
        values = ic[kind_of == kind]
        print(f"  {kind:16s} " + "  ".join(f"{v:5.2f}" for v in
                                           (*np.percentile(values, [5, 50, 95]), values.max())))

    print("\n=== all profiles ===")
    hits = best_hits(ppms, targets)
    for kind in kinds:
        show(kind, [h for h, k in zip(hits, kind_of) if k == kind], args.top)
    show("all kinds", hits, args.top)
    print("hit ratio by information content (bits)")
    by_information(hits, ic, kind_of)

    informative = ic >= args.min_information
    excluded = [e for e in args.exclude.split(",") if e]
    print(f"\n=== greedy exclusion over the {int(informative.sum())} null PPMs with >= "
          f"{args.min_information:g} bits (start: {', '.join(excluded) or 'none'}) ===")
    chosen = [p for p, keep in zip(ppms, informative) if keep]
    while True:
        kept = load_targets(args.release, exclude=tuple(excluded))
        counts = Counter(h for h in best_hits(chosen, kept) if h is not None)
        n_hits = sum(counts.values())
        if not counts:
            break
        name, count = counts.most_common(1)[0]
        print(f"  {n_hits:4d}/{len(chosen)} hits; top: {count:4d} ({count / n_hits:5.1%}) {name}")
        if count / n_hits < args.share or count < args.min_count:
            break
        excluded.append(name.rsplit(" ", 1)[1].split(".")[0])
    from regdna.interpret.filters import FILTER_EXCLUDE

    print(f"exclusion list: {', '.join(excluded)}")
    print(f"shipped FILTER_EXCLUDE: {', '.join(FILTER_EXCLUDE)}; not measured here: "
          f"{', '.join(sorted(set(FILTER_EXCLUDE) - set(excluded))) or 'none'}; measured, "
          f"not shipped: {', '.join(sorted(set(excluded) - set(FILTER_EXCLUDE))) or 'none'}")

    print(f"\n=== without the shipped FILTER_EXCLUDE: {', '.join(FILTER_EXCLUDE)} ===")
    hits = best_hits(ppms, load_targets(args.release, exclude=FILTER_EXCLUDE))
    show(f"null PPMs with >= {args.min_information:g} bits",
         [h for h, keep in zip(hits, informative) if keep], args.top)
    show(f"null PPMs below {args.min_information:g} bits",
         [h for h, keep in zip(hits, informative) if not keep], args.top)
    print("hit ratio by information content (bits)")
    by_information(hits, ic, kind_of)
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
