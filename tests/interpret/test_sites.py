"""Site tables in sequence coordinates (`seq_id, start, end`) place sites as `rel_start,
rel_end` tables do; `chrom` keeps a table genomic; `motif` is optional."""
import numpy as np
import pandas as pd
import pytest

from regdna.errors import RegdnaError
from regdna.interpret.attributions import attribute
from regdna.interpret.sites import load_sites, site_auroc, site_boxes, site_mask

from interp_helpers import TOY_MOTIF, make_planted


@pytest.fixture(scope="module")
def planted():
    """40 planted positives as FASTA-like records (no coordinates) and their site starts."""
    seqs, labels, starts = make_planted(40, seed=31)
    keep = labels == 1
    seqs = [s for s, k in zip(seqs, keep) if k]
    records = pd.DataFrame({"id": [f"seq{i}" for i in range(len(seqs))], "chrom": None,
                            "start": np.nan, "end": np.nan, "sequence": seqs})
    return records, starts[keep]


def _write(path, frame):
    frame.to_csv(path, sep="\t", index=False)
    return path


def test_in_sequence_table_gives_the_same_sites_and_auroc(planted, toy_predictor, tmp_path):
    records, starts = planted
    ends = starts + len(TOY_MOTIF)
    relative = _write(tmp_path / "rel.tsv", pd.DataFrame(
        {"seq_id": records.id, "rel_start": starts, "rel_end": ends, "motif": "AP-1"}))
    in_sequence = _write(tmp_path / "seq.tsv", pd.DataFrame(
        {"seq_id": records.id, "start": starts, "end": ends}))          # no motif column
    boxes_rel = site_boxes(records, load_sites(relative))
    boxes_seq = site_boxes(records, load_sites(in_sequence))
    assert [[b[:2] for b in row] for row in boxes_seq] == [[b[:2] for b in row] for row in boxes_rel]
    assert [[(s, s + 8)] for s in starts] == [[b[:2] for b in row] for row in boxes_seq]
    assert {b[2] for row in boxes_seq for b in row} == {"site"}
    attr = attribute(toy_predictor, list(records.sequence), "grad_x_input")
    length = attr.shape[1]
    auroc_rel = site_auroc(attr, site_mask(boxes_rel, length))
    auroc_seq = site_auroc(attr, site_mask(boxes_seq, length))
    assert auroc_seq == auroc_rel and auroc_seq > 0.9, auroc_seq   # the toy model found the site


def test_a_table_with_chrom_stays_genomic(tmp_path):
    records = pd.DataFrame({"id": ["r1"], "chrom": ["chr2"], "start": [1000], "end": [1100],
                            "sequence": ["A" * 100]})
    table = _write(tmp_path / "genomic.tsv", pd.DataFrame(
        {"seq_id": ["r1"], "chrom": ["chr2"], "start": [1010], "end": [1018], "motif": ["X"]}))
    assert site_boxes(records, load_sites(table)) == [[(10, 18, "X")]]


@pytest.mark.parametrize("frame, message", [
    (pd.DataFrame({"seq_id": ["a"], "start": [12], "end": [5]}), "line 2: site 12-5 of a"),
    (pd.DataFrame({"seq_id": ["a"], "start": [-3], "end": [5]}), "0 <= start < end"),
    (pd.DataFrame({"name": ["a"], "pos": [3]}), "needs columns seq_id, start, end"),
])
def test_bad_tables_are_one_line_errors(tmp_path, frame, message):
    with pytest.raises(RegdnaError, match=message):
        load_sites(_write(tmp_path / "bad.tsv", frame))
