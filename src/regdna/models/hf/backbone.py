"""The encoder of an `hf:` model: loading it (native DNABERT-2 / MosaicBERT, or transformers'
Auto classes, remote code only when trusted) and `Backbone`, one interface over both.
"""
from __future__ import annotations

import contextlib
import logging

import torch
from torch import nn

from regdna.errors import RegdnaError
from regdna.models.dnabert2 import DNABert2ForMaskedLM, is_dnabert2_config
from regdna.models.hf.source import check_remote_code, has_fused_qkv, local_dir

log = logging.getLogger(__name__)


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

    def input_embeddings(self) -> nn.Module:
        """The token (word) embedding layer of the encoder: ids (N, S) -> (N, S, D)."""
        if self.native:
            return self.encoder.embeddings.word_embeddings
        return self.encoder.get_input_embeddings()

    def _sdpa(self):
        try:
            self.encoder.set_attn_implementation("sdpa")
        except Exception:  # an architecture without SDPA support stays eager
            pass


def load_encoder(source: str, raw: dict, trust_remote_code: bool, config_overrides: dict,
                  masked_lm: bool):
    """(module, native) with `module` a masked-LM model (masked_lm) or the bare encoder;
    `native` is True for regdna's own DNABERT-2 implementation (no remote code)."""
    if is_dnabert2_config(raw) or has_fused_qkv(source, raw):
        model = DNABert2ForMaskedLM.from_pretrained(local_dir(source),
                                                    config_overrides=config_overrides)
        return (model if masked_lm else model.bert), True
    check_remote_code(source, raw, trust_remote_code)
    from transformers import AutoModel, AutoModelForMaskedLM

    auto = AutoModelForMaskedLM if masked_lm else AutoModel
    kwargs = dict(trust_remote_code=trust_remote_code, output_loading_info=True,
                  **config_overrides)
    with quiet_transformers():
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


class quiet_transformers:
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


def dropout_overrides(hidden: float | None, attention: float | None) -> dict:
    """Config fields for the encoder dropouts (BERT, ESM and DNABERT-2 share the names)."""
    out = {}
    if hidden is not None:
        out["hidden_dropout_prob"] = hidden
    if attention is not None:
        out["attention_probs_dropout_prob"] = attention
    return out


def autocast(device):
    """bfloat16 autocast on a GPU, nothing on a CPU (frozen-encoder inference)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
