"""What scoring variants costs with each published model family at its published size (random
weights: the cost of a forward pass does not depend on the values), against a trained regdna
Basset on the same machine.

Models (each loaded through the path `regdna vep` uses):
- `basset`, `deepsea`, `beluga`: Kipoi layouts (`regdna.models.published.kipoi`), every width
  as published and the published output counts (164, 919, 2002), written by
  `regdna.models.toy.kipoi_toy_state(family, scale=1.0, n_outputs=...)`, loaded with
  `load_predictor("<family>:<file>")`.
- `enformer` (Avsec et al. 2021): regdna's `Enformer` with the published hyper-parameters
  (filters 768 ... 1536, 11 layers, 8 heads, key size 64, 5,313 human tracks, 896 output bins of
  128 bp, 196,608 bp input), its state dict saved as `pytorch_model.bin` with a config.json and
  loaded with `load_predictor("enformer:<dir>")`.
- `borzoi` (Linder et al. 2025): regdna's `Borzoi` as published (widths 512 ... 1280, dim 1536,
  8 layers, 8 heads, key 64 / value 192, head 1920, 7,611 human tracks, 6,144 bins of 32 bp,
  524,288 bp input), loaded with `load_predictor("borzoi:<dir>")`.
- `run`: a trained regdna Basset (`--run`; default: the demo's Basset trained for one epoch on
  the bundled example, as bench/uncertainty.py builds it): the reference of the ratios.
- `ensemble`: a run dir of `train --ensemble K` (`--ensemble`; skipped without it).
- `gpt2`: the tiny causal LM of `regdna.models.toy.write_causal_lm_toy` for zero-shot scores:
  `clm_llr` = log_likelihood(alt) - log_likelihood(ref) on 512 bp windows (vep's zero-shot
  window); vep also embeds both alleles (cosine_distance), reported separately.

Measured: each model in a child process of this script of its own. The child loads the Predictor
(its own batch size and strand setting, as vep gets them), cuts 2n windows of the model's input
length from one random sequence, runs one warm-up batch (`--warmup`), then times
`predictor.logits` on all 2n windows (strings in, as vep passes them; median of `--repeats`).
seconds per 1,000 variants = seconds per window x 2,000 (a variant is a ref and an alt window).
Peak RSS is the child's own high-water mark (VmHWM; `ru_maxrss` of `os.wait4` where /proc is
missing): interpreter, torch, the weights as read and as loaded into the module, and the
batches. The parent stays small (it imports no torch; training the reference run is a child
too): `ru_maxrss` would count the parent's pages the child held between fork and exec. The weights are written beforehand by another child,
so writing them is not counted. The machine is noisy: read the ratios to `run`.

Usage: python bench/published_cost.py [--families basset,enformer,...] [--run RUN]
           [--ensemble RUN] [--work DIR] [--scale 0.125 (development: smaller widths and
           Enformer / Borzoi inputs)] [--threads N]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
KIPOI_OUTPUTS = {"basset": 164, "deepsea": 919, "beluga": 2002}
LARGE = ("enformer", "borzoi")
ORDER = ("run", "ensemble", "basset", "deepsea", "beluga", "enformer", "borzoi", "gpt2")
ENFORMER = {"filters": [768, 768, 896, 1024, 1152, 1280, 1536], "depth": 11, "heads": 8,
            "dim_key": 64, "n_tracks": 5313, "target_length": 896, "length": 196_608}
BORZOI = {"widths": [512, 608, 736, 896, 1056, 1280], "dim": 1536, "depth": 8, "heads": 8,
          "dim_key": 64, "dim_value": 192, "head_dim": 1920, "n_tracks": 7611, "crop": 6144,
          "length": 524_288}
LM_LENGTH = 512        # regdna.variants.vep.ZERO_SHOT_LENGTH
GPU_NOTE = ("On a GPU (CUDA), Enformer and Borzoi run in bfloat16 autocast (output heads in "
            "float32; TrackScalar.coverage) with a batch of half the free memory at ~8 KB per "
            "input bp, at most 64 (published.enformer.default_batch_size); the CNNs stay float32 "
            "at batch 128. None of that is measured here: these are CPU float32 numbers.")


def _even(x: float, step: int = 2) -> int:
    return max(step, int(round(x / step)) * step)


# -- preparing the weights (a child of its own) -------------------------------------------------------
def enformer_config(scale: float) -> dict:
    """The published Enformer hyper-parameters, widths and input `scale`d (1: published)."""
    if scale == 1:
        return dict(ENFORMER)
    heads = ENFORMER["heads"]
    dim = _even(ENFORMER["filters"][-1] * scale, 6 * heads)       # 6 basis functions per head
    filters = [_even(f * scale, 8) for f in ENFORMER["filters"][:-1]] + [dim]
    return {**ENFORMER, "filters": filters, "n_tracks": _even(ENFORMER["n_tracks"] * scale),
            "target_length": _even(ENFORMER["target_length"] * scale),
            "length": _even(ENFORMER["length"] * scale, 128 * 2)}


def borzoi_config(scale: float) -> dict:
    if scale == 1:
        return dict(BORZOI)
    heads = BORZOI["heads"]
    return {**BORZOI, "widths": [_even(w * scale, 4) for w in BORZOI["widths"]],
            "dim": _even(BORZOI["dim"] * scale, heads), "head_dim": _even(BORZOI["head_dim"] * scale),
            "dim_value": _even(BORZOI["dim_value"] * scale), "n_tracks": _even(BORZOI["n_tracks"] * scale),
            "crop": _even(BORZOI["crop"] * scale), "length": _even(BORZOI["length"] * scale, 128 * 2)}


def prepare(family: str, folder: Path, scale: float) -> str:
    """Write random weights of `family` into `folder`; returns the spec that loads them."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    if family in KIPOI_OUTPUTS:
        from regdna.models.toy import write_kipoi_toy

        path = write_kipoi_toy(family, folder / f"{family}.pth", scale=scale,
                               n_outputs=KIPOI_OUTPUTS[family])
        return f"{family}:{path}"
    if family == "gpt2":
        from regdna.models.toy import write_causal_lm_toy

        return f"hf:{write_causal_lm_toy(folder / 'gpt2')}"
    from regdna.models.published.enformer import Borzoi, Enformer

    if family == "enformer":
        c = enformer_config(scale)
        network = Enformer(c["filters"], c["depth"], c["heads"], c["dim_key"], c["n_tracks"],
                           c["target_length"])
        config = {"target_length": c["target_length"]}
    else:
        c = borzoi_config(scale)
        network = Borzoi(c["widths"], c["dim"], c["depth"], c["heads"], c["dim_key"],
                         c["dim_value"], c["head_dim"], c["n_tracks"], c["crop"], c["length"])
        config = {"bins_to_return": c["crop"], "return_center_bins_only": True}
    if scale != 1:
        config["sequence_length"] = c["length"]      # regdna's own key: another input length
    torch.save(network.state_dict(), folder / "pytorch_model.bin")
    (folder / "config.json").write_text(json.dumps(config))
    return f"{family}:{folder}"


# -- measuring (a child of its own) -------------------------------------------------------------------
def random_windows(length: int, n: int, seed: int = 0) -> list[str]:
    """n windows of `length` bp cut at consecutive offsets from one random ACGT sequence."""
    import numpy as np

    bases = np.frombuffer(b"ACGT", dtype=np.uint8)
    text = bases[np.random.default_rng(seed).integers(0, 4, length + n)].tobytes().decode()
    return [text[i:i + length] for i in range(n)]


def measure(job: dict) -> dict:
    """Load the model of job["spec"], time scoring job["n"] variants (2n windows)."""
    import numpy as np
    import torch

    warnings.simplefilter("ignore")
    torch.set_num_threads(job["threads"])
    start = time.perf_counter()
    if job["spec"].startswith("hf:"):
        from regdna.models.hf import load_language_model

        lm = load_language_model(job["spec"], device="cpu")
        length, batch, outputs = LM_LENGTH, lm.batch_size, 1
        module, score, embed, rc = lm.model, lm.log_likelihood, lm.embed, False
    else:
        from regdna.runs import load_predictor

        predictor = load_predictor(job["spec"], device="cpu")
        length, batch, outputs = predictor.length, predictor.batch_size, predictor.n_outputs
        module, score, embed = predictor.model, predictor.logits, None
        rc = predictor.rc_average
    load_s = time.perf_counter() - start
    windows = random_windows(length, 2 * job["n"])
    for _ in range(job["warmup"]):
        score(windows[:batch])

    def timed(fn) -> tuple[float, object]:
        """Median seconds of `fn(windows)` over the repeats, and its last output."""
        times = []
        for _ in range(job["repeats"]):
            t0 = time.perf_counter()
            out = fn(windows)
            times.append(time.perf_counter() - t0)
        return statistics.median(times), out

    seconds, out = timed(score)
    result = {"spec": job["spec"], "input_bp": length, "outputs": outputs, "batch": batch,
              "params": sum(p.numel() for p in module.parameters()), "windows": len(windows),
              "seconds": seconds, "s_per_1000": seconds / len(windows) * 2000, "load_s": load_s,
              "finite": float(np.isfinite(np.asarray(out, dtype=np.float64)).mean()),
              "rc": bool(rc)}
    if embed is not None:       # vep's zero-shot cosine_distance embeds both alleles too
        embed_s, _ = timed(embed)
        result["embed_s_per_1000"] = embed_s / len(windows) * 2000
    return result


def own_peak_mb() -> float | None:
    """This process's peak resident set size (VmHWM of /proc/self/status, Linux), in MB: unlike
    the `ru_maxrss` a parent reads, it does not count the parent's pages that the child held
    between fork and exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _child(mode: str, job: dict, result_path: Path) -> int:
    if mode == "prepare":
        out = {"spec": prepare(job["family"], Path(job["folder"]), job["scale"])}
    elif mode == "train":
        out = {"spec": str(trained_basset(Path(job["work"])))}
    else:
        out = {**measure(job), "own_peak_mb": own_peak_mb()}
    result_path.write_text(json.dumps(out))
    return 0


def run_child(mode: str, job: dict, timeout: float) -> tuple[dict, float]:
    """This script as a child (`--child MODE JOB RESULT`): its result and its peak RSS (MB):
    `ru_maxrss` of `os.wait4`, which on Linux also counts the parent's resident pages the child
    shared between fork and exec, so the parent imports nothing heavy (no torch) and the child
    reports its own VmHWM too."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE.parent / "src"),
                                                    env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory(prefix="published-cost-") as tmp:
        result, err_path = Path(tmp) / "result.json", Path(tmp) / "stderr.txt"
        command = [sys.executable, str(Path(__file__).resolve()), "--child", mode,
                   json.dumps(job), str(result)]
        with open(err_path, "w") as err:
            proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env)
            timer = threading.Timer(timeout, proc.kill)
            timer.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            finally:
                timer.cancel()
            code = os.waitstatus_to_exitcode(status)
            proc.returncode = code
        if code != 0:
            lines = [ln for ln in err_path.read_text().splitlines() if ln.strip()]
            why = "killed after the timeout" if code == -9 else (lines[-1] if lines else f"exit {code}")
            raise RuntimeError(f"{mode} {job.get('family') or job.get('spec')}: {why}")
        return json.loads(result.read_text()), usage.ru_maxrss / 1024     # KiB on Linux


# -- the reference run ----------------------------------------------------------------------------------
def trained_basset(work: Path) -> Path:
    """The demo's Basset (bench/uncertainty.py) trained for one epoch on the bundled example
    (in a child: the parent stays small, see `run_child`)."""
    out = work / "basset_run"
    if (out / "threshold.json").is_file():
        return out
    spec = importlib.util.spec_from_file_location("uncertainty", HERE / "uncertainty.py")
    uncertainty = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(uncertainty)
    from regdna.train.train import run_train

    data = uncertainty._example(work)
    run_train(data, "basset", out, overrides=uncertainty.BASSET + ["train.max_epochs=1"],
              overwrite=True, progress=False)
    return out


# -- the table ------------------------------------------------------------------------------------------
def _fmt_params(n: int) -> str:
    return f"{n / 1e6:.1f}M" if n >= 1e5 else f"{n / 1e3:.1f}k"


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def print_table(rows: list[dict]) -> None:
    reference = next((r["s_per_1000"] for r in rows if r["family"] == "run"), None)
    header = ("family", "input bp", "outputs", "params", "batch", "windows", "rc", "load s",
              "s/1000 var", "peak RSS MB", "x run")
    lines = [header]
    for r in rows:
        ratio = _fmt(r["s_per_1000"] / reference) if reference else "-"
        lines.append((r["family"], f"{r['input_bp']:,}", f"{r['outputs']:,}",
                      _fmt_params(r["params"]), str(r["batch"]), str(r["windows"]),
                      "yes" if r["rc"] else "no", f"{r['load_s']:.1f}",
                      _fmt(r["s_per_1000"]), f"{r['peak_mb']:,.0f}", ratio))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        print("  ".join(cell.rjust(w) for cell, w in zip(line, widths)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(ORDER),
                        help=f"comma-separated subset of {', '.join(ORDER)} (run is always "
                             f"measured: the ratios are to it)")
    parser.add_argument("--run", type=Path, help="a trained Basset run dir (default: train one)")
    parser.add_argument("--ensemble", type=Path, help="a `train --ensemble K` run dir")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "published_cost")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="widths (and Enformer / Borzoi inputs) x SCALE; 1: published")
    parser.add_argument("--n", type=int, default=128, help="variants for the CNNs and the LM")
    parser.add_argument("--n-large", type=int, default=1, help="variants for Enformer / Borzoi")
    parser.add_argument("--n-run", type=int, default=1024,
                        help="variants for the trained run and the ensemble (the reference: "
                             "small windows, enough of them for a stable time)")
    parser.add_argument("--repeats", type=int, default=3, help="(Enformer / Borzoi: 1)")
    parser.add_argument("--threads", type=int,
                        default=int(os.environ.get("OMP_NUM_THREADS", 0)) or os.cpu_count())
    parser.add_argument("--timeout", type=float, default=900, help="seconds per child")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.exit(_child(args.child[0], json.loads(args.child[1]), Path(args.child[2])))

    chosen = {f.strip() for f in args.families.split(",") if f.strip()} | {"run"}
    unknown = chosen - set(ORDER)
    if unknown:
        parser.error(f"unknown families {', '.join(sorted(unknown))}; pick from {', '.join(ORDER)}")
    if "ensemble" in chosen and args.ensemble is None:
        chosen.discard("ensemble")
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for family in (f for f in ORDER if f in chosen):
        t0 = time.perf_counter()
        if family == "run":
            spec = str(args.run) if args.run else \
                run_child("train", {"work": str(args.work)}, args.timeout)[0]["spec"]
        elif family == "ensemble":
            spec = str(args.ensemble)
        else:
            folder = args.work / f"{family}_x{args.scale:g}"
            spec, _ = run_child("prepare", {"family": family, "folder": str(folder),
                                            "scale": args.scale}, args.timeout)
            spec = spec["spec"]
        large = family in LARGE
        n = args.n_large if large else args.n_run if family in ("run", "ensemble") else args.n
        job = {"spec": spec, "n": n, "threads": args.threads,
               "warmup": 0 if large else 1, "repeats": 1 if large else args.repeats}
        result, maxrss = run_child("measure", job, args.timeout)
        peak = result["own_peak_mb"] or maxrss
        rows.append({**result, "family": family, "peak_mb": peak, "ru_maxrss_mb": maxrss})
        print(f"# {family}: {result['s_per_1000']:.4g} s / 1000 variants, peak {peak:.0f} MB, "
              f"finite outputs {result['finite']:.0%} ({time.perf_counter() - t0:.0f} s)",
              flush=True)
    print(f"\nCPU float32, {args.threads} thread(s), scale {args.scale:g}"
          f"{' (published sizes)' if args.scale == 1 else ' (NOT the published sizes)'}")
    print_table(rows)
    lm = next((r for r in rows if "embed_s_per_1000" in r), None)
    if lm:
        print(f"gpt2: s/1000 is clm_llr (log-likelihood of both alleles); vep's zero-shot "
              f"columns also embed both alleles: +{lm['embed_s_per_1000']:.3g} s / 1000 variants")
    print("rc yes: the run averages both strands (predict.rc_average), two forward passes per "
          "window, as vep scores it.")
    print(GPU_NOTE)
    (args.work / "published_cost.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
