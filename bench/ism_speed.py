"""ISM speed on CPU: regdna fast vs regdna plain vs tangermeme (fast and plain), one run.

Default job (issue 5): 16 random sequences x 1000 bp, `basset` (published sizes, random weights
with non-trivial batch-norm statistics), every single-base substitution (48,000 mutants), CPU.
Prints seconds per method, ratios against regdna fast, and the largest difference of each
method's Δ = sigmoid(logit') - sigmoid(logit) from regdna plain (agreement check).

    .venv/bin/python bench/ism_speed.py [--n 16] [--length 1000] [--filters 1.0] [--threads 2]

tangermeme (`pip install tangermeme`, extra `bench`) is timed when it imports; its plain mode
alone takes minutes here. `--skip-plain` leaves out both plain modes (the slow baselines).
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
    model = build_model("basset", info, filters=filters)
    gen = torch.Generator().manual_seed(0)
    for mod in model.modules():  # a fresh model has mean 0 / var 1: make batch norm do something
        if isinstance(mod, torch.nn.BatchNorm1d):
            mod.running_mean.copy_(torch.randn(mod.num_features, generator=gen) * 0.3)
            mod.running_var.copy_(torch.rand(mod.num_features, generator=gen) + 0.5)
    model.eval()
    return Predictor(model, task="binary", labels=["y"], length=length, device="cpu", batch_size=256)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def tangermeme_delta(model, x: torch.Tensor, fast: bool, batch_size: int) -> np.ndarray:
    """Δ (N, L, 4) from tangermeme's raw outputs, on the probability scale like regdna's."""
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis as tm_ism

    y0, y_hat = tm_ism(model, x, raw_outputs=True, fast=fast, batch_size=batch_size, device="cpu")
    y_hat = torch.as_tensor(y_hat).float()
    p0 = torch.sigmoid(torch.as_tensor(y0).float()[:, 0])
    # y_hat: (N, 4, L, T) for one output tensor
    p = torch.sigmoid(y_hat[..., 0])
    delta = (p - p0[:, None, None]).permute(0, 2, 1).numpy()
    return delta * (1 - x.numpy().transpose(0, 2, 1))  # identity edits -> 0, as regdna


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=16, help="sequences")
    parser.add_argument("--length", type=int, default=1000, help="bp per sequence")
    parser.add_argument("--filters", type=float, default=1.0, help="basset channel scale (1 = published)")
    parser.add_argument("--batch-size", type=int, default=512, help="mutants per forward pass")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--skip-plain", action="store_true", help="leave out both plain modes")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from regdna.encode.onehot import one_hot
    from regdna.variants.ism import mutagenesis_with_path

    pred = build(args.length, args.filters)
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), args.length)) for _ in range(args.n)]
    x = torch.from_numpy(one_hot(seqs, channels_first=True))
    print(f"ISM of {args.n} x {args.length} bp ({3 * args.n * args.length:,} mutants), basset "
          f"filters={args.filters}, CPU threads={torch.get_num_threads()}")

    results = {}
    t, (delta_fast, path) = timed(
        lambda: mutagenesis_with_path(pred, seqs, 0, None, True, args.batch_size, True, 8))
    assert path == "fast", "regdna fast path was not used"
    results["regdna fast"] = (t, delta_fast)
    if not args.skip_plain:
        t, (delta_plain, _) = timed(
            lambda: mutagenesis_with_path(pred, seqs, 0, None, False, args.batch_size, True, 8))
        results["regdna plain"] = (t, delta_plain)
    try:
        import tangermeme  # noqa: F401
        have_tm = True
    except Exception as err:  # noqa: BLE001 - report and go on without the baseline
        print(f"tangermeme not available ({err}); install it with `pip install tangermeme`")
        have_tm = False
    if have_tm:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results["tangermeme fast"] = timed(lambda: tangermeme_delta(pred.model, x, True, args.batch_size))
            if not args.skip_plain:
                results["tangermeme plain"] = timed(
                    lambda: tangermeme_delta(pred.model, x, False, args.batch_size))

    reference = results.get("regdna plain", results["regdna fast"])[1]
    base = results["regdna fast"][0]
    print(f"{'method':<18}{'seconds':>10}{'x regdna fast':>15}{'max |Δ - plain|':>18}")
    for name, (seconds, delta) in results.items():
        gap = float(np.max(np.abs(delta - reference)))
        print(f"{name:<18}{seconds:>10.2f}{seconds / base:>15.2f}{gap:>18.2e}")
    if "tangermeme fast" in results:
        ratio = results["tangermeme fast"][0] / base
        print(f"regdna fast is {ratio:.2f}x the speed of tangermeme fast "
              f"({'goal met' if ratio >= 1 else 'goal NOT met'}: >= 1)")


if __name__ == "__main__":
    main()
