"""The receptive-field engine of fast saturation mutagenesis for one-hot models (the fastISM /
yuzu idea); the public ISM is `regdna.variants.ism`.

The model is traced with `torch.fx`; the longest leading part of its graph made of *local*
operations (Conv1d with zero padding, Max/AvgPool1d without padding (ceil-mode max-pool included),
BatchNorm1d in eval mode, Dropout, element-wise activations, additions of two such activations)
that hands a single activation on is the "trunk", the rest (adaptive pooling, dense layers,
attention) the "head". The reference activations of every trunk layer are cached once per
sequence. For an edit at position p only the slice of each trunk layer that p can reach through
the layer's kernel, dilation and stride is recomputed, on a slice of the previous layer gathered
from the cache with the edited slice spliced in; the head then runs on the cached last trunk
activation with the edited slice written in. The receptive field is thus found generically, layer
by layer from the traced graph, not per architecture. A model whose graph cannot be traced, or
whose trunk is empty, gives no engine (`FastISM.build` returns None with a warning); the caller
checks the engine against full forward passes on a few edits (`agrees_with_plain`) before it
uses it. Residual additions of two trunk activations (ResidualBind's dilated blocks) are part of
the trunk: the recomputed slice of an addition covers the union of its inputs' slices. With
`rc_average` the reverse-complement strand is cached too and each mutant is mirrored onto it
(position L-1-p, complementary base), as `Predictor(rc_average=True)` averages.
"""
from __future__ import annotations

import inspect
import operator
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.fx as fx


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
    def agrees_with_plain(self, plain_logits, edits: np.ndarray, n_check: int = 12,
                          tol: float = 1e-4) -> bool:
        """Fast == plain (max |logit gap| <= tol) on edits at both ends of the edited span.

        Parameters
        ----------
        plain_logits : callable, edits (E, 3) -> logits (E, T) of full forward passes.
        edits : int array, shape (E, 3), rows (seq, pos, base) of the reference group.
        """
        if len(edits) == 0:
            return True
        picks = np.unique(np.r_[np.arange(min(n_check // 2, len(edits))),
                                np.arange(max(0, len(edits) - n_check // 2), len(edits))])
        batch = edits[picks]
        gap = float(np.max(np.abs(self.mutant_logits(batch) - plain_logits(batch))))
        if not gap <= tol:
            warnings.warn(f"fast ISM disabled: it differs from plain by {gap:.2e} on check edits; "
                          "using plain.", stacklevel=3)
            return False
        return True


def _as_op(node, modules, local: set) -> _Op | None:
    """The trunk operation for an fx node whose inputs are trunk nodes, or None."""
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
