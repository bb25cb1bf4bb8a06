"""LoRA adapters (Hu et al. 2022, through peft) on the attention projections of a backbone."""
from __future__ import annotations

from torch import nn

from regdna.errors import RegdnaError
from regdna.models.hf.backbone import Backbone


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


def add_lora(backbone: Backbone, native: bool, r: int, alpha: int, dropout: float) -> None:
    """Inject LoRA adapters in place; only adapter weights stay trainable in the encoder."""
    from peft import LoraConfig, inject_adapter_in_model

    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout,
                        target_modules=lora_targets(backbone.encoder, native), bias="none")
    inject_adapter_in_model(config, backbone.encoder)
    for name, p in backbone.encoder.named_parameters():
        p.requires_grad_("lora_" in name)
