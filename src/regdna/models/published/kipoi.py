"""Basset, DeepSEA and DeepSEA Beluga as released in the Kipoi model zoo, loaded as regdna models.

Each family is the converted Torch7 `nn.Sequential` of its Kipoi model, whose state dict is the
file the zoo downloads (`FAMILIES` holds the layer order and the key names):

- `basset` (Kelley et al. 2016): kipoi/models `Basset/pretrained_model_reloaded_th.py`, weights
  `pretrained_model_reloaded_th.pth` (keys `0.weight` ... `21.1.bias`): three Conv2d (kernels
  (out, in, k, 1) over a (N, 4, 600, 1) input) with batch norm, ReLU and max-pool 3/4/4, two
  dense layers of 1000 with batch norm, ReLU and dropout 0.3, 164 sigmoid outputs; 600 bp,
  A, C, G, T channels.
- `deepsea` (Zhou & Troyanskaya 2015): kipoi/models `DeepSEA/model_architecture.py`,
  `predict_model` = Sequential(ReCodeAlphabet, ConcatenateRC, deepsea_cpu, AverageRC), weights
  `deepsea_predict.pth` (keys `2.0.weight` ... `2.14.1.bias`; the same weights saved without the
  wrapper, keys `0.weight` ..., or as `DeepSEA/variantEffects`, keys `1.0.weight` ..., are
  accepted too): three Conv2d (kernels (out, in, 1, 8) over (N, 4, 1, 1000)) with
  Threshold(0, 1e-6) and max-pool 4/4, a dense layer of 925, 919 sigmoid outputs; 1000 bp, the
  channels in the order A, G, C, T; the probability is the mean of the forward and the
  reverse-complement strand's, as the published predictions.
- `beluga` (Zhou et al. 2018, ExPecto): kipoi/models `DeepSEA/beluga/model.py` (`Beluga`),
  weights `deepsea.beluga.pth` (keys `model.0.0.weight` ... `model.1.4.1.bias`): six Conv2d
  (kernels (out, in, 1, 8)) with ReLU, max-pool 4 after the second and fourth, a dense layer of
  2003, 2002 sigmoid outputs; 2000 bp, channels A, G, C, T; forward strand only (as the Kipoi
  model; `--rc` averages the logits of both strands).

The regdna module (`KipoiNet`) is the same network over one-hot (N, 4, L) input in A, C, G, T
order: Conv1d / BatchNorm1d / MaxPool1d (the kernels reshaped, the first layer's input channels
reordered for A, G, C, T models), so fast ISM and embeddings follow it. Layer sizes (channels,
kernel widths, dense widths, outputs) are read from the file, the layer order, key names, pools
and input length are the family's; the trailing Sigmoid is dropped: the module returns logits
(task "multilabel"). The first key whose name or shape does not fit is one RegdnaError line.

Output names come from a label file beside the weights (`labels_beside`), else `<family>_<i>`;
`targets` keeps a subset (`select_targets`).
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from regdna.errors import RegdnaError
from regdna.models.base import RegdnaModel
from regdna.models.published import Published

WEIGHT_SUFFIXES = (".pth", ".pt", ".bin")
LABEL_FILES = ("targets.txt", "target_labels.txt", "predictor_names.txt")
AGCT = [0, 2, 1, 3]   # A, G, C, T channel i <- A, C, G, T channel AGCT[i] (its own inverse)


# -- the published layouts ------------------------------------------------------------------------
@dataclass(frozen=True)
class Family:
    """One published layout: `layers` in model order, each (kind, key or argument, published
    size): ("conv", key, (out, width)), ("bn", key, None), ("linear", key, out), ("relu" |
    "threshold" | "flatten",), ("pool", k), ("dropout", p). `prefixes`: the key prefixes of the
    released files (the first is the default); `kernel_axis`: the axis of the Conv2d kernel
    that holds its width (2 for (k, 1) kernels, 3 for (1, k))."""

    name: str
    length: int
    layers: tuple
    prefixes: tuple
    kernel_axis: int
    alphabet: str
    strands: str        # "forward" or "mean" (probabilities of both strands averaged)
    citation: str
    source: str


def _conv(key, out, width):
    return ("conv", key, (out, width))


FAMILIES = {
    "basset": Family(
        "basset", 600,
        (_conv("0", 300, 19), ("bn", "1", None), ("relu",), ("pool", 3),
         _conv("4", 200, 11), ("bn", "5", None), ("relu",), ("pool", 4),
         _conv("8", 200, 7), ("bn", "9", None), ("relu",), ("pool", 4), ("flatten",),
         ("linear", "13.1", 1000), ("bn", "14", None), ("relu",), ("dropout", 0.3),
         ("linear", "17.1", 1000), ("bn", "18", None), ("relu",), ("dropout", 0.3),
         ("linear", "21.1", 164)),
        ("",), 2, "ACGT", "forward",
        "Kelley, Snoek & Rinn 2016, Genome Research 26:990-999 (Basset)",
        "kipoi/models Basset/pretrained_model_reloaded_th.py"),
    "deepsea": Family(
        "deepsea", 1000,
        (_conv("0", 320, 8), ("threshold",), ("pool", 4), ("dropout", 0.2),
         _conv("4", 480, 8), ("threshold",), ("pool", 4), ("dropout", 0.2),
         _conv("8", 960, 8), ("threshold",), ("dropout", 0.5), ("flatten",),
         ("linear", "12.1", 925), ("threshold",), ("linear", "14.1", 919)),
        ("2.", "1.", ""), 3, "AGCT", "mean",
        "Zhou & Troyanskaya 2015, Nature Methods 12:931-934 (DeepSEA)",
        "kipoi/models DeepSEA/model_architecture.py (predict_model)"),
    "beluga": Family(
        "beluga", 2000,
        (_conv("model.0.0", 320, 8), ("relu",), _conv("model.0.2", 320, 8), ("relu",),
         ("dropout", 0.2), ("pool", 4),
         _conv("model.0.6", 480, 8), ("relu",), _conv("model.0.8", 480, 8), ("relu",),
         ("dropout", 0.2), ("pool", 4),
         _conv("model.0.12", 640, 8), ("relu",), _conv("model.0.14", 640, 8), ("relu",),
         ("dropout", 0.5), ("flatten",),
         ("linear", "model.1.2.1", 2003), ("relu",), ("linear", "model.1.4.1", 2002)),
        ("",), 3, "AGCT", "forward",
        "Zhou et al. 2018, Nature Genetics 50:1171-1179 (ExPecto; DeepSEA Beluga)",
        "kipoi/models DeepSEA/beluga/model.py (Beluga)"),
}


# -- the regdna module ------------------------------------------------------------------------------
@torch.fx.wrap
def _check_positions(x: torch.Tensor, positions: int, family: str, length: int) -> torch.Tensor:
    """The trunk output of a `length` bp input has `positions` positions; another input length
    is one RegdnaError (the dense layer was fitted to exactly that many)."""
    if x.shape[-1] != positions:
        raise RegdnaError(f"{family} takes windows of exactly {length} bp; this input gives "
                          f"{x.shape[-1]} positions after the convolutions where the dense layer "
                          f"needs {positions}: cut {length} bp windows.")
    return x


class KipoiNet(RegdnaModel):
    """A published Kipoi Sequential as a regdna model: `trunk` (Conv1d / BatchNorm1d / ReLU /
    Threshold / MaxPool1d / Dropout) then `head` (Flatten, Linear, ...), one-hot (N, 4, length)
    A, C, G, T -> logits (N, T). Build it with `build_net`."""

    input_kind = "onehot"

    def __init__(self, family: str, length: int, trunk: nn.Sequential, positions: int,
                 head: nn.Sequential, n_outputs: int):
        super().__init__()
        self.family, self.length, self.positions = family, length, positions
        self.n_outputs = n_outputs
        self.trunk, self.head = trunk, head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 4, length) one-hot -> (N, T) logits."""
        return self.head(_check_positions(self.trunk(x), self.positions, self.family, self.length))


class StrandMean(RegdnaModel):
    """The logit of the mean of a model's probabilities on a sequence and its reverse complement
    (DeepSEA's published predictions): logit((sigmoid(a) + sigmoid(b)) / 2), computed from
    log-sigmoids so that saturated outputs stay finite."""

    input_kind = "onehot"

    def __init__(self, net: KipoiNet):
        super().__init__()
        self.net, self.n_outputs, self.length = net, net.n_outputs, net.length

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.net(x), self.net(torch.flip(x, dims=(1, 2)))
        return torch.logaddexp(F.logsigmoid(a), F.logsigmoid(b)) - \
            torch.logaddexp(F.logsigmoid(-a), F.logsigmoid(-b))


def _shape(t) -> str:
    return "(" + ", ".join(map(str, t)) + ")"


class _Expect:
    """Walks a family's layers against a state dict in model order: the first key whose name or
    shape does not fit raises one RegdnaError line."""

    def __init__(self, family: Family, state: dict, prefix: str, where: str):
        self.family, self.state, self.prefix, self.where = family, state, prefix, where
        self.used: set[str] = set()

    def fail(self, text: str):
        guess = guess_family(self.state)
        hint = f"the keys look like {guess}: use {guess}:<path>" if guess and \
            guess != self.family.name else "is it the file of another model?"
        raise RegdnaError(f"{self.where}: {text}; {hint} (docs/MODELS.md lists the files each "
                          f"family loads).")

    def tensor(self, key: str, pattern: tuple, published: tuple) -> torch.Tensor:
        """state[prefix + key], its shape checked against `pattern` (int: required, None: read
        from the file)."""
        name = self.prefix + key
        if name not in self.state:
            self.fail(f"missing key '{name}' (the layout of {self.family.source})")
        value = self.state[name]
        shape = tuple(value.shape)
        if len(shape) != len(pattern) or any(p is not None and p != s for p, s in zip(pattern, shape)):
            wanted = tuple("?" if p is None else p for p in pattern)
            self.fail(f"key '{name}' has shape {_shape(shape)} where {self.family.name} expects "
                      f"{_shape(wanted)} (published: {_shape(published)})")
        self.used.add(name)
        return value

    def leftover(self) -> None:
        optional = {k for k in self.state if k.endswith("num_batches_tracked")}
        extra = [k for k in self.state if k not in self.used and k not in optional]
        if extra:
            self.fail(f"unexpected key '{extra[0]}' ({len(extra)} keys {self.family.name} "
                      f"does not have)")


def _key_prefix(family: Family, state: dict) -> str:
    """The prefix of the released file the state dict follows (the default when none fits)."""
    first = family.layers[0][1] + ".weight"
    for prefix in family.prefixes:
        if prefix + first in state:
            return prefix
    return family.prefixes[0]


def guess_family(state: dict) -> str | None:
    """The family whose first convolution (key with one of its prefixes, kernel orientation)
    the state dict holds, or None."""
    for name, family in FAMILIES.items():
        first = family.layers[0][1] + ".weight"
        for prefix in family.prefixes:
            shape = tuple(getattr(state.get(prefix + first), "shape", ()))
            if len(shape) == 4 and shape[1] == 4 and shape[5 - family.kernel_axis] == 1:
                return name
    return None


def build_net(family_name: str, state: dict, where: str = "weights") -> KipoiNet:
    """The regdna module of a family with the weights of a published state dict loaded.

    Parameters
    ----------
    family_name : "basset", "deepsea" or "beluga".
    state : {key: tensor} as the released file holds it.
    where : the file's name for error messages.
    """
    family = FAMILIES[family_name]
    prefix = _key_prefix(family, state)
    expect = _Expect(family, state, prefix, where)
    axis = family.kernel_axis
    trunk: list[nn.Module] = []
    head: list[nn.Module] = []
    channels, positions, features, first_conv = 4, family.length, None, True
    loaded: dict[str, torch.Tensor] = {}
    layers = trunk
    for layer in family.layers:
        kind = layer[0]
        here = f"{'trunk' if layers is trunk else 'head'}.{len(layers)}"
        if kind == "conv":
            _, key, (out, width) = layer
            published = (out, channels, width, 1) if axis == 2 else (out, channels, 1, width)
            pattern = (None, channels, None, 1) if axis == 2 else (None, channels, 1, None)
            weight = expect.tensor(key + ".weight", pattern, published)
            n_out, k = weight.shape[0], weight.shape[axis]
            bias = expect.tensor(key + ".bias", (n_out,), (out,))
            weight = weight.reshape(n_out, channels, k).float()
            if first_conv and family.alphabet == "AGCT":
                weight = weight[:, AGCT]
            first_conv = False
            layers.append(nn.Conv1d(channels, n_out, k))
            loaded[here + ".weight"], loaded[here + ".bias"] = weight, bias.float()
            channels, positions = n_out, positions - k + 1
            if positions < 1:
                expect.fail(f"key '{prefix + key}.weight': kernels of width {k} leave no "
                            f"position of a {family.length} bp input")
        elif kind == "bn":
            size = channels if features is None else features
            layers.append(nn.BatchNorm1d(size))
            for part in ("weight", "bias", "running_mean", "running_var"):
                loaded[f"{here}.{part}"] = expect.tensor(f"{layer[1]}.{part}", (size,), (size,)).float()
        elif kind == "linear":
            _, key, out = layer
            weight = expect.tensor(key + ".weight", (None, features), (out, features))
            bias = expect.tensor(key + ".bias", (weight.shape[0],), (out,))
            layers.append(nn.Linear(features, weight.shape[0]))
            loaded[here + ".weight"], loaded[here + ".bias"] = weight.float(), bias.float()
            features = weight.shape[0]
        elif kind == "relu":
            layers.append(nn.ReLU())
        elif kind == "threshold":
            layers.append(nn.Threshold(0.0, 1e-6))
        elif kind == "pool":
            layers.append(nn.MaxPool1d(layer[1]))
            positions //= layer[1]
        elif kind == "dropout":
            layers.append(nn.Dropout(layer[1]))
        elif kind == "flatten":
            features, layers = channels * positions, head
            layers.append(nn.Flatten())
    expect.leftover()
    net = KipoiNet(family.name, family.length, nn.Sequential(*trunk), positions,
                   nn.Sequential(*head), features)
    missing, unexpected = net.load_state_dict(loaded, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    assert not missing and not unexpected, (missing, unexpected)   # build_net's own bookkeeping
    return net.eval()


# -- files ------------------------------------------------------------------------------------------
def weights_file(path: Path) -> Path:
    """The weights a spec names: the file itself, or the one .pth / .pt / .bin in a directory."""
    path = Path(path)
    if path.is_file():
        return path
    found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES)
    if len(found) != 1:
        listed = ", ".join(p.name for p in found[:5]) or "none"
        raise RegdnaError(f"{path}: a directory must hold exactly one weights file "
                          f"({'/'.join(WEIGHT_SUFFIXES)}), found {len(found)} ({listed}); give "
                          f"the file itself.")
    return found[0]


def read_state(path: Path) -> dict:
    """A state dict {key: tensor} from a torch file, read with weights_only=True."""
    snippet = (f"python -c \"import torch; m = torch.load('{path}', weights_only=False); "
               f"torch.save(m.state_dict(), '{path.with_suffix('')}.state_dict.pth')\"")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise RegdnaError(f"{path} holds a whole pickled model, which regdna does not unpickle "
                          f"(it could run any code); if you trust the file, re-save its "
                          f"state dict: {snippet}") from None
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        raise RegdnaError(f"{path} is not a readable torch file ({str(err).splitlines()[0]}); "
                          f"download it again.") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not state or \
            not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise RegdnaError(f"{path} holds no state dict (a dict of tensors); if it is a saved "
                          f"model, re-save its state dict: {snippet}")
    return state


def _read_names(path: Path, n: int) -> list[str] | None:
    """One name per line (the first tab-separated field; a .tsv may carry one header line);
    None when the count is not `n`."""
    lines = [line.rstrip("\r\n").split("\t")[0].strip() for line in path.read_text().splitlines()]
    lines = [line for line in lines if line]
    if path.suffix == ".tsv" and len(lines) == n + 1:
        lines = lines[1:]
    return lines if len(lines) == n else None


def _yaml_label_files(folder: Path) -> list[Path]:
    """The column_labels files of a Kipoi model.yaml (schema / output_schema targets)."""
    import yaml

    spec = folder / "model.yaml"
    if not spec.is_file():
        return []
    try:
        doc = yaml.safe_load(spec.read_text()) or {}
    except yaml.YAMLError:
        return []
    schema = doc.get("schema") or doc.get("output_schema") or {}
    targets = schema.get("targets", schema) if isinstance(schema, dict) else {}
    labels = targets.get("column_labels") if isinstance(targets, dict) else None
    labels = [labels] if isinstance(labels, str) else labels or []
    return [folder / str(name) for name in labels if isinstance(name, str)]


def labels_beside(weights: Path, n: int, family: str) -> list[str]:
    """The output names: from targets.txt, target_labels.txt, predictor_names.txt, the
    column_labels of a Kipoi model.yaml, or the one *.tsv beside the weights (one name per
    line, exactly `n` of them); else `<family>_0` ... A label file with another count is one
    RegdnaError."""
    folder = weights.parent
    tsvs = sorted(folder.glob("*.tsv"))
    candidates = [folder / name for name in LABEL_FILES] + _yaml_label_files(folder) + \
        (tsvs if len(tsvs) == 1 else [])
    for path in candidates:
        if path.is_file():
            names = _read_names(path, n)
            if names is None:
                raise RegdnaError(f"{path} does not list {n} output names, one per line (the "
                                  f"outputs of {weights.name}); fix it or move it away.")
            return names
    return [f"{family}_{i}" for i in range(n)]


def select_targets(labels: list[str], targets) -> list[int]:
    """Indices of the outputs `targets` names, in the order given: each an exact name, an index,
    or a substring of names (case-sensitive, else case-insensitive) keeping every output that
    contains it; a comma-separated string or a list."""
    items = [t.strip() for t in targets.split(",")] if isinstance(targets, str) else \
        [str(t).strip() for t in targets]
    chosen: list[int] = []
    for item in filter(None, items):
        if item in labels:
            found = [labels.index(item)]
        elif item.isdigit() and int(item) < len(labels):
            found = [int(item)]
        else:
            found = [i for i, name in enumerate(labels) if item in name] or \
                [i for i, name in enumerate(labels) if item.lower() in name.lower()]
        if not found:
            raise RegdnaError(f"--target '{item}' names no output; outputs are e.g. "
                              f"{', '.join(labels[:5])}{' ...' if len(labels) > 5 else ''} "
                              f"({len(labels)} in all: a name, a part of names, or an index "
                              f"below {len(labels)}).")
        chosen += [i for i in found if i not in chosen]
    if not chosen:
        raise RegdnaError("--target names no output; give names, parts of names or indices.")
    return chosen


def _keep_outputs(net: KipoiNet, keep: list[int]) -> None:
    """Cut the output layer down to the rows `keep` (the other outputs are never computed)."""
    last = net.head[-1]
    index = torch.as_tensor(keep)
    small = nn.Linear(last.in_features, len(keep))
    with torch.no_grad():
        small.weight.copy_(last.weight[index])
        small.bias.copy_(last.bias[index])
    net.head[-1] = small
    net.n_outputs = len(keep)


# -- the family entry point ----------------------------------------------------------------------------
def load(family: str, path, targets=None, aggregation=None) -> Published:
    """Load a Kipoi Basset / DeepSEA / Beluga file (module doc) as a `Published` model.

    Parameters
    ----------
    family : "basset", "deepsea" or "beluga".
    path : the weights file, or a directory holding exactly one .pth / .pt / .bin.
    targets : outputs to keep (`select_targets`), or None for all.
    aggregation : for profile models only; refused here.
    """
    if aggregation is not None:
        raise RegdnaError(f"--aggregation is for profile models (enformer, borzoi); {family} "
                          f"predicts one probability per output: drop it.")
    spec = FAMILIES[family]
    weights = weights_file(Path(path))
    net = build_net(family, read_state(weights), where=str(weights))
    labels = labels_beside(weights, net.n_outputs, family)
    if targets is not None and not (isinstance(targets, (list, tuple)) and not targets):
        keep = select_targets(labels, targets)
        _keep_outputs(net, keep)
        labels = [labels[i] for i in keep]
    model = StrandMean(net) if spec.strands == "mean" else net
    strand = "mean of the forward and reverse-complement probabilities" \
        if spec.strands == "mean" else "forward strand (--rc averages both strands' logits)"
    return Published(model=model.eval(), task="multilabel", labels=labels, length=spec.length,
                     family=family, source=weights, citation=spec.citation,
                     conventions={"layout": spec.source, "alphabet": spec.alphabet,
                                  "input": "one-hot A, C, G, T (reordered inside the model)"
                                  if spec.alphabet != "ACGT" else "one-hot A, C, G, T",
                                  "strand": strand, "window": f"{spec.length} bp, centred",
                                  "outputs": "sigmoid of the logits (the published Sigmoid "
                                             "is applied by the task, not the module)"})
