"""Writing the split files of a dataset dir: `{train,val,test}.parquet` streamed from the staged
records (pyarrow, no pandas; memory flat), and the optional `{split}.npz` export."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from regdna.data.dataset import SPLITS, read_split
from regdna.data.sources import NO_COORD
from regdna.io.npz import write_npz
from regdna.utils.progress import progress


def write_splits(out_dir: Path, stages, keep: np.ndarray, splits: np.ndarray, label_names: list[str],
                 recode: Callable[[np.ndarray], np.ndarray] | None = None, batch_size: int = 10_000,
                 show_progress: bool = False) -> None:
    """Stream the staged records into one Parquet file per split.

    Parameters
    ----------
    out_dir : the dataset dir being written.
    stages : the `regdna.data.staging.Stage`s, in the order their records were counted.
    keep : (N,) bool, the records that survived de-duplication.
    splits : (N,) int8 split codes (0 train, 1 val, 2 test) of every staged record.
    label_names : the label columns to write (staged as y0, y1, ...).
    recode : maps the staged first label to the final class number (named classes, numeric
        multiclass labels), or None.
    batch_size : records read from the stage at a time.
    show_progress : show a progress bar.
    """
    schema = pa.schema([("id", pa.string()), ("chrom", pa.string()), ("start", pa.int64()),
                        ("end", pa.int64()), ("sequence", pa.string())] +
                       [(c, pa.float64()) for c in label_names])
    writers = {name: pq.ParquetWriter(out_dir / f"{name}.parquet", schema) for name in SPLITS}
    offset = 0
    try:
        with progress(total=len(keep), desc="writing splits", unit="seq", enabled=show_progress) as bar:
            for stage in stages:
                for batch in stage.arrow_batches(batch_size):
                    k, s = keep[offset:offset + batch.num_rows], splits[offset:offset + batch.num_rows]
                    offset += batch.num_rows
                    for code, name in enumerate(SPLITS):
                        mask = k & (s == code)
                        if mask.any():
                            writers[name].write_table(_split_table(batch.filter(pa.array(mask)), schema,
                                                                   len(label_names), recode))
                    bar.update(batch.num_rows)
    finally:
        for writer in writers.values():
            writer.close()


def _split_table(rows: pa.RecordBatch, schema: pa.Schema, n_labels: int, recode) -> pa.Table:
    columns = [rows.column(c) for c in ("id", "chrom")]
    for c in ("start", "end"):   # unknown coordinate -> null (negative = padded window)
        col = rows.column(c)
        columns.append(pc.if_else(pc.equal(col, NO_COORD), pa.scalar(None, pa.int64()), col))
    columns.append(rows.column("sequence"))
    for j in range(n_labels):
        values = rows.column(f"y{j}")
        if j == 0 and recode is not None:
            values = pa.array(recode(values.to_numpy(zero_copy_only=False)), pa.float64())
        columns.append(values)
    return pa.Table.from_arrays(columns, schema=schema)


def export_npz(data_dir: Path, label_names: list[str]) -> None:
    """Write `{split}.npz` (X one-hot (N, L, 4), y (N,) or (N, T), ids) beside the split files."""
    for name in SPLITS:
        frame = read_split(data_dir, name)
        y = frame[label_names].to_numpy(dtype=np.float32)
        write_npz(data_dir / f"{name}.npz", frame["sequence"].tolist(), y[:, 0] if y.shape[1] == 1 else y,
                  ids=frame["id"].tolist())
