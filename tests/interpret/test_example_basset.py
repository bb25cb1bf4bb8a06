"""Acceptance on the bundled example with `basset` (shared fixtures `basset_run`,
`dataset_dir`, `example_dir`): attributions find the planted motifs, the CLI writes logos."""
import json

import numpy as np
import pytest

from regdna.interpret.attributions import attribute
from regdna.interpret.sites import load_sites, site_auroc, site_boxes, site_mask


@pytest.fixture(scope="module")
def basset(basset_run):
    from regdna.runs import load_predictor

    run = basset_run

    return run, load_predictor(run, device="cpu")


@pytest.fixture(scope="module")
def planted_positives(basset, dataset_dir, example_dir):
    from regdna.data.dataset import load_info, read_split

    info = load_info(dataset_dir)
    test = read_split(dataset_dir, "test")
    positives = test[test[info.labels[0]] == 1].head(30).reset_index(drop=True)
    boxes = site_boxes(positives, load_sites(example_dir / "motifs.tsv"))
    return list(positives.sequence), site_mask(boxes, len(positives.sequence[0]))


@pytest.mark.parametrize("method", ["grad_x_input", "integrated_gradients", "deeplift_shap",
                                    "ism"])
def test_attribution_auroc_at_planted_sites(basset, planted_positives, method):
    _, predictor = basset
    seqs, mask = planted_positives
    assert mask.any(1).all()
    attr = attribute(predictor, seqs, method, n_references=4, n_steps=8)
    auroc = site_auroc(attr, mask)
    print(f"{method}: AUROC at planted sites {auroc:.3f}")
    # issue 6's bar; attributions blind to the motifs score ~0.5
    assert auroc >= 0.8


def test_attribute_cli_writes_boxed_logos(basset, example_dir, tmp_path):
    from regdna.cli import main

    run, _ = basset
    out = tmp_path / "attr"
    main(["attribute", "--run", str(run), "--fasta", str(example_dir / "pos.fa"), "--n", "4",
          "--method", "grad_x_input", "--motifs", str(example_dir / "motifs.tsv"),
          "--logos", "2", "--out", str(out)])
    saved = np.load(out / "attributions.npz")
    assert saved["attributions"].shape == saved["hypothetical"].shape == saved["onehot"].shape
    assert len(list((out / "logos").glob("*.png"))) == 2
    assert json.loads((out / "summary.json").read_text())["n_with_sites"] == 4


def test_rollout_on_cnn_is_a_clear_error(basset, example_dir, tmp_path, capsys):
    from regdna.cli import main

    run, _ = basset
    with pytest.raises(SystemExit) as exit_:
        main(["attribute", "--run", str(run), "--fasta", str(example_dir / "pos.fa"),
              "--method", "rollout", "--out", str(tmp_path / "x")])
    assert exit_.value.code == 2
    assert "grad_x_input" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_mutating_top_integrated_gradients_positions_breaks_positives(basset, dataset_dir):
    """The faithfulness test of Consens et al. n.d. (issue 6 acceptance): mutating the 20 positions
    ranked highest by integrated gradients drops positive-class accuracy below the 95% interval of
    mutating 20 random positions."""
    from regdna.data.dataset import load_info, read_split
    from regdna.interpret.faithfulness import faithfulness

    _, predictor = basset
    label = load_info(dataset_dir).labels[0]
    test = read_split(dataset_dir, "test")
    positives = test[test[label] == 1].head(40)
    table = faithfulness(predictor, list(positives.sequence), np.ones(len(positives), dtype=int),
                         ["integrated_gradients"], ns=(20,), n_repeats=20, n_references=4,
                         n_steps=8)
    at20 = table[(table.cls == 1) & (table.n == 20)].set_index("method")
    ig, random = at20.loc["integrated_gradients"], at20.loc["random"]
    print(f"positives at n=20: IG {ig.accuracy:.3f}, random {random.accuracy:.3f} "
          f"[{random.lo:.3f}, {random.hi:.3f}]")
    assert ig.accuracy < random.lo
