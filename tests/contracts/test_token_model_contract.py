"""The token-model contract of `regdna.models.base` as the built-in models implement it:
`token_inputs` gives real tokens (also when `tokenize` answers from an embedding cache),
`token_embedding` is the token table itself, `pad_token_id` and `pooling` are the model's."""
from types import SimpleNamespace

import pytest
import torch

from regdna.encode.tokenizers import PAD_ID
from regdna.models.base import RegdnaModel

from fixtures_lm import synthetic_dna

INFO = SimpleNamespace(task="binary", labels=["y"], classes=None)


def test_tinyformer_names_its_own_token_table():
    from regdna.models.transformer import build_tinyformer

    model = build_tinyformer(INFO, tokenizer="kmer", k=3, pooling="cls")
    seqs = synthetic_dna(4, length=60)
    assert model.token_embedding() is model.embed
    assert model.pad_token_id == PAD_ID and model.pooling == "cls"
    tokens, inputs = model.tokenize(seqs), model.token_inputs(seqs)
    assert set(inputs) == {"input_ids", "attention_mask"}
    assert torch.equal(tokens["input_ids"], inputs["input_ids"])


def test_hf_probe_gives_tokens_not_cached_embeddings(tiny_bert_dir, tmp_path):
    from regdna.models.hf import build_hf_model

    model = build_hf_model(f"hf:{tiny_bert_dir}", INFO, mode="probe", pooling="mean")
    seqs = synthetic_dna(6, length=80)
    model.prepare_data({"train": seqs[:4], "val": seqs[4:], "test": []}, tmp_path)
    assert set(model.tokenize(seqs)) == {"embedding"}           # the cache answers tokenize
    inputs = model.token_inputs(seqs)
    assert inputs["input_ids"].dtype == torch.long and inputs["input_ids"].shape[0] == len(seqs)
    layer = model.token_embedding()
    assert layer is model.backbone.encoder.get_input_embeddings()
    assert isinstance(layer, torch.nn.Embedding)
    assert layer.num_embeddings == len(model.tokens.tokenizer)
    assert model.pad_token_id == model.tokens.pad_id and model.pooling == "mean"


def test_native_dnabert2_token_table(tiny_dnabert2_dir):
    from regdna.models.hf import build_hf_model

    model = build_hf_model(f"hf:{tiny_dnabert2_dir}", INFO, mode="finetune")
    assert model.backbone.native
    assert model.token_embedding() is model.backbone.encoder.embeddings.word_embeddings


def test_default_contract_without_a_token_table():
    class Bare(RegdnaModel):
        input_kind = "tokens"

        def tokenize(self, seqs):
            ids = torch.ones(len(seqs), 3, dtype=torch.long)
            return {"input_ids": ids, "attention_mask": ids}

    model = Bare()
    assert torch.equal(model.token_inputs(["AC"])["input_ids"], torch.ones(1, 3, dtype=torch.long))
    with pytest.raises(NotImplementedError, match="token_embedding"):
        model.token_embedding()
