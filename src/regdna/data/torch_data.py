"""Torch datasets, samplers and collate functions over a dataset dir split.

Batches are dicts `{"x": ..., "y": ..., "index": (N,)}`:
- one-hot models: `x` float32 (N, 4, L) (sequences are stored as uint8 base codes and expanded
  per batch, so memory holds 1 byte per base);
- token models: `x` = `model.tokenize(seqs)` (at least `input_ids`, `attention_mask` (N, S)),
  padded dynamically to a multiple of 8 (tensor cores like multiples of 8; King et al. n.d.), and
  batches are grouped by length so that little of each batch is padding;
- `y`: float32 (N, T) with NaN for missing labels (binary, multilabel, regression), or int64 (N,)
  class indices with -100 for missing (multiclass).
Shuffling is a pure function of (seed, epoch) (`set_epoch`), so a resumed run sees the batches an
uninterrupted run would have seen.
"""
from __future__ import annotations

import random
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from regdna.data.augment import augment_strings
from regdna.data.dataset import read_split
from regdna.encode.onehot import base_indices

IGNORE_INDEX = -100
ONEHOT_TABLE = torch.cat([torch.eye(4), torch.zeros(1, 4)])   # code 4 (N, padding) -> zeros


def targets_from_frame(frame, info) -> np.ndarray:
    """Label columns of a split -> float32 (N, T) (NaN = missing) or int64 (N,) for multiclass."""
    values = frame[list(info.labels)].to_numpy(dtype=np.float64)
    if info.task == "multiclass":
        column = values[:, 0]
        out = np.full(len(column), IGNORE_INDEX, dtype=np.int64)
        known = ~np.isnan(column)
        out[known] = column[known].astype(np.int64)
        return out
    return values.astype(np.float32)


class SequenceDataset(Dataset):
    """Sequences (strings) and their targets; item i = (i, target_i). Batches are built by a
    collate function that reads the sequences, so items stay tiny.

    Args:
        sequences: list of N upper-case DNA strings.
        targets: (N, T) float32 or (N,) int64 (see `targets_from_frame`).
    """

    def __init__(self, sequences: Sequence[str], targets: np.ndarray):
        self.sequences = list(sequences)
        self.targets = torch.as_tensor(targets)
        self.lengths = np.fromiter((len(s) for s in self.sequences), dtype=np.int64,
                                   count=len(self.sequences))

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, i: int) -> int:
        return i


class OneHotCollate:
    """Indices -> {"x": (N, 4, L) float32, "y", "index"}; codes are cached as uint8 (N, L_max)."""

    def __init__(self, dataset: SequenceDataset):
        self.dataset = dataset
        self.codes = torch.from_numpy(base_indices(dataset.sequences))

    def __call__(self, indices: list[int]) -> dict:
        index = torch.as_tensor(indices, dtype=torch.long)
        x = ONEHOT_TABLE[self.codes[index].long()].transpose(1, 2).contiguous()
        return {"x": x, "y": self.dataset.targets[index], "index": index}


def pad_to_multiple(batch: dict, multiple: int, pad_id: int = 0) -> dict:
    """Right-pad every (N, S) tensor of a token batch to S = a multiple of `multiple`
    (`input_ids` with `pad_id`, masks and other integer tensors with 0)."""
    if multiple <= 1:
        return batch
    out = {}
    for key, value in batch.items():
        if isinstance(value, torch.Tensor) and value.dim() == 2:
            extra = (-value.shape[1]) % multiple
            if extra:
                fill = pad_id if key == "input_ids" else 0
                value = torch.nn.functional.pad(value, (0, extra), value=fill)
        out[key] = value
    return out


class TokenCollate:
    """Indices -> {"x": model.tokenize(seqs) padded to a multiple of 8, "y", "index"};
    optional string augmentation (token models re-tokenize every batch anyway)."""

    def __init__(self, dataset: SequenceDataset, model, pad_multiple: int = 8, rc: bool = False,
                 max_shift: int = 0):
        self.dataset = dataset
        self.model = model
        self.pad_multiple = pad_multiple
        self.rc = rc
        self.max_shift = max_shift

    def __call__(self, indices: list[int]) -> dict:
        index = torch.as_tensor(indices, dtype=torch.long)
        seqs = [self.dataset.sequences[i] for i in indices]
        # models that look inputs up by content (probes on cached embeddings) set
        # augment_inputs = False: an augmented sequence would miss the cache
        if (self.rc or self.max_shift) and getattr(self.model, "augment_inputs", True):
            seqs = augment_strings(seqs, self.rc, self.max_shift)
        tokens = self.model.tokenize(seqs)
        pad_id = int(self.model.pad_token_id or 0)  # the model contract (regdna.models.base)
        x = pad_to_multiple(dict(tokens), self.pad_multiple, pad_id)
        return {"x": x, "y": self.dataset.targets[index], "index": index}


class EpochShuffleSampler(Sampler[int]):
    """A random permutation that depends only on (seed, epoch); `set_epoch` is called by Lightning."""

    def __init__(self, n: int, seed: int = 0, shuffle: bool = True):
        self.n, self.seed, self.shuffle, self.epoch = n, seed, shuffle, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        if not self.shuffle:
            return iter(range(self.n))
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=generator).tolist())


class LengthGroupedSampler(EpochShuffleSampler):
    """Shuffle, cut into mega-batches of `group * batch_size`, sort each by length (longest
    first): consecutive batches hold sequences of similar length, so dynamic padding is small
    (King et al. n.d., like transformers' `group_by_length`)."""

    def __init__(self, lengths: np.ndarray, batch_size: int, seed: int = 0, group: int = 50):
        super().__init__(len(lengths), seed, shuffle=True)
        self.lengths = np.asarray(lengths)
        self.mega = max(1, group * batch_size)

    def __iter__(self):
        order = list(super().__iter__())
        out: list[int] = []
        for start in range(0, len(order), self.mega):
            chunk = order[start:start + self.mega]
            out += sorted(chunk, key=lambda i: -self.lengths[i])
        return iter(out)


def load_split_dataset(data_dir, split: str, info) -> SequenceDataset:
    """Read one split of a dataset dir into a SequenceDataset."""
    frame = read_split(data_dir, split, columns=["sequence", *info.labels])
    return SequenceDataset(frame["sequence"].tolist(), targets_from_frame(frame, info))


def make_loader(dataset: SequenceDataset, model, batch_size: int, *, train: bool, seed: int = 0,
                num_workers: int = 0, rc: bool = False, max_shift: int = 0,
                group_by_length: bool = False, pad_multiple: int = 8) -> DataLoader:
    """A DataLoader for one split; one-hot models are augmented on the device (in the training
    step), token models in the collate function."""
    if getattr(model, "input_kind", "onehot") == "tokens":
        collate = TokenCollate(dataset, model, pad_multiple, rc=rc and train,
                               max_shift=max_shift if train else 0)
    else:
        collate = OneHotCollate(dataset)
    if train and group_by_length:
        sampler: Sampler = LengthGroupedSampler(dataset.lengths, batch_size, seed)
    else:
        sampler = EpochShuffleSampler(len(dataset), seed, shuffle=train)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, collate_fn=collate,
                      num_workers=num_workers, persistent_workers=num_workers > 0,
                      worker_init_fn=_seed_worker if num_workers > 0 else None)


def _seed_worker(worker_id: int) -> None:
    seed = torch.initial_seed() % 2 ** 32
    np.random.seed(seed)
    random.seed(seed)
