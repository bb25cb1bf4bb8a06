"""Checkpoints of a run dir: written atomically, read back safely.

`checkpoints/best.ckpt` and `checkpoints/last.ckpt` are Lightning checkpoints. They are written
to a temporary file and renamed into place (a kill mid-write leaves the previous file intact;
`regdna.train.callbacks.AtomicCheckpointIO`), and read with `torch.load(weights_only=True)` (no
pickled code runs); `load_state_dict` gives the model weights that
`regdna.runs.predictor.load_predictor` loads into the rebuilt model. Lightning is not imported
here: loading a model for prediction does not need it.
"""
from __future__ import annotations

from pathlib import Path

import torch

from regdna.errors import RegdnaError
from regdna.runs.layout import checkpoint_file, checkpoints_dir


def checkpoint_path(run_dir: str | Path, checkpoint: str = "best") -> Path:
    """RUN/checkpoints/<checkpoint>.ckpt, or a clear error naming what exists."""
    run_dir = Path(run_dir)
    path = Path(checkpoint) if str(checkpoint).endswith(".ckpt") else \
        checkpoint_file(run_dir, checkpoint)
    if not path.is_file():
        found = sorted(p.name for p in checkpoints_dir(run_dir).glob("*.ckpt")) \
            if checkpoints_dir(run_dir).is_dir() else []
        hint = f"it has {', '.join(found)}" if found else "it has no checkpoint at all"
        raise RegdnaError(f"run dir {run_dir} has no {path.name} ({hint}). Train it with "
                          f"`regdna train --out {run_dir}` (or `--resume` to finish an interrupted run).")
    return path


def read_checkpoint(path: str | Path, what_to_do: str | None = None, mmap: bool = False) -> dict:
    """torch.load(weights_only=True) of a checkpoint; a damaged or foreign file is one line.

    `mmap=True` maps the tensors instead of reading them: a cheap check that the file is whole.
    """
    what_to_do = what_to_do or ("train the run again (`regdna train --overwrite`) or pass another "
                                "checkpoint")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as err:  # truncated, corrupted or foreign file; unpickling errors span lines
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0].split(". ")[0]
        raise RegdnaError(f"cannot read checkpoint {path} ({reason.rstrip('.')}): it is damaged or was not "
                          f"written by `regdna train`; {what_to_do}.") from None
    if not isinstance(ckpt, dict):
        raise RegdnaError(f"checkpoint {path} is not a regdna checkpoint; {what_to_do}.")
    return ckpt


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Model weights of a Lightning checkpoint (the `model.` prefix of RegdnaModule removed)."""
    ckpt = read_checkpoint(path)
    state = ckpt.get("state_dict", ckpt)
    return {k[len("model."):]: v for k, v in state.items() if k.startswith("model.")}
