"""Session fixtures of the training domain: a small trained basset run on `dataset_dir`.

`basset_run` is a run dir exactly as `regdna train` writes it (config.yaml, metrics.csv,
checkpoints/best.ckpt + last.ckpt, threshold.json, resources.json), already evaluated on the test
split (metrics_test.json + figures/). The network is Basset with its channel counts scaled down
(`filters`) and a global max-pool, so that it trains in well under 30 s on 2 CPU cores.
"""
import pytest

BASSET_RUN_OVERRIDES = [
    "model.options={filters: 0.1, hidden: 32, bins: 1, exp_activation: false}",
    "data.batch_size=32", "optim.lr=3e-3", "train.max_epochs=10", "train.patience=0",
]
# Stated quality of the fixture on the test split of `dataset_dir` (checked in
# tests/train/test_fit.py): the planted grammar is learned well above chance.
BASSET_RUN_MIN_TEST_AUROC = 0.6


@pytest.fixture(scope="session")
def basset_run(dataset_dir, tmp_path_factory):
    """Run dir of a small basset trained on `dataset_dir` and evaluated on its test split."""
    import torch

    from regdna.evaluate.evaluate import evaluate
    from regdna.train.fit import fit

    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # the 2 CPU cores are shared: one thread is faster and reproducible
    try:
        run = fit(dataset_dir, "basset", tmp_path_factory.mktemp("runs") / "basset",
                  overrides=BASSET_RUN_OVERRIDES, progress=False)
        evaluate(run, split="test", n_boot=200)
    finally:
        torch.set_num_threads(threads)
    return run
