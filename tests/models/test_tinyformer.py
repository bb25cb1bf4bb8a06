"""tinyformer and its tokenizers: token ids and spans by hand, SDPA equals the explicit softmax,
padding never changes a sequence's output, ALiBi slopes of Press et al."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from helpers import random_seq

from regdna.encode.tokenizers import CLS_ID, PAD_ID, SEP_ID, UNK_ID, KmerTokenizer
from regdna.errors import RegdnaError
from regdna.models.attention import alibi_slopes
from regdna.models.transformer import build_tinyformer

INFO = SimpleNamespace(task="binary", labels=["y"], classes=None)


def kmer_id(kmer: str) -> int:
    """Hand-computed id: 5 special tokens, then k-mers as base-4 numbers (A=0, C=1, G=2, T=3)."""
    return 5 + sum("ACGT".index(b) * 4 ** (len(kmer) - 1 - i) for i, b in enumerate(kmer))


def test_kmer_tokenizers_ids_and_spans():
    over = KmerTokenizer("kmer-overlap", k=3)
    batch = over(["ACGTA"])
    ids = batch["input_ids"][0].tolist()
    assert ids[:5] == [CLS_ID, kmer_id("ACG"), kmer_id("CGT"), kmer_id("GTA"), SEP_ID]
    assert batch["input_ids"].shape == (1, 8) and ids[5:] == [PAD_ID] * 3      # multiple of 8
    assert batch["attention_mask"][0].tolist() == [1] * 5 + [0] * 3
    assert over.token_spans(["ACGTA"])[0] == [(0, 0), (0, 3), (1, 4), (2, 5), (0, 0)]

    plain = KmerTokenizer("kmer", k=3)
    ids = plain(["ACGTNAGG"])["input_ids"][0].tolist()
    # TNA holds an N -> [UNK]; the partial last k-mer GG -> [UNK]
    assert ids[:5] == [CLS_ID, kmer_id("ACG"), UNK_ID, UNK_ID, SEP_ID]
    assert plain.token_spans(["ACGTNAGG"])[0] == [(0, 0), (0, 3), (3, 6), (6, 8), (0, 0)]

    base = KmerTokenizer("base")
    assert base(["GT"])["input_ids"][0, :4].tolist() == [CLS_ID, 7, 8, SEP_ID]
    assert base.vocab_size == 9


def test_tokenizer_truncation_counted_or_rejected():
    tok = KmerTokenizer("base", max_tokens=6)
    ids = tok(["ACGTACGT", "ACG"])["input_ids"]
    assert ids[0, :6].tolist() == [CLS_ID, 5, 6, 7, 8, SEP_ID]
    assert (tok.n_seen, tok.n_truncated) == (2, 1)
    with pytest.raises(RegdnaError, match="max_tokens=6"):
        KmerTokenizer("base", max_tokens=6, truncation="error")(["ACGTACGT"])


def test_alibi_slopes_power_of_two_and_interleaved():
    assert alibi_slopes(8) == [2.0 ** -i for i in range(1, 9)]
    # 12 heads: the 8 slopes of 8 heads, then every other slope of 16 heads (2^-0.5, 2^-1.5, ...)
    expected = [2.0 ** -i for i in range(1, 9)] + [2.0 ** -(i + 0.5) for i in range(4)]
    assert np.allclose(alibi_slopes(12), expected)


@pytest.mark.parametrize("positions", ["alibi", "rope"])
@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_sdpa_equals_explicit_softmax_and_padding_invariance(positions, pooling):
    torch.manual_seed(0)
    model = build_tinyformer(INFO, tokenizer="kmer-overlap", k=3, positions=positions,
                             pooling=pooling).eval()
    rng = np.random.default_rng(1)
    seqs = [random_seq(n, rng) for n in (40, 23, 61)]
    x = model.tokenize(seqs)
    with torch.no_grad():
        fused = model(x)
        explicit, attentions = model(x, return_attentions=True)
        alone = torch.cat([model(model.tokenize([s])) for s in seqs])
    assert torch.allclose(fused, explicit, atol=1e-5)
    assert torch.allclose(fused, alone, atol=1e-5)     # padding to 64 tokens changes nothing
    assert len(attentions) == 2 and attentions[0].shape == (3, 4, 64, 64)
    probs = attentions[0]
    assert torch.allclose(probs.sum(-1), torch.ones(3, 4, 64), atol=1e-5)
    mask = x["attention_mask"]
    assert probs[1][:, :, mask[1] == 0].max() < 1e-6   # nobody attends to padding


def test_tinyformer_bad_options():
    with pytest.raises(RegdnaError, match="positions"):
        build_tinyformer(INFO, positions="learned")
    with pytest.raises(RegdnaError, match="no option"):
        build_tinyformer(INFO, widht=3)


def test_tinyformer_learns_a_planted_motif(lm_dataset_dir, tmp_path):
    """Positives carry TGACTCA: 64 steps of training reach a test AUROC >= 0.95 (chance 0.5)."""
    from regdna.evaluate.evaluate import run_evaluate
    from regdna.runs import load_predictor
    from regdna.train.train import fit

    run = fit(lm_dataset_dir, "tinyformer", tmp_path / "run", progress=False, overrides=[
        "train.max_epochs=8", "train.patience=0", "data.batch_size=32", "optim.lr=1e-2",
        "scheduler.name=constant", "model.options.d_model=16", "model.options.n_layers=1"])
    report = run_evaluate(run, split="test", n_boot=10, figures=False)
    assert report["auroc"] >= 0.95, report["auroc"]
    # the reloaded model exposes attentions for interpretation
    model = load_predictor(run).model.cpu()
    x = model.tokenize(["TGACTCA" + "A" * 50])
    logits, attentions = model(x, return_attentions=True)
    assert logits.shape == (1, 1) and attentions[0].shape == (1, 4, 56, 56)
