"""Fixtures of the variant tests (helpers in var_helpers.py)."""
import pytest
from var_helpers import gc_predictor as _gc_predictor
from var_helpers import write_toy_genome


@pytest.fixture()
def gc_predictor():
    return _gc_predictor()


@pytest.fixture()
def toy_genome(tmp_path):
    return write_toy_genome(tmp_path)
