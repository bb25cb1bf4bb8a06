"""Attribution speed: regdna DeepLIFT/SHAP and integrated gradients vs tangermeme's
`deep_lift_shap`, same model, same inputs, same number of shuffled references, one run.

Default job: 32 random sequences x 200 bp, `basset` (published sizes, random weights), output 0,
8 dinucleotide-shuffled references per sequence (20 integration steps per reference for IG), CPU.
Prints sequences per second for each method, ratios against tangermeme's deep_lift_shap, and the
Pearson r between regdna's and tangermeme's DeepLIFT/SHAP contributions (agreement check; the
two draw different shuffles, so r is high but below 1).

    .venv/bin/python bench/attribution_speed.py [--n 32] [--length 200] [--refs 8] [--threads 2]

tangermeme (extra `bench`; `pip install tangermeme`, `--no-deps` if it would pull a CUDA torch)
is timed when it imports.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def build(length: int, filters: float):
    from regdna.data.dataset import DatasetInfo
    from regdna.models.registry import build_model
    from regdna.runs.predictor import Predictor

    torch.manual_seed(0)
    info = DatasetInfo(task="binary", labels=["y"], length=length)
    model = build_model("basset", info, filters=filters).eval()
    return Predictor(model, task="binary", labels=["y"], length=length, device="cpu")


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=32)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--refs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--filters", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from regdna.encode.onehot import one_hot
    from regdna.interpret.attributions import attribute

    predictor = build(args.length, args.filters)
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), args.length)) for _ in range(args.n)]
    results = {}
    ours, t = timed(lambda: attribute(predictor, seqs, "deeplift_shap",
                                      n_references=args.refs, batch_size=32))
    results["regdna deeplift_shap"] = t
    _, t = timed(lambda: attribute(predictor, seqs, "integrated_gradients",
                                   n_references=args.refs, n_steps=args.steps, batch_size=32))
    results["regdna integrated_gradients"] = t
    _, t = timed(lambda: attribute(predictor, seqs, "grad_x_input", batch_size=32))
    results["regdna grad_x_input"] = t
    theirs = None
    try:
        import warnings

        from tangermeme.deep_lift_shap import deep_lift_shap

        x = torch.from_numpy(one_hot(seqs, channels_first=True))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs, t = timed(lambda: deep_lift_shap(predictor.model, x, target=0,
                                                     n_shuffles=args.refs, batch_size=32,
                                                     random_state=0, device="cpu",
                                                     warning_threshold=1e9))
        results["tangermeme deep_lift_shap"] = t
    except ImportError as err:
        print(f"tangermeme not importable ({err}); timing regdna only")

    base = results.get("tangermeme deep_lift_shap")
    print(f"{args.n} sequences x {args.length} bp, basset (filters={args.filters}), "
          f"{args.refs} references, {args.threads} CPU threads")
    print(f"{'method':32s} {'seconds':>8s} {'seq/s':>8s} {'vs tangermeme':>14s}")
    for name, seconds in results.items():
        ratio = f"{base / seconds:13.2f}x" if base else ""
        print(f"{name:32s} {seconds:8.2f} {args.n / seconds:8.1f} {ratio:>14s}")
    if theirs is not None:
        a = ours.sum(-1).ravel()
        b = theirs.numpy().sum(1).ravel()
        print(f"agreement: Pearson r of per-position DeepLIFT/SHAP contributions, regdna vs "
              f"tangermeme: {np.corrcoef(a, b)[0, 1]:.3f}")


if __name__ == "__main__":
    main()
