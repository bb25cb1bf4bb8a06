"""Variant effects: scoring variants from a genome or a table (`score_variants`), saturation
mutagenesis (`saturation_mutagenesis`), and benchmarks against measured effects
(`benchmark_variants`). Imported lazily so `import regdna.variants` does not load torch."""

_EXPORTS = {
    "score_variants": "regdna.variants.vep",
    "saturation_mutagenesis": "regdna.variants.ism",
    "benchmark_variants": "regdna.variants.benchmark",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'regdna.variants' has no attribute '{name}'")
