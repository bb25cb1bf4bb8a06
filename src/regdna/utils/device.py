"""The default torch device: CUDA when present, else CPU."""
from __future__ import annotations

import torch


def default_device() -> torch.device:
    """CUDA when present (with tf32 matmuls), else CPU."""
    if torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        return torch.device("cuda")
    return torch.device("cpu")
