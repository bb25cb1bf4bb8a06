"""Pretrained backbones (`hf:<dir>`): every tiny checkpoint through every mode with the training
CLI, what each mode trains, the embedding cache, truncation, errors, and the language-model API."""
import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from regdna.errors import RegdnaError
from regdna.models.hf import build_hf_model, load_language_model, read_model_config

INFO = SimpleNamespace(task="binary", labels=["y"], classes=None)
MODES = ("probe", "mlp", "cnn-probe", "finetune", "lora")
CHECKPOINTS = ("tiny_bert_dir", "tiny_esm_dir", "tiny_dnabert2_dir")


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    from fixtures_lm import write_motif_dataset

    return write_motif_dataset(tmp_path_factory.mktemp("hf") / "data", n_train=32, n_val=16,
                               n_test=16, length=100)


def split_sequences(data_dir) -> dict:
    """What the training harness gives `prepare_data`: split name -> its sequences."""
    from regdna.data.dataset import SPLITS, read_split

    return {s: read_split(data_dir, s, ["sequence"])["sequence"].tolist() for s in SPLITS}


def encoder_weights(state: dict) -> dict:
    """Backbone weights of a regdna hf model state dict, without LoRA adapters."""
    return {k: v for k, v in state.items() if k.startswith("backbone.") and "lora_" not in k
            and "pooler" not in k}


@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
def test_every_mode_through_the_training_cli(checkpoint, request, small_data, tmp_path):
    from regdna.cli import main
    from regdna.runs import load_predictor
    from regdna.runs.checkpoint import load_state_dict

    ckpt_dir = request.getfixturevalue(checkpoint)
    pretrained = build_hf_model(f"hf:{ckpt_dir}", INFO, mode="finetune").state_dict()
    seqs = ["ACGT" * 25, "TGACTCA" + "A" * 93]
    for mode in MODES:
        run = tmp_path / mode
        main(["train", "--data", str(small_data), "--model", f"hf:{ckpt_dir}", "--mode", mode,
              "--out", str(run), "--max-epochs", "1", "--set", "data.batch_size=32"])
        rows = (run / "metrics.csv").read_text().splitlines()
        assert len(rows) == 2 and "nan" not in rows[1], mode
        trained = load_state_dict(run / "checkpoints" / "last.ckpt")
        # LoRA wraps each adapted Linear: its weight moves to `<name>.base_layer.weight`
        changed = {k for k, v in encoder_weights(trained).items()
                   if not torch.equal(v, pretrained[k.replace(".base_layer", "")])}
        if mode == "finetune":
            assert changed, "fine-tuning must update encoder weights"
        else:   # frozen modes and LoRA leave every pretrained weight as it was
            assert not changed, (mode, sorted(changed)[:3])
        if mode == "lora":
            assert any("lora_" in k for k in trained)
        report = json.loads((run / "cache" / "truncation.json").read_text())
        assert report["truncated"] == 0 and report["splits"]["train"]["n"] == 32
        if mode in ("probe", "mlp"):
            assert list((run / "cache").glob("embeddings-*/train.npy"))
        probs = load_predictor(run).predict(seqs)
        assert probs.shape == (2, 1) and np.all((probs > 0) & (probs < 1))


def test_probe_cache_matches_fresh_embeddings(tiny_bert_dir, small_data, tmp_path):
    from regdna.data.dataset import read_split

    model = build_hf_model(f"hf:{tiny_bert_dir}", INFO, mode="probe", pooling="mean", layer=-2)
    model.prepare_data(split_sequences(small_data), tmp_path)
    seqs = read_split(small_data, "val")["sequence"].tolist()[:5]
    cached = model.tokenize(seqs)
    assert set(cached) == {"embedding"} and cached["embedding"].shape == (5, 1, 32)
    fresh = model.embed(seqs)
    assert np.allclose(cached["embedding"][:, 0].numpy(), fresh, atol=2e-3)   # float16 on disk
    assert not model.augment_inputs          # cached sequences must reach the model unchanged
    # an unseen sequence falls back to the encoder
    assert set(model.tokenize(["ACGT" * 10])) == {"input_ids", "attention_mask"}
    # same data, model, layer and pooling: the cache is reused, not recomputed
    stamp = next(tmp_path.glob("embeddings-*/meta.json")).stat().st_mtime_ns
    again = build_hf_model(f"hf:{tiny_bert_dir}", INFO, mode="probe", pooling="mean", layer=-2)
    again.prepare_data(split_sequences(small_data), tmp_path)
    assert next(tmp_path.glob("embeddings-*/meta.json")).stat().st_mtime_ns == stamp
    other = build_hf_model(f"hf:{tiny_bert_dir}", INFO, mode="probe", pooling="cls")
    other.prepare_data(split_sequences(small_data), tmp_path)
    assert len(list(tmp_path.glob("embeddings-*"))) == 2       # another pooling, another key


def test_truncation_reported_or_rejected(tiny_bert_dir, small_data, tmp_path):
    model = build_hf_model(f"hf:{tiny_bert_dir}", INFO, mode="probe", max_length=16)
    batch = model.tokenize(["ACGT" * 50, "ACG"])
    assert batch["input_ids"].shape[1] == 16
    assert batch["input_ids"][0, 15] == model.tokens.tokenizer.sep_token_id   # [SEP] kept
    assert (model.tokens.n_seen, model.tokens.n_truncated) == (2, 1)
    model.prepare_data(split_sequences(small_data), tmp_path)
    report = json.loads((tmp_path / "truncation.json").read_text())
    assert report["splits"]["train"]["rate"] == 1.0        # 100 bp never fit in 16 tokens
    from regdna.models.tokens import token_lengths

    lengths, limit = token_lengths(small_data, f"hf:{tiny_bert_dir}", options={"max_length": 16})
    assert limit == 16 and len(lengths) == 32 and lengths.min() > 16
    assert token_lengths(small_data, f"hf:{tiny_bert_dir}")[1] == 128   # max_position_embeddings
    strict = build_hf_model(f"hf:{tiny_bert_dir}", INFO, mode="probe", max_length=16,
                            truncation="error")
    with pytest.raises(RegdnaError, match="max_length=16"):
        strict.tokenize(["ACGT" * 50])
    with pytest.raises(RegdnaError, match="max_length=16"):
        strict.prepare_data(split_sequences(small_data), tmp_path / "strict")


def test_token_spans_tile_the_sequence(tiny_bert_dir, tiny_esm_dir):
    seq = "TGACTCAGGGGCGGGGACGTTACGATTGCGCAAT"
    for ckpt in (tiny_bert_dir, tiny_esm_dir):
        model = build_hf_model(f"hf:{ckpt}", INFO, mode="probe")
        spans = model.token_spans([seq])[0]
        ids = model.tokenize([seq])["input_ids"][0]
        assert len(spans) == int((ids != model.pad_token_id).sum())
        inner = [s for s in spans if s != (0, 0)]
        assert inner[0][0] == 0 and inner[-1][1] == len(seq)
        assert all(a[1] == b[0] for a, b in zip(inner, inner[1:]))       # contiguous
        pieces = model.tokens.tokenizer.convert_ids_to_tokens(ids[1:len(inner) + 1].tolist())
        assert [seq[a:b] for a, b in inner] == pieces


def test_native_route_and_remote_code_errors(tiny_dnabert2_dir, tmp_path):
    model = build_hf_model(f"hf:{tiny_dnabert2_dir}", INFO, mode="lora")
    assert model.backbone.native                       # no trust_remote_code needed
    assert all(("lora_" in n) for n, p in model.backbone.named_parameters() if p.requires_grad)
    assert any("Wqkv.lora_A" in n for n, _ in model.backbone.named_parameters())
    custom = tmp_path / "hyena"
    custom.mkdir()
    (custom / "config.json").write_text(json.dumps(
        {"model_type": "hyenadna", "auto_map": {"AutoModel": "modeling_hyena.HyenaDNAModel"}}))
    with pytest.raises(RegdnaError, match="--trust-remote-code"):
        build_hf_model(f"hf:{custom}", INFO, mode="probe")


def test_unreachable_hub_id_names_id_and_local_dir(monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(RegdnaError) as err:
        read_model_config("no-such-org/no-such-dna-model")
    assert "no-such-org/no-such-dna-model" in str(err.value)
    assert "--model hf:DIR" in str(err.value)
    with pytest.raises(RegdnaError, match="does not exist"):
        read_model_config("./no/such/dir")


@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
def test_masked_log_likelihood_by_hand(checkpoint, request):
    ckpt_dir = request.getfixturevalue(checkpoint)
    lm = load_language_model(f"hf:{ckpt_dir}", device="cpu")
    seqs = ["TGACTCAGGGGCGGGGACGTTACGATTGCGCAAT", "ACGTACGTTTGACTCAACGT"]
    got = lm.masked_log_likelihood(seqs, [10, 3])
    # by hand for the first sequence: mask the token covering base 10
    x = lm.tokens(seqs[:1])
    j = next(i for i, (a, b) in enumerate(lm.tokens.token_spans(seqs[:1])[0]) if a <= 10 < b)
    original = int(x["input_ids"][0, j])
    x["input_ids"][0, j] = lm.tokens.tokenizer.mask_token_id
    with torch.no_grad():
        logits = lm.token_logits(x)
    expected = torch.log_softmax(logits[0, j].float(), -1)[original].item()
    assert got[0] == pytest.approx(expected, abs=1e-5)
    assert np.all(got < 0)
    emb = lm.embed(seqs, pooling="mean")
    assert emb.shape == (2, 32) and np.isfinite(emb).all()
    with pytest.raises(RegdnaError, match="not covered"):
        lm.masked_log_likelihood(seqs[:1], [500])
