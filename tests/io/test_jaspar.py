"""regdna.io.jaspar: names, versions, bulk reads checked against pyjaspar, errors."""
import numpy as np
import pytest

from regdna.encode.onehot import reverse_complement
from regdna.errors import RegdnaError
from regdna.io.jaspar import (Motif, available_releases, load_collection, load_motif,
                              sample_from_ppm)


def _pyjaspar_counts(matrix_id, release="JASPAR2026"):
    from pyjaspar import jaspardb

    motif = jaspardb(release=release).fetch_motif_by_id(matrix_id)
    return motif.name, np.array([motif.counts[b] for b in "ACGT"], dtype=float).T


def test_names_are_case_insensitive_and_give_the_latest_version():
    upper, lower = load_motif("GATA1"), load_motif("gata1")
    assert upper.matrix_id == lower.matrix_id == "MA0035.5"   # MA0035.1..5 exist in JASPAR2026
    assert upper.tax_group == "vertebrates" and upper.collection == "CORE"
    assert load_motif("MA0035").matrix_id == "MA0035.5"
    assert load_motif("ma0035.4").matrix_id == "MA0035.4"
    assert load_motif("tal1::tcf3").matrix_id == "MA0091.2"


@pytest.mark.parametrize("matrix_id", ["MA0035.5", "MA0091.2", "MA0080.7", "MA0139.2"])
def test_counts_equal_pyjaspar_fetch(matrix_id):
    name, counts = _pyjaspar_counts(matrix_id)
    motif = load_motif(matrix_id)
    assert motif.name == name
    np.testing.assert_array_equal(motif.counts, counts)


def test_older_release_is_selectable():
    assert "JASPAR2020" in available_releases()
    old = load_motif("GATA1", release="JASPAR2020")
    assert old.release == "JASPAR2020"
    name, counts = _pyjaspar_counts(old.matrix_id, "JASPAR2020")
    np.testing.assert_array_equal(old.counts, counts)


def test_collection_matches_pyjaspar_query():
    from pyjaspar import jaspardb

    expected = {m.matrix_id for m in jaspardb(release="JASPAR2026").fetch_motifs(
        collection="CORE", tax_group="nematodes")}
    got = load_collection(collection="CORE", tax_group="nematodes")
    assert {m.matrix_id for m in got} == expected and len(got) == len(expected) > 0
    vertebrates = load_collection()
    base_ids = [m.matrix_id.split(".")[0] for m in vertebrates]
    assert len(base_ids) == len(set(base_ids)) > 800       # one (latest) version per matrix
    assert all(m.tax_group == "vertebrates" and m.collection == "CORE" for m in vertebrates)


def test_unknown_name_lists_closest_names():
    with pytest.raises(RegdnaError) as err:
        load_motif("GATA-1")
    message = str(err.value)
    assert "GATA-1" in message and "GATA1" in message and "closest names" in message
    with pytest.raises(RegdnaError, match="MA9999"):
        load_motif("MA9999.1")
    with pytest.raises(RegdnaError, match="JASPAR2026"):
        load_motif("GATA1", release="JASPAR1999")


def test_ppm_consensus_information_and_reverse_complement():
    counts = np.array([[10, 0, 0, 0], [0, 5, 5, 0], [1, 1, 1, 1], [0, 0, 2, 8]], dtype=float)
    motif = Motif("toy", "XX0001.1", counts)
    np.testing.assert_allclose(motif.ppm.sum(axis=1), 1.0)
    np.testing.assert_allclose(motif.ppm[3], [0, 0, 0.2, 0.8])
    assert motif.consensus == "ACAT"                      # ties go to the first base
    # 2 bits for a certain base, 1 bit for two equal bases, 0 for uniform
    np.testing.assert_allclose(motif.information[:3], [2.0, 1.0, 0.0])
    np.testing.assert_allclose(motif.information[3], 2 + 0.2 * np.log2(0.2) + 0.8 * np.log2(0.8))
    rc = Motif("toy", "XX0001.1", counts[[0, 3]]).reverse_complement()   # consensus AT
    np.testing.assert_array_equal(rc.counts, [[8, 2, 0, 0], [0, 0, 0, 10]])
    assert rc.consensus == "AT"
    gata1 = load_motif("GATA1")
    assert gata1.reverse_complement().consensus == reverse_complement(gata1.consensus)


def test_sample_from_ppm_follows_probabilities():
    ppm = np.array([[1.0, 0, 0, 0], [0.5, 0, 0, 0.5], [0, 0, 1.0, 0]])
    rng = np.random.default_rng(0)
    sites = [sample_from_ppm(ppm, rng) for _ in range(4000)]
    assert all(s[0] == "A" and s[2] == "G" and s[1] in "AT" for s in sites)
    share_t = np.mean([s[1] == "T" for s in sites])
    assert abs(share_t - 0.5) < 3 * np.sqrt(0.25 / 4000)
    with pytest.raises(RegdnaError):
        sample_from_ppm(np.ones((3, 5)), rng)
