"""Pretrained DNA language models as regdna models: `--model hf:<hub id or local dir>`.

One loading path serves a hub id and a local directory (`from_pretrained`). The config decides
the implementation: a DNABERT-2 / MosaicBERT layout (its `auto_map` points at `bert_layers`) runs
on regdna's native implementation (`regdna.models.dnabert2`, no remote code, no triton);
architectures transformers knows (BERT, ESM = Nucleotide Transformer v1, ...) run through the Auto
classes; anything else needs its own code and therefore `trust_remote_code=True`.

Modes (`build_hf_model(..., mode=...)`):

- `probe`: frozen encoder, linear head on the pooled embedding ("cls" or "mean", from `layer`).
  `prepare_data` computes the embeddings once and caches them on disk (float16, keyed by a hash
  of the dataset content, model, layer, pooling and max_length); training batches then carry the
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
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from regdna.errors import RegdnaError
from regdna.models.base import RegdnaModel
from regdna.models.registry import n_outputs_for
from regdna.models.transformer import pool

log = logging.getLogger(__name__)

MODES = ("probe", "mlp", "cnn-probe", "finetune", "lora")
FROZEN_MODES = ("probe", "mlp", "cnn-probe")
CACHED_MODES = ("probe", "mlp")
CACHE_VERSION = 1


# -- locating a model ------------------------------------------------------------------------
def model_source(spec: str) -> str:
    """'hf:<id or dir>' -> '<id or dir>'."""
    return spec[3:] if spec.startswith("hf:") else spec


def _looks_like_path(source: str) -> bool:
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
    if _looks_like_path(source) and not local.exists():
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


def _needs_remote_code(raw: dict) -> bool:
    from transformers import CONFIG_MAPPING

    return raw.get("model_type") not in CONFIG_MAPPING or bool(raw.get("auto_map"))


# -- tokens ----------------------------------------------------------------------------------
class HFTokens:
    """A hub tokenizer behind regdna's token interface: ids with special tokens, truncation
    counted or rejected, padding to a multiple of 8, base spans of every token.

    Args:
        tokenizer: a transformers tokenizer.
        max_length: most tokens per sequence including special tokens (None: no limit).
        truncation: "warn" (truncate, count, log) or "error" (raise).
    """

    def __init__(self, tokenizer, max_length: int | None, truncation: str = "warn"):
        if truncation not in ("warn", "error"):
            raise RegdnaError(f"truncation='{truncation}': use 'warn' or 'error'")
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.truncation = truncation
        self.special_ids = set(tokenizer.all_special_ids)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.n_seen = 0
        self.n_truncated = 0

    def ids(self, seqs: Sequence[str]) -> list[list[int]]:
        """Token ids with special tokens, untruncated."""
        return self.tokenizer(list(seqs), add_special_tokens=True)["input_ids"]

    def n_tokens(self, seqs: Sequence[str]) -> np.ndarray:
        return np.array([len(ids) for ids in self.ids(seqs)], dtype=np.int64)

    def _truncate(self, ids: list[int]) -> list[int]:
        if self.max_length is None or len(ids) <= self.max_length:
            return ids
        tail = [ids[-1]] if ids[-1] in self.special_ids else []
        return ids[:self.max_length - len(tail)] + tail

    def __call__(self, seqs: Sequence[str]) -> dict:
        """Strings -> {"input_ids", "attention_mask"} LongTensors (N, S), S a multiple of 8."""
        rows = self.ids(seqs)
        too_long = [i for i, r in enumerate(rows) if self.max_length and len(r) > self.max_length]
        self.n_seen += len(rows)
        if too_long:
            if self.truncation == "error":
                i = too_long[0]
                raise RegdnaError(
                    f"{len(too_long)} of {len(rows)} sequences are longer than max_length="
                    f"{self.max_length} tokens (sequence {i}: {len(rows[i])} tokens, "
                    f"{len(seqs[i])} bp); raise max_length, shorten the windows, or allow "
                    "truncation with truncation=warn")
            self.n_truncated += len(too_long)
            log.warning("truncated %d of %d sequences to %d tokens (%.2f%% so far)",
                        len(too_long), len(rows), self.max_length,
                        100.0 * self.n_truncated / self.n_seen)
            rows = [self._truncate(r) for r in rows]
        width = max((len(r) for r in rows), default=1)
        width = ((width + 7) // 8) * 8
        input_ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            input_ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
            mask[i, :len(r)] = 1
        return {"input_ids": input_ids, "attention_mask": mask}

    def special_mask(self, input_ids: torch.Tensor) -> torch.Tensor:
        """(N, S) bool: True at special tokens ([CLS], [SEP], padding, ...)."""
        ids = torch.tensor(sorted(self.special_ids), device=input_ids.device)
        return torch.isin(input_ids, ids)

    def token_spans(self, seqs: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Half-open base interval of each token (after truncation), (0, 0) for specials."""
        spans = []
        for seq, ids in zip(seqs, self.ids(seqs)):
            ids = self._truncate(ids)
            pos, row = 0, []
            for tid in ids:
                if tid in self.special_ids and tid != self.tokenizer.unk_token_id:
                    row.append((0, 0))
                    continue
                piece = self.tokenizer.convert_ids_to_tokens(tid)
                width = 1 if tid == self.tokenizer.unk_token_id else len(piece.lstrip("#"))
                row.append((pos, min(pos + width, len(seq))))
                pos += width
            spans.append(row)
        return spans


def load_tokenizer(source: str, trust_remote_code: bool = False):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)
    except Exception as err:
        raise RegdnaError(f"cannot load the tokenizer of '{source}' ({type(err).__name__}: "
                          f"{str(err).splitlines()[0][:200]}); the directory needs tokenizer "
                          "files (tokenizer.json or vocab.txt + tokenizer_config.json)") from None


def default_max_length(raw: dict, tokenizer) -> int | None:
    """Most tokens the model accepts: ALiBi models (DNABERT-2) none; learned absolute positions:
    max_position_embeddings (ESM counts positions from padding_idx + 1, so 2 fewer)."""
    from regdna.models.dnabert2 import is_dnabert2_config

    if is_dnabert2_config(raw):
        return None
    limit = raw.get("max_position_embeddings")
    if limit is not None and raw.get("model_type") == "esm":
        limit -= 2
    tok_limit = getattr(tokenizer, "model_max_length", None)
    if tok_limit is not None and tok_limit < 1_000_000:
        limit = tok_limit if limit is None else min(limit, tok_limit)
    return limit


def load_tokens(spec: str, trust_remote_code: bool = False, max_length: int | None = None,
                truncation: str = "warn") -> HFTokens:
    """The tokenizer of a model spec, wrapped as `HFTokens` (no weights loaded)."""
    source = model_source(spec)
    raw = read_model_config(source)
    tokenizer = load_tokenizer(source, trust_remote_code)
    return HFTokens(tokenizer, max_length or default_max_length(raw, tokenizer), truncation)


# -- encoders --------------------------------------------------------------------------------
class Backbone(nn.Module):
    """One interface over the native DNABERT-2 encoder and transformers encoders:
    `forward(input_ids, attention_mask, layer, return_attentions) -> (hidden (N, S, D),
    attentions: list of (N, H, S, S))`. `layer` is 0-based (-1: last, -2: penultimate)."""

    def __init__(self, encoder: nn.Module, native: bool):
        super().__init__()
        self.encoder = encoder
        self.native = native
        config = encoder.config
        self.hidden_size = config.hidden_size
        self.n_layers = config.num_hidden_layers

    def forward(self, input_ids, attention_mask, layer: int = -1, return_attentions: bool = False):
        if self.native:
            return self.encoder(input_ids, attention_mask, layer=layer,
                                return_attentions=return_attentions)
        if not -self.n_layers <= layer < self.n_layers:
            raise RegdnaError(f"layer={layer} is out of range for a {self.n_layers}-layer model")
        if return_attentions:       # SDPA returns no probabilities: use the explicit path
            self.encoder.set_attn_implementation("eager")
        try:
            out = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                               output_hidden_states=layer != -1,
                               output_attentions=return_attentions, return_dict=True)
        finally:
            if return_attentions:
                self._sdpa()
        if layer == -1:
            hidden = out.last_hidden_state
        else:   # hidden_states[0] is the embedding output
            hidden = out.hidden_states[layer + 1 if layer >= 0 else layer]
        return hidden, list(out.attentions) if return_attentions else []

    def _sdpa(self):
        try:
            self.encoder.set_attn_implementation("sdpa")
        except Exception:  # an architecture without SDPA support stays eager
            pass


def _load_encoder(source: str, raw: dict, trust_remote_code: bool, config_overrides: dict,
                  masked_lm: bool):
    """(module, native) with `module` a masked-LM model (masked_lm) or the bare encoder."""
    from regdna.models.dnabert2 import DNABert2ForMaskedLM, is_dnabert2_config

    if is_dnabert2_config(raw) or _has_fused_qkv(source, raw):
        local = _local_dir(source)
        model = DNABert2ForMaskedLM.from_pretrained(local, config_overrides=config_overrides)
        return (model if masked_lm else model.bert), True
    if _needs_remote_code(raw) and not trust_remote_code:
        raise RegdnaError(
            f"model '{source}' (model_type={raw.get('model_type')!r}) needs its own code from the "
            "hub, which regdna runs only when asked: pass --trust-remote-code (Python: "
            "trust_remote_code=True) if you trust that repository")
    from transformers import AutoModel, AutoModelForMaskedLM

    auto = AutoModelForMaskedLM if masked_lm else AutoModel
    kwargs = dict(trust_remote_code=trust_remote_code, output_loading_info=True,
                  **config_overrides)
    with _quiet_transformers():
        try:
            try:
                model, info = auto.from_pretrained(source, attn_implementation="sdpa", **kwargs)
            except ValueError:   # architecture without SDPA
                model, info = auto.from_pretrained(source, **kwargs)
        except OSError as err:
            raise RegdnaError(f"cannot load the weights of '{source}' "
                              f"({str(err).splitlines()[0]})") from None
    if info.get("missing_keys"):
        log.info("%s: initialised %s (not in the weight file)", source,
                 ", ".join(sorted(info["missing_keys"])))
    return model, False


class _quiet_transformers:
    """Silence transformers' load report and progress bars (regdna logs what was initialised)."""

    def __enter__(self):
        from transformers.utils import logging as hf_logging

        self._level = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()

    def __exit__(self, *exc):
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity(self._level)
        hf_logging.enable_progress_bar()
        return False


def _has_fused_qkv(source: str, raw: dict) -> bool:
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


def _local_dir(source: str) -> Path:
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


def _dropout_overrides(hidden: float | None, attention: float | None) -> dict:
    """Config fields for the encoder dropouts (BERT, ESM and DNABERT-2 share the names)."""
    out = {}
    if hidden is not None:
        out["hidden_dropout_prob"] = hidden
    if attention is not None:
        out["attention_probs_dropout_prob"] = attention
    return out


# -- heads -----------------------------------------------------------------------------------
class MLPHead(nn.Module):
    """Two fully connected blocks (Linear, ReLU, LayerNorm, dropout) then the output layer
    (Tang & Koo 2024: 512 and 256 units, dropout 0.5)."""

    def __init__(self, d_in: int, n_outputs: int, units=(512, 256), dropout: float = 0.5):
        super().__init__()
        layers, d = [], d_in
        for u in units:
            layers += [nn.Linear(d, u), nn.ReLU(), nn.LayerNorm(u), nn.Dropout(dropout)]
            d = u
        layers.append(nn.Linear(d, n_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, pooled):
        return self.net(pooled)


class CNNHead(nn.Module):
    """Small CNN over token embeddings (N, S, D): 1x1 conv to `channels`, conv k=7, ReLU,
    max over real tokens, dropout, linear (the baseline CNN of Tang & Koo 2024, with a global max
    pool so it takes any token length)."""

    def __init__(self, d_in: int, n_outputs: int, channels: int = 64, kernel: int = 7,
                 dropout: float = 0.2):
        super().__init__()
        self.reduce = nn.Conv1d(d_in, channels, 1)
        self.conv = nn.Conv1d(channels, channels, kernel, padding=kernel // 2)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(channels, n_outputs)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.reduce(hidden.transpose(1, 2)))
        h = torch.relu(self.conv(h))                                    # (N, C, S)
        h = h.masked_fill(~mask.bool()[:, None, :], float("-inf")).amax(dim=-1)
        return self.out(self.drop(h))


# -- the regdna model ------------------------------------------------------------------------
class HFSequenceModel(RegdnaModel):
    """A pretrained encoder + a head, following the regdna model contract (tokens model).

    Args:
        backbone: `Backbone`.
        tokens: `HFTokens`.
        n_outputs: output logits T.
        mode: one of MODES.
        layer: encoder layer whose hidden states are used (-1 last, -2 penultimate, ...).
        pooling: "cls" or "mean" (probe, mlp, finetune, lora).
        classifier_dropout: dropout before the linear head (finetune, lora).
        fingerprint: model identity for cache keys.
    """

    input_kind = "tokens"
    has_attention = True

    def __init__(self, backbone: Backbone, tokens: HFTokens, n_outputs: int, mode: str,
                 layer: int = -1, pooling: str = "cls", classifier_dropout: float = 0.1,
                 mlp_units=(512, 256), cnn_channels: int = 64, fingerprint: str = "",
                 embed_batch_size: int = 32, cache_dir: str | None = None):
        super().__init__()
        self.backbone = backbone
        self.tokens = tokens
        self.n_outputs = n_outputs
        self.mode = mode
        self.layer = layer
        self.pooling = pooling
        self.fingerprint = fingerprint
        self.embed_batch_size = embed_batch_size
        self.cache_dir = cache_dir
        d = backbone.hidden_size
        if mode == "probe":
            self.head = nn.Linear(d, n_outputs)
        elif mode == "mlp":
            self.head = MLPHead(d, n_outputs, units=tuple(mlp_units))
        elif mode == "cnn-probe":
            self.head = CNNHead(d, n_outputs, channels=cnn_channels)
        else:
            self.head = nn.Sequential(nn.Dropout(classifier_dropout), nn.Linear(d, n_outputs))
        if mode in FROZEN_MODES:
            for p in self.backbone.parameters():
                p.requires_grad_(False)
        self._cache = None          # EmbeddingCache after prepare_data (probe, mlp)

    @property
    def frozen(self) -> bool:
        return self.mode in FROZEN_MODES

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:             # a frozen encoder never uses dropout
            self.backbone.eval()
        return self

    # -- tokens -----------------------------------------------------------------------------
    @property
    def augment_inputs(self) -> bool:
        """False once embeddings are cached: training batches must be the cached sequences
        (read by the training collate function)."""
        return self._cache is None

    @property
    def pad_token_id(self) -> int:
        return self.tokens.pad_id

    def tokenize(self, seqs: Sequence[str]) -> dict:
        """Strings -> {"input_ids", "attention_mask"} (N, S), S a multiple of 8; in probe / mlp
        mode after `prepare_data`, sequences all found in the embedding cache give
        {"embedding": (N, 1, D) float32} instead (one summary "token" per sequence)."""
        seqs = list(seqs)
        if self._cache is not None:
            found = self._cache.lookup(seqs)
            if found is not None:
                return {"embedding": torch.from_numpy(found)[:, None, :]}
        return self.tokens(seqs)

    def token_spans(self, seqs: Sequence[str]) -> list[list[tuple[int, int]]]:
        return self.tokens.token_spans(list(seqs))

    # -- forward ----------------------------------------------------------------------------
    def pooled(self, hidden: torch.Tensor, input_ids: torch.Tensor, mask: torch.Tensor):
        """Sequence embedding (N, D) by `pooling`."""
        pool_mask = mask.bool() & ~self.tokens.special_mask(input_ids)
        return pool(hidden, pool_mask, self.pooling)

    def features(self, x: dict) -> torch.Tensor:
        """Pooled embedding (N, D) of a tokenized batch (frozen modes: no gradients)."""
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            hidden, _ = self.backbone(x["input_ids"], x["attention_mask"], self.layer)
            return self.pooled(hidden, x["input_ids"], x["attention_mask"])

    def forward(self, x: dict, return_attentions: bool = False):
        """x: `tokenize` output -> logits (N, T) [, attentions: list of (N, H, S, S)]."""
        if "embedding" in x:
            if return_attentions:
                raise RegdnaError("attentions need tokens, not cached embeddings")
            return self.head(x["embedding"][:, 0].to(self._head_dtype()))
        ids, mask = x["input_ids"], x["attention_mask"]
        grad = torch.is_grad_enabled() and not self.frozen
        with torch.set_grad_enabled(grad):
            hidden, attentions = self.backbone(ids, mask, self.layer, return_attentions)
        if self.mode == "cnn-probe":
            logits = self.head(hidden, mask & ~self.tokens.special_mask(ids))
        else:
            logits = self.head(self.pooled(hidden, ids, mask))
        return (logits, attentions) if return_attentions else logits

    def _head_dtype(self):
        return next(self.head.parameters()).dtype

    # -- data preparation (called by regdna.train.fit) --------------------------------------
    def prepare_data(self, data_dir, info, cache_dir) -> None:
        """Before training: report the truncation rate over every split (logged, and stored in
        `<cache_dir>/truncation.json`); in probe / mlp mode compute or reuse the embedding cache.
        The model option `cache_dir` replaces the harness's (share one cache between runs)."""
        from regdna.models.embed_cache import EmbeddingCache, truncation_report

        truncation_report(data_dir, self.tokens, Path(cache_dir) / "truncation.json")
        if self.mode in CACHED_MODES:
            self._cache = EmbeddingCache.build(self, data_dir, Path(self.cache_dir or cache_dir))

    @torch.inference_mode()
    def embed(self, seqs: Sequence[str], device=None) -> np.ndarray:
        """Pooled embeddings (N, D) float32 of `layer`, computed in batches."""
        device = device or next(self.backbone.parameters()).device
        out = []
        for start in range(0, len(seqs), self.embed_batch_size):
            batch = {k: v.to(device) for k, v in
                     self.tokens(list(seqs[start:start + self.embed_batch_size])).items()}
            with _autocast(device):
                out.append(self.features(batch).float().cpu().numpy())
        if not out:
            return np.zeros((0, self.backbone.hidden_size), dtype=np.float32)
        return np.concatenate(out)


def _autocast(device):
    device = torch.device(device)
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    import contextlib

    return contextlib.nullcontext()


def build_hf_model(spec: str, info, mode: str = "probe", trust_remote_code: bool = False,
                   layer: int = -1, pooling: str = "cls", max_length: int | None = None,
                   truncation: str = "warn", lora_r: int = 8, lora_alpha: int = 16,
                   lora_dropout: float = 0.05, hidden_dropout: float | None = None,
                   attention_dropout: float | None = None, classifier_dropout: float = 0.1,
                   mlp_units=(512, 256), cnn_channels: int = 64, embed_batch_size: int = 32,
                   cache_dir: str | None = None, **unknown) -> HFSequenceModel:
    """A regdna model from a pretrained encoder (`hf:<hub id or local dir>`).

    Args:
        spec: "hf:<id or dir>".
        info: `DatasetInfo` (task, labels -> n_outputs).
        mode: "probe", "mlp", "cnn-probe", "finetune" or "lora".
        trust_remote_code: allow models that need their own code from the hub.
        layer: encoder layer for the features (-1 last, -2 penultimate; 0-based otherwise).
        pooling: "cls", "mean" or "max".
        max_length: most tokens per sequence (default: what the model accepts).
        truncation: "warn" (truncate and report the rate) or "error".
        lora_r, lora_alpha, lora_dropout: LoRA adapters (mode lora).
        hidden_dropout, attention_dropout: set on the encoder config (finetune, lora).
        classifier_dropout: dropout before the linear head (finetune, lora).
        mlp_units, cnn_channels: head sizes (mlp, cnn-probe).
        embed_batch_size: sequences per batch when caching embeddings.
        cache_dir: embedding cache dir shared between runs (default: the run's cache dir).
    """
    if unknown:
        raise RegdnaError(f"hf models have no option(s) {', '.join(sorted(unknown))}")
    if mode not in MODES:
        raise RegdnaError(f"mode '{mode}' is unknown; use one of {', '.join(MODES)}")
    if pooling not in ("cls", "mean", "max"):
        raise RegdnaError(f"pooling '{pooling}' is unknown; use cls, mean or max")
    source = model_source(spec)
    raw = read_model_config(source)
    overrides = {}
    if mode not in FROZEN_MODES:
        overrides = _dropout_overrides(hidden_dropout, attention_dropout)
    encoder, native = _load_encoder(source, raw, trust_remote_code, overrides, masked_lm=False)
    tokenizer = load_tokenizer(source, trust_remote_code)
    tokens = HFTokens(tokenizer, max_length or default_max_length(raw, tokenizer), truncation)
    backbone = Backbone(encoder, native)
    if mode == "lora":
        _add_lora(backbone, native, lora_r, lora_alpha, lora_dropout)
    fingerprint = "|".join([model_fingerprint(source), f"layer={layer}", f"pooling={pooling}",
                            f"max_length={tokens.max_length}"])
    return HFSequenceModel(backbone, tokens, n_outputs_for(info), mode, layer=layer,
                           pooling=pooling, classifier_dropout=classifier_dropout,
                           mlp_units=mlp_units, cnn_channels=cnn_channels,
                           fingerprint=fingerprint, embed_batch_size=embed_batch_size,
                           cache_dir=cache_dir)


def lora_targets(encoder: nn.Module, native: bool) -> list[str]:
    """Attention projections to adapt: the fused Wqkv (DNABERT-2) or query/key/value."""
    if native:
        return ["Wqkv"]
    names = {name.rsplit(".", 1)[-1] for name, m in encoder.named_modules()
             if isinstance(m, nn.Linear)}
    targets = [n for n in ("query", "key", "value") if n in names]
    if not targets:
        targets = [n for n in ("q_proj", "k_proj", "v_proj", "Wqkv", "qkv") if n in names]
    if not targets:
        raise RegdnaError("found no attention projections (query/key/value, Wqkv) for LoRA in "
                          "this model; use --mode finetune or probe")
    return targets


def _add_lora(backbone: Backbone, native: bool, r: int, alpha: int, dropout: float) -> None:
    """Inject LoRA adapters in place; only adapter weights stay trainable in the encoder."""
    from peft import LoraConfig, inject_adapter_in_model

    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout,
                        target_modules=lora_targets(backbone.encoder, native), bias="none")
    inject_adapter_in_model(config, backbone.encoder)
    for name, p in backbone.encoder.named_parameters():
        p.requires_grad_("lora_" in name)


# -- language models (zero-shot scores) ------------------------------------------------------
class LanguageModel:
    """A masked language model for zero-shot analyses (Tang & Koo 2024).

    `embed(seqs, pooling, layer) -> (N, D)`; `masked_log_likelihood(seqs, positions) -> (N,)`:
    mask the token covering base `positions[i]` of `seqs[i]` and return log p(original token).
    """

    def __init__(self, mlm: nn.Module, native: bool, tokens: HFTokens, device, batch_size=32):
        self.mlm = mlm.to(device).eval()
        self.native = native
        self.tokens = tokens
        self.device = device
        self.batch_size = batch_size
        encoder = mlm.bert if native else mlm.base_model
        self.backbone = Backbone(encoder, native)

    def _batches(self, seqs):
        for start in range(0, len(seqs), self.batch_size):
            yield start, list(seqs[start:start + self.batch_size])

    @torch.inference_mode()
    def embed(self, seqs: Sequence[str], pooling: str = "mean", layer: int = -1) -> np.ndarray:
        """Pooled embeddings (N, D) float32 ("mean" over real tokens, or "cls")."""
        out = []
        for _, chunk in self._batches(seqs):
            x = {k: v.to(self.device) for k, v in self.tokens(chunk).items()}
            with _autocast(self.device):
                hidden, _ = self.backbone(x["input_ids"], x["attention_mask"], layer)
                pool_mask = x["attention_mask"].bool() & ~self.tokens.special_mask(x["input_ids"])
                out.append(pool(hidden, pool_mask, pooling).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.backbone.hidden_size), np.float32)

    def _token_logits(self, x: dict) -> torch.Tensor:
        if self.native:
            return self.mlm(x["input_ids"], x["attention_mask"])
        return self.mlm(input_ids=x["input_ids"], attention_mask=x["attention_mask"]).logits

    @torch.inference_mode()
    def masked_log_likelihood(self, seqs: Sequence[str], positions: Sequence[int]) -> np.ndarray:
        """log p(original token | rest) (N,) with the token covering base positions[i] masked."""
        mask_id = self.tokens.tokenizer.mask_token_id
        if mask_id is None:
            raise RegdnaError("this tokenizer has no mask token; masked likelihoods need a "
                              "masked language model")
        out = np.zeros(len(seqs), dtype=np.float64)
        for start, chunk in self._batches(seqs):
            x = self.tokens(chunk)
            spans = self.tokens.token_spans(chunk)
            rows, cols = [], []
            for i, row in enumerate(spans):
                pos = int(positions[start + i])
                hit = [j for j, (a, b) in enumerate(row) if a <= pos < b]
                if not hit:
                    raise RegdnaError(f"position {pos} of sequence {start + i} "
                                      f"({len(chunk[i])} bp) is not covered by any token "
                                      "(outside the sequence or truncated)")
                rows.append(i)
                cols.append(hit[0])
            rows_t, cols_t = torch.tensor(rows), torch.tensor(cols)
            original = x["input_ids"][rows_t, cols_t].clone()
            x["input_ids"][rows_t, cols_t] = mask_id
            x = {k: v.to(self.device) for k, v in x.items()}
            with _autocast(self.device):
                logits = self._token_logits(x).float()
            logp = torch.log_softmax(logits[rows_t.to(self.device), cols_t.to(self.device)], -1)
            out[start:start + len(chunk)] = logp.gather(1, original.to(self.device)[:, None]) \
                .squeeze(1).cpu().numpy()
        return out


def load_language_model(spec: str, trust_remote_code: bool = False, device=None,
                        max_length: int | None = None, batch_size: int = 32) -> LanguageModel:
    """A masked language model (with its MLM head) from `hf:<id or dir>` for zero-shot scores."""
    from regdna.utils.device import default_device

    source = model_source(spec)
    raw = read_model_config(source)
    mlm, native = _load_encoder(source, raw, trust_remote_code, {}, masked_lm=True)
    tokenizer = load_tokenizer(source, trust_remote_code)
    tokens = HFTokens(tokenizer, max_length or default_max_length(raw, tokenizer))
    device = torch.device(device) if device is not None else default_device()
    return LanguageModel(mlm, native, tokens, device, batch_size=batch_size)

