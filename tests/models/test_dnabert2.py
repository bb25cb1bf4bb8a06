"""Native DNABERT-2: strict load of a checkpoint in the published layout, the layer maths by
hand, SDPA equals the explicit softmax, padding invariance, ALiBi beyond alibi_starting_size."""
import json

import pytest
import torch

from regdna.errors import RegdnaError
from regdna.models.attention import alibi_bias
from regdna.models.dnabert2 import DNABert2ForMaskedLM, DNABert2Model


def test_strict_load_names_and_initialised(tiny_dnabert2_dir):
    saved = torch.load(tiny_dnabert2_dir / "pytorch_model.bin", weights_only=True)
    model = DNABert2ForMaskedLM.from_pretrained(tiny_dnabert2_dir)
    state = model.state_dict()
    # every name in the file is a parameter of the native model, with the same values
    for key, value in saved.items():
        assert torch.equal(state[key], value), key
    assert "bert.encoder.layer.1.attention.self.Wqkv.weight" in saved
    assert "bert.encoder.layer.0.mlp.gated_layers.weight" in saved
    assert "bert.encoder.layer.0.mlp.gated_layers.bias" not in saved
    # the masked-LM file has no pooler: it is initialised and said so
    assert set(state) - set(saved) == {"bert.pooler.dense.weight", "bert.pooler.dense.bias"}
    assert model.initialised == ["bert.pooler.dense.weight", "bert.pooler.dense.bias"]
    # the encoder alone takes the file's bert.* weights with load_state_dict(strict=True)
    encoder = DNABert2Model(model.config, add_pooling_layer=False)
    encoder.load_state_dict({k[5:]: v for k, v in saved.items() if k.startswith("bert.")},
                            strict=True)


def test_mosaic_layout_detected_without_auto_map(tiny_dnabert2_dir, tmp_path):
    from types import SimpleNamespace

    from regdna.models.hf import build_hf_model

    raw = json.loads((tiny_dnabert2_dir / "config.json").read_text())
    del raw["auto_map"], raw["alibi_starting_size"]
    for f in tiny_dnabert2_dir.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / "config.json").write_text(json.dumps(raw))
    info = SimpleNamespace(task="binary", labels=["y"], classes=None)
    assert build_hf_model(f"hf:{tmp_path}", info, mode="probe").backbone.native


def test_wrong_layout_is_rejected(tiny_dnabert2_dir, tmp_path):
    saved = torch.load(tiny_dnabert2_dir / "pytorch_model.bin", weights_only=True)
    del saved["bert.encoder.layer.1.mlp.wo.weight"]
    (tmp_path / "config.json").write_text((tiny_dnabert2_dir / "config.json").read_text())
    torch.save(saved, tmp_path / "pytorch_model.bin")
    with pytest.raises(RegdnaError, match="mlp.wo.weight"):
        DNABert2ForMaskedLM.from_pretrained(tmp_path)


def test_layer_maths_by_hand(tiny_dnabert2_dir):
    """One layer recomputed from the weights: fused Wqkv split (3, heads, dim), ALiBi, post-LN,
    GLU = GELU(first half) * second half."""
    model = DNABert2Model.from_pretrained(tiny_dnabert2_dir).eval()
    cfg = model.config
    torch.manual_seed(1)
    ids = torch.randint(5, cfg.vocab_size, (1, 12))
    with torch.no_grad():
        h0 = model.embeddings(ids)
        got, _ = model(ids, layer=0)
        layer = model.encoder.layer[0]
        n_heads, d = cfg.num_attention_heads, cfg.hidden_size // cfg.num_attention_heads
        qkv = h0 @ layer.attention.self.Wqkv.weight.T + layer.attention.self.Wqkv.bias
        q, k, v = qkv.view(1, 12, 3, n_heads, d).unbind(2)
        scores = torch.einsum("bihd,bjhd->bhij", q, k) / d ** 0.5 + alibi_bias(n_heads, 12)
        context = torch.einsum("bhij,bjhd->bihd", scores.softmax(-1), v).reshape(1, 12, -1)
        out = layer.attention.output
        h1 = torch.nn.functional.layer_norm(
            context @ out.dense.weight.T + out.dense.bias + h0, (cfg.hidden_size,),
            out.LayerNorm.weight, out.LayerNorm.bias, cfg.layer_norm_eps)
        mlp = layer.mlp
        gate, value = (h1 @ mlp.gated_layers.weight.T).chunk(2, dim=-1)
        glu = torch.nn.functional.gelu(gate) * value
        expected = torch.nn.functional.layer_norm(
            glu @ mlp.wo.weight.T + mlp.wo.bias + h1, (cfg.hidden_size,), mlp.layernorm.weight,
            mlp.layernorm.bias, cfg.layer_norm_eps)
    assert torch.allclose(got, expected, atol=1e-5)


def test_sdpa_explicit_padding_and_long_inputs(tiny_dnabert2_dir):
    model = DNABert2ForMaskedLM.from_pretrained(tiny_dnabert2_dir).eval()
    bert = model.bert
    assert json.loads((tiny_dnabert2_dir / "config.json").read_text())["alibi_starting_size"] == 16
    torch.manual_seed(2)
    ids = torch.randint(5, bert.config.vocab_size, (2, 40))      # longer than the ALiBi table (16)
    mask = torch.ones_like(ids)
    mask[1, 25:] = 0
    with torch.no_grad():
        fused, _ = bert(ids, mask)
        explicit, attentions = bert(ids, mask, return_attentions=True)
        alone, _ = bert(ids[1:, :25], mask[1:, :25])
    assert torch.allclose(fused, explicit, atol=1e-5)
    assert torch.allclose(fused[1, :25], alone[0], atol=1e-5)    # padding changes nothing
    assert attentions[0][1, :, :, 25:].max() < 1e-6
    assert bert.encoder.alibi.shape[-1] == 40                       # rebuilt for 40 tokens
    # the rebuilt bias equals one built that large from the start
    big = DNABert2ForMaskedLM.from_pretrained(
        tiny_dnabert2_dir, config_overrides={"alibi_starting_size": 64}).eval()
    with torch.no_grad():
        reference, _ = big.bert(ids, mask)
        logits = model(ids, mask)
    assert torch.allclose(fused, reference, atol=1e-6)
    assert logits.shape == (2, 40, bert.config.vocab_size)         # MLM head kept
