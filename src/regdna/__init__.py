"""regdna: deep learning on regulatory DNA.

Stages read and write plain files (see docs/ARCHITECTURE.md):
prepare -> train -> evaluate / robustness / predict / vep / ism / attribute / motifs / embed -> report.

The public Python API (documented with examples in docs/API.md) is one function per CLI verb,
`run_<verb>(..., out, overwrite=False, ...)`, plus `load_predictor(run_dir)` and `Predictor`
for predictions in memory, and `RegdnaError` (errors the user can fix). They are exported here
and imported on first use (module `__getattr__`), so that `import regdna` imports neither torch
nor any other heavy library.
"""
from __future__ import annotations

import importlib

from regdna._version import __version__
from regdna.errors import RegdnaError

# public name -> module that defines it (imported on first access)
_LAZY = {
    "run_example": "regdna.data.example",
    "run_prepare": "regdna.data.prepare",
    "run_tokens": "regdna.models.tokens",
    "Predictor": "regdna.runs.predictor",
    "load_predictor": "regdna.runs.predictor",
    "run_evaluate": "regdna.evaluate.evaluate",
    "run_robustness": "regdna.evaluate.robustness",
    "run_predict": "regdna.evaluate.predict",
    "run_compare": "regdna.evaluate.compare",
    "run_train": "regdna.train.train",
    "run_tune": "regdna.train.tune",
    "run_vep": "regdna.variants.vep",
    "run_ism": "regdna.variants.ism",
    "run_benchmark_variants": "regdna.variants.benchmark_variants",
    "run_benchmark_models": "regdna.variants.benchmark_models",
    "run_attribute": "regdna.interpret.attribute",
    "run_faithfulness": "regdna.interpret.faithfulness",
    "run_motifs": "regdna.interpret.motifs",
    "run_gia": "regdna.interpret.gia",
    "run_embed": "regdna.interpret.embed",
    "run_report": "regdna.report.report",
}

__all__ = ["RegdnaError", "__version__", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'regdna' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
