"""Native DNABERT-2 (MosaicBERT layout): runs the published checkpoint without
`trust_remote_code` and without triton.

Architecture (Zhou et al. 2024; MosaicBERT), with the parameter names of the official checkpoint so
`load_state_dict` is strict:

- `bert.embeddings`: `word_embeddings` + `token_type_embeddings`, `LayerNorm`, dropout; no
  position embeddings (positions enter as ALiBi biases).
- `bert.encoder.layer.<i>`: `attention.self.Wqkv` (fused Linear hidden -> 3 hidden, split as
  (3, heads, head_dim)), scores + ALiBi bias (-slope_h |i - j|, symmetric, no causal mask,
  slopes of Press et al. incl. their rule for head counts that are not a power of two) + -10000
  on padded keys; `attention.output.dense` + `attention.output.LayerNorm` (post-LN residual);
  gated-linear-unit MLP `mlp.gated_layers` (hidden -> 2 intermediate, no bias; GELU(first half)
  * second half), `mlp.wo` (intermediate -> hidden), dropout, `mlp.layernorm` on the residual
  sum.
- `bert.pooler` (optional): dense + tanh on the first token.
- `cls.predictions`: masked-LM head, `transform.dense` -> GELU -> `transform.LayerNorm` ->
  `decoder` (weight tied to the word embeddings).

Attention runs through `scaled_dot_product_attention`, or, when attention probabilities are
requested, an explicit softmax with the same result. The original code removes padding before
attention ("unpadding"); here padded keys get -10000, which gives real tokens the same outputs.
The ALiBi table starts at `alibi_starting_size` and is rebuilt larger for longer inputs.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields
from pathlib import Path

import torch
from torch import nn

from regdna.errors import RegdnaError
from regdna.models.attention import alibi_bias, attend, padding_bias

log = logging.getLogger(__name__)


@dataclass
class DNABert2Config:
    """The fields of a DNABERT-2 `config.json` the architecture needs (defaults: 117M model)."""

    vocab_size: int = 4096
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    type_vocab_size: int = 2
    max_position_embeddings: int = 512
    alibi_starting_size: int = 512
    layer_norm_eps: float = 1e-12
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.0
    classifier_dropout: float | None = None
    pad_token_id: int = 0

    @classmethod
    def from_dict(cls, raw: dict) -> "DNABert2Config":
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in names and v is not None}
        return cls(**values)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def is_dnabert2_config(raw: dict) -> bool:
    """True for a config in the DNABERT-2 / MosaicBERT layout (its `auto_map` points at
    `bert_layers`, or it carries `alibi_starting_size`)."""
    auto_map = raw.get("auto_map") or {}
    refs = " ".join(str(v) for v in auto_map.values())
    return "bert_layers" in refs or "alibi_starting_size" in raw


class DNABert2Embeddings(nn.Module):
    def __init__(self, config: DNABert2Config):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size,
                                            padding_idx=config.pad_token_id)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None):
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        h = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(h))


class DNABert2SelfAttention(nn.Module):
    def __init__(self, config: DNABert2Config):
        super().__init__()
        self.n_heads = config.num_attention_heads
        self.head_dim = config.hidden_size // config.num_attention_heads
        self.Wqkv = nn.Linear(config.hidden_size, 3 * config.hidden_size)
        self.p_dropout = config.attention_probs_dropout_prob

    def forward(self, h: torch.Tensor, bias: torch.Tensor, return_probs: bool = False):
        """h (N, S, D), bias (N, H, S, S) -> context (N, S, D) [, probs (N, H, S, S)]."""
        n, s, d = h.shape
        qkv = self.Wqkv(h).view(n, s, 3, self.n_heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        p = self.p_dropout if self.training else 0.0
        result = attend(q, k, v, bias, dropout=p, return_probs=return_probs)
        context, probs = result if return_probs else (result, None)
        return context.transpose(1, 2).reshape(n, s, d), probs


class DNABert2SelfOutput(nn.Module):
    def __init__(self, config: DNABert2Config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, context: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(context)) + residual)


class DNABert2Attention(nn.Module):
    def __init__(self, config: DNABert2Config):
        super().__init__()
        self.self = DNABert2SelfAttention(config)
        self.output = DNABert2SelfOutput(config)

    def forward(self, h, bias, return_probs=False):
        context, probs = self.self(h, bias, return_probs)
        return self.output(context, h), probs


class DNABert2GatedMLP(nn.Module):
    """GLU feed-forward: LayerNorm(h + wo(dropout(GELU(a) * b))), [a, b] = gated_layers(h)."""

    def __init__(self, config: DNABert2Config):
        super().__init__()
        self.intermediate = config.intermediate_size
        self.gated_layers = nn.Linear(config.hidden_size, 2 * config.intermediate_size, bias=False)
        self.act = nn.GELU(approximate="none")
        self.wo = nn.Linear(config.intermediate_size, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        gated = self.gated_layers(h)
        mixed = self.act(gated[..., :self.intermediate]) * gated[..., self.intermediate:]
        return self.layernorm(self.wo(self.dropout(mixed)) + h)


class DNABert2Layer(nn.Module):
    def __init__(self, config: DNABert2Config):
        super().__init__()
        self.attention = DNABert2Attention(config)
        self.mlp = DNABert2GatedMLP(config)

    def forward(self, h, bias, return_probs=False):
        h, probs = self.attention(h, bias, return_probs)
        return self.mlp(h), probs


class DNABert2Encoder(nn.Module):
    def __init__(self, config: DNABert2Config):
        super().__init__()
        self.n_heads = config.num_attention_heads
        self.layer = nn.ModuleList(DNABert2Layer(config) for _ in range(config.num_hidden_layers))
        self.register_buffer("alibi", alibi_bias(self.n_heads, config.alibi_starting_size),
                             persistent=False)

    def bias(self, attention_mask: torch.Tensor) -> torch.Tensor:
        """ALiBi + key padding (N, H, S, S); the ALiBi table grows for longer inputs."""
        s = attention_mask.shape[1]
        if s > self.alibi.shape[-1]:
            log.info("rebuilding the ALiBi bias for %d tokens (was %d)", s, self.alibi.shape[-1])
            self.alibi = alibi_bias(self.n_heads, s, device=self.alibi.device)
        return self.alibi[:, :, :s, :s] + padding_bias(attention_mask, self.alibi.dtype)

    def forward(self, h, attention_mask, n_layers: int | None = None, return_attentions=False):
        bias = self.bias(attention_mask)
        attentions = []
        for block in self.layer[:n_layers]:
            h, probs = block(h, bias, return_attentions)
            if return_attentions:
                attentions.append(probs)
        return h, attentions


class DNABert2Pooler(nn.Module):
    def __init__(self, config: DNABert2Config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.activation(self.dense(hidden[:, 0]))


class DNABert2Model(nn.Module):
    """DNABERT-2 encoder: `forward(input_ids, attention_mask) -> (hidden (N, S, D), attentions)`.

    Loaded with `DNABert2Model.from_pretrained(path)` (encoder + pooler; the masked-LM head,
    when present, is kept by `DNABert2ForMaskedLM.from_pretrained`).
    """

    def __init__(self, config: DNABert2Config, add_pooling_layer: bool = True):
        super().__init__()
        self.config = config
        self.embeddings = DNABert2Embeddings(config)
        self.encoder = DNABert2Encoder(config)
        self.pooler = DNABert2Pooler(config) if add_pooling_layer else None

    @property
    def n_layers(self) -> int:
        return len(self.encoder.layer)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, layer: int = -1,
                return_attentions: bool = False):
        """input_ids, attention_mask (N, S) -> hidden states (N, S, D) of encoder layer `layer`
        (-1: the last; 0-based, later layers are not run) and a list of (N, H, S, S) attention
        probabilities per layer run (empty unless `return_attentions`)."""
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        n_layers = self.n_layers + layer + 1 if layer < 0 else layer + 1
        if not 1 <= n_layers <= self.n_layers:
            raise RegdnaError(f"layer={layer} is out of range for a {self.n_layers}-layer model")
        h = self.embeddings(input_ids, token_type_ids)
        return self.encoder(h, attention_mask, n_layers, return_attentions)

    def pool(self, hidden: torch.Tensor) -> torch.Tensor:
        """Pooler output (N, D): tanh(dense(first token))."""
        if self.pooler is None:
            raise RegdnaError("this DNABERT-2 model was built without a pooler")
        return self.pooler(hidden)

    @classmethod
    def from_pretrained(cls, path: str | Path, add_pooling_layer: bool = True) -> "DNABert2Model":
        """Encoder (+ pooler) from a checkpoint dir; the MLM head is dropped (use
        `DNABert2ForMaskedLM.from_pretrained` to keep it)."""
        return DNABert2ForMaskedLM.from_pretrained(path, add_pooling_layer).bert


class DNABert2PredictionHead(nn.Module):
    def __init__(self, config: DNABert2Config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.transform_act_fn = nn.GELU(approximate="none")
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, h):
        return self.LayerNorm(self.transform_act_fn(self.dense(h)))


class DNABert2LMPrediction(nn.Module):
    def __init__(self, config: DNABert2Config, word_embeddings: nn.Embedding):
        super().__init__()
        self.transform = DNABert2PredictionHead(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.decoder.weight = word_embeddings.weight      # tied, as in the original

    def forward(self, h):
        return self.decoder(self.transform(h))


class DNABert2MLMHead(nn.Module):
    def __init__(self, config: DNABert2Config, word_embeddings: nn.Embedding):
        super().__init__()
        self.predictions = DNABert2LMPrediction(config, word_embeddings)

    def forward(self, h):
        return self.predictions(h)


class DNABert2ForMaskedLM(nn.Module):
    """`bert` (DNABert2Model) + `cls` (masked-LM head): the layout of the published weight file.

    Attributes after `from_pretrained`: `initialised` (names of parameters not in the weight
    file and therefore randomly initialised, e.g. the pooler) and `source` (the path).
    """

    def __init__(self, config: DNABert2Config, add_pooling_layer: bool = True):
        super().__init__()
        self.config = config
        self.bert = DNABert2Model(config, add_pooling_layer)
        self.cls = DNABert2MLMHead(config, self.bert.embeddings.word_embeddings)
        self.initialised: list[str] = []

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        """Token logits (N, S, vocab)."""
        hidden, _ = self.bert(input_ids, attention_mask, token_type_ids)
        return self.cls(hidden)

    @classmethod
    def from_pretrained(cls, path: str | Path, add_pooling_layer: bool = True,
                        config_overrides: dict | None = None) -> "DNABert2ForMaskedLM":
        """Build from `config.json` and load `model.safetensors` or `pytorch_model.bin`
        (`weights_only=True`). Every `bert.*` encoder weight must be present with the right shape
        (strict); pooler and MLM-head weights missing from the file are initialised and listed
        in `.initialised` (and logged). `config_overrides` (e.g. dropouts) replace config values."""
        path = Path(path)
        config = DNABert2Config.from_dict({**read_config(path), **(config_overrides or {})})
        model = cls(config, add_pooling_layer)
        state = read_weights(path)
        if not any(key.startswith("bert.") for key in state):    # an encoder-only save
            state = {f"bert.{key}": value for key, value in state.items()}
        # index buffers some BERT exports carry; the architecture derives them
        state = {k: v for k, v in state.items()
                 if not k.endswith(("position_ids", "embeddings.token_type_ids"))}
        missing, unexpected = model.load_state_dict(state, strict=False)
        optional = ("bert.pooler.", "cls.")
        required_missing = [key for key in missing if not key.startswith(optional)]
        if required_missing or unexpected:
            raise RegdnaError(
                f"{path} does not match the DNABERT-2 layout: missing {required_missing[:5]}, "
                f"unexpected {unexpected[:5]}. Pass a DNABERT-2 checkpoint directory "
                "(config.json + pytorch_model.bin or model.safetensors).")
        # The decoder weight is tied to the word embeddings, so it is never really missing.
        model.initialised = [key for key in missing if key != "cls.predictions.decoder.weight"]
        if model.initialised:
            log.info("DNABERT-2 from %s: initialised %s (not in the weight file)",
                     path, ", ".join(model.initialised))
        model.source = str(path)
        return model


def read_config(path: Path) -> dict:
    config_file = Path(path) / "config.json"
    if not config_file.is_file():
        raise RegdnaError(f"{path} has no config.json; pass a checkpoint directory")
    return json.loads(config_file.read_text())


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    """State dict from `model.safetensors` or `pytorch_model.bin` (loaded with weights_only)."""
    safetensors_file = Path(path) / "model.safetensors"
    bin_file = Path(path) / "pytorch_model.bin"
    if safetensors_file.is_file():
        from safetensors.torch import load_file

        return load_file(str(safetensors_file))
    if bin_file.is_file():
        return torch.load(bin_file, map_location="cpu", weights_only=True)
    raise RegdnaError(f"{path} has no model.safetensors or pytorch_model.bin")
