"""`regdna attribute`, `regdna faithfulness`, `regdna motifs`, `regdna gia`: thin layers over
`regdna.interpret`.

Each verb checks its `--out` against the output policy (`regdna.utils.output`) before it loads a
model or computes anything, so a refused `--out` costs nothing, and writes it atomically at the
end."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from regdna.cli import app
from regdna.cli.options import OVERWRITE
from regdna.errors import RegdnaError

_RUN = typer.Option(..., "--run", help="Run dir of a trained model (regdna train).")
_DEVICE = typer.Option(None, "--device", help="torch device (default: CUDA if present).")


# -- shared helpers -------------------------------------------------------------------------------
def _say_subset(table) -> None:
    """Say so when fewer sequences than the input holds are analysed (never silently)."""
    from regdna.data.records import subset_note

    note = subset_note(table)
    if note:
        typer.echo(note)


def _check_length(predictor, table) -> None:
    if predictor.length is None:
        return
    bad = table[table.sequence.str.len() != predictor.length]
    if len(bad):
        row = bad.iloc[0]
        raise RegdnaError(f"record {row['id']} has {len(row['sequence'])} bp but the model takes "
                          f"{predictor.length} bp; cut windows with `regdna prepare --length`")


# -- attribute ------------------------------------------------------------------------------------
@app.command("attribute")
def attribute_cmd(
    run: Path = _RUN,
    out: Path = typer.Option(..., "--out", "-o", help="Output dir: attributions.npz, logos/, "
                             "summary.json."),
    method: str = typer.Option("integrated_gradients", "--method", "-m", help="saliency, "
                               "grad_x_input, integrated_gradients, deeplift_shap, ism; "
                               "transformers also attention, rollout, gradcam, lrp."),
    fasta: Optional[Path] = typer.Option(None, "--fasta", help="FASTA of sequences to explain "
                                         "(record names chrom:start-end place --motifs sites)."),
    data: Optional[Path] = typer.Option(None, "--data", help="Dataset dir (regdna prepare)."),
    split: str = typer.Option("test", "--split", help="Split of --data."),
    label: Optional[str] = typer.Option(None, "--class", help="Only sequences of this class "
                                        "(--data; e.g. 1 for positives)."),
    n: Optional[int] = typer.Option(None, "--n", help="Explain only the first N sequences "
                                    "(default: every record of --fasta or of the split)."),
    motifs: Optional[Path] = typer.Option(None, "--motifs", help="Known sites (motifs.tsv): boxed "
                                          "on the logos; AUROC of attribution at sites reported."),
    output: str = typer.Option("0", "--output", help="Output (index or label name) to explain."),
    logos: int = typer.Option(6, "--logos", help="Number of per-sequence logos to draw (those "
                              "with known sites first)."),
    n_references: int = typer.Option(8, "--n-references", help="Dinucleotide-shuffled "
                                     "references per sequence (deeplift_shap, integrated_gradients)."),
    n_steps: int = typer.Option(20, "--n-steps", help="Integration steps per reference "
                                "(integrated_gradients)."),
    batch_size: int = typer.Option(32, "--batch-size", help="Sequences per backward pass."),
    seed: int = typer.Option(0, "--seed", help="Seed of the shuffled references."),
    device: Optional[str] = _DEVICE,
    overwrite: bool = OVERWRITE,
):
    """Attribution maps (N, L, 4) or (N, L) for each sequence, with per-sequence logos."""
    import numpy as np

    from regdna.data.records import load_records
    from regdna.encode.onehot import one_hot
    from regdna.interpret.attribute import attribute, check_method
    from regdna.interpret.sites import load_sites, site_auroc, site_boxes, site_mask
    from regdna.plot.logos import plot_attribution_logo
    from regdna.runs import load_predictor
    from regdna.utils.output import check_out_dir, output_dir

    inputs = [run, fasta, data, motifs]
    check_out_dir(out, "attribute", inputs, overwrite)
    predictor = load_predictor(run, device=device)
    check_method(predictor, method)
    table = load_records(fasta, data, split, n, label)
    _check_length(predictor, table)
    _say_subset(table)
    sites = load_sites(motifs) if motifs else None
    seqs = list(table.sequence)
    index = predictor.output_index(output)
    kwargs = dict(output=index, batch_size=batch_size, n_references=n_references,
                  n_steps=n_steps, seed=seed)
    onehot_model = predictor.input_kind == "onehot"
    hyp = attribute(predictor, seqs, method, hypothetical=True, **kwargs) if onehot_model \
        else None
    attr = hyp * one_hot(seqs, length=hyp.shape[1]) if onehot_model and method != "saliency" \
        else (hyp if onehot_model else attribute(predictor, seqs, method, **kwargs))
    boxes = site_boxes(table, sites) if sites is not None else [[] for _ in seqs]
    summary = {"run": str(run), "method": method, "output": predictor.labels[index],
               "n_sequences": len(seqs), "shape": list(attr.shape)}
    if sites is not None:
        mask = site_mask(boxes, attr.shape[1])
        summary["n_with_sites"] = int(mask.any(1).sum())
        summary["site_auroc"] = site_auroc(attr, mask)
    with output_dir(out, "attribute", inputs, overwrite) as tmp:
        arrays = {"attributions": attr.astype(np.float32), "ids": np.asarray(table.id, dtype=str),
                  "onehot": one_hot(seqs)}
        if hyp is not None:
            arrays["hypothetical"] = hyp.astype(np.float32)
        np.savez_compressed(tmp / "attributions.npz", **arrays)
        order = sorted(range(len(seqs)), key=lambda i: (not boxes[i], i))[:logos]
        (tmp / "logos").mkdir()
        for rank, i in enumerate(order):
            zoom = None
            if boxes[i]:
                lo = min(b[0] for b in boxes[i]) - 12
                hi = max(b[1] for b in boxes[i]) + 12
                zoom = (lo, hi) if hi - lo < len(seqs[i]) * 0.8 else None
            name = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(table.id[i]))
            plot_attribution_logo(tmp / "logos" / f"{rank:02d}_{name}.png", attr[i], seqs[i],
                                  boxes[i], title=f"{table.id[i]}  ({method}, output "
                                  f"{predictor.labels[index]})", zoom=zoom)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    typer.echo(f"{method}: {len(seqs)} sequences -> {out}/attributions.npz, "
               f"{len(order)} logos in {out}/logos")
    if "site_auroc" in summary:
        typer.echo(f"AUROC of |attribution| at known sites vs elsewhere: "
                   f"{summary['site_auroc']:.4g} ({summary['n_with_sites']} sequences with sites)")


# -- faithfulness ---------------------------------------------------------------------------------
@app.command("faithfulness")
def faithfulness_cmd(
    run: Path = _RUN,
    data: Path = typer.Option(..., "--data", help="Dataset dir (regdna prepare)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output dir: faithfulness.tsv, "
                             "summary.tsv (accuracy per class at --table-n), faithfulness.png."),
    split: str = typer.Option("test", "--split", help="Split of --data."),
    methods: str = typer.Option("integrated_gradients,grad_x_input", "--methods",
                                help="Comma-separated attribution methods to rank positions."),
    ns: str = typer.Option("1,5,10,15,20", "--n", help="Comma-separated numbers of top "
                           "positions to mutate."),
    n_seqs: int = typer.Option(100, "--n-seqs", help="Sequences sampled per class. The default "
                               "keeps a CPU run to a few minutes; the source study's size is "
                               "--n-seqs 500 --n-references 8."),
    repeats: int = typer.Option(20, "--repeats", help="Repeats of the random-position baseline."),
    table_n: int = typer.Option(20, "--table-n", help="n shown in the summary table."),
    n_references: int = typer.Option(4, "--n-references", help="Dinucleotide-shuffled references "
                                     "per sequence (integrated_gradients, deeplift_shap)."),
    n_steps: int = typer.Option(20, "--n-steps", help="Integration steps per reference "
                                "(integrated_gradients)."),
    seed: int = typer.Option(0, "--seed", help="Seed of sampling and mutations."),
    device: Optional[str] = _DEVICE,
    overwrite: bool = OVERWRITE,
):
    """Mutate the top-n positions of each method, per class, against random positions.

    Cost: one attribution per sampled sequence and method (integrated gradients: --n-references
    x --n-steps gradients each) plus (1 + --repeats) predictions per sequence and n."""
    import pandas as pd

    from regdna.data.dataset import load_info, read_split
    from regdna.interpret.attribute import check_method
    from regdna.interpret.faithfulness import faithfulness, summary_table
    from regdna.plot.logos import plot_faithfulness
    from regdna.runs import load_predictor
    from regdna.utils.output import check_out_dir, output_dir

    inputs = [run, data]
    check_out_dir(out, "faithfulness", inputs, overwrite)
    try:
        n_list = [int(v) for v in ns.split(",") if v.strip()]
    except ValueError:
        raise RegdnaError(f"--n '{ns}' must be comma-separated integers such as 1,5,10,20") \
            from None
    method_list = [m.strip() for m in methods.split(",") if m.strip()]
    predictor = load_predictor(run, device=device)
    for method in method_list:
        check_method(predictor, method)
    info = load_info(data)
    table = read_split(data, split)
    column = info.labels[0]
    table = table[table[column].notna()]
    _check_length(predictor, table)
    groups = [part for _, part in table.groupby(column)]
    picked = pd.concat([part.sample(min(len(part), n_seqs), random_state=seed) for part in groups])
    if any(len(part) > n_seqs for part in groups):
        typer.echo(f"sampled {len(picked)} of {len(table)} {split} sequences (at most {n_seqs} "
                   "per class, --n-seqs)")
    labels = picked[column].to_numpy().astype(int)
    result = faithfulness(predictor, list(picked.sequence), labels, method_list, ns=n_list,
                          n_repeats=repeats, seed=seed, n_references=n_references,
                          n_steps=n_steps)
    names = info.classes or (["negative", "positive"] if info.task == "binary" else None)
    result["class"] = [names[c] if names else c for c in result.cls]
    summary = summary_table(result, n=table_n, class_names=names)
    with output_dir(out, "faithfulness", inputs, overwrite) as tmp:
        result.to_csv(tmp / "faithfulness.tsv", sep="\t", index=False, float_format="%.4f")
        summary.to_csv(tmp / "summary.tsv", sep="\t", index=False, float_format="%.3f")
        plot_faithfulness(tmp / "faithfulness.png", result, class_names=names,
                          title=f"Mutagenesis faithfulness: {Path(run).name} on {split}")
    typer.echo(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    typer.echo(f"-> {out}/faithfulness.tsv, summary.tsv, faithfulness.png")


# -- motifs ---------------------------------------------------------------------------------------
@app.command("motifs")
def motifs_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="Output dir: motifs.tsv (JASPAR matches), "
                             "motifs.json, logos/, filters.tsv (CNNs)."),
    attributions: Optional[Path] = typer.Option(None, "--attributions", help="Dir written by "
                                                "`regdna attribute` (one-hot model)."),
    run: Optional[Path] = typer.Option(None, "--run", help="Run dir: match its first-layer "
                                       "filters too (CNNs); without --attributions, also "
                                       "compute the attributions of --data."),
    data: Optional[Path] = typer.Option(None, "--data", help="Dataset dir (with --run)."),
    split: str = typer.Option("test", "--split", help="Split of --data."),
    label: str = typer.Option("1", "--class", help="Class whose sequences are explained "
                              "(with --run)."),
    method: str = typer.Option("deeplift_shap", "--method", help="Attribution method (with "
                               "--run)."),
    n: int = typer.Option(500, "--n", help="Most sequences to explain (with --run)."),
    jaspar_release: Optional[str] = typer.Option(None, "--jaspar-release", help="JASPAR release "
                                                 "(default: the newest bundled with pyjaspar)."),
    collection: str = typer.Option("CORE", "--collection", help="JASPAR collection."),
    tax_group: str = typer.Option("vertebrates", "--tax-group", help="JASPAR taxonomic group."),
    top: int = typer.Option(5, "--top", help="Matches listed per motif."),
    max_seqlets: int = typer.Option(2000, "--max-seqlets", help="Seqlets clustered per sign."),
    q_threshold: float = typer.Option(0.05, "--q", help="q-value threshold of a filter hit."),
    device: Optional[str] = _DEVICE,
    overwrite: bool = OVERWRITE,
):
    """TF-MoDISco motifs from attributions, named by Tomtom against JASPAR (+ CNN filters)."""
    import numpy as np

    from regdna.interpret.motifs import (FILTER_EXCLUDE, discover_motifs, filter_report,
                                         load_targets, match_motifs)
    from regdna.io.jaspar import load_collection
    from regdna.plot.logos import plot_motif_match
    from regdna.utils.output import check_out_dir, output_dir

    if attributions is None and run is None:
        raise RegdnaError("give --attributions DIR (from `regdna attribute`) or --run RUN --data D")
    inputs = [attributions, run, data]
    check_out_dir(out, "motifs", inputs, overwrite)
    predictor, seqs = None, None
    if attributions is not None:
        path = Path(attributions) / "attributions.npz"
        if not path.is_file():
            raise RegdnaError(f"{path} not found; write it with `regdna attribute --out "
                              f"{attributions}`")
        saved = np.load(path)
        if "hypothetical" not in saved:
            raise RegdnaError(f"{path} has no hypothetical contributions (a transformer's base "
                              "scores); motif discovery needs a one-hot model's attributions")
        onehot, hyp = saved["onehot"], saved["hypothetical"]
        if run is not None:  # the model whose first-layer filters are matched too
            from regdna.encode.onehot import one_hot_to_strings
            from regdna.runs import load_predictor

            predictor = load_predictor(run, device=device)
            seqs = one_hot_to_strings(onehot)
            if predictor.input_kind != "onehot":
                predictor = None
    else:
        from regdna.encode.onehot import one_hot
        from regdna.interpret.attribute import attribute, check_method
        from regdna.runs import load_predictor

        if data is None:
            raise RegdnaError("--run needs --data DATASET_DIR")
        predictor = load_predictor(run, device=device)
        check_method(predictor, method)
        if predictor.input_kind != "onehot":
            raise RegdnaError("motif discovery needs a one-hot (CNN) model's attributions")
        from regdna.data.records import load_records

        table = load_records(None, data, split, n, label)
        _say_subset(table)
        seqs = list(table.sequence)
        hyp = attribute(predictor, seqs, method, hypothetical=True)
        onehot = one_hot(seqs)
    motifs = discover_motifs(onehot, hyp, max_seqlets=max_seqlets)
    targets = load_targets(jaspar_release, collection, tax_group)
    matches = match_motifs(motifs, targets, top=top)
    by_id = {m.matrix_id: m for m in load_collection(jaspar_release, collection, tax_group)}
    filters = None
    if predictor is not None:
        filter_targets = [t for t in targets if not t.matrix_id.startswith(FILTER_EXCLUDE)]
        filters = filter_report(predictor, seqs, filter_targets, q_threshold=q_threshold)
    with output_dir(out, "motifs", inputs, overwrite) as tmp:
        matches.to_csv(tmp / "motifs.tsv", sep="\t", index=False, float_format="%.4g")
        (tmp / "logos").mkdir()
        summary = []
        for motif in motifs:
            best = motif.matches.iloc[0] if len(motif.matches) else None
            target = by_id.get(best.matrix_id) if best is not None else None
            plot_motif_match(tmp / "logos" / f"{motif.name}.png", motif.name, motif.ppm,
                             motif.cwm, f"{best['name']} {best.matrix_id}" if best is not None
                             else "", target.ppm if target is not None else None,
                             q_value=float(best.q_value) if best is not None else None,
                             strand=best.strand if best is not None else "+",
                             offset=int(best.offset) if best is not None else 0)
            summary.append({"motif": motif.name, "n_seqlets": motif.n_seqlets,
                            "consensus": motif.consensus,
                            "best_match": None if best is None else best["name"],
                            "matrix_id": None if best is None else best.matrix_id,
                            "q_value": None if best is None else float(best.q_value)})
        report = {"motifs": summary, "jaspar": {"release": targets[0].release if targets else "",
                                                "collection": collection,
                                                "tax_group": tax_group}}
        if filters is not None:
            filters[0].to_csv(tmp / "filters.tsv", sep="\t", index=False, float_format="%.4g")
            report["filters"] = filters[1]
        (tmp / "motifs.json").write_text(json.dumps(report, indent=2) + "\n")
    if not motifs:
        typer.echo("no motifs found (too few high-attribution seqlets); explain more sequences")
    for row in summary:
        q = f"q = {row['q_value']:.2g}" if row["q_value"] is not None else "no match"
        typer.echo(f"{row['motif']:>6}  {row['consensus']:<24} {row['n_seqlets']:5d} seqlets  "
                   f"best JASPAR match: {row['best_match']} ({row['matrix_id']}, {q})")
    if filters is not None:
        f = filters[1]
        typer.echo(f"first-layer filters: {f['n_aligned']}/{f['n_filters']} aligned, hit ratio "
                   f"{f['hit_ratio']:.3g} (q < {q_threshold:.4g}), mean best q {f['mean_best_q']:.3g}")
    typer.echo(f"-> {out}/motifs.tsv, motifs.json, logos/")


# -- gia ------------------------------------------------------------------------------------------
@app.command("gia")
def gia_cmd(
    run: Path = _RUN,
    motif: str = typer.Option(..., "--motif", help="JASPAR name / matrix id, or a consensus "
                              "(letters ACGTN)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output dir: gia.json, *.tsv, *.png."),
    motif2: Optional[str] = typer.Option(None, "--motif2", help="Second motif: distance and "
                                         "orientation sweep against --motif."),
    data: Optional[Path] = typer.Option(None, "--data", help="Dataset dir whose --split "
                                        "sequences are shuffled into backgrounds (default: the "
                                        "run's dataset)."),
    split: str = typer.Option("test", "--split", help="Split giving the backgrounds."),
    n_backgrounds: int = typer.Option(1000, "--n-backgrounds", help="Dinucleotide-shuffled "
                                      "background sequences."),
    sample: bool = typer.Option(False, "--sample/--consensus", help="Sample each site from the "
                                "JASPAR PWM instead of embedding the consensus."),
    flanks: int = typer.Option(0, "--flanks", help="Sweep every combination of this many bases "
                               "on each side of --motif (4^(2k) GIA experiments)."),
    distances: Optional[str] = typer.Option(None, "--distances", help="Comma-separated distances "
                                            "for --motif2 (default: the whole window)."),
    output: str = typer.Option("0", "--output", help="Output (index or label) to measure."),
    jaspar_release: Optional[str] = typer.Option(None, "--jaspar-release", help="JASPAR release."),
    seed: int = typer.Option(0, "--seed", help="Seed of backgrounds and sampled sites."),
    device: Optional[str] = _DEVICE,
    overwrite: bool = OVERWRITE,
):
    """Global importance analysis: mean effect of embedding motifs into shuffled backgrounds."""
    import pandas as pd

    from regdna.data.dataset import read_split
    from regdna.interpret import gia
    from regdna.plot.logos import plot_gia_distance, plot_gia_effects, plot_gia_flanks
    from regdna.runs import load_predictor
    from regdna.runs.config import read_run_config
    from regdna.utils.output import check_out_dir, output_dir

    if data is None:
        data = read_run_config(run).dataset.path
        if not data or not Path(data).is_dir():
            raise RegdnaError(f"the run's dataset ({data}) is not available; pass --data")
    inputs = [run, data]
    check_out_dir(out, "gia", inputs, overwrite)
    dist = _distances(distances)
    predictor = load_predictor(run, device=device)
    index = predictor.output_index(output)
    seqs = list(read_split(data, split, columns=["sequence"]).sequence)
    backgrounds = gia.make_backgrounds(seqs, n=n_backgrounds, seed=seed)
    first = gia.resolve_motif(motif, jaspar_release)
    effects = [{"label": first.name, **gia.motif_effect(predictor, backgrounds, first,
                                                        output=index, sample=sample, seed=seed)}]
    report = {"run": str(run), "output": predictor.labels[index], "backgrounds": n_backgrounds,
              "sampled_sites": sample}
    tables = {}
    if motif2:
        second = gia.resolve_motif(motif2, jaspar_release)
        effects.append({"label": second.name, **gia.motif_effect(
            predictor, backgrounds, second, output=index, sample=sample, seed=seed)})
        tables["distance"] = gia.distance_sweep(predictor, backgrounds, first, second, dist,
                                                output=index, sample=sample, seed=seed)
    if flanks:
        tables["flanks"] = gia.flank_sweep(predictor, backgrounds, first, n_flank=flanks,
                                           output=index, seed=seed)
    report["effects"] = effects
    with output_dir(out, "gia", inputs, overwrite) as tmp:
        plot_gia_effects(tmp / "gia_effects.png", effects,
                         title=f"Global importance ({predictor.labels[index]})")
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
            plot_gia_flanks(tmp / "gia_flanks.png", tables["flanks"],
                            f"Flanks of {first.name}")
        (tmp / "gia.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    for e in effects:
        typer.echo(f"{e['label']}: mean effect {e['mean']:+.4g} "
                   f"[95% CI {e['lo']:+.4g}, {e['hi']:+.4g}] over {e['n']} backgrounds")
    typer.echo(f"-> {out}/gia.json, effects.tsv, gia_effects.png")


def _distances(text: Optional[str]) -> Optional[list[int]]:
    """--distances "-20,12,30" -> [-20, 12, 30]; None: the whole window."""
    if not text:
        return None
    try:
        return [int(d) for d in text.split(",") if d.strip()]
    except ValueError:
        raise RegdnaError(f"--distances '{text}' must be comma-separated integers such as "
                          "-20,12,30") from None
