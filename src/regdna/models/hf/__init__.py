"""Pretrained DNA language models as regdna models: `--model hf:<hub id or local dir>`.

One loading path serves a hub id and a local directory (`from_pretrained`). The config decides
the implementation: a DNABERT-2 / MosaicBERT layout (its `auto_map` points at `bert_layers`) runs
on regdna's native implementation (`regdna.models.dnabert2`, no remote code, no triton);
architectures transformers knows (BERT, ESM = Nucleotide Transformer v1, ...) run through the Auto
classes; anything else needs its own code and therefore `trust_remote_code=True`.

Modes (`build_hf_model(..., mode=...)`):

- `probe`: frozen encoder, linear head on the pooled embedding ("cls" or "mean", from `layer`).
  `prepare_data` computes the embeddings once and caches them on disk (float16, keyed by a hash
  of the sequences, model, layer, pooling and max_length); training batches then carry the
  cached embedding instead of tokens (Morenu n.d.; Tang & Koo 2024).
- `mlp`: the same with a two-block MLP head (512, 256 units; Tang & Koo 2024).
- `cnn-probe`: frozen encoder, small CNN over the full token-embedding sequence of `layer`
  (Tang & Koo 2024: beats CLS / mean probes).
- `finetune`: every weight trained; hidden / attention / classifier dropout set on the config
  (King et al. n.d.).
- `lora`: LoRA adapters (peft) on the attention projections (query/key/value, or the fused
  `Wqkv` of DNABERT-2) and a trained head; everything else frozen.

Sequences longer than the model accepts are truncated and counted (`truncation="warn"`: the rate
is logged per batch, and over the whole dataset by `prepare_data`, which stores it in
`<cache_dir>/truncation.json`) or rejected (`truncation="error"`).

Modules: `source` (hub id / local dir, config, remote-code check), `tokens` (`HFTokens`),
`backbone` (loading the encoder, `Backbone`), `heads`, `lora`, `sequence_model`
(`HFSequenceModel`, `build_hf_model`), `language_model` (zero-shot scores). This package
re-exports what other modules use.
"""
from __future__ import annotations

from regdna.models.hf.backbone import Backbone
from regdna.models.hf.language_model import LanguageModel, load_language_model
from regdna.models.hf.lora import lora_targets
from regdna.models.hf.sequence_model import (CACHED_MODES, FROZEN_MODES, MODES, HFSequenceModel,
                                             build_hf_model)
from regdna.models.hf.source import model_fingerprint, model_source, read_model_config
from regdna.models.hf.tokens import HFTokens, default_max_length, load_tokenizer, load_tokens

__all__ = ["Backbone", "CACHED_MODES", "FROZEN_MODES", "HFSequenceModel", "HFTokens",
           "LanguageModel", "MODES", "build_hf_model", "default_max_length", "load_language_model",
           "load_tokenizer", "load_tokens", "lora_targets", "model_fingerprint", "model_source",
           "read_model_config"]
