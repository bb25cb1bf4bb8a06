"""Overhead of the training harness: seconds per epoch of `regdna.train.train` against a bare PyTorch
loop with the same model, data, batch size, optimiser, schedule, clipping and validation pass,
both measured in this run. Prints the ratio (goal <= 1.15).

Usage: python bench/train_overhead.py [--n-per-class 1000] [--epochs 4] [--filters 0.25]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def bare_loop(data_dir, info, options, epochs, batch_size, lr, seed=0) -> list[float]:
    """Seconds per epoch (training + validation AUROC) of a plain loop over the same batches."""
    from regdna.data.torch_data import load_split_dataset, make_loader
    from regdna.evaluate.metrics import auroc
    from regdna.models.registry import build_model
    from regdna.train.module import cosine_with_warmup

    torch.manual_seed(seed)
    model = build_model("basset", info, **options)
    train = make_loader(load_split_dataset(data_dir, "train", info), model, batch_size, train=True)
    val = make_loader(load_split_dataset(data_dir, "val", info), model, batch_size, train=False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
    total = epochs * len(train)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine_with_warmup(total, int(0.05 * total)))
    seconds = []
    for epoch in range(epochs):
        start = time.perf_counter()
        train.sampler.set_epoch(epoch)
        model.train()
        for batch in train:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(batch["x"]), batch["y"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
        model.eval()
        with torch.no_grad():
            logits = [model(b["x"]) for b in val]
            targets = [b["y"] for b in val]
        auroc(torch.cat(targets).numpy(), torch.sigmoid(torch.cat(logits)).numpy())
        seconds.append(time.perf_counter() - start)
    return seconds


def harness(data_dir, options, epochs, batch_size, lr, out) -> list[float]:
    """Seconds per epoch of regdna.train.train (from its metrics.csv) with augmentation off, as in
    the bare loop."""
    import pandas as pd

    from regdna.train.train import fit

    opts = "{" + ", ".join(f"{k}: {v}" for k, v in options.items()) + "}"
    run = fit(data_dir, "basset", out, progress=False, overrides=[
        f"model.options={opts}", f"train.max_epochs={epochs}", "train.patience=0",
        f"data.batch_size={batch_size}", f"optim.lr={lr}", "data.rc_augment=false",
        "data.max_shift=0"])
    return pd.read_csv(run / "metrics.csv")["seconds"].tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-per-class", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--filters", type=float, default=0.25)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from regdna.data.dataset import load_info
    from regdna.data.example import run_example
    from regdna.data.prepare import run_prepare

    options = {"filters": args.filters, "hidden": 64, "bins": 1}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        example = run_example(tmp / "example", seed=0, n_per_class=args.n_per_class)
        data = run_prepare(tmp / "data", fasta=[(example / "pos.fa", "1"), (example / "neg.fa", "0")],
                           split="chrom", test_chroms="chr8,chr9", val_chroms="chr10",
                           figures=False)
        info = load_info(data)
        lr = 1e-3
        # alternate the two so that load from other processes hits both alike
        bare_a = bare_loop(data, info, options, args.epochs, args.batch_size, lr)
        fit_s = harness(data, options, args.epochs, args.batch_size, lr, tmp / "run")
        bare_b = bare_loop(data, info, options, args.epochs, args.batch_size, lr)
    # the first epoch pays one-off costs (allocator warm-up, Lightning setup): drop it
    bare = statistics.median(bare_a[1:] + bare_b[1:])
    fitted = statistics.median(fit_s[1:])
    n_train = info.splits.get("train", {}).get("n")
    print(f"train sequences: {n_train}, batch size {args.batch_size}, basset filters "
          f"{args.filters}, {args.epochs} epochs, {torch.get_num_threads()} thread(s)")
    print(f"bare PyTorch loop : {bare:.3f} s/epoch  (all: {np.round(bare_a + bare_b, 3).tolist()})")
    print(f"regdna.train.train  : {fitted:.3f} s/epoch  (all: {np.round(fit_s, 3).tolist()})")
    print(f"overhead ratio fit / bare = {fitted / bare:.3f}  (goal <= 1.15)")


if __name__ == "__main__":
    main()
