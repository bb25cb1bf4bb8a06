"""Probe training with cached embeddings vs recomputing them every epoch (goal: >= 10x).

One run, same data, same frozen encoder (a locally built BERT, hidden 128, 4 layers, BPE
tokenizer on synthetic DNA), same linear head, 10 epochs over the training split plus a validation
pass per epoch:

- recompute: every batch goes through the frozen encoder, every epoch;
- cached: `prepare_data` embeds every split once (float16 on disk); the epochs then read the cache.

Prints the ratio for the 10 epochs with the cache already built (the case of a layer / pooling /
head sweep or Optuna trials, which share one cache) and the ratio including building it.

    python bench/probe_cache.py [--train 1024] [--epochs 10]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def write_encoder(out: Path) -> None:
    from fixtures_lm import train_bpe_tokenizer
    from transformers import BertConfig, BertForMaskedLM

    torch.manual_seed(0)
    tokenizer = train_bpe_tokenizer(vocab_size=256)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=128, num_hidden_layers=4,
                        num_attention_heads=4, intermediate_size=512, max_position_embeddings=256,
                        pad_token_id=tokenizer.pad_token_id)
    BertForMaskedLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)


def run_epochs(model, train, val, epochs: int, batch_size: int = 32) -> float:
    """Seconds for `epochs` of head training (Adam) + a validation forward pass per epoch."""
    info_y = {s: torch.tensor(y, dtype=torch.float32)[:, None] for s, y in
              (("train", train["y"].to_numpy()), ("val", val["y"].to_numpy()))}
    seqs = {"train": train["sequence"].tolist(), "val": val["sequence"].tolist()}
    optimiser = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for i in range(0, len(seqs["train"]), batch_size):
            x = model.tokenize(seqs["train"][i:i + batch_size])
            loss = loss_fn(model(x), info_y["train"][i:i + batch_size])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        model.eval()
        with torch.no_grad():
            for i in range(0, len(seqs["val"]), batch_size):
                model(model.tokenize(seqs["val"][i:i + batch_size]))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=1024, help="training sequences")
    parser.add_argument("--epochs", type=int, default=10, help="probe epochs")
    args = parser.parse_args()

    from fixtures_lm import write_motif_dataset

    from regdna.data.dataset import read_split
    from regdna.models.hf import build_hf_model

    info = SimpleNamespace(task="binary", labels=["y"], classes=None)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = write_motif_dataset(tmp / "data", n_train=args.train, n_val=args.train // 8,
                                   n_test=args.train // 8, length=200)
        write_encoder(tmp / "encoder")
        train, val = read_split(data, "train"), read_split(data, "val")
        spec = f"hf:{tmp / 'encoder'}"

        torch.manual_seed(0)
        recompute = build_hf_model(spec, info, mode="probe")
        t_recompute = run_epochs(recompute, train, val, args.epochs)

        torch.manual_seed(0)
        cached = build_hf_model(spec, info, mode="probe")
        start = time.perf_counter()
        cached.prepare_data({s: frame["sequence"].tolist() for s, frame in
                             (("train", train), ("val", val), ("test", read_split(data, "test")))},
                            tmp / "cache")
        t_build = time.perf_counter() - start
        t_cached = run_epochs(cached, train, val, args.epochs)

    n_total = args.train + 2 * (args.train // 8)
    print(f"probe_cache: BERT hidden 128 x 4 layers, {args.train} train + {args.train // 8} val "
          f"sequences of 200 bp, {args.epochs} epochs, threads={torch.get_num_threads()}")
    print(f"  recompute embeddings every epoch : {t_recompute:8.2f} s")
    print(f"  cached embeddings, epochs only   : {t_cached:8.2f} s   "
          f"ratio {t_recompute / t_cached:6.1f}x  (goal >= 10x)")
    print(f"  building the cache ({n_total} seqs)  : {t_build:8.2f} s")
    print(f"  cached, including building it    : {t_build + t_cached:8.2f} s   "
          f"ratio {t_recompute / (t_build + t_cached):6.1f}x")


if __name__ == "__main__":
    main()
