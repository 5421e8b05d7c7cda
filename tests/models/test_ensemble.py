"""Ensembles: fusion rules, the weight search on made-up probabilities with a known best, persistence."""

from __future__ import annotations

import json

import numpy as np
import pytest

import fer_models
from fer_core import ConfigError
from fer_models.ensemble import (
    Ensemble,
    compare_ensembles,
    fuse,
    reciprocal_rank_fusion,
    search_weights,
    weight_grid,
    weighted_average,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _two_class_rows(n: int, true: int, other: int, p_true: float) -> np.ndarray:
    rows = np.zeros((n, 7))
    rows[:, true], rows[:, other] = p_true, 1.0 - p_true
    return rows


def known_best_problem() -> tuple[list[np.ndarray], np.ndarray]:
    """Two members whose weighted average is right on every image only for weights (0.7, 0.3).

    Half the images (true class 0): A gives it 0.7, B 0.1; class 0 wins iff w_A > 2/3.
    The other half (true class 3): A gives it 0.35, B 0.9; class 3 wins iff w_A < 8/11 (0.727).
    On a 0.1 grid only w_A = 0.7 satisfies both, and no grid point ties.
    """
    a = np.concatenate([_two_class_rows(50, 0, 5, 0.7), _two_class_rows(50, 3, 4, 0.35)])
    b = np.concatenate([_two_class_rows(50, 0, 5, 0.1), _two_class_rows(50, 3, 4, 0.9)])
    labels = np.array([0] * 50 + [3] * 50)
    return [a, b], labels


def test_weight_search_finds_the_known_best():
    probs, labels = known_best_problem()
    weights, accuracy = search_weights(probs, labels, step=0.1)
    assert weights == pytest.approx((0.7, 0.3)) and accuracy == 1.0
    # equal weights, or either member alone, get only half right
    for w in ([0.5, 0.5], [1, 0], [0, 1]):
        assert (weighted_average(probs, w).argmax(1) == labels).mean() == 0.5


def test_weight_search_with_three_members_ignores_a_useless_one():
    probs, labels = known_best_problem()
    noise = np.random.default_rng(0).dirichlet(np.ones(7), size=len(labels))
    weights, accuracy = search_weights([probs[0], noise, probs[1]], labels, step=0.1)
    assert accuracy == 1.0 and weights[1] < 0.2 and weights[0] > weights[2]


def test_weight_grid_covers_the_simplex():
    grid = list(weight_grid(3, 0.1))
    assert len(grid) == 66 and len(set(grid)) == 66  # C(12, 2)
    assert all(abs(sum(w) - 1) < 1e-9 and min(w) >= 0 for w in grid)
    with pytest.raises(ValueError, match="step must divide 1"):
        list(weight_grid(2, 0.3))


def test_rank_fusion_uses_orderings_not_confidences():
    a = np.array([[0.60, 0.30, 0.10, 0, 0, 0, 0]])
    b = np.array([[0.10, 0.50, 0.40, 0, 0, 0, 0]])
    assert reciprocal_rank_fusion([a, b]).argmax(1).tolist() == [1]
    # a member that becomes very confident in its top class changes nothing under rank fusion...
    a_sure = np.array([[0.99, 0.009, 0.001, 0, 0, 0, 0]])
    np.testing.assert_allclose(reciprocal_rank_fusion([a_sure, b]), reciprocal_rank_fusion([a, b]))
    # ...but it does under averaging
    assert weighted_average([a_sure, b]).argmax(1).tolist() == [0]
    fused = fuse([a, b], [2, 1], method="rrf")
    assert fused.shape == (1, 7) and fused.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="method must be one of"):
        fuse([a, b], method="vote")


def test_fusion_rejects_mismatched_members():
    with pytest.raises(ValueError, match="differ in shape"):
        weighted_average([np.zeros((2, 7)), np.zeros((3, 7))])
    with pytest.raises(ValueError, match="non-negative weights"):
        weighted_average([np.zeros((2, 7))] * 2, [1.0, -1.0])


def test_ensemble_of_runs_saves_loads_and_sums_its_cost(tiny_runs, tmp_path):
    members = [fer_models.load(r) for r in tiny_runs]
    ens = Ensemble(members, [0.3, 0.7], "weighted", refs=[str(r) for r in tiny_runs])
    faces = np.random.default_rng(1).integers(0, 256, (6, 48, 48), dtype=np.uint8)
    expected = 0.3 * members[0].predict_proba(faces) + 0.7 * members[1].predict_proba(faces)
    np.testing.assert_allclose(ens.predict_proba(faces), expected, atol=1e-6)
    assert ens.gmacs() == pytest.approx(members[0].gmacs() + members[1].gmacs())

    path = ens.save(tmp_path / "ensemble.json")
    loaded = fer_models.load(tmp_path)  # the folder works as well as the file
    assert isinstance(loaded, Ensemble) and loaded.weights == (0.3, 0.7)
    np.testing.assert_allclose(loaded.predict_proba(faces), expected, atol=1e-6)

    spec = json.loads(path.read_text())
    spec["members"][0]["sha256"] = "0" * 64
    path.write_text(json.dumps(spec))
    with pytest.raises(ConfigError, match="has changed since the ensemble was made"):
        fer_models.load(path)


def test_compare_ensembles_chooses_on_publictest_only(tiny_runs, fer2013_slice):
    from fer_core.data import load_dataset

    members = [fer_models.load(r) for r in tiny_runs]
    ds = load_dataset(fer2013_slice)
    result = compare_ensembles(members, ["a", "b"], ds, step=0.25)
    names = [r["name"] for r in result.rows]
    assert names[:2] == ["a (tta none)", "b (tta flip)"] and len(names) == 2 + 4
    select = ds.split("select")
    probs = [m.predict_proba(select.images) for m in members]
    best_w, best_acc = search_weights(probs, select.labels.numpy(), step=0.25)
    assert result.weights["weighted"] == best_w
    searched = next(r for r in result.rows if r["method"] == "weighted" and r["weights"] is not None)
    assert searched["select"] == pytest.approx(best_acc)
    assert "Protocol:" in result.markdown() and "PrivateTest (report)" in result.markdown()


class _FixedMember:
    """A member that answers fixed probabilities on its own class list."""

    def __init__(self, classes: tuple[str, ...], probs: np.ndarray) -> None:
        self.classes, self._probs, self.source, self.tta, self.name, self.size = (
            classes, probs, f"fixed-{len(classes)}", "none", "fixed", 48)

    def predict_proba(self, faces, **kwargs):
        return self._probs[: len(faces)]

    def gmacs(self) -> float:
        return 0.0


def test_an_eight_class_member_takes_part_on_the_seven():
    from fer_core import CLASSES, FERPLUS_CLASSES

    eight = np.array([[0.1, 0.0, 0.0, 0.1, 0.0, 0.0, 0.3, 0.5]])  # contempt 0.5: 7 renormalised
    ens = Ensemble([_FixedMember(CLASSES, np.full((1, 7), 1 / 7)), _FixedMember(FERPLUS_CLASSES, eight)],
                   [0.5, 0.5])
    seven = np.array([0.2, 0.0, 0.0, 0.2, 0.0, 0.0, 0.6])
    np.testing.assert_allclose(ens.member_probabilities(np.zeros((1, 48, 48)))[1][0], seven, atol=1e-6)
    np.testing.assert_allclose(ens.predict_proba(np.zeros((1, 48, 48)))[0], 0.5 / 7 + 0.5 * seven, atol=1e-6)
    with pytest.raises(ConfigError, match=r"lack \['neutral'\]"):
        Ensemble([_FixedMember(CLASSES[:6], np.zeros((1, 6)))])
