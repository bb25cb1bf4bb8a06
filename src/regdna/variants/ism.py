"""In-silico saturation mutagenesis (as in Morenu n.d.): every single-base substitution of every
sequence.

`saturation_mutagenesis(predictor, x)` returns delta (N, L, 4) = f(x') - f(x), where x' is x with
base j at position i and f is the predicted probability of one output (sigmoid / softmax;
the value for regression). The reference base keeps 0: identity edits are never computed.

Two ways to get f(x'):

- **plain**: every mutant is a full forward pass through the `Predictor` (one-hot batches for
  CNNs; for token models the mutated strings are re-tokenized in batches, which handles k-mer and
  BPE tokenizers whose tokens shift after an edit).
- **fast** (one-hot models; the fastISM / yuzu idea): the model is traced with `torch.fx`; the
  longest leading part of its graph made of *local* operations (Conv1d with zero padding,
  Max/AvgPool1d without padding (ceil-mode max-pool included), BatchNorm1d in eval mode, Dropout,
  element-wise activations, additions of two such activations) that hands a single activation on
  is the "trunk", the rest (adaptive pooling, dense layers, attention) the "head". The reference activations of every trunk layer are cached once per sequence. For an
  edit at position p only the slice of each trunk layer that p can reach through the layer's
  kernel, dilation and stride is recomputed, on a slice of the previous layer gathered from the
  cache with the edited slice spliced in; the head then runs on the cached last trunk activation
  with the edited slice written in. The receptive field is thus found generically, layer by
  layer from the traced graph, not per architecture. A model whose graph cannot be traced, or
  whose trunk is empty, falls back to plain with a warning; the fast result is also checked
  against plain on a few edits (both sequence ends included) before it is used.
  Residual additions of two trunk activations (ResidualBind's dilated blocks) are part of the
  trunk: the recomputed slice of an addition covers the union of its inputs' slices. With
  `Predictor(rc_average=True)` the reverse-complement strand is cached too and each mutant is
  mirrored onto it (position L-1-p, complementary base), so the fast path averages like plain.
"""
from __future__ import annotations

import inspect
import operator
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from regdna.encode.onehot import ALPHABET, one_hot, one_hot_to_strings
from regdna.errors import RegdnaError


# -- inputs -----------------------------------------------------------------------------------
def _as_onehot(x) -> np.ndarray:
    """Strings or (N, 4, L) one-hot -> float32 (N, 4, L)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        if x.ndim != 3 or x.shape[1] != 4:
            raise RegdnaError(f"one-hot input must be (N, 4, L); got shape {x.shape}.")
        return x.astype(np.float32)
    seqs = list(x)
    if not seqs:
        raise RegdnaError("saturation_mutagenesis got no sequences.")
    lengths = {len(s) for s in seqs}
    if len(lengths) != 1:
        raise RegdnaError(f"sequences have different lengths {sorted(lengths)[:5]}; ISM needs one length: "
                          "give sequences of equal length (or select some with --n).")
    return one_hot(seqs, dtype=np.float32, channels_first=True)


def _parse_region(region, length: int) -> tuple[int, int]:
    if region is None:
        return 0, length
    start, end = region
    start = 0 if start is None else int(start)
    end = length if end is None else int(end)
    if not 0 <= start < end <= length:
        raise RegdnaError(f"region {start}:{end} must satisfy 0 <= start < end <= {length}.")
    return start, end


def _edits(x: np.ndarray, start: int, end: int) -> np.ndarray:
    """All non-identity edits in [start, end) as rows (seq, pos, base): (E, 3) int64.

    Positions holding N (all zero) get all 4 bases as edits.
    """
    n = x.shape[0]
    seq, base, pos = np.meshgrid(np.arange(n), np.arange(4), np.arange(start, end), indexing="ij")
    keep = x[seq, base, pos] == 0
    return np.stack([seq[keep], pos[keep], base[keep]], axis=1).astype(np.int64)


def _probability(predictor, logits: torch.Tensor | np.ndarray, output: int) -> np.ndarray:
    from regdna.models.base import activate

    z = torch.as_tensor(np.asarray(logits, dtype=np.float32))
    return activate(z, predictor.task)[:, output].numpy()


# -- public API -------------------------------------------------------------------------------
def saturation_mutagenesis(predictor, x, output: int = 0, region: tuple[int, int] | None = None,
                           fast: bool = True, batch_size: int = 512, check: bool = True,
                           group_size: int = 8) -> np.ndarray:
    """Delta = f(x') - f(x) for every single-base substitution.

    Args:
        predictor: a `regdna.runs.predictor.Predictor`.
        x: list of N equal-length strings, or one-hot (N, 4, L).
        output: index of the model output f (column of `predictor.predict`).
        region: (start, end) 0-based half-open window of positions to mutate (default all);
            positions outside stay 0.
        fast: use the receptive-field fast path for one-hot models when possible.
        batch_size: mutants per forward pass.
        check: compare the fast path with plain on a few edits before trusting it.
        group_size: sequences whose activations the fast path caches at a time (memory).

    Returns:
        float32 (N, L, 4) delta; 0 at the reference base and outside `region`.
    """
    return _ism(predictor, x, output, region, fast, batch_size, check, group_size)[0]


def _ism(predictor, x, output, region, fast, batch_size, check, group_size) -> tuple[np.ndarray, str]:
    """`saturation_mutagenesis` plus which path ran ('fast' or 'plain')."""
    onehot = _as_onehot(x)
    n, _, length = onehot.shape
    if not 0 <= output < predictor.n_outputs:
        raise RegdnaError(f"output {output} out of range: the model has {predictor.n_outputs} outputs "
                          f"({', '.join(predictor.labels)}).")
    start, end = _parse_region(region, length)
    f_ref = _probability(predictor, predictor.logits(_model_input(predictor, onehot)), output)
    engine = None
    if fast and predictor.input_kind == "onehot":
        engine = FastISM.build(predictor.model, onehot.shape[1:], predictor.device)
        if engine is not None:
            engine.rc_average = predictor.rc_average
    delta = np.zeros((n, length, 4), dtype=np.float32)
    # sequences in groups: the fast path caches every trunk activation of a group
    for g0 in range(0, n, group_size):
        group = onehot[g0:g0 + group_size]
        edits = _edits(group, start, end)
        if engine is not None:
            engine.set_reference(group)
            if g0 == 0 and check and not engine.agrees_with_plain(predictor, group, edits, output):
                engine = None
        for lo in range(0, len(edits), batch_size):
            batch = edits[lo:lo + batch_size]
            logits = engine.mutant_logits(batch) if engine is not None else \
                _plain_logits(predictor, group, batch)
            rows = g0 + batch[:, 0]
            delta[rows, batch[:, 1], batch[:, 2]] = _probability(predictor, logits, output) - f_ref[rows]
    return delta, "fast" if engine is not None else "plain"


def _model_input(predictor, onehot: np.ndarray):
    if predictor.input_kind == "tokens":
        return one_hot_to_strings(onehot, channels_first=True)
    return onehot


def _mutants(onehot: np.ndarray, batch: np.ndarray) -> np.ndarray:
    mutants = onehot[batch[:, 0]].copy()
    rows = np.arange(len(batch))
    mutants[rows, :, batch[:, 1]] = 0.0
    mutants[rows, batch[:, 2], batch[:, 1]] = 1.0
    return mutants


def _plain_logits(predictor, onehot: np.ndarray, batch: np.ndarray) -> np.ndarray:
    mutants = _mutants(onehot, batch)
    if predictor.input_kind == "tokens":  # re-tokenize the mutated strings
        return predictor.logits(one_hot_to_strings(mutants, channels_first=True))
    return predictor.logits(mutants)


def run_ism(predictor, seqs: Sequence[str], ids: Sequence[str], out, output: int = 0,
            region=None, fast: bool = True, batch_size: int = 512, top_k: int = 25,
            inputs=(), overwrite: bool = False) -> dict:
    """ISM of `seqs` written to the directory `out` (atomically): ism.npz with `delta` (N, L, 4),
    `onehot` (N, L, 4) and `ids`; ism.tsv (seq_id, pos, ref, alt, delta); heatmaps/<i>_<id>.png;
    topk.tsv and topk.png (the K edits with the largest |delta|).

    `out` follows the output policy (`regdna.utils.output`): it is checked before anything is
    computed, an existing directory that is not an earlier `ism` output is refused unless
    `overwrite`, and an `out` that is or contains one of `inputs` is always refused.

    Returns {'delta', 'table', 'top', 'path'} (path = 'fast' or 'plain').
    """
    import re
    from pathlib import Path

    from regdna.plot.variants import ism_heatmap, topk_bar
    from regdna.utils.output import check_out_dir, output_dir

    check_out_dir(out, "ism", inputs=inputs, overwrite=overwrite)
    delta, path = _ism(predictor, list(seqs), output, region, fast, batch_size, True, 8)
    onehot = _as_onehot(list(seqs))
    table = ism_table(delta, onehot, ids)
    if region is not None:
        lo, hi = _parse_region(region, onehot.shape[-1])
        table = table[(table["pos"] >= lo) & (table["pos"] < hi)]
    top = table.reindex(table["delta"].abs().sort_values(ascending=False).index).head(top_k)
    label = predictor.labels[output]
    with output_dir(out, "ism", inputs=inputs, overwrite=overwrite) as tmp:
        tmp = Path(tmp)
        np.savez_compressed(tmp / "ism.npz", delta=delta, onehot=onehot.transpose(0, 2, 1),
                            ids=np.asarray(ids, dtype=str), output=label)
        table.to_csv(tmp / "ism.tsv", sep="\t", index=False, float_format="%.6g")
        top.to_csv(tmp / "topk.tsv", sep="\t", index=False, float_format="%.6g")
        for i, (name, seq) in enumerate(zip(ids, seqs)):
            safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name))[:60]
            ism_heatmap(delta[i], seq, tmp / "heatmaps" / f"{i:03d}_{safe}.png",
                        title=f"ISM of {name} (output {label}, {path} path)",
                        region=_parse_region(region, len(seq)) if region else None)
        topk_bar(top, tmp / "topk.png", k=top_k, title=f"Top {len(top)} mutations by |Δ| (output {label})")
    return {"delta": delta, "table": table, "top": top, "path": path}


def ism_table(delta: np.ndarray, onehot_or_seqs, seq_ids: Sequence[str]):
    """Long table (seq_id, pos, ref, alt, delta) of the non-identity edits of an ISM array."""
    import pandas as pd

    onehot = _as_onehot(onehot_or_seqs)
    seq, pos, base = np.nonzero(onehot.transpose(0, 2, 1) == 0)
    ref_idx = np.where(onehot.max(axis=1) > 0, onehot.argmax(axis=1), 4)  # (N, L)
    letters = np.array(list(ALPHABET + "N"))
    return pd.DataFrame({"seq_id": np.asarray(seq_ids)[seq], "pos": pos,
                         "ref": letters[ref_idx[seq, pos]], "alt": letters[base],
                         "delta": delta[seq, pos, base]})


# -- fast path --------------------------------------------------------------------------------
@dataclass
class _Op:
    """One trunk operation of the traced graph.

    kind "window": output j reads input [j*stride - pad, j*stride - pad + extent) (conv, pool);
    kind "pointwise": output j reads input j (activations, batch norm in eval, dropout);
    kind "binary": element-wise op of two trunk activations of equal length (residual add).
    """

    node: object
    kind: str
    inputs: list
    run: object                # window: on a padded slice; pointwise: on a tensor; binary: fn(a, b)
    extent: int = 1
    stride: int = 1
    pad: int = 0
    pad_value: float = 0.0
    full: object = None        # window op on a whole activation (default: pad, then `run`)


_POINTWISE_FUNCS = {torch.relu, torch.nn.functional.relu, torch.sigmoid, torch.tanh, torch.exp,
                    torch.nn.functional.gelu, torch.nn.functional.elu, torch.nn.functional.silu,
                    torch.nn.functional.softplus, torch.nn.functional.leaky_relu, torch.clamp,
                    torch.clip, torch.nn.functional.dropout, operator.add, operator.sub,
                    operator.mul, operator.truediv, torch.add, torch.sub, torch.mul}
_BINARY_FUNCS = {operator.add, operator.sub, operator.mul, torch.add, torch.sub, torch.mul}
_POINTWISE_METHODS = {"relu", "sigmoid", "tanh", "exp"}
_POINTWISE_MODULES = (torch.nn.ReLU, torch.nn.GELU, torch.nn.ELU, torch.nn.SiLU, torch.nn.Sigmoid,
                      torch.nn.Tanh, torch.nn.Softplus, torch.nn.LeakyReLU, torch.nn.Dropout,
                      torch.nn.Identity, torch.nn.BatchNorm1d)


class FastISM:
    """Receptive-field-limited ISM for a traced one-hot model (see module docstring).

    Args:
        ops: trunk operations in topological order (the first reads the model input).
        source: the graph's input node; cut: the trunk node the head reads.
        head: module mapping the cut activation (N, C, L') to logits (N, T).
    """

    def __init__(self, ops: list[_Op], source, cut, head: torch.nn.Module, device):
        self.ops, self.source, self.cut, self.head, self.device = ops, source, cut, head, device
        self._cache: dict = {}

    # building ---------------------------------------------------------------------------------
    @classmethod
    def build(cls, model: torch.nn.Module, shape: tuple[int, int], device) -> "FastISM | None":
        """Trace `model` and split it into trunk + head; None (with a warning) when not possible."""
        import torch.fx as fx

        try:
            traced = fx.symbolic_trace(model)
        except Exception as err:  # many models are not traceable (data-dependent control flow)
            warnings.warn(f"fast ISM disabled, model not traceable by torch.fx ({err}); using plain.",
                          stacklevel=3)
            return None
        modules = dict(traced.named_modules())
        nodes = list(traced.graph.nodes)
        placeholders = [nd for nd in nodes if nd.op == "placeholder"]
        if not placeholders:
            return None
        source = placeholders[0]
        local, ops = {source}, []
        for node in nodes:
            if node.op in ("placeholder", "get_attr"):
                continue
            op = _as_op(node, modules, local)
            if op is None:
                break
            ops.append(op)
            local.add(node)
        # the longest prefix whose only activation used beyond it is a single node: the cut
        for k in range(len(ops), 0, -1):
            inside = {source} | {o.node for o in ops[:k]}
            frontier = [n for n in inside if any(u not in inside for u in n.users)]
            if len(frontier) == 1 and frontier[0] is not source:
                ops, cut = ops[:k], frontier[0]
                break
        else:
            ops = []
        if not any(o.kind == "window" for o in ops):
            warnings.warn("fast ISM disabled: the model starts with no convolution / pooling that "
                          "torch.fx can follow; using plain.", stacklevel=3)
            return None
        head = _head_module(traced, source, {o.node for o in ops}, cut)
        if head is None:
            warnings.warn("fast ISM disabled: the model reuses its input after the trunk; using plain.",
                          stacklevel=3)
            return None
        return cls(ops, source, cut, head, device)

    @property
    def receptive_field(self) -> int:
        """Input bases one position of the cut activation sees (walks the window ops)."""
        span, jump = 1, 1
        for op in self.ops:
            if op.kind == "window":
                span += (op.extent - 1) * jump
                jump *= op.stride
        return span

    # caching ---------------------------------------------------------------------------------
    rc_average = False  # average with the reverse-complement strand, as `Predictor(rc_average=True)`

    @torch.inference_mode()
    def set_reference(self, onehot: np.ndarray) -> None:
        """Cache every trunk activation of the reference sequences (N, 4, L) (and, with
        `rc_average`, of their reverse complements, stored as sequences N..2N-1)."""
        self._n_ref = onehot.shape[0]
        if self.rc_average:  # A,C,G,T reversed = complement; positions reversed
            onehot = np.concatenate([onehot, onehot[:, ::-1, ::-1]])
        acts = {self.source: torch.as_tensor(np.ascontiguousarray(onehot), device=self.device)}
        for op in self.ops:
            acts[op.node] = self._full(op, [acts[i] for i in op.inputs])
        # channels-last storage makes the per-edit (seq, position) gathers contiguous reads
        self._cache = {k: a.transpose(1, 2).contiguous().transpose(1, 2) for k, a in acts.items()}

    @staticmethod
    def _full(op: _Op, args: list[torch.Tensor]) -> torch.Tensor:
        if op.kind == "binary":
            return op.run(*args)
        if op.kind == "pointwise":
            return op.run(args[0])
        if op.full is not None:
            return op.full(args[0])
        act = args[0]
        length_out = (act.shape[-1] + 2 * op.pad - op.extent) // op.stride + 1
        padded = torch.nn.functional.pad(act, (op.pad, op.pad), value=op.pad_value) if op.pad else act
        return op.run(padded)[..., :length_out]

    # fast logits -----------------------------------------------------------------------------
    def mutant_logits(self, batch: np.ndarray) -> np.ndarray:
        """Logits (E, T) of the mutants `batch` rows (seq, pos, base), strand-averaged when
        `rc_average`: the reverse complement of a mutant is the mutant of the reverse
        complement at position L-1-pos with the complementary base 3-base."""
        if not self.rc_average:
            return self.logits(batch)
        length = self._cache[self.source].shape[-1]
        mirrored = np.stack([batch[:, 0] + self._n_ref, length - 1 - batch[:, 1], 3 - batch[:, 2]], axis=1)
        return (self.logits(batch) + self.logits(mirrored)) / 2

    @torch.inference_mode()
    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Logits (E, T) of the mutants described by `batch` rows (seq, pos, base), seq indexing
        the sequences given to `set_reference`.

        Per trunk node the state is (slice (E, C, W), slice start (E,), affected [lo, hi) (E,)):
        the slice holds the node's recomputed values, which differ from the cache only in [lo, hi).
        """
        acts = self._cache
        dev = self.device
        seq = torch.as_tensor(batch[:, 0], device=dev)
        pos = torch.as_tensor(batch[:, 1], device=dev)
        first = torch.zeros(len(batch), 4, 1, device=dev, dtype=acts[self.source].dtype)
        first[torch.arange(len(batch), device=dev), torch.as_tensor(batch[:, 2], device=dev), 0] = 1.0
        state = {self.source: (first, pos, pos, pos + 1)}
        for op in self.ops:
            if op.kind == "pointwise":
                sl, start, lo, hi = state[op.inputs[0]]
                state[op.node] = (op.run(sl), start, lo, hi)
            elif op.kind == "window":
                state[op.node] = self._window(op, acts, state[op.inputs[0]], seq)
            else:
                state[op.node] = self._binary(op, acts, [state[i] for i in op.inputs], seq)
        sl, start, _, _ = state[self.cut]
        final = acts[self.cut][seq].clone()
        idx = start[:, None] + torch.arange(sl.shape[-1], device=dev)
        final.scatter_(2, idx[:, None, :].expand(-1, final.shape[1], -1), sl)
        out = self.head(final)
        out = out[0] if isinstance(out, tuple) else out
        return out.float().cpu().numpy()

    def _window(self, op: _Op, acts: dict, in_state, seq):
        sl, sl_start, lo, hi = in_state
        length_out = acts[op.node].shape[-1]
        # outputs j whose input window [j*s - pad, j*s - pad + extent) meets [lo, hi)
        lo = (torch.div(lo + op.pad - op.extent, op.stride, rounding_mode="floor") + 1).clamp(0, length_out)
        hi = (torch.div(hi - 1 + op.pad, op.stride, rounding_mode="floor") + 1).clamp(0, length_out)
        width = max(1, min(int((hi - lo).max().item()), length_out))
        out_start = lo.clamp(max=length_out - width)
        in_width = (width - 1) * op.stride + op.extent
        in_pos = (out_start * op.stride - op.pad)[:, None] + torch.arange(in_width, device=seq.device)
        window = self._spliced(acts[op.inputs[0]], seq, in_pos, sl, sl_start, op.pad_value)
        return op.run(window)[..., :width], out_start, lo, hi

    def _binary(self, op: _Op, acts: dict, states, seq):
        length = acts[op.node].shape[-1]
        lo = torch.minimum(states[0][2], states[1][2])
        hi = torch.maximum(states[0][3], states[1][3])
        width = max(1, min(int((hi - lo).max().item()), length))
        start = lo.clamp(max=length - width)
        positions = start[:, None] + torch.arange(width, device=seq.device)
        a, b = (self._spliced(acts[i], seq, positions, st[0], st[1], 0.0)
                for i, st in zip(op.inputs, states))
        return op.run(a, b), start, lo, hi

    @staticmethod
    def _spliced(act, seq, in_pos, sl, sl_start, pad_value):
        """act[seq[e], :, in_pos[e]] (`pad_value` outside [0, L)) with the edit's slice written in."""
        length = act.shape[-1]
        valid = (in_pos >= 0) & (in_pos < length)
        # index (seq, position) pairs on a channels-last view: copies only E x W x C values
        window = act.transpose(1, 2)[seq[:, None], in_pos.clamp(0, length - 1)].transpose(1, 2)
        if not bool(valid.all()):
            window = torch.where(valid[:, None, :], window, torch.full_like(window, pad_value))
        inside = (in_pos >= sl_start[:, None]) & (in_pos < sl_start[:, None] + sl.shape[-1])
        offset = (in_pos - sl_start[:, None]).clamp(0, sl.shape[-1] - 1)
        spliced = torch.gather(sl, 2, offset[:, None, :].expand(-1, sl.shape[1], -1))
        return torch.where(inside[:, None, :], spliced, window)

    # safety check ----------------------------------------------------------------------------
    def agrees_with_plain(self, predictor, onehot: np.ndarray, edits: np.ndarray, output: int,
                          n_check: int = 12, tol: float = 1e-4) -> bool:
        """Fast == plain (max |logit gap| <= tol) on edits at both ends of the edited span."""
        if len(edits) == 0:
            return True
        picks = np.unique(np.r_[np.arange(min(n_check // 2, len(edits))),
                                np.arange(max(0, len(edits) - n_check // 2), len(edits))])
        batch = edits[picks]
        gap = float(np.max(np.abs(self.mutant_logits(batch) - _plain_logits(predictor, onehot, batch))))
        if not gap <= tol:
            warnings.warn(f"fast ISM disabled: it differs from plain by {gap:.2e} on check edits; "
                          "using plain.", stacklevel=3)
            return False
        return True


def _as_op(node, modules, local: set) -> _Op | None:
    """The trunk operation for an fx node whose inputs are trunk nodes, or None."""
    import torch.fx as fx

    F = torch.nn.functional
    node_args = [a for a in list(node.args) + list(node.kwargs.values()) if isinstance(a, fx.Node)]
    if not node_args or any(a not in local for a in node_args):
        return None
    if node.op == "call_module":
        mod = modules[node.target]
        if len(node.args) != 1 or node.kwargs:
            return None
        if isinstance(mod, torch.nn.Conv1d):
            if mod.padding_mode != "zeros" or mod.groups != 1:
                return None
            k, d, s = mod.kernel_size[0], mod.dilation[0], mod.stride[0]
            extent = d * (k - 1) + 1
            if mod.padding == "same":
                if extent % 2 == 0:
                    return None  # asymmetric padding
                pad = (extent - 1) // 2
            else:
                pad = 0 if mod.padding == "valid" else mod.padding[0]
            return _Op(node, "window", node_args, extent=extent, stride=s, pad=pad,
                       run=lambda t, w=mod.weight, b=mod.bias, s=s, d=d: F.conv1d(t, w, b, stride=s, dilation=d))
        if isinstance(mod, (torch.nn.MaxPool1d, torch.nn.AvgPool1d)):
            k = _single(mod.kernel_size)
            s = _single(mod.stride) if mod.stride is not None else k
            is_max = isinstance(mod, torch.nn.MaxPool1d)
            if _single(mod.padding) != 0 or getattr(mod, "dilation", 1) not in (1, (1,)):
                return None
            if mod.ceil_mode and not is_max:
                return None
            # ceil-mode max-pool: the last window is partial; -inf beyond the end reproduces it
            fn = F.max_pool1d if is_max else F.avg_pool1d
            return _Op(node, "window", node_args, extent=k, stride=s,
                       pad_value=float("-inf") if is_max else 0.0,
                       run=lambda t, fn=fn, k=k, s=s: fn(t, k, s), full=mod)
        if isinstance(mod, torch.nn.BatchNorm1d) and mod.training:
            return None
        if isinstance(mod, _POINTWISE_MODULES):
            return _Op(node, "pointwise", node_args, run=mod)
        return None
    if node.op == "call_function" and node.target in _BINARY_FUNCS and len(node_args) == 2 \
            and len(node.args) == 2 and not node.kwargs:
        return _Op(node, "binary", node_args, run=node.target)
    if node.op == "call_function" and node.target in _POINTWISE_FUNCS and len(node_args) == 1 \
            and isinstance(node.args[0], fx.Node):
        rest, kwargs = tuple(node.args[1:]), dict(node.kwargs)
        return _Op(node, "pointwise", node_args,
                   run=lambda t, f=node.target, a=rest, kw=kwargs: f(t, *a, **kw))
    if node.op == "call_method" and node.target in _POINTWISE_METHODS and len(node.args) == 1 \
            and not node.kwargs:
        return _Op(node, "pointwise", node_args, run=lambda t, m=node.target: getattr(t, m)())
    return None


def _single(v) -> int:
    return int(v[0]) if isinstance(v, (tuple, list)) else int(v)


def _head_module(traced, source, trunk_nodes: set, cut) -> torch.nn.Module | None:
    """A GraphModule computing the model's output from the cut activation."""
    import torch.fx as fx

    graph = fx.Graph()
    env = {cut: graph.placeholder("trunk_out")}
    try:
        for node in traced.graph.nodes:
            if node is source or node in trunk_nodes:
                continue
            if node.op == "placeholder":  # extra optional inputs keep their defaults
                default = node.args[0] if node.args else inspect.Signature.empty
                env[node] = graph.placeholder(node.name, default_value=default)
                continue
            env[node] = graph.node_copy(node, lambda a: env[a])
    except KeyError:
        return None
    return fx.GraphModule(traced, graph)
