"""Deep ensembles (Lakshminarayanan et al. 2017): `regdna train --ensemble K` / `--seeds 0,1,...`.

One run dir holds the ensemble (`regdna.runs.layout`): each member is a complete run dir
RUN/members/seed<s>/, trained by `regdna.train.train.fit` with train.seed = s (other weights,
batch order, augmentation and dropout; with data.train_subsample also its own random subset of
train), one after another, each on every device the config gives it (DDP when there are
several). When every member has finished, RUN/checkpoints/best.ckpt gathers their best weights
(`members.<k>.`), and the ensemble itself is finished like any run: ood.npz, calibration.json
and threshold.json from the ensemble's mean logits (`regdna.train.train.finish_run`). The
Predictor of the run (`load_predictor`) is a `regdna.models.ensemble.Ensemble`.

Resume: `--resume` continues the first unfinished member (a member with threshold.json is done)
and trains the rest; the settings must be the ones the ensemble started with (its fingerprint).
"""
from __future__ import annotations

from pathlib import Path

from regdna.errors import RegdnaError
from regdna.runs import layout
from regdna.runs.checkpoint import checkpoint_path, load_state_dict
from regdna.utils.atomic import atomic_path


def ensemble_seeds(ensemble: int | None = None, seeds: str | list[int] | None = None,
                   base_seed: int = 0) -> list[int] | None:
    """`--ensemble K` (seeds base_seed .. base_seed + K - 1) or `--seeds 0,1,2` -> the members'
    seeds, or None for one model."""
    if ensemble is not None and seeds is not None:
        raise RegdnaError("give --ensemble K or --seeds 0,1,... (the members' seeds), not both.")
    if seeds is not None:
        try:
            values = [int(s) for s in (seeds.split(",") if isinstance(seeds, str) else seeds)
                      if str(s).strip() != ""]
        except ValueError:
            raise RegdnaError(f"--seeds {seeds}: give whole numbers separated by commas, e.g. "
                              f"--seeds 0,1,2,3,4.") from None
        if len(values) < 2 or len(set(values)) != len(values):
            raise RegdnaError(f"--seeds {seeds}: an ensemble needs at least 2 distinct seeds.")
        return values
    if ensemble is None or ensemble == 1:
        return None
    if ensemble < 1:
        raise RegdnaError(f"--ensemble {ensemble}: give the number of members (>= 2).")
    return list(range(base_seed, base_seed + ensemble))


def member_overrides(overrides: list[str] | None, seed: int) -> list[str]:
    """A member's overrides: the ensemble's, its own seed, and no ensemble of its own."""
    return [*(overrides or []), f"train.seed={seed}", "model.ensemble=null"]


def fit_members(data_dir: Path, out: Path, cfg, model_spec, config, overrides, fit_one,
                **fit_options) -> list[Path]:
    """Train (or finish) every member of the ensemble run `out` with `fit_one` (= `fit`), one
    after another; returns the member run dirs."""
    members = []
    for k, seed in enumerate(cfg.model.ensemble):
        member = layout.member_dir(out, seed)
        members.append(member)
        if layout.read_threshold_record(member) is not None:
            continue                                  # finished
        print(f"ensemble member {k + 1}/{len(cfg.model.ensemble)} (seed {seed}) -> {member}")
        fit_one(data_dir, model_spec, member, config=config,
                overrides=member_overrides(overrides, seed),
                resume=layout.config_path(member).is_file(), **fit_options)
    return members


def gather_checkpoint(out: Path, members: list[Path]) -> Path:
    """RUN/checkpoints/best.ckpt: every member's best weights under `model.members.<k>.`
    (the layout `load_state_dict` and `Ensemble` read), written atomically."""
    import torch

    state = {}
    for k, member in enumerate(members):
        for key, value in load_state_dict(checkpoint_path(member, "best")).items():
            state[f"model.members.{k}.{key}"] = value
    path = layout.checkpoint_file(out, "best")
    with atomic_path(path) as tmp:
        torch.save({"state_dict": state, "ensemble_members": [str(m.name) for m in members]}, tmp)
    return path


def write_ensemble_resources(out: Path, members: list[Path]) -> dict:
    """RUN/resources.json of the ensemble: the members' parameters and training seconds summed,
    and each member's own record."""
    records = [layout.read_resources(m) for m in members]
    seconds = [sum(float(r.get("seconds") or 0.0) for r in layout.read_history(m)) for m in members]
    info = {"n_members": len(members),
            "n_params": int(sum(r.get("n_params") or 0 for r in records)),
            "train_seconds": round(sum(seconds), 2),
            "train_seconds_per_member": [round(s, 2) for s in seconds],
            "peak_memory_mb": max((r.get("peak_memory_mb") or 0.0 for r in records), default=None),
            "members": records}
    layout.write_resources(out, info)
    return info
