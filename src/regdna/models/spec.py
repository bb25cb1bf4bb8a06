"""Model spec strings: `cnn` (the default), `basset`, `deepsea`, `residualbind`, `cnn-baseline`,
`shallow-cnn`, `kmer-lr`, `tinyformer`,
`hf:<hub id or local path>`. `parse_spec` is the one place that reads them; the registry
(`regdna.models.registry`) builds models from them and re-exports `parse_spec`.
"""
from __future__ import annotations

from typing import NamedTuple

from regdna.errors import RegdnaError

CNN_SPECS = ("cnn", "basset", "deepsea", "residualbind", "cnn-baseline", "shallow-cnn")
TOKEN_SPECS = ("tinyformer",)
# profile models (coverage datasets): forward -> (N, L / bin_size, T) coverage (regdna.models.base)
PROFILE_SPECS = ("cnn-baseline", "residualbind-base", "residualbind-32", "basenji", "bpnet", "kmer-ridge")
PROFILE_ONLY_SPECS = tuple(s for s in PROFILE_SPECS if s not in CNN_SPECS)
DEFAULT_PROFILE_SPEC = "residualbind-32"
NAMED_SPECS = CNN_SPECS + ("kmer-lr",) + TOKEN_SPECS + PROFILE_ONLY_SPECS
HF_PREFIX = "hf:"
VALID_SPECS = NAMED_SPECS + (f"{HF_PREFIX}<hub id or local path>",)


class ModelSpec(NamedTuple):
    """A parsed model spec: `family` is the model name ("basset", ..., "tinyformer") or "hf";
    `argument` is the hub id or local path of an "hf" spec, None otherwise."""

    family: str
    argument: str | None


def parse_spec(spec: str) -> ModelSpec:
    """Split a model spec string into (family, argument).

    Parameters
    ----------
    spec : str
        e.g. "basset", "tinyformer", "hf:zhihan1996/DNABERT-2-117M", "hf:./my_model".

    Returns
    -------
    ModelSpec
        ("basset", None), ("hf", "zhihan1996/DNABERT-2-117M"), ...

    Raises
    ------
    RegdnaError
        for an unknown model name or an "hf:" spec without a source.
    """
    spec = str(spec).strip()
    if spec.startswith(HF_PREFIX):
        source = spec[len(HF_PREFIX):].strip()
        if not source:
            raise RegdnaError(f"model '{spec}' names no model: use hf:<hub id or local dir>.")
        return ModelSpec("hf", source)
    if spec in NAMED_SPECS:
        return ModelSpec(spec, None)
    raise RegdnaError(f"unknown model '{spec}'; valid models: {', '.join(VALID_SPECS)}.")


def spec_slug(spec: str) -> str:
    """A file-name friendly form of a spec: "hf:org/name" -> "org_name", "basset" -> "basset"."""
    family, argument = parse_spec(spec)
    return family if argument is None else argument.strip("/").replace("/", "_")
