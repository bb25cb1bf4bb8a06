"""`regdna motifs` finds the motifs of every class: on a two-factor task (positives carry CTCF,
negatives SPI1, as in a ChIP-seq comparison of two factors) a small basset names CTCF for class
1 and SPI1 for class 0."""
import json

import numpy as np
import pandas as pd
import pytest

from regdna.io.jaspar import load_motif, sample_from_ppm

from helpers import random_seq

FACTOR_1, FACTOR_0 = "CTCF", "SPI1"
LENGTH, N_PER_CLASS = 100, 300
BLANK = 0.25       # share of each class with neither factor (peaks without the motif)


def _two_factor_fasta(path, factor: str, label: int, rng) -> tuple:
    """N_PER_CLASS random sequences, each but a `BLANK` share carrying one site of `factor`
    drawn from its JASPAR matrix squared (consensus-like sites with variation), either strand,
    at a random place. Without blanks a model can call one class by the absence of the other's
    factor and never learn it; with them each factor must be learned."""
    ppm = load_motif(factor).ppm ** 2
    ppm /= ppm.sum(1, keepdims=True)
    with open(path, "w") as handle:
        for i in range(N_PER_CLASS):
            seq = random_seq(LENGTH, rng)
            if rng.random() >= BLANK:
                site = sample_from_ppm(ppm, rng)
                if rng.random() < 0.5:
                    site = site.translate(str.maketrans("ACGT", "TGCA"))[::-1]
                start = int(rng.integers(0, LENGTH - len(site)))
                seq = seq[:start] + site + seq[start + len(site):]
            handle.write(f">{factor}_{i}\n{seq}\n")
    return path, str(label)


@pytest.fixture(scope="module")
def two_factor_run(tmp_path_factory):
    """(dataset dir, run dir): 600 sequences of 100 bp, basset (3 convolutions of 30/20/20
    filters, exponential first layer, one bin) trained 8 epochs."""
    from regdna.data.prepare import run_prepare
    from regdna.train.train import fit

    root = tmp_path_factory.mktemp("two_factor")
    rng = np.random.default_rng(0)
    fasta = [_two_factor_fasta(root / "pos.fa", FACTOR_1, 1, rng),
             _two_factor_fasta(root / "neg.fa", FACTOR_0, 0, rng)]
    data = run_prepare(root / "data", fasta=fasta, split="random", seed=0, figures=False)
    run = fit(data, "basset", root / "run", progress=False, overrides=[
        "model.options={filters: 0.1, hidden: 32, bins: 1, exp_activation: true}",
        "data.batch_size=32", "optim.lr=1e-2", "train.max_epochs=8", "train.patience=0"])
    return data, run


@pytest.fixture(scope="module")
def report(two_factor_run, tmp_path_factory):
    from regdna.interpret.motifs import run_motifs

    data, run = two_factor_run
    out = tmp_path_factory.mktemp("motifs") / "out"
    notes = []
    result = run_motifs(out, run=run, data=data, split="train", method="grad_x_input",
                        n_per_class=250, say=notes.append)
    return result, out, notes


def _best(group) -> dict:
    """A class's best-matched motif: the one with the smallest q-value."""
    matched = [m for m in group["motifs"] if m["q_value"] is not None]
    return min(matched, key=lambda m: m["q_value"])


def test_each_class_is_named_by_its_own_factor(report):
    result, out, _ = report
    groups = {g["class"]: g for g in result["classes"]}
    assert list(groups) == ["0", "1"]
    best_1, best_0 = _best(groups["1"]), _best(groups["0"])
    # measured: CTCF q = 5e-9, SPI1 q = 3e-4
    assert best_1["best_match"].upper() == FACTOR_1 and best_1["q_value"] < 1e-3, groups["1"]
    assert best_0["best_match"].upper() == FACTOR_0 and best_0["q_value"] < 1e-3, groups["0"]
    assert best_1["n_seqlets"] >= 50 and best_0["n_seqlets"] >= 40   # measured 71 and 54
    # no class is named by the other's factor
    assert not any((m["best_match"] or "").upper() == FACTOR_0 for m in groups["1"]["motifs"])
    assert not any((m["best_match"] or "").upper() == FACTOR_1 for m in groups["0"]["motifs"])
    # each class explained from its own training sequences (217 of each in the train split)
    assert groups["0"]["n_sequences"] == groups["1"]["n_sequences"] == 217


def test_tables_and_logos_carry_the_class(report):
    result, out, _ = report
    table = pd.read_csv(out / "motifs.tsv", sep="\t", dtype={"class": str})
    assert list(table.columns[:2]) == ["class", "motif"]
    best = table[table["rank"] == 1].groupby("class")["name"].apply(lambda s: set(s.str.upper()))
    assert FACTOR_1 in best["1"] and FACTOR_0 in best["0"]
    saved = json.loads((out / "motifs.json").read_text())
    assert [g["class"] for g in saved["classes"]] == ["0", "1"]
    assert saved["classes"] == result["classes"]
    assert len(result["motifs"]) == sum(len(g["motifs"]) for g in saved["classes"])
    logos = sorted(p.name for p in (out / "logos").iterdir())
    assert logos == sorted(f"{m['class']}_{m['motif']}.png" for m in result["motifs"])


def test_class_option_keeps_one_class_and_old_n_spelling_warns(two_factor_run, tmp_path):
    from typer.testing import CliRunner

    from regdna.cli import app

    data, run = two_factor_run
    out = tmp_path / "class0"
    result = CliRunner().invoke(app, ["motifs", "--run", str(run), "--data", str(data),
                                      "--split", "train", "--class", "0", "--n", "200",
                                      "--method", "grad_x_input", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "--n is now --n-per-class" in result.output
    assert "class 0: using the first 200 of 217 sequences" in result.output
    saved = json.loads((out / "motifs.json").read_text())
    assert [g["class"] for g in saved["classes"]] == ["0"]
    assert saved["classes"][0]["n_sequences"] == 200


def test_saved_attributions_of_both_classes_name_both_factors(two_factor_run, tmp_path):
    """From `regdna attribute`'s output (one output, both classes' sequences): one TF-MoDISco
    run, positive patterns for class 1, negative ones for class 0."""
    from regdna.interpret.attribute import run_attribute
    from regdna.interpret.motifs import run_motifs

    data, run = two_factor_run
    run_attribute(run, tmp_path / "attr", method="grad_x_input", data=data, split="train",
                  logos=0, say=lambda note: None)
    result = run_motifs(tmp_path / "motifs", attributions=tmp_path / "attr", run=run)
    groups = {g["class"]: g for g in result["classes"]}
    assert list(groups) == ["1", "0"] and groups["1"]["n_sequences"] == 434
    assert _best(groups["1"])["best_match"].upper() == FACTOR_1
    assert _best(groups["0"])["best_match"].upper() == FACTOR_0
    assert all(m["motif"].startswith("pos_") for m in groups["1"]["motifs"])
    assert all(m["motif"].startswith("neg_") for m in groups["0"]["motifs"])

# -- which sequences and signs each class gets (no model needed) ----------------------------------
class _Outputs:
    """The part of a Predictor `class_groups` reads: outputs and their names."""

    def __init__(self, labels):
        self.labels, self.n_outputs = list(labels), len(labels)

    def output_index(self, output):
        return self.labels.index(output) if output in self.labels else int(output)


def _records(columns: dict) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"id": [f"s{i}" for i in range(n)],
                         "sequence": [f"SEQ{i}" for i in range(n)], **columns})


def test_binary_classes_take_their_own_sequences_and_signs():
    from regdna.data.dataset import DatasetInfo
    from regdna.interpret.motifs import class_groups

    info = DatasetInfo(task="binary", labels=["bound"], classes=["B-bound", "A-bound"])
    table = _records({"bound": [1.0, 0.0, 1.0, 0.0, 0.0]})
    groups = class_groups(info, _Outputs(["bound"]), table, None, None, 500)
    assert [(g.name, g.output, g.sign, g.seqs) for g in groups] == [
        ("B-bound", 0, -1, ["SEQ1", "SEQ3", "SEQ4"]), ("A-bound", 0, 1, ["SEQ0", "SEQ2"])]
    notes = []
    only = class_groups(info, _Outputs(["bound"]), table, "B-bound", None, 2, notes.append)
    assert [(g.name, g.seqs) for g in only] == [("B-bound", ["SEQ1", "SEQ3"])]
    assert notes == ["class B-bound: using the first 2 of 3 sequences (--n-per-class 2)"]


def test_multilabel_outputs_take_their_positives_and_regression_keeps_both_signs():
    from regdna.data.dataset import DatasetInfo
    from regdna.errors import RegdnaError
    from regdna.interpret.motifs import class_groups

    info = DatasetInfo(task="multilabel", labels=["gata", "spi1"])
    table = _records({"gata": [1.0, 0.0, 1.0], "spi1": [0.0, 1.0, 1.0]})
    groups = class_groups(info, _Outputs(info.labels), table, None, None, 500)
    assert [(g.name, g.output, g.sign, g.keep, g.seqs) for g in groups] == [
        ("gata", 0, 1, (1,), ["SEQ0", "SEQ2"]), ("spi1", 1, 1, (1,), ["SEQ1", "SEQ2"])]
    assert [g.name for g in class_groups(info, _Outputs(info.labels), table, None, "spi1",
                                         500)] == ["spi1"]
    with pytest.raises(RegdnaError, match="--class applies to binary and multiclass"):
        class_groups(info, _Outputs(info.labels), table, "1", None, 500)
    many = DatasetInfo(task="regression", labels=[f"y{i}" for i in range(10)])
    notes = []
    groups = class_groups(many, _Outputs(many.labels), _records({f"y{i}": [0.5, 2.0]
                                                                  for i in range(10)}),
                          None, None, 500, notes.append)
    assert [(g.name, g.keep, g.seqs) for g in groups] == [("y0", (1, -1), ["SEQ0", "SEQ1"])]
    assert "the first of 10 classes or outputs" in notes[0]


def test_saved_attributions_split_by_sign_into_the_classes():
    from types import SimpleNamespace

    from regdna.interpret.motifs import _by_sign

    motifs = [SimpleNamespace(name="pos_0", sign=1), SimpleNamespace(name="neg_0", sign=-1)]
    binary = _by_sign(motifs, {"output": "bound", "task": "binary", "classes": None}, None, 9)
    assert [(c.name, [m.name for m in c.motifs]) for c in binary] == [("1", ["pos_0"]),
                                                                      ("0", ["neg_0"])]
    other = _by_sign(motifs, {"output": "gata", "task": "multilabel"}, None, 9)
    assert [c.name for c in other] == ["gata", "not gata"]
    regression = _by_sign(motifs, {"output": "y", "task": "regression"}, None, 9)
    assert [(c.name, len(c.motifs)) for c in regression] == [("y", 2)]
