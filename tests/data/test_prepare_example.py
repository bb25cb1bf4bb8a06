"""The shared `dataset_dir` fixture: the bundled example prepared as in the demo."""
import pandas as pd

from regdna.data.dataset import load_info, read_split


def test_dataset_dir_from_example(dataset_dir, example_dir):
    from fixtures_example import EXAMPLE_N_PER_CLASS, EXAMPLE_LENGTH

    info = load_info(dataset_dir)
    assert info.task == "binary" and info.labels == ["label"] and info.length == EXAMPLE_LENGTH
    assert info.counts["input"] == 2 * EXAMPLE_N_PER_CLASS
    assert info.counts["final"] == sum(info.splits[s]["n"] for s in ("train", "val", "test"))
    assert info.counts["leakage_shared_sequences"] == 0 and info.qc["leakage"]["shared_sequences"] == 0
    frames = {s: read_split(dataset_dir, s) for s in ("train", "val", "test")}
    assert set(frames["test"]["chrom"]) <= {"chr8", "chr9"} and len(frames["test"]) > 0
    assert set(frames["val"]["chrom"]) == {"chr10"}
    assert not set(frames["train"]["chrom"]) & {"chr8", "chr9", "chr10"}
    every = pd.concat(frames.values())
    # windows are genome[start:end] of the example genome, as the FASTA headers say
    from regdna.io.genome import Genome

    with Genome(example_dir / "genome.fa") as genome:
        for row in every.head(20).itertuples():
            assert genome.fetch(row.chrom, row.start, row.end) == row.sequence
    for split, frame in frames.items():
        assert frame["label"].value_counts().to_dict() == {
            float(k): v for k, v in info.splits[split]["per_class"].items() if v}
    assert (dataset_dir / "figures" / "qc_gc.png").is_file()
