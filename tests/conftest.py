"""Shared fixtures. Session-scoped artefacts (example, dataset dir, trained runs) are built once
and reused by every test module; they live in fixtures_*.py, one file per domain. Helpers that
are not fixtures (random sequences, genome writers) are in helpers.py."""
import os

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

pytest_plugins = ["fixtures_example", "fixtures_data", "fixtures_runs", "fixtures_lm"]
