"""Where an `hf:` model comes from: hub id or local directory, its raw `config.json`, its identity
for cache keys, whether it is a causal or a masked language model, and which implementation may
run it (native DNABERT-2, transformers' Auto classes, or remote code, only with
`trust_remote_code=True`).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from regdna.errors import RegdnaError
from regdna.models.spec import HF_PREFIX, parse_spec


def model_source(spec: str) -> str:
    """'hf:<id or dir>' -> '<id or dir>' (a string without the prefix is returned as is)."""
    return parse_spec(spec).argument if str(spec).strip().startswith(HF_PREFIX) else spec


def looks_like_path(source: str) -> bool:
    """A hub id is 'name' or 'org/name'; anything else is meant as a local path."""
    return source.startswith((".", "/", "~")) or source.count("/") > 1


def read_model_config(source: str) -> dict:
    """The raw `config.json` of a hub id or local directory, with a clear error when it cannot
    be reached (no network, unknown id, missing directory)."""
    local = Path(source).expanduser()
    if local.is_dir():
        config_file = local / "config.json"
        if not config_file.is_file():
            raise RegdnaError(f"{local} has no config.json; pass a directory written by "
                              "`save_pretrained` or downloaded from the hub")
        return json.loads(config_file.read_text())
    if looks_like_path(source) and not local.exists():
        raise RegdnaError(f"model directory {source} does not exist")
    from transformers.utils import cached_file

    try:
        config_file = cached_file(source, "config.json")
    except Exception as err:  # OSError, HTTP / connection errors, invalid repo ids
        raise RegdnaError(
            f"cannot load model '{source}' from the Hugging Face hub ({type(err).__name__}: "
            f"{str(err).splitlines()[0][:200]}). Without network access, download it where there "
            f"is network (`huggingface-cli download {source} --local-dir DIR`), copy DIR here and "
            f"pass --model hf:DIR") from None
    if config_file is None:
        raise RegdnaError(f"model '{source}' has no config.json")
    return json.loads(Path(config_file).read_text())


def model_fingerprint(source: str) -> str:
    """Identity of a model for cache keys: the id, and for a local dir its weight files'
    sizes and modification times (a re-saved model gets new embeddings)."""
    local = Path(source).expanduser()
    if not local.is_dir():
        return source
    parts = [str(local.resolve())]
    for f in sorted(local.iterdir()):
        if f.suffix in (".bin", ".safetensors", ".json"):
            stat = f.stat()
            parts.append(f"{f.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return "|".join(parts)


def needs_remote_code(raw: dict) -> bool:
    """True when transformers does not know the architecture of `raw` (config.json) or the
    config maps the Auto classes to the repository's own code (`auto_map`)."""
    from transformers import CONFIG_MAPPING

    return raw.get("model_type") not in CONFIG_MAPPING or bool(raw.get("auto_map"))


def is_causal_config(raw: dict) -> bool:
    """True for a causal (left-to-right) language model: the saved architecture is a
    `...ForCausalLM` / `...LMHeadModel` (GPT-2; HyenaDNA, Nguyen et al. 2023), the config says
    `is_decoder`, its `auto_map` has an `AutoModelForCausalLM` and no `AutoModelForMaskedLM`, or,
    with none of these, transformers knows the model type only as a causal LM (Llama, ...)."""
    architectures = raw.get("architectures") or []
    if any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in architectures):
        return True
    if any(a.endswith("ForMaskedLM") for a in architectures):
        return False
    if raw.get("is_decoder"):
        return True
    auto_map = raw.get("auto_map") or {}
    if auto_map:
        return "AutoModelForCausalLM" in auto_map and "AutoModelForMaskedLM" not in auto_map
    from transformers.models.auto.modeling_auto import (MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
                                                        MODEL_FOR_MASKED_LM_MAPPING_NAMES)

    kind = raw.get("model_type")
    return kind in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and kind not in MODEL_FOR_MASKED_LM_MAPPING_NAMES


def check_remote_code(source: str, raw: dict, trust_remote_code: bool) -> None:
    """Refuse a model that needs its own code from the hub unless the user trusts it."""
    if needs_remote_code(raw) and not trust_remote_code:
        raise RegdnaError(
            f"model '{source}' (model_type={raw.get('model_type')!r}) needs its own code from the "
            "hub, which regdna runs only when asked: pass --trust-remote-code (Python: "
            "trust_remote_code=True) if you trust that repository")


def has_fused_qkv(source: str, raw: dict) -> bool:
    """A BERT config without auto_map whose local weights use the fused `Wqkv` projection is a
    MosaicBERT / DNABERT-2 checkpoint too."""
    local = Path(source).expanduser()
    if raw.get("model_type") != "bert" or not local.is_dir():
        return False
    safetensors_file = local / "model.safetensors"
    if safetensors_file.is_file():
        from safetensors import safe_open

        with safe_open(str(safetensors_file), framework="pt") as handle:
            return any(".Wqkv." in key for key in handle.keys())
    bin_file = local / "pytorch_model.bin"
    if bin_file.is_file():
        state = torch.load(bin_file, map_location="meta", weights_only=True)
        return any(".Wqkv." in key for key in state)
    return False


def local_dir(source: str) -> Path:
    """A local dir for the native loader: the path itself, or the hub snapshot of the id."""
    local = Path(source).expanduser()
    if local.is_dir():
        return local
    from transformers.utils import cached_file

    config_file = cached_file(source, "config.json")
    for name in ("model.safetensors", "pytorch_model.bin"):
        try:
            cached_file(source, name)
            break
        except OSError:
            continue
    return Path(config_file).parent
