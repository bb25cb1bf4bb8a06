"""Variant effects, one verb per module: `run_vep` (`regdna vep`; `score_variants` with models in
memory), `run_ism` (`regdna ism`; `saturation_mutagenesis` on a Predictor) and
`run_benchmark_variants` (`regdna benchmark-variants`) and `run_benchmark_models` (`regdna
benchmark-models`). Imported lazily so `import
regdna.variants` does not load torch."""

_EXPORTS = {
    "run_vep": "regdna.variants.vep",
    "score_variants": "regdna.variants.vep",
    "run_ism": "regdna.variants.ism",
    "saturation_mutagenesis": "regdna.variants.ism",
    "run_benchmark_variants": "regdna.variants.benchmark_variants",
    "run_benchmark_models": "regdna.variants.benchmark_models",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'regdna.variants' has no attribute '{name}'")
