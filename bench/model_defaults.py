"""Which model should `regdna train` use when a user names none? Measured, not assumed.

Every candidate configuration is trained on every member of a suite of synthetic grammars with
known answers (`regdna.data.grammars`: two-factor, shortcut (one class's motif at the window
centre), decoy-4, long (1 kb)) plus the bundled example (chromosome split), and scored on the
held-out test split by
  - AUROC of the predictions,
  - attribution AUROC at planted sites: gradient x input of the logit on test positives, site
    positions against all others (`regdna.interpret.sites.site_auroc`),
  - peak in site: the share of test positives whose strongest position lies inside one of
    their own planted sites (the shortcut member's question: motif or position?),
  - motif recovery: the planted factors named by the best JASPAR match of informative
    first-layer filters (`regdna.interpret.filters.filter_report`), out of all planted.
Floors: a 2-layer CNN with global max-pooling (`shallow-cnn`) and a k-mer logistic
regression (`kmer-lr`). The default must beat both on every member.

    python bench/model_defaults.py                 # default size: < 30 min on 2 CPU cores
    python bench/model_defaults.py --members shortcut --candidates basset,default
    python bench/model_defaults.py --candidates all   # + regularisation / early-stopping variants
    python bench/model_defaults.py --full          # 10-50k windows per member: a GPU

Prints one markdown table per metric (rows: candidates, columns: members) and the mean rank;
writes results.tsv under --work.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

FILTERS = 0.25     # channel scale of every CNN at the default size (1.0 with --full)
# every candidate trains with regdna's default optimiser, schedule, augmentation and early
# stopping (patience 5 on validation AUROC); only the epoch budget differs with the size
TRAIN = ["train.max_epochs=20"]
TRAIN_FULL = ["train.max_epochs=30"]

# name -> (spec, model options, extra overrides)
CANDIDATES = {
    "default": (None, {}, []),                     # `regdna train` as is: the `cnn` model
    "cnn-no-conv-dropout": ("cnn", {"conv_dropout": 0.0}, []),
    "basset": ("basset", {}, []),                                       # published head
    "basset-gp": ("basset", {"bins": 1}, []),                           # global max-pool
    "basset-gp-exp": ("basset", {"bins": 1, "exp_activation": True}, []),
    "basset-gp-exp-reg": ("basset", {"bins": 1, "exp_activation": True, "hidden": 256,
                                     "dropout": 0.5}, ["optim.weight_decay=0.05"]),
    "basset-gp-exp-es-loss": ("basset", {"bins": 1, "exp_activation": True},
                              ["train.monitor=loss"]),
    "cnn-baseline": ("cnn-baseline", {}, []),
    "residualbind": ("residualbind", {}, []),
    "shallow-cnn": ("shallow-cnn", {}, []),                             # floor
    "kmer-lr": ("kmer-lr", {}, []),                                     # floor
}
FLOORS = ("shallow-cnn", "kmer-lr")
# the default run: the default, its ablation, the published Basset, its global-pool form, the
# ResidualBind and the floors; `--candidates all` adds the rest (each lost on the members it
# was measured on)
MAIN = ("default", "cnn-no-conv-dropout", "basset", "basset-gp-exp", "residualbind",
        "shallow-cnn", "kmer-lr")


def dataset(work: Path, member: str, full: bool, seed: int) -> tuple[Path, pd.DataFrame, list]:
    """(dataset dir, sites table in sequence coordinates, planted factor names)."""
    from regdna.data.grammars import GRAMMARS, write_grammar
    from regdna.data.prepare import run_prepare
    from regdna.interpret.sites import load_sites

    data = work / member / "data"
    if member == "example":
        from regdna.data.example import DEFAULT_FACTORS, run_example

        raw = work / member / "raw"
        if not (raw / "positives.narrowPeak").exists():
            run_example(raw, seed=seed, overwrite=True)
        if not (data / "dataset.json").exists():
            run_prepare(data, bed=[f"{raw}/positives.narrowPeak:1", f"{raw}/negatives.bed:0"],
                        genome=raw / "genome.fa", length=200, figures=False, overwrite=True)
        sites = load_sites(raw / "motifs.tsv")
        return data, sites, list(DEFAULT_FACTORS)
    raw = work / member / "raw"
    table, sites_path = write_grammar(raw, member, seed=seed, full=full)
    if not (data / "dataset.json").exists():
        run_prepare(data, table=table, labels=["label"], split="column", split_column="split",
                    figures=False, overwrite=True)
    sites = load_sites(sites_path)           # seq_id, start, end: in-sequence coordinates
    return data, sites, list(GRAMMARS[member].factors)


def overrides_for(name: str, full: bool) -> tuple[str | None, list[str]]:
    spec, options, extra = CANDIDATES[name]
    options = dict(options)
    if spec not in (None, "kmer-lr", "cnn"):   # the default's own width stays
        options.setdefault("filters", 1.0 if full else FILTERS)
    sets = list(TRAIN_FULL if full else TRAIN) + extra
    if options:
        sets.append("model.options=" + json.dumps(options))
    return spec, sets


def score(run_dir: Path, data: Path, sites: pd.DataFrame, factors: list[str]) -> dict:
    from sklearn.metrics import roc_auc_score

    from regdna.data.dataset import read_split
    from regdna.interpret.attributions import attribute
    from regdna.interpret.filters import filter_report
    from regdna.interpret.motif_match import load_targets
    from regdna.interpret.sites import site_auroc, site_boxes, site_mask
    from regdna.runs import load_predictor

    predictor = load_predictor(run_dir, device="cpu")
    test = read_split(data, "test")
    p = predictor.predict(list(test.sequence))[:, 0]
    row = {"auroc": float(roc_auc_score(test["label"].to_numpy(), p))}
    if predictor.input_kind != "onehot" or not hasattr(predictor.model, "trunk"):
        return row
    pos = test[test["label"] == 1].head(200).reset_index(drop=True)
    attr = attribute(predictor, list(pos.sequence), "grad_x_input")
    boxes = site_boxes(pos, sites)
    mask = site_mask(boxes, attr.shape[1])
    row["site_auroc"] = site_auroc(attr, mask)
    peak = np.abs(attr.sum(-1)).argmax(1)
    has = mask.any(1)
    row["peak_in_site"] = float(mask[np.arange(len(pos)), peak][has].mean())
    filters, _ = filter_report(predictor, list(test.sequence)[:1000], load_targets("JASPAR2026"))
    named = set(filters.loc[filters["hit"], "name"].str.upper())
    row["motifs"] = sum(f.upper() in named for f in factors) / len(factors)
    return row


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="GPU-sized suite (10-50k windows)")
    parser.add_argument("--members", default=None, help="comma list (default: the suite)")
    parser.add_argument("--candidates", default=",".join(MAIN),
                        help=f"comma list or 'all' ({', '.join(CANDIDATES)})")
    parser.add_argument("--work", type=Path, default=Path("/tmp/regdna-model-defaults"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from regdna.data.grammars import GRAMMARS
    from regdna.train.train import run_train

    torch.set_num_threads(max(1, torch.get_num_threads()))
    members = args.members.split(",") if args.members else \
        [g.name for g in GRAMMARS.values() if g.in_default or args.full] + ["example"]
    names = list(CANDIDATES) if args.candidates == "all" else args.candidates.split(",")
    results = []
    results_path = args.work / "results.tsv"
    if results_path.exists():
        results = pd.read_csv(results_path, sep="\t").to_dict("records")
    done = {(r["member"], r["candidate"]) for r in results}
    for member in members:
        data, sites, factors = dataset(args.work, member, args.full, args.seed)
        for name in names:
            if (member, name) in done:
                continue
            spec, sets = overrides_for(name, args.full)
            t0, c0 = time.perf_counter(), time.process_time()
            summary = run_train(data, spec, out=args.work / member / "runs" / name,
                                overrides=sets, overwrite=True, progress=False)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            row = {"member": member, "candidate": name, "seconds": round(seconds, 1),
                   "cpu_seconds": round(cpu, 1),
                   "epochs": summary["epochs"],
                   **score(args.work / member / "runs" / name, data, sites, factors)}
            print(json.dumps(row), flush=True)
            results.append(row)
            pd.DataFrame(results).to_csv(results_path, sep="\t", index=False)
    report(pd.DataFrame(results), names, members)


def report(frame: pd.DataFrame, names: list[str], members: list[str]) -> None:
    for metric in ("auroc", "site_auroc", "peak_in_site", "motifs", "seconds", "cpu_seconds"):
        if metric not in frame:
            continue
        table = frame.pivot(index="candidate", columns="member", values=metric)
        table = table.reindex(index=[n for n in names if n in table.index],
                              columns=[m for m in members if m in table.columns])
        if "seconds" not in metric:
            table["mean"] = table.mean(axis=1)
        print(f"\n### {metric}\n")
        print(markdown(table, ".3f" if "seconds" not in metric else ".0f"))
    auroc = frame.pivot(index="candidate", columns="member", values="auroc")
    floor = auroc.reindex([f for f in FLOORS if f in auroc.index]).max()
    beats = (auroc > floor).all(axis=1)
    rank = auroc.rank(ascending=False).mean(axis=1)
    print("\n### beats both floors on every member, mean AUROC rank\n")
    print(markdown(pd.DataFrame({"beats_floors": beats, "mean_rank": rank})
                   .sort_values("mean_rank"), ".2f"))


def markdown(table: pd.DataFrame, fmt: str) -> str:
    def cell(value):
        if isinstance(value, (bool, np.bool_)):
            return "yes" if value else "no"
        return "" if pd.isna(value) else format(value, fmt)

    lines = ["| " + " | ".join([""] + [str(c) for c in table.columns]) + " |",
             "|" + "---|" * (len(table.columns) + 1)]
    lines += ["| " + " | ".join([str(i)] + [cell(v) for v in row]) + " |"
              for i, row in zip(table.index, table.to_numpy())]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
