"""Session fixtures of the training domain: a small trained basset run.

`basset_run` is a run dir exactly as `regdna train` writes it (config.yaml, metrics.csv,
checkpoints/best.ckpt + last.ckpt, threshold.json, resources.json), already evaluated on its test
split (metrics_test.json + figures/). The network is Basset with its channel counts scaled to a
quarter (`filters: 0.25`), a global max-pool and an exponential first layer.

Why not train on `dataset_dir` itself: its ~440 training windows are too few for a CNN to learn
the example's grammar (measured: test AUROC 0.71-0.85 at 700 windows per class, overfitting). So
the fixture prepares a second example from the same generator with another seed (`seed=1`, 2000
windows per class, the demo size: no window is shared with `dataset_dir`) with the same
`regdna prepare` arguments. The model fits `dataset_dir` exactly (binary, label `label`, 200 bp):
`regdna.evaluate.run_evaluate(basset_run, data_dir=dataset_dir)` evaluates it there.
"""
import pytest

BASSET_RUN_OVERRIDES = [
    "model.options={filters: 0.25, hidden: 64, bins: 1, exp_activation: true}",
    "data.batch_size=32", "optim.lr=3e-3", "train.max_epochs=6", "train.patience=0",
]
BASSET_RUN_EXAMPLE = {"seed": 1, "n_per_class": 2000, "length": 200}
# Stated quality of the fixture on its test split (checked in tests/train/test_fit.py)
BASSET_RUN_MIN_TEST_AUROC = 0.85


@pytest.fixture(scope="session")
def basset_train_dir(tmp_path_factory):
    """Dataset dir (1000 windows per class, example seed 1) the `basset_run` fixture trains on."""
    from regdna.data.example import run_example
    from regdna.data.prepare import run_prepare

    root = tmp_path_factory.mktemp("basset_data")
    example = run_example(root / "example", **BASSET_RUN_EXAMPLE)
    return run_prepare(root / "dataset", fasta=[(example / "pos.fa", "1"), (example / "neg.fa", "0")],
                       split="chrom", test_chroms="chr8,chr9", val_chroms="chr10", seed=0,
                       figures=False)


@pytest.fixture(scope="session")
def basset_run(basset_train_dir, tmp_path_factory):
    """Run dir of a small basset (trained, evaluated on test; fits `dataset_dir` too)."""

    from regdna.evaluate.evaluate import run_evaluate
    from regdna.train.train import fit

    run = fit(basset_train_dir, "basset", tmp_path_factory.mktemp("runs") / "basset",
              overrides=BASSET_RUN_OVERRIDES, progress=False)
    run_evaluate(run, split="test", n_boot=200)
    return run


@pytest.fixture(scope="session")
def shortcut_data(tmp_path_factory):
    """(dataset dir, sites table) of the `shortcut` grammar (`regdna.data.grammars`) at its
    default size (2,000 windows per class): positives carry GATA1 anywhere, negatives SPI1 exactly at the window centre (a third
    of them background only)."""
    from regdna.data.grammars import write_grammar
    from regdna.data.prepare import run_prepare

    root = tmp_path_factory.mktemp("shortcut")
    table, sites = write_grammar(root / "raw", "shortcut", seed=0)
    data = run_prepare(root / "dataset", table=table, labels=["label"], split="column",
                       split_column="split", figures=False)
    from regdna.interpret.sites import load_sites

    return data, load_sites(sites)


@pytest.fixture(scope="session")
def shortcut_run(shortcut_data, tmp_path_factory):
    """Run dir of `regdna train` with every default (the `cnn` model) on `shortcut_data`,
    12 epochs."""
    from regdna.train.train import fit

    return fit(shortcut_data[0], None, tmp_path_factory.mktemp("shortcut_runs") / "default",
               overrides=["train.max_epochs=12"], progress=False)
