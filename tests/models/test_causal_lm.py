"""Causal language models (`hf:<dir>`, GPT-style; HyenaDNA, Nguyen et al. 2023) for zero-shot
scores: detection from the config, the exact sequence log-likelihood, and vep's `clm_llr`.
Tiny GPT-2 checkpoints with a character tokenizer are built here; sockets are disabled."""
import socket

import numpy as np
import pandas as pd
import pytest
import torch

from regdna.errors import RegdnaError
from regdna.models.hf import load_language_model
from regdna.models.hf.source import is_causal_config

VOCAB = ["[PAD]", "[UNK]", "[BOS]", "[EOS]", "A", "C", "G", "T", "N"]
A_BIAS = 5.0    # logit of A over every other token in the A-biased model


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def char_tokenizer(bos: str = "model"):
    """One token per base (WordLevel over A, C, G, T, N + specials). `bos`: "model" (a BOS token
    the tokenizer does not add: the language model puts it in front), "tokenizer" (a template
    adds it) or "none" (no BOS token)."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({t: i for i, t in enumerate(VOCAB)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    if bos == "tokenizer":
        tok.post_processor = processors.TemplateProcessing(
            single="[BOS] $A", special_tokens=[("[BOS]", VOCAB.index("[BOS]"))])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   bos_token=None if bos == "none" else "[BOS]",
                                   eos_token="[EOS]")


def write_tiny_gpt2(out, a_biased: bool = False, bos: str = "model"):
    """GPT-2 (2 layers, 16 dims, 64 positions; the same weights for every `bos`). `a_biased`: the
    final layer norm outputs a constant, so every position predicts logit A_BIAS for A and 0 for
    every other token. `bos`: as `char_tokenizer`."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    tokenizer = char_tokenizer(bos)
    config = GPT2Config(vocab_size=len(VOCAB), n_positions=64, n_embd=16, n_layer=2, n_head=2,
                        bos_token_id=2, eos_token_id=3, pad_token_id=0)
    model = GPT2LMHeadModel(config)
    if a_biased:
        with torch.no_grad():   # the head is tied to the token embedding
            model.transformer.wte.weight[:, 0] = 0.0
            model.transformer.wte.weight[VOCAB.index("A"), 0] = 1.0
            model.transformer.ln_f.weight.zero_()
            model.transformer.ln_f.bias.zero_()
            model.transformer.ln_f.bias[0] = A_BIAS
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory):
    return write_tiny_gpt2(tmp_path_factory.mktemp("clm") / "gpt2")


@pytest.fixture(scope="module")
def biased_dir(tmp_path_factory):
    return write_tiny_gpt2(tmp_path_factory.mktemp("clm") / "gpt2-a", a_biased=True)


def test_causal_or_masked_from_the_config():
    assert is_causal_config({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]})
    assert is_causal_config({"model_type": "hyenadna", "architectures": ["HyenaDNAForCausalLM"]})
    assert is_causal_config({"model_type": "hyenadna",
                             "auto_map": {"AutoModelForCausalLM": "modeling_hyena.HyenaDNAForCausalLM"}})
    assert is_causal_config({"model_type": "bert", "is_decoder": True})
    assert is_causal_config({"model_type": "llama"})
    assert not is_causal_config({"model_type": "bert"})
    assert not is_causal_config({"model_type": "esm", "architectures": ["EsmForMaskedLM"]})
    assert not is_causal_config({"model_type": "bert", "auto_map": {
        "AutoModel": "bert_layers.BertModel", "AutoModelForMaskedLM": "bert_layers.BertForMaskedLM"}})


def test_log_likelihood_by_hand(gpt2_dir):
    lm = load_language_model(f"hf:{gpt2_dir}", device="cpu", batch_size=4)
    assert lm.causal
    seqs = ["TGACTCAGGGGCGGGGACGTTACGATTGCGCAAT", "ACGTNACG", "GATTACA"]
    got = lm.log_likelihood(seqs)
    ids = [VOCAB.index("[BOS]")] + [VOCAB.index(c) for c in seqs[0]]
    with torch.no_grad():
        logits = lm.model(torch.tensor([ids])).logits[0]
    logp = torch.log_softmax(logits[:-1].double(), -1)
    expected = sum(logp[t - 1, ids[t]].item() for t in range(1, len(ids)))
    assert got[0] == pytest.approx(expected, abs=1e-4)
    # padding in the batch changes nothing: each short sequence alone gives the same number
    for i in (1, 2):
        assert got[i] == pytest.approx(lm.log_likelihood([seqs[i]])[0], abs=1e-5)
    assert np.all(got < 0) and got[0] < got[1]        # 34 scored tokens vs 8
    emb = lm.embed(seqs)
    assert emb.shape == (3, 16) and np.isfinite(emb).all()
    with pytest.raises(RegdnaError, match="causal"):
        lm.masked_log_likelihood(seqs, [0, 0, 0])
    with pytest.raises(RegdnaError, match="'cls'"):
        lm.embed(seqs, pooling="cls")
    with pytest.raises(RegdnaError, match="longer than the 64 tokens"):
        lm.log_likelihood(["A" * 64])      # 64 bases + [BOS]


def test_bos_in_front_once_or_not_at_all(tmp_path, gpt2_dir):
    seqs = ["GATTACA", "TTGCGCAAT"]
    added_by_model = load_language_model(f"hf:{gpt2_dir}", device="cpu").log_likelihood(seqs)
    added_by_tokenizer = load_language_model(
        f"hf:{write_tiny_gpt2(tmp_path / 'template', bos='tokenizer')}", device="cpu")
    assert added_by_tokenizer.log_likelihood(seqs) == pytest.approx(added_by_model, abs=1e-5)
    lm = load_language_model(f"hf:{write_tiny_gpt2(tmp_path / 'none', bos='none')}", device="cpu")
    ids = [VOCAB.index(c) for c in seqs[0]]     # no BOS: the first base has no context
    with torch.no_grad():
        logp = torch.log_softmax(lm.model(torch.tensor([ids])).logits[0, :-1].double(), -1)
    expected = sum(logp[t - 1, ids[t]].item() for t in range(1, len(ids)))
    assert lm.log_likelihood(seqs[:1])[0] == pytest.approx(expected, abs=1e-4)
    assert abs(expected - added_by_model[0]) > 1e-2


def test_a_model_saved_in_bfloat16_scores_in_float32(tmp_path, gpt2_dir):
    from transformers import AutoModelForCausalLM

    AutoModelForCausalLM.from_pretrained(gpt2_dir).to(torch.bfloat16).save_pretrained(tmp_path)
    char_tokenizer().save_pretrained(tmp_path)
    lm = load_language_model(f"hf:{tmp_path}", device="cpu")
    assert {p.dtype for p in lm.model.parameters()} == {torch.float32}
    full = load_language_model(f"hf:{gpt2_dir}", device="cpu").log_likelihood(["GATTACA"])
    assert lm.log_likelihood(["GATTACA"]) == pytest.approx(full, abs=0.1)


def test_a_biased_model_prefers_a(biased_dir):
    lm = load_language_model(f"hf:{biased_dir}", device="cpu")
    ll = lm.log_likelihood(["CCCC", "CACC", "AAAA"])
    log_other = -np.log(np.exp(A_BIAS) + len(VOCAB) - 1)      # log p(non-A) at every position
    assert ll[0] == pytest.approx(4 * log_other, abs=1e-4)
    assert ll[1] - ll[0] == pytest.approx(A_BIAS, abs=1e-4)
    assert ll[2] - ll[0] == pytest.approx(4 * A_BIAS, abs=1e-4)


def test_vep_zero_shot_writes_clm_llr(tmp_path, hand_genome, gpt2_dir, biased_dir):
    from regdna.variants.vep import run_vep

    genome, seqs = hand_genome
    chr2 = seqs["chr2"]     # T x10, G x10, A x10, C x10

    def windows(pos, alt):  # the 24-bp windows vep centres on the variant
        ref = chr2[pos - 1 - 12:pos - 1 + 12]
        return ref, ref[:12] + alt + ref[13:]

    def scores(model_dir, table: pd.DataFrame, name, **kwargs):
        table.to_csv(tmp_path / f"{name}.in.tsv", sep="\t", index=False)
        run_vep(tmp_path / f"{name}.in.tsv", tmp_path / f"{name}.tsv", zero_shot=True,
                model=f"hf:{model_dir}", length=24, device="cpu", progress=False, **kwargs)
        return pd.read_csv(tmp_path / f"{name}.tsv", sep="\t")

    variants = pd.DataFrame([("chr2", 15, "G", "A"), ("chr2", 19, "G", "T"),
                             ("chr2", 23, "A", "C"), ("chr2", 27, "A", "G")],
                            columns=["chrom", "pos", "ref", "alt"])
    forward = scores(gpt2_dir, variants, "fwd", genome=genome)
    assert {"clm_llr", "cosine_distance"} <= set(forward.columns)
    assert "mlm_llr" not in forward.columns and forward["reason"].isna().all()
    assert np.all(np.abs(forward["clm_llr"]) > 1e-6)
    lm = load_language_model(f"hf:{gpt2_dir}", device="cpu")
    ref, alt = windows(15, "A")
    assert forward["clm_llr"][0] == pytest.approx(
        lm.log_likelihood([alt])[0] - lm.log_likelihood([ref])[0], abs=1e-5)
    # ref and alt swapped (as sequences: the genome holds only one allele): the LLR negated,
    # the cosine distance unchanged
    pairs = [windows(r.pos, r.alt) for r in variants.itertuples()]
    swapped = pd.DataFrame({"ref_seq": [a for _, a in pairs], "alt_seq": [r for r, _ in pairs]})
    backward = scores(gpt2_dir, swapped, "bwd")
    assert backward["clm_llr"].to_numpy() == pytest.approx(-forward["clm_llr"].to_numpy(), abs=1e-5)
    assert backward["cosine_distance"].to_numpy() == pytest.approx(
        forward["cosine_distance"].to_numpy(), abs=1e-5)
    # the A-biased model: a change to A gains exactly A_BIAS, one between two other bases 0
    biased = scores(biased_dir, pd.DataFrame(
        [("chr2", 14, "G", "A"), ("chr2", 17, "G", "A"), ("chr2", 16, "G", "T"),
         ("chr2", 25, "A", "C")], columns=["chrom", "pos", "ref", "alt"]), "biased", genome=genome)
    assert biased["clm_llr"].to_numpy() == pytest.approx([A_BIAS, A_BIAS, 0.0, -A_BIAS], abs=1e-4)


def test_remote_code_needs_trust(tmp_path):
    import json

    (tmp_path / "config.json").write_text(json.dumps({
        "model_type": "hyenadna", "architectures": ["HyenaDNAForCausalLM"],
        "auto_map": {"AutoConfig": "configuration_hyena.HyenaConfig",
                     "AutoModelForCausalLM": "modeling_hyena.HyenaDNAForCausalLM"}}))
    with pytest.raises(RegdnaError, match="--trust-remote-code") as err:
        load_language_model(f"hf:{tmp_path}", device="cpu")
    assert "\n" not in str(err.value)
