"""Session fixtures for the transformer tests: tiny pretrained-model checkpoints built here (no
hub), and a briefly trained tinyformer run.

- `tiny_bert_dir`: BERT (hidden 32, 2 layers) + a BPE tokenizer trained with `tokenizers` on
  synthetic DNA, saved with `save_pretrained`.
- `tiny_esm_dir`: ESM (hidden 32, 2 layers) with a Nucleotide-Transformer-like vocabulary
  (6-mers, then single bases), saved with `save_pretrained`.
- `tiny_dnabert2_dir`: a randomly initialised checkpoint in the published DNABERT-2 layout
  (config.json with `auto_map` -> bert_layers, masked-LM `pytorch_model.bin` without pooler,
  BPE tokenizer), loaded by the native implementation.
- `tinyformer_run`: `regdna.train.train` of a small tinyformer on `dataset_dir`.
"""
from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from helpers import random_seq

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def synthetic_dna(n: int = 300, length: int = 200, seed: int = 0) -> list[str]:
    """Random DNA with a few recurring motifs, so BPE learns multi-base tokens."""
    rng = np.random.default_rng(seed)
    motifs = ["TGACTCA", "CACGTG", "GGGGCGGGG", "TTGCGCAA"]
    seqs = []
    for _ in range(n):
        s = list(random_seq(length, rng))
        for m in rng.choice(motifs, size=3):
            at = int(rng.integers(0, length - len(m)))
            s[at:at + len(m)] = m
        seqs.append("".join(s))
    return seqs


def train_bpe_tokenizer(vocab_size: int = 96):
    """A DNABERT-2-style BPE tokenizer ([CLS] ... [SEP]) as a PreTrainedTokenizerFast."""
    from tokenizers import Tokenizer, models, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS,
                                  initial_alphabet=list("ACGT"), show_progress=False)
    tok.train_from_iterator(synthetic_dna(), trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


def _quiet():
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def write_tiny_bert(out) -> None:
    import torch
    from transformers import BertConfig, BertForMaskedLM

    _quiet()
    torch.manual_seed(0)
    tokenizer = train_bpe_tokenizer()
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128,
                        pad_token_id=tokenizer.pad_token_id)
    BertForMaskedLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)


def write_tiny_esm(out) -> None:
    import torch
    from transformers import EsmConfig, EsmForMaskedLM, EsmTokenizer

    _quiet()
    torch.manual_seed(0)
    vocab = (["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>"]
             + ["".join(p) for p in itertools.product("ATCG", repeat=6)]
             + ["A", "T", "C", "G", "N"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = EsmTokenizer(str(out / "vocab.txt"))
    config = EsmConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                       num_attention_heads=2, intermediate_size=64, max_position_embeddings=66,
                       pad_token_id=1, mask_token_id=2, position_embedding_type="absolute",
                       token_dropout=False, emb_layer_norm_before=False)
    EsmForMaskedLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)


DNABERT2_AUTO_MAP = {
    "AutoConfig": "configuration_bert.BertConfig",
    "AutoModel": "bert_layers.BertModel",
    "AutoModelForMaskedLM": "bert_layers.BertForMaskedLM",
    "AutoModelForSequenceClassification": "bert_layers.BertForSequenceClassification",
}


def write_tiny_dnabert2(out, alibi_starting_size: int = 16) -> None:
    """config.json + pytorch_model.bin (masked-LM state dict, no pooler) + tokenizer, as in the
    published DNABERT-2 repository."""
    import torch

    from regdna.models.dnabert2 import DNABert2Config, DNABert2ForMaskedLM

    torch.manual_seed(0)
    tokenizer = train_bpe_tokenizer()
    config = DNABert2Config(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
                            num_attention_heads=4, intermediate_size=64,
                            alibi_starting_size=alibi_starting_size)
    model = DNABert2ForMaskedLM(config, add_pooling_layer=False)
    out.mkdir(parents=True, exist_ok=True)
    raw = {"architectures": ["BertForMaskedLM"], "auto_map": DNABERT2_AUTO_MAP,
           "model_type": "bert", "hidden_act": "gelu", **config.to_dict()}
    raw.pop("pad_token_id")     # the published config has none
    (out / "config.json").write_text(json.dumps(raw, indent=2))
    torch.save(model.state_dict(), out / "pytorch_model.bin")
    tokenizer.save_pretrained(out)


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("lm") / "tiny-bert"
    write_tiny_bert(out)
    return out


@pytest.fixture(scope="session")
def tiny_esm_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("lm") / "tiny-esm"
    write_tiny_esm(out)
    return out


@pytest.fixture(scope="session")
def tiny_dnabert2_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("lm") / "tiny-dnabert2"
    write_tiny_dnabert2(out)
    return out


@pytest.fixture(scope="session")
def tinyformer_run(tmp_path_factory, dataset_dir):
    """A tinyformer trained for a few epochs on `dataset_dir`."""
    from regdna.train import fit

    out = tmp_path_factory.mktemp("runs") / "tinyformer"
    return fit(dataset_dir, "tinyformer", out, progress=False, overrides=[
        "train.max_epochs=4", "train.patience=0", "data.batch_size=32", "optim.lr=1e-2",
        "model.options.n_layers=1"])


def write_motif_dataset(out, n_train: int = 256, n_val: int = 64, n_test: int = 64,
                        length: int = 100, seed: int = 0):
    """A small binary dataset dir: positives carry TGACTCA (AP-1) at a random place."""
    import pandas as pd

    from regdna.data.dataset import DatasetInfo, write_info

    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for split, n in (("train", n_train), ("val", n_val), ("test", n_test)):
        rows = []
        for i in range(n):
            s = list(random_seq(length, rng))
            label = i % 2
            if label:
                at = int(rng.integers(0, length - 7))
                s[at:at + 7] = "TGACTCA"
            rows.append({"id": f"{split}{i}", "chrom": "chr1", "start": i * length,
                         "end": (i + 1) * length, "sequence": "".join(s), "y": float(label)})
        pd.DataFrame(rows).to_parquet(out / f"{split}.parquet", index=False)
        counts[split] = {"n": n}
    write_info(out, DatasetInfo(task="binary", labels=["y"], length=length, splits=counts))
    return out


@pytest.fixture(scope="session")
def lm_dataset_dir(tmp_path_factory):
    """Small motif dataset for the transformer tests (256 / 64 / 64 sequences of 100 bp)."""
    return write_motif_dataset(tmp_path_factory.mktemp("lm") / "motif-data")
