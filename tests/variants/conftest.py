"""Fixtures of the variant tests (helpers in var_helpers.py; the genomes are in fixtures_data.py)."""
import pytest
from var_helpers import gc_predictor as _gc_predictor


@pytest.fixture()
def gc_predictor():
    return _gc_predictor()
