"""Random-weight checkpoints in published layouts: the benchmark and the published-model paths
run end to end before any weights are downloaded (and without network), e.g. in the demo.

- `write_kipoi_toy(family, path)`: a state dict with the key names of the Kipoi model zoo file of
  `basset`, `deepsea` or `beluga` (`regdna.models.published.kipoi.FAMILIES`), channel counts
  scaled down, random weights, and a `targets.txt` of output names beside it; load it with
  `--run <family>:<path>`.
- `write_causal_lm_toy(out)`: a 2-layer GPT-2 (Radford et al. 2019) with a one-token-per-base
  tokenizer saved in the Hugging Face layout; load it with `--zero-shot --model hf:<out>`.

Their numbers mean nothing: they are stand-ins for the real files of docs/MODELS.md.

Usage: python -m regdna.models.toy OUT_DIR   (writes OUT_DIR/basset.pth + targets.txt and
OUT_DIR/gpt2/)
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

TOKENS = ["[PAD]", "[UNK]", "[BOS]", "[EOS]", "A", "C", "G", "T", "N"]


def kipoi_toy_state(family: str, scale: float = 0.1, n_outputs: int = 8,
                    seed: int = 0) -> dict[str, torch.Tensor]:
    """{published key: random tensor} for `family`, every conv and dense width times `scale`
    (at least 4) and `n_outputs` outputs, shapes following the published layer order."""
    from regdna.models.published.kipoi import FAMILIES

    family_ = FAMILIES[family]
    generator = torch.Generator().manual_seed(seed)
    prefix = family_.prefixes[0]
    state: dict[str, torch.Tensor] = {}
    channels, positions, features, size = 4, family_.length, None, None
    linears = [layer for layer in family_.layers if layer[0] == "linear"]

    def random(*shape):
        return torch.randn(*shape, generator=generator) * 0.1

    def he(shape, fan_in):   # He et al. 2015: activations keep their scale through ReLUs
        return torch.randn(*shape, generator=generator) * (2.0 / fan_in) ** 0.5

    for layer in family_.layers:
        kind = layer[0]
        if kind == "conv":
            _, key, (out, width) = layer
            out = max(4, int(out * scale))
            shape = (out, channels, width, 1) if family_.kernel_axis == 2 else (out, channels, 1, width)
            state[f"{prefix}{key}.weight"] = he(shape, channels * width)
            state[f"{prefix}{key}.bias"] = random(out)
            channels, positions = out, positions - width + 1
        elif kind == "pool":
            positions //= layer[1]
        elif kind == "flatten":
            features = channels * positions
        elif kind == "linear":
            _, key, out = layer
            out = n_outputs if layer is linears[-1] else max(4, int(out * scale))
            state[f"{prefix}{key}.weight"] = he((out, features), features)
            state[f"{prefix}{key}.bias"] = random(out)
            features = out
        elif kind == "bn":
            size = channels if features is None else features
            key = f"{prefix}{layer[1]}"
            state[f"{key}.weight"] = 1.0 + random(size)
            state[f"{key}.bias"] = random(size)
            state[f"{key}.running_mean"] = torch.zeros(size)
            state[f"{key}.running_var"] = torch.ones(size)
            state[f"{key}.num_batches_tracked"] = torch.tensor(0)
    return state


def write_kipoi_toy(family: str, path, scale: float = 0.1, n_outputs: int = 8,
                    seed: int = 0) -> Path:
    """Save `kipoi_toy_state` to `path` (torch.save of the state dict, as the zoo's files) and
    `targets.txt` (toy_0 ... toy_<n-1>) beside it; returns `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(kipoi_toy_state(family, scale, n_outputs, seed), path)
    (path.parent / "targets.txt").write_text("".join(f"toy_{i}\n" for i in range(n_outputs)))
    return path


def char_tokenizer():
    """One token per base (A, C, G, T, N) plus [PAD], [UNK], [BOS], [EOS]."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel({t: i for i, t in enumerate(TOKENS)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]",
                                   pad_token="[PAD]", bos_token="[BOS]", eos_token="[EOS]")


def write_causal_lm_toy(out, n_positions: int = 1024, seed: int = 0) -> Path:
    """A 2-layer, 16-dimensional GPT-2 with `char_tokenizer`, saved to `out` (config.json,
    model.safetensors, tokenizer files); returns `out`."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=len(TOKENS), n_positions=n_positions, n_embd=16, n_layer=2,
                        n_head=2, bos_token_id=2, eos_token_id=3, pad_token_id=0)
    GPT2LMHeadModel(config).save_pretrained(out)
    char_tokenizer().save_pretrained(out)
    return Path(out)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m regdna.models.toy OUT_DIR", file=sys.stderr)
        return 2
    out = Path(argv[0])
    basset = write_kipoi_toy("basset", out / "basset" / "basset.pth")
    lm = write_causal_lm_toy(out / "gpt2")
    print(f"wrote {basset} (use --run basset:{basset}) and {lm} (use --zero-shot --model hf:{lm})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
