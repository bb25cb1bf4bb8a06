"""Shared fixtures. Session-scoped artefacts (example, dataset dir, trained runs) are built once
and reused by every test module; they live in fixtures_*.py, one file per domain."""
import os

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import importlib.util  # noqa: E402

for _name in ("fixtures_example", "fixtures_data", "fixtures_runs", "fixtures_lm"):
    if importlib.util.find_spec(_name) is not None:
        exec(f"from {_name} import *")  # noqa: S102  (pytest discovers fixtures by name)
