"""The Predictor: the one object every analysis uses to turn DNA into predictions.

Loaded from a run dir (`load_predictor`) or wrapped around any regdna model (see
`regdna.models.base`), it maps DNA strings, or one-hot tensors (N, 4, L) for one-hot models, to
logits or probabilities (N, T), in batches and without gradients (`input_gradients` gives the
corrected input gradient of one-hot models). CNNs receive one-hot input; transformers re-tokenize
the strings. Variant scoring, ISM, attribution and faithfulness are
written once against this class.

A profile model (coverage datasets) is wrapped in `regdna.models.scalar.ProfileScalar`: `model`,
`logits` and `predict` see one number per track (log(1 + summed predicted coverage) and the
summed coverage), so every analysis works on it unchanged, and `profile(seqs)` gives the
predicted coverage (N, L / bin_size, T) itself.

`embed(seqs)` gives the penultimate embedding (N, D): the input of the model's output layer. A
forward pre-hook on every `nn.Linear` and `nn.Conv1d` records its input, and the one that runs
last in the forward pass is the output layer (for a profile model the profile model itself, not
its scalar view). Its input is pooled to one vector per sequence: a `Conv1d` input (N, C,
positions) is averaged over positions, a `Linear` input (N, ..., D) over every axis between the
first and the last (already (N, D) for a classifier's dense head). Forward strand only.

A model that accepts any input length but was trained on `length` bp warns once (Python
`warnings`) on the first input of another length: its predictions there are extrapolations.

Uncertainty. An ensemble run's model is a `regdna.models.ensemble.Ensemble`: `logits` are the
members' mean logits (Lakshminarayanan et al. 2017) and `sample_logits` gives each member's
(K, N, T). With `mc_dropout=T` (Gal & Ghahramani 2016) dropout stays on at prediction time:
`logits` are the mean of T stochastic passes and `sample_logits` the passes themselves (K x T
for an MC-dropout ensemble), seeded by `seed` so that two calls give the same numbers.
`logits_with_samples` gives both from one set of passes; `member_predictors` one Predictor per
member (attribution maps averaged over an ensemble).
"""
from __future__ import annotations

import contextlib
import warnings
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch

from regdna.encode.onehot import one_hot, one_hot_to_strings, reverse_complement
from regdna.errors import RegdnaError, RegdnaWarning
from regdna.models.base import activate
from regdna.models.registry import build_model
from regdna.runs.checkpoint import checkpoint_path, load_state_dict
from regdna.runs.config import default_loss, read_run_config, dataset_info_of_run
from regdna.runs.layout import config_path, read_threshold
from regdna.utils.device import default_device


class Predictor:
    """Batched, gradient-free predictions from a regdna model: DNA strings in, probabilities
    (N, T) out.

    Parameters
    ----------
    model : torch.nn.Module
        A regdna model (see `regdna.models.base`), moved to `device` and set to eval mode.
    task : str
        "binary", "multilabel", "multiclass", "regression" or "poisson"; decides the
        activation of `predict` (`regdna.models.base.activate`).
    labels : sequence of str
        Output names, length T (multiclass: the class names).
    length : int, optional
        Input length in bp the model was trained on (None: any).
    device : str or torch.device, optional
        Torch device (default: CUDA when present, else CPU).
    batch_size : int, default 128
        Sequences per forward pass.
    rc_average : bool, default False
        Average logits over the sequence and its reverse complement.
    threshold : float or list of float, optional
        Decision threshold(s) chosen on validation (binary / multilabel).
    run_dir : path, optional
        Where the model came from, if it came from a run dir.
    scalar : str, default "sum"
        Profile models: the window of the profile `logits` / `predict` sum over, "sum" (all of
        it) or "center:W" (the central W bp; `regdna.models.scalar`).
    mc_dropout : int, default 0
        T > 0: Monte Carlo dropout, T passes with dropout on (module doc); 0: off.
    seed : int, default 0
        Seed of the MC-dropout masks.

    Attributes
    ----------
    input_kind : str
        "onehot" or "tokens" (the model's).
    n_outputs : int
        T, the number of outputs.
    profile_model : torch.nn.Module or None
        The profile model itself (coverage runs), else None.
    bin_size : int or None
        Profile models: bp per output bin.
    """

    def __init__(self, model: torch.nn.Module, task: str, labels: Sequence[str],
                 length: int | None = None, device: str | torch.device | None = None,
                 batch_size: int = 128, rc_average: bool = False,
                 threshold: float | list[float] | None = None, run_dir: str | Path | None = None,
                 scalar: str = "sum", mc_dropout: int = 0, seed: int = 0):
        self.device = torch.device(device) if device is not None else default_device()
        self.profile_model = None
        self.bin_size = None
        if getattr(model, "output_kind", "scalar") == "profile":
            from regdna.models.scalar import ProfileScalar

            if length is None:
                raise RegdnaError("a profile model needs its input length (length=...).")
            self.profile_model = model.to(self.device).eval()
            self.bin_size = int(model.bin_size)
            model = ProfileScalar(model, length, scalar)
        self.model = model.to(self.device).eval()
        self.task = task
        self.labels = list(labels)
        self.length = length
        self.batch_size = batch_size
        self.rc_average = rc_average
        self.threshold = threshold
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.scalar = scalar
        self.mc_dropout = int(mc_dropout or 0)
        self.seed = seed
        self._sampling = False
        self._length_warned = False
        if self.mc_dropout < 0:
            raise RegdnaError(f"--mc-dropout {mc_dropout}: give a number of passes >= 1 (0: off).")
        if self.mc_dropout and not _dropout_layers(self.model):
            raise RegdnaError(f"--mc-dropout: {type(self.model).__name__} has no dropout layer, so "
                              f"every pass would be the same; use an ensemble (train --ensemble K).")

    @property
    def input_kind(self) -> str:
        return getattr(self.model, "input_kind", "onehot")

    @property
    def n_outputs(self) -> int:
        return len(self.labels)

    @property
    def ensemble(self):
        """The `regdna.models.ensemble.Ensemble` this Predictor runs, or None."""
        from regdna.models.ensemble import Ensemble

        core = self.profile_model if self.profile_model is not None else self.model
        return core if isinstance(core, Ensemble) else None

    @property
    def is_ensemble(self) -> bool:
        return self.ensemble is not None

    @property
    def n_samples(self) -> int:
        """Outputs `sample_logits` gives per sequence: K members x T MC-dropout passes (1 x 1
        for one model without MC dropout)."""
        return (len(self.ensemble) if self.is_ensemble else 1) * (self.mc_dropout or 1)

    def output_index(self, output: str | int) -> int:
        """An output given by label name or index (as typed after --target) -> its index."""
        text = str(output)
        if text in self.labels:
            return self.labels.index(text)
        if text.isdigit() and int(text) < self.n_outputs:
            return int(text)
        raise RegdnaError(f"--target '{output}' is not an output of the model; outputs: "
                          f"{', '.join(self.labels)} (or an index below {self.n_outputs}).")

    # -- encoding -------------------------------------------------------------------------------
    def encode(self, seqs: Sequence[str]):
        """Strings -> model input on the device: one-hot (N, 4, L) or a dict of token tensors."""
        if self.input_kind == "tokens":
            batch = self.model.tokenize(list(seqs))
            return {k: v.to(self.device) for k, v in batch.items()}
        x = one_hot(list(seqs), dtype=np.float32, channels_first=True)
        return torch.from_numpy(x).to(self.device)

    def _once(self, x) -> torch.Tensor:
        out = self.model(x)
        return out[0] if isinstance(out, tuple) else out

    def _forward(self, x) -> torch.Tensor:
        """The model's output; with MC dropout the mean of T passes with dropout on (one pass
        inside `sample_logits`)."""
        if not self.mc_dropout:
            return self._once(x)
        with _dropout_on(self.model):
            if self._sampling:
                return self._once(x)
            return torch.stack([self._once(x) for _ in range(self.mc_dropout)]).mean(dim=0)

    def _seeded(self):
        """MC dropout: the masks drawn from `seed` (the global RNG state is left as it was)."""
        if not self.mc_dropout:
            return contextlib.nullcontext()
        devices = [self.device.index or 0] if self.device.type == "cuda" else []

        @contextlib.contextmanager
        def seeded():
            with torch.random.fork_rng(devices=devices):
                torch.manual_seed(self.seed)
                yield
        return seeded()

    # -- prediction -----------------------------------------------------------------------------
    @torch.inference_mode()
    def logits(self, seqs: Sequence[str] | torch.Tensor | np.ndarray) -> np.ndarray:
        """Logits, computed in batches of `batch_size` without gradients.

        Parameters
        ----------
        seqs : sequence of str, or array / tensor (N, 4, L)
            DNA strings (ACGT, other letters encode as all zeros), or one-hot input with the
            channels A, C, G, T first.

        Returns
        -------
        numpy.ndarray
            (N, T) float32 logits.
        """
        with self._seeded():
            return self._logits(seqs)

    def _logits(self, seqs) -> np.ndarray:
        if isinstance(seqs, (torch.Tensor, np.ndarray)) and self.input_kind == "tokens":
            seqs = one_hot_to_strings(np.asarray(seqs), channels_first=True)
        outs = []
        for start in range(0, len(seqs), self.batch_size):
            chunk = seqs[start:start + self.batch_size]
            outs.append(self._logits_batch(chunk))
        if not outs:
            return np.zeros((0, self.n_outputs), dtype=np.float32)
        return np.concatenate(outs)

    def _check_profile_length(self, chunk) -> None:
        """Profile models take exactly `length` bp: a clear error for anything else."""
        if self.profile_model is None:
            return
        lengths = {int(chunk.shape[-1])} if isinstance(chunk, (torch.Tensor, np.ndarray)) \
            else {len(s) for s in chunk}
        if lengths - {self.length}:
            raise RegdnaError(f"this profile model takes windows of exactly {self.length} bp, got "
                              f"{', '.join(map(str, sorted(lengths - {self.length})))} bp; cut "
                              f"{self.length} bp windows (the stored windows of a coverage dataset "
                              f"carry margins: regdna.data.profiles.central).")

    def _check_length(self, chunk) -> None:
        """Profile models: exactly `length` bp (an error); other models trained on `length` bp:
        one warning on the first input of another length."""
        self._check_profile_length(chunk)
        if self.length is None or self._length_warned:
            return
        lengths = {int(chunk.shape[-1])} if isinstance(chunk, (torch.Tensor, np.ndarray)) \
            else {len(s) for s in chunk}
        other = sorted(lengths - {self.length})
        if other:
            self._length_warned = True
            warnings.warn(f"input of {', '.join(map(str, other))} bp for a model trained on "
                          f"{self.length} bp windows: predictions at other lengths are "
                          f"extrapolations (warned once per model).", RegdnaWarning, stacklevel=4)

    def _logits_batch(self, chunk) -> np.ndarray:
        self._check_length(chunk)
        if isinstance(chunk, (torch.Tensor, np.ndarray)):
            x = torch.as_tensor(chunk, dtype=torch.float32, device=self.device)
            z = self._forward(x)
            if self.rc_average:
                z = (z + self._forward(torch.flip(x, dims=(1, 2)))) / 2
        else:
            z = self._forward(self.encode(chunk))
            if self.rc_average:
                z = (z + self._forward(self.encode([reverse_complement(s) for s in chunk]))) / 2
        return z.float().cpu().numpy()

    @torch.inference_mode()
    def sample_logits(self, seqs) -> np.ndarray:
        """The logits of every ensemble member and MC-dropout pass: (S, N, T) float32, S =
        `n_samples` (member-major: member k's T passes are rows k*T .. k*T + T - 1)."""
        ensemble = self.ensemble
        members = range(len(ensemble)) if ensemble is not None else [None]
        samples = []
        self._sampling = True
        try:
            with self._seeded():
                for k in members:
                    if ensemble is not None:
                        ensemble.active = k
                    for _ in range(self.mc_dropout or 1):
                        samples.append(self._logits(seqs))
        finally:
            self._sampling = False
            if ensemble is not None:
                ensemble.active = None
        return np.stack(samples)

    def logits_with_samples(self, seqs) -> tuple[np.ndarray, np.ndarray]:
        """(logits (N, T), samples (S, N, T)) from one set of passes: the logits are the
        samples' mean, except for a profile ensemble, whose logit is that of the members' mean
        profile (one more pass)."""
        samples = self.sample_logits(seqs)
        if self.profile_model is not None and self.is_ensemble:
            return self.logits(seqs), samples
        return samples.mean(axis=0), samples

    def predict_std(self, samples: np.ndarray) -> np.ndarray:
        """(N, T) standard deviation over the samples (`sample_logits`) of the activated outputs
        (probabilities; a profile's summed coverage); zeros for a single sample."""
        return np.asarray(activate(samples, self.task)).std(axis=0)

    def member_predictors(self) -> list["Predictor"] | None:
        """One Predictor per ensemble member (same settings, no threshold), or None."""
        if not self.is_ensemble:
            return None
        return [Predictor(member, task=self.task, labels=self.labels, length=self.length,
                          device=self.device, batch_size=self.batch_size,
                          rc_average=self.rc_average, run_dir=self.run_dir, scalar=self.scalar,
                          mc_dropout=self.mc_dropout, seed=self.seed)
                for member in self.ensemble.members]

    def predict(self, seqs) -> np.ndarray:
        """Probabilities: `activate(logits(seqs), task)`.

        Parameters
        ----------
        seqs : sequence of str, or array / tensor (N, 4, L)
            As `logits`.

        Returns
        -------
        numpy.ndarray
            (N, T) float32: probabilities in [0, 1] (sigmoid for binary / multilabel, softmax
            over the T classes for multiclass), values for regression (exp for poisson).
        """
        return activate(self.logits(seqs), self.task)

    @torch.inference_mode()
    def profile(self, seqs: Sequence[str] | torch.Tensor | np.ndarray) -> np.ndarray:
        """Predicted coverage of a profile model, in batches, without gradients.

        Parameters
        ----------
        seqs : sequence of str, or array / tensor (N, 4, L)
            Windows of exactly `length` bp.

        Returns
        -------
        numpy.ndarray
            (N, L / bin_size, T) float32: mean coverage per base within each bin (averaged with
            the reverse complement's profile, reversed back, when `rc_average`).
        """
        if self.profile_model is None:
            raise RegdnaError("this model predicts one value per output, not a coverage profile; "
                              "profiles come from models trained on a coverage dataset.")
        outs = []
        for start in range(0, len(seqs), self.batch_size):
            chunk = seqs[start:start + self.batch_size]
            self._check_profile_length(chunk)
            x = torch.as_tensor(chunk, dtype=torch.float32, device=self.device) \
                if isinstance(chunk, (torch.Tensor, np.ndarray)) else self.encode(chunk)
            y = self.profile_model(x)
            if self.rc_average:
                y = (y + torch.flip(self.profile_model(torch.flip(x, dims=(1, 2))), dims=(1,))) / 2
            outs.append(y.float().cpu().numpy())
        if not outs:
            n_bins = (self.length or 0) // (self.bin_size or 1)
            return np.zeros((0, n_bins, self.n_outputs), dtype=np.float32)
        return np.concatenate(outs)

    # -- embeddings -----------------------------------------------------------------------------
    def embed(self, seqs: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Penultimate embeddings: float32 (N, D), the pooled input of the model's output layer
        (module doc), in batches, without gradients."""
        return self.embedding(seqs, batch_size)[0]

    def embedding(self, seqs: Sequence[str], batch_size: int | None = None
                  ) -> tuple[np.ndarray, str, str]:
        """`embed` with its provenance: (features (N, D), the name of the layer whose input
        they are, how that input was pooled)."""
        model = self.profile_model if self.profile_model is not None else self.model
        names = {module: name for name, module in model.named_modules()
                 if isinstance(module, (torch.nn.Linear, torch.nn.Conv1d))}
        if not names:
            raise RegdnaError(f"{type(model).__name__} has no Linear or Conv1d layer whose input "
                              "could serve as the embedding.")
        seen: list = []

        def record(module, inputs):
            seen.append((module, inputs[0]))

        handles = [module.register_forward_pre_hook(record) for module in names]
        batch_size = batch_size or self.batch_size
        chunks, layer, pooling = [], None, None
        try:
            with torch.inference_mode():
                for start in range(0, len(seqs), batch_size):
                    chunk = seqs[start:start + batch_size]
                    self._check_length(chunk)
                    seen.clear()
                    model(self.encode(chunk))
                    module, value = seen[-1]
                    layer = names[module]
                    pooled, pooling = _pooled(module, value)
                    chunks.append(pooled.float().cpu().numpy())
        finally:
            for handle in handles:
                handle.remove()
        if not chunks:
            raise RegdnaError("no sequences to embed.")
        return np.concatenate(chunks), layer, pooling

    def predict_stream(self, chunks: Iterable[Sequence[str]]) -> Iterable[np.ndarray]:
        """Predict chunk by chunk: constant memory in the number of sequences."""
        for chunk in chunks:
            yield self.predict(chunk)

    # -- gradients ------------------------------------------------------------------------------
    def input_gradients(self, seqs: Sequence[str] | torch.Tensor | np.ndarray,
                        output: int = 0) -> np.ndarray:
        """Corrected gradient of one output logit with respect to the one-hot input.

        The gradient is taken in batches of `batch_size` (averaged over the reverse complement
        when `rc_average`, as `logits`), and the per-position mean over the 4 bases is
        subtracted (Majdandzic et al. 2023): one-hot inputs cannot move off the simplex, so
        that component says nothing about the sequence. Times the one-hot input it is
        gradient x input.

        Parameters
        ----------
        seqs : sequence of str, or array / tensor (N, 4, L)
            As `logits`; one-hot models whose output is differentiable in the input (a
            RegdnaError otherwise, e.g. for k-mer counts).
        output : int, default 0
            Index of the output logit.

        Returns
        -------
        numpy.ndarray
            (N, L, 4) float32, in logit units per base.
        """
        if self.input_kind == "tokens":
            raise RegdnaError("gradients with respect to one-hot input need a one-hot (CNN) "
                              "model; for a token model use `regdna attribute`, which attributes "
                              "through the token embedding.")
        if not 0 <= output < self.n_outputs:
            raise RegdnaError(f"output {output} out of range: the model has {self.n_outputs} "
                              f"outputs ({', '.join(self.labels)}).")
        outs = []
        for start in range(0, len(seqs), self.batch_size):
            chunk = seqs[start:start + self.batch_size]
            x = torch.as_tensor(chunk, dtype=torch.float32, device=self.device) \
                if isinstance(chunk, (torch.Tensor, np.ndarray)) else self.encode(chunk)
            with torch.inference_mode(False), torch.enable_grad():
                x = x.detach().clone().requires_grad_(True)
                z = self._forward(x)
                if self.rc_average:
                    z = (z + self._forward(torch.flip(x, dims=(1, 2)))) / 2
                grad = torch.autograd.grad(z[:, output].sum(), x, allow_unused=True)[0] \
                    if z.requires_grad else None
            if grad is None:
                raise RegdnaError(f"{type(self.model).__name__}'s output is not a differentiable "
                                  f"function of its one-hot input (e.g. k-mer counts): it has "
                                  f"no input gradients.")
            grad = grad - grad.mean(dim=1, keepdim=True)
            outs.append(grad.transpose(1, 2).float().cpu().numpy())
        if not outs:
            return np.zeros((0, self.length or 0, 4), dtype=np.float32)
        return np.concatenate(outs)


_DROPOUT = (torch.nn.Dropout, torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.AlphaDropout)


def _dropout_layers(model) -> list:
    """The dropout layers that drop something (p > 0)."""
    return [m for m in model.modules() if isinstance(m, _DROPOUT) and m.p > 0]


@contextlib.contextmanager
def _dropout_on(model):
    """Dropout layers in training mode (MC dropout), everything else as it was."""
    layers = [m for m in _dropout_layers(model) if not m.training]
    for layer in layers:
        layer.train()
    try:
        yield
    finally:
        for layer in layers:
            layer.eval()


def _pooled(module, value):
    """(N, D) and the rule: a Conv1d input averaged over positions, a Linear input over the
    axes between the first and the last."""
    if isinstance(module, torch.nn.Conv1d):
        return value.mean(dim=-1), "mean over positions (Conv1d input)"
    if value.dim() == 2:
        return value, "none (Linear input, one vector per sequence)"
    return value.reshape(value.shape[0], -1, value.shape[-1]).mean(dim=1), \
        "mean over positions (Linear input)"


def load_predictor(run_dir: str | Path, device: str | torch.device | None = None,
                   checkpoint: str = "best", **kwargs):
    """Rebuild the model of a run dir from its config.yaml, load the weights and wrap it in a
    Predictor: THE way to load a model from a run.

    Parameters
    ----------
    run_dir : path or str
        A run dir written by `regdna train`, or a published model's spec `<family>:<path>`
        (`regdna.models.published`; kwargs `targets` and `aggregation` pick and aggregate its
        output tracks).
    device : str or torch.device, optional
        Torch device (default: CUDA when present, else CPU).
    checkpoint : str, default "best"
        "best", "last" or a path to a .ckpt file.
    **kwargs
        Predictor arguments overriding the run's (batch_size, rc_average, threshold,
        mc_dropout, seed; scalar for profile runs).

    Returns
    -------
    Predictor
        With the run's task, labels, length (bp) and validation threshold (None before the
        run finished).
    """
    from regdna.models.published import parse_published

    if parse_published(run_dir) is not None:
        return _published_predictor(str(run_dir), device, **kwargs)
    config = read_run_config(run_dir)
    path = checkpoint_path(run_dir, checkpoint)
    info = dataset_info_of_run(config)
    model = _build(config, info)
    state = load_state_dict(path)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise RegdnaError(f"checkpoint {path} does not match model '{config.model.spec}' built from "
                          f"{config_path(run_dir)} (missing: {missing[:5]}, unexpected: "
                          f"{unexpected[:5]}); was config.yaml edited?")
    loss = config.train.loss if config.train.loss != "auto" else \
        default_loss(info.task, info.regression_loss)
    labels = info.classes if info.task == "multiclass" else info.labels
    options = {"batch_size": config.predict.batch_size, "rc_average": config.predict.rc_average,
               "threshold": read_threshold(run_dir)}
    options.update(kwargs)
    task = "poisson" if loss == "poisson" and info.task != "profile" else info.task
    return Predictor(model, task=task, labels=labels,
                     length=info.length, device=device, run_dir=run_dir, **options)


def _build(config, info) -> torch.nn.Module:
    """The run's model, untrained: one model, or an Ensemble of one per seed of model.ensemble."""
    def one():
        return build_model(config.model.spec, info, bin_size=config.data.bin_size,
                           **config.model.options)

    if not config.model.ensemble:
        return one()
    from regdna.models.ensemble import Ensemble

    return Ensemble([one() for _ in config.model.ensemble])


def _published_predictor(spec: str, device, targets=None, aggregation=None, **kwargs) -> Predictor:
    """The Predictor of a published model (`regdna.models.published.load_published`): no run
    dir, no threshold; `source` records the spec and `published` what was loaded."""
    from regdna.models.published import load_published

    published = load_published(spec, targets=targets, aggregation=aggregation)
    kwargs.pop("threshold", None)
    kwargs.pop("scalar", None)
    if kwargs.get("batch_size") is None:
        from regdna.models.published import default_batch_size

        kwargs["batch_size"] = default_batch_size(published, device or default_device())
    predictor = Predictor(published.model, task=published.task, labels=published.labels,
                          length=published.length, device=device, **kwargs)
    predictor.published = published
    return predictor
