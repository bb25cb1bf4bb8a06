"""Coverage profiles as models see them: the input window cut from a stored window, targets binned
on the fly, and the torch dataset that does both for training (Toneyan et al. 2022).

A coverage dataset stores each window with `margin` extra bases on both sides and its coverage
at base resolution (`regdna.data.dataset`). A batch takes the central `length` bp of each stored
window (or, when training with shift augmentation, a random sub-window within the margin: input
and targets move together), optionally reverse-complements it (the targets are reversed along
the sequence with it), and bins the targets to the run's resolution by the mean within each bin:
an array of length L and bin size B is reshaped to (L / B, B) and averaged over B.

Batches are dicts `{"x": (N, 4, L) float32, "y": (N, L / B, T) float32, "index": (N,)}`. Memory
holds the sequences as uint8 base codes (1 byte per base); the coverage stays memory-mapped on
disk and is read per batch, so memory is flat in the number of windows. torch is imported
only where batches are built: `prepare` checks bin sizes here without loading it.
"""
from __future__ import annotations

import numpy as np

from regdna.encode.onehot import base_indices
from regdna.errors import RegdnaError


def check_bin_size(length: int, bin_size: int) -> None:
    """A clear error unless `bin_size` divides the input `length` (bins never straddle the end)."""
    if bin_size < 1 or length % bin_size:
        raise RegdnaError(f"bin size {bin_size} does not divide the input length {length} bp; "
                          f"choose a divisor of {length} (e.g. 1, 32, 128 or {length} for the "
                          f"whole window).")


def bin_mean(values, bin_size: int):
    """Mean within non-overlapping bins along the position axis.

    Parameters
    ----------
    values : numpy array or torch tensor, (..., L, T)
        coverage at base resolution (positions on the second-last axis).
    bin_size : int
        bp per bin; must divide L.

    Returns
    -------
    the same type, (..., L / bin_size, T), float32 (numpy) or the input's dtype (torch).
    """
    length = values.shape[-2]
    check_bin_size(length, bin_size)
    shape = (*values.shape[:-2], length // bin_size, bin_size, values.shape[-1])
    if type(values).__module__.startswith("torch"):      # a tensor: stays on its device
        return values.reshape(shape).mean(dim=-2)
    return np.asarray(values, dtype=np.float32).reshape(shape).mean(axis=-2)


def central(seqs, length: int) -> list[str]:
    """The central `length` bp of each sequence (a stored window without its margins)."""
    out = []
    for seq in seqs:
        extra = len(seq) - length
        if extra < 0:
            raise RegdnaError(f"a sequence of {len(seq)} bp is shorter than the model's input of "
                              f"{length} bp.")
        out.append(seq[extra // 2: extra // 2 + length])
    return out


class ProfileDataset:
    """Stored windows of one split: base codes (N, S) uint8 in memory (given as strings or as
    `base_indices` codes) and coverage (N, S, T) (a memory-mapped float16 array, or any array
    indexable by a sorted index list).

    A map-style dataset (item i is the index i); `ProfileCollate` cuts, augments and bins the
    batch."""

    def __init__(self, sequences, coverage, length: int, margin: int):
        import torch

        if len(sequences) != len(coverage):
            raise RegdnaError(f"{len(sequences)} sequences but {len(coverage)} coverage rows: the "
                              "dataset dir is inconsistent; re-run `regdna prepare`.")
        codes = sequences if isinstance(sequences, np.ndarray) else base_indices(list(sequences))
        self.codes = torch.from_numpy(codes)
        self.coverage = coverage
        self.rows = np.arange(len(coverage))          # coverage row of each item
        self.length, self.margin = int(length), int(margin)
        if self.codes.shape[1] != self.length + 2 * self.margin:
            raise RegdnaError(f"stored windows are {self.codes.shape[1]} bp, expected "
                              f"{self.length} + 2 x {self.margin} (dataset.json); re-run "
                              "`regdna prepare`.")

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i: int) -> int:
        return i

    def subset(self, keep: np.ndarray) -> "ProfileDataset":
        """The items `keep` (sorted indices), sharing the memory-mapped coverage."""
        import torch

        out = ProfileDataset.__new__(ProfileDataset)
        out.codes, out.coverage, out.rows = self.codes[torch.as_tensor(keep)], self.coverage, self.rows[keep]
        out.length, out.margin = self.length, self.margin
        return out


class ProfileCollate:
    """Indices -> {"x": (N, 4, L), "y": (N, L / bin_size, T), "index"}.

    Args:
        dataset: the ProfileDataset.
        bin_size: target resolution in bp.
        max_shift: training only: each window starts at a random offset within +-max_shift of
            the centre (at most the margin), drawn from `generator` or torch's global RNG.
        rc: training only: reverse-complement each window with probability 0.5, targets reversed.
    """

    def __init__(self, dataset: ProfileDataset, bin_size: int, max_shift: int = 0, rc: bool = False):
        check_bin_size(dataset.length, bin_size)
        self.dataset, self.bin_size = dataset, int(bin_size)
        self.max_shift = min(int(max_shift), dataset.margin)
        self.rc = rc
        from regdna.data.torch_data import ONEHOT_TABLE   # code 4 (N) -> zeros

        self.table = ONEHOT_TABLE

    def __call__(self, indices: list[int]) -> dict:
        import torch

        d = self.dataset
        index = torch.as_tensor(indices, dtype=torch.long)
        n = len(indices)
        offsets = torch.full((n,), d.margin, dtype=torch.long)
        if self.max_shift:
            offsets += torch.randint(-self.max_shift, self.max_shift + 1, (n,))
        rows = d.rows[np.asarray(indices)]
        order = np.argsort(rows)                          # memmaps read fastest in order
        rows = rows[order]
        cover = torch.from_numpy(np.asarray(d.coverage[rows], dtype=np.float32))
        cover = cover[torch.from_numpy(np.argsort(order))]             # back to batch order
        positions = offsets[:, None] + torch.arange(d.length)[None, :]   # (N, L)
        codes = torch.gather(d.codes[index].long(), 1, positions)
        y = torch.gather(cover, 1, positions[:, :, None].expand(-1, -1, cover.shape[2]))
        x = self.table[codes].transpose(1, 2).contiguous()           # (N, 4, L)
        if self.rc:
            flip = torch.rand(n) < 0.5
            if bool(flip.any()):
                x[flip] = torch.flip(x[flip], dims=(1, 2))
                y[flip] = torch.flip(y[flip], dims=(1,))
        return {"x": x, "y": bin_mean(y, self.bin_size), "index": index}


def load_profile_dataset(data_dir, split: str, info) -> ProfileDataset:
    """One split of a coverage dataset dir as a ProfileDataset (coverage memory-mapped; the
    sequences read in record batches straight into base codes, 1 byte per base)."""
    from regdna.data.dataset import iter_split, read_coverage

    if info.profile is None:
        raise RegdnaError(f"{data_dir} is not a coverage dataset (dataset.json has no profile); "
                          "make one with `regdna prepare --bigwig TRACK.bw:NAME ...`.")
    coverage = read_coverage(data_dir, split)
    codes = np.full((len(coverage), info.profile.stored_length), 4, dtype=np.uint8)
    filled = 0
    for frame in iter_split(data_dir, split, batch_size=4096, columns=["sequence"]):
        part = base_indices(frame["sequence"].tolist(), info.profile.stored_length)
        codes[filled:filled + len(part)] = part[: len(codes) - filled]
        filled += len(part)
    if filled != len(codes):
        raise RegdnaError(f"{data_dir}: {split}.parquet has {filled} rows but {split}.coverage.npy "
                          f"{len(codes)}; the dataset dir is inconsistent, re-run `regdna prepare`.")
    return ProfileDataset(codes, coverage, info.length, info.profile.margin)


def make_profile_loader(dataset: ProfileDataset, batch_size: int, bin_size: int, *, train: bool,
                        seed: int = 0, num_workers: int = 0, rc: bool = False,
                        max_shift: int = 0):
    """A torch DataLoader over a ProfileDataset; shuffling is a pure function of (seed, epoch)
    as for label datasets (`regdna.data.torch_data.EpochShuffleSampler`)."""
    from torch.utils.data import DataLoader

    from regdna.data.torch_data import EpochShuffleSampler, _seed_worker

    collate = ProfileCollate(dataset, bin_size, max_shift=max_shift if train else 0, rc=rc and train)
    return DataLoader(dataset, batch_size=batch_size,
                      sampler=EpochShuffleSampler(len(dataset), seed, shuffle=train),
                      collate_fn=collate, num_workers=num_workers,
                      persistent_workers=num_workers > 0,
                      worker_init_fn=_seed_worker if num_workers > 0 else None)
