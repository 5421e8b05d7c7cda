"""FER+'s 8 classes (contempt kept): labels, training an 8-way head, the protocol and its 7-class mapping."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_ferplus_protocol import ROWS, dataset_like, vote_file  # the made-up FER+ rows it explains

from fer_core import CLASSES, FERPLUS_CLASSES
from fer_core.config import ExperimentConfig
from fer_core.data import (
    FerDataset,
    apply_ferplus,
    data_report,
    format_report,
    label_classes,
    load_dataset,
    read_ferplus_votes,
)
from fer_core.training import (
    Trainer,
    classification_metrics,
    drop_contempt,
    evaluate,
    evaluate_ferplus,
    ferplus_test_set,
    load_trained_model,
    match_classes,
    model_weights_from,
)

CONTEMPT = FERPLUS_CLASSES.index("contempt")


@pytest.fixture
def made_up(tmp_path):
    return dataset_like([r[0] for r in ROWS]), read_ferplus_votes(vote_file(tmp_path / "v.csv", ROWS))


def test_contempt_comes_last_after_the_canonical_seven():
    assert FERPLUS_CLASSES[:7] == CLASSES and CONTEMPT == 7
    assert label_classes("ferplus8-majority") == label_classes("ferplus8-distribution") == FERPLUS_CLASSES
    assert label_classes("ferplus-majority") == label_classes("fer2013") == CLASSES


def test_eight_class_majority_and_distribution_keep_contempt(made_up):
    _, votes = made_up
    # row 2: contempt 6 of 10 votes: no label on 7 classes, class 7 on FER+'s 8
    assert votes.majority()[2] == -1 and votes.majority(contempt=True)[2] == CONTEMPT
    dist = votes.distribution(contempt=True)
    assert dist.shape == (len(ROWS), 8)
    np.testing.assert_allclose(dist[2, [CLASSES.index("neutral"), CONTEMPT]], [0.4, 0.6])
    no_contempt = dist[:, CONTEMPT] == 0  # there the 8-class shares are the 7-class ones
    np.testing.assert_allclose(dist[no_contempt, :7], votes.distribution()[no_contempt])


def test_apply_ferplus_with_contempt_says_its_classes(made_up):
    ds, votes = made_up
    eight = apply_ferplus(ds, votes, "majority", contempt=True)
    seven = apply_ferplus(ds, votes, "majority")
    assert eight.classes == FERPLUS_CLASSES and seven.classes == CLASSES
    assert len(eight) == len(seven) + 1 and CONTEMPT in eight.labels.tolist()
    header = next(line for line in format_report(data_report(eight)).splitlines() if line.startswith("split"))
    assert header.split()[-2:] == ["contempt", "max/min"]
    split = eight.split("report")
    assert split.classes == FERPLUS_CLASSES and split.class_counts().shape == (8,)
    soft = apply_ferplus(ds, votes, "distribution", contempt=True)
    assert soft.soft_labels is not None and soft.soft_labels.shape[1] == 8


def test_eight_class_test_set_excludes_only_unreadable_rows(made_up):
    ds, votes = made_up
    test = ferplus_test_set(ds, votes, contempt=True)
    assert test.rows.tolist() == [1, 2, 8, 9] and test.classes == FERPLUS_CLASSES
    assert test.labels.tolist()[1] == CONTEMPT
    assert "contempt" not in test.excluded and test.excluded["unknown"] == 1


def test_drop_contempt_renormalises_the_seven():
    probs = torch.tensor([[0.1, 0.0, 0.0, 0.3, 0.0, 0.0, 0.1, 0.5]])
    seven = drop_contempt(probs)
    assert seven.shape == (1, 7)
    torch.testing.assert_close(seven[0, [0, 3, 6]], torch.tensor([0.2, 0.6, 0.2]))
    assert match_classes(probs, FERPLUS_CLASSES) is probs
    with pytest.raises(ValueError, match="gives 8 class probabilities but the labels have 3 classes"):
        match_classes(probs, ("a", "b", "c"))


def test_metrics_name_eight_classes():
    labels = np.array([CONTEMPT, 3, 3])
    probs = np.eye(8)[[CONTEMPT, 3, 0]]
    m = classification_metrics(labels, probs, FERPLUS_CLASSES)
    assert list(m["per_class"]) == list(FERPLUS_CLASSES) and len(m["confusion"]) == 8
    assert m["per_class"]["contempt"]["recall"] == 1.0 and m["accuracy"] == pytest.approx(2 / 3)


class RowToClass(torch.nn.Module):
    """8 logits: class (row number mod 8) from an image filled with its row number."""

    def forward(self, x):
        row = torch.round(x[:, 0, 0, 0] * 0.2550 * 255 + 0.5077 * 255).long()
        return torch.nn.functional.one_hot(row % 8, 8).float() * 10


def test_an_eight_class_model_gets_both_protocols(made_up):
    ds, votes = made_up
    m = evaluate_ferplus(RowToClass(), ds, votes)
    # rows 1, 2, 8, 9 predicted 1, 2, 0 (=8 mod 8), 1; labels happy, contempt, angry, sad
    assert m["protocol"] == "ferplus8-majority" and m["n"] == 4
    assert m["accuracy"] == pytest.approx(1 / 4) and list(m["per_class"])[-1] == "contempt"
    seven = m["seven_class"]
    assert seven["protocol"] == "ferplus-majority" and seven["n"] == 3
    assert seven["accuracy"] == pytest.approx(1 / 3)  # row 8: angry, right


def test_an_eight_class_model_scored_on_fer2013_labels_drops_contempt():
    images = torch.arange(4, dtype=torch.uint8).reshape(4, 1, 1, 1).expand(4, 1, 48, 48).contiguous()
    m = evaluate(RowToClass(), images, torch.tensor([0, 1, 2, 3]))
    assert m["accuracy"] == 1.0 and list(m["per_class"]) == list(CLASSES)


def _eight_class_dataset(ds: FerDataset) -> FerDataset:
    """The synthetic dataset with its last Training rows relabelled contempt."""
    labels = ds.labels.clone()
    train = torch.nonzero(ds.split_ids == 0).flatten()
    labels[train[-20:]] = CONTEMPT
    return FerDataset(ds.images, labels, ds.split_ids, ds.split_names, dict(ds.roles), ds.source,
                      classes=FERPLUS_CLASSES)


def test_training_on_eight_classes_builds_an_eight_way_head(synthetic_dataset, one_thread, tmp_path):
    config = ExperimentConfig.from_dict(
        {"name": "eight", "data": {"path": "unused", "labels": "ferplus8-majority", "ferplus": "unused"},
         "device": "cpu", "model": {"options": {"widths": [8, 16]}},
         "train": {"epochs": 1, "max_steps": 2, "batch_size": 32, "lr": 3e-3}})
    trainer = Trainer(config, dataset=_eight_class_dataset(synthetic_dataset), run_root=tmp_path)
    result = trainer.fit()
    assert list(result.select["per_class"]) == list(FERPLUS_CLASSES)
    assert trainer.weights_config()["classes"] == list(FERPLUS_CLASSES)
    assert trainer.weights_config()["num_classes"] == 8
    model, wcfg = load_trained_model(result.run_dir)
    assert model(torch.zeros(1, 1, 40, 40)).shape == (1, 8) and wcfg["classes"][-1] == "contempt"
    header = (result.run_dir / "metrics.csv").read_text().splitlines()[0]
    assert "f1_contempt" in header and "share_contempt" in header


def test_load_dataset_ferplus8(fer2013_csv, ferplus_csv):
    ds = load_dataset(fer2013_csv, ferplus=ferplus_csv, labels="ferplus8-majority")
    assert ds.classes == FERPLUS_CLASSES
    counts = ds.split("train").class_counts()
    assert counts.shape == (8,) and counts[CONTEMPT] > 0


def test_a_seven_class_model_warm_starts_an_eight_class_run(synthetic_dataset, one_thread, tmp_path):
    """--init across class sets: the 7 head rows are copied by name, contempt's row stays fresh,
    every other tensor is loaded as it is; and back from 8 to 7 the contempt row is dropped."""
    base = {"name": "seven", "data": {"path": "unused"}, "device": "cpu",
            "model": {"options": {"widths": [8, 16]}},
            "train": {"epochs": 1, "max_steps": 2, "batch_size": 32, "lr": 3e-3}}
    seven = Trainer(ExperimentConfig.from_dict(base), dataset=synthetic_dataset, run_root=tmp_path).fit()
    seven_weights, _ = load_trained_model(seven.run_dir)
    logs: list[str] = []
    eight_data = {"path": "unused", "labels": "ferplus8-majority", "ferplus": "unused"}
    eight_cfg = ExperimentConfig.from_dict({**base, "name": "eight", "data": eight_data})
    eight = Trainer(eight_cfg, dataset=_eight_class_dataset(synthetic_dataset), run_root=tmp_path,
                    init_from=seven.run_dir / "model.safetensors", log=logs.append)
    start = eight.model.state_dict()
    old = seven_weights.state_dict()
    heads = [k for k in old if old[k].shape != start[k].shape]
    assert heads and all(start[k].shape[0] == 8 and old[k].shape[0] == 7 for k in heads)
    fresh = Trainer(eight_cfg, dataset=_eight_class_dataset(synthetic_dataset),
                    run_root=tmp_path / "fresh").model.state_dict()  # same seed, no --init
    for k in heads:
        torch.testing.assert_close(start[k][:7], old[k])
        torch.testing.assert_close(start[k][7], fresh[k][7])  # contempt: the fresh init's row
        assert not torch.equal(start[k][:7], fresh[k][:7])
    for k in set(old) - set(heads):
        torch.testing.assert_close(start[k], old[k])
    assert any("from 7 to 8 classes (new, freshly initialised: contempt; dropped: none)" in m for m in logs)

    result = eight.fit()
    back = Trainer(ExperimentConfig.from_dict({**base, "name": "back"}), dataset=synthetic_dataset,
                   run_root=tmp_path, init_from=result.run_dir, log=logs.append)
    read, _ = model_weights_from(result.run_dir)  # what --init reads from a run folder
    for k in heads:
        torch.testing.assert_close(back.model.state_dict()[k], read[k][:7])
    assert any("from 8 to 7 classes (new, freshly initialised: none; dropped: contempt)" in m for m in logs)


def test_strategies_and_losses_read_class_names_from_the_labels(synthetic_dataset, one_thread, tmp_path):
    """On FER+'s 8 classes a class weight can name contempt; the 7-class default refuses it."""
    from fer_core import ConfigError
    from fer_core.plugins import get_plugins

    config = ExperimentConfig.from_dict(
        {"name": "eight-weighted", "device": "cpu", "model": {"options": {"widths": [8, 16]}},
         "data": {"path": "unused", "labels": "ferplus8-majority", "ferplus": "unused"},
         "train": {"epochs": 2, "max_steps": 4, "batch_size": 32, "lr": 3e-3,
                   "strategy": "class_weights", "strategy_options": {"weights": {"contempt": 3}},
                   "loss": "focal", "loss_options": {"alpha": {"contempt": 2, "disgust": 2}}}})
    trainer = Trainer(config, dataset=_eight_class_dataset(synthetic_dataset), run_root=tmp_path)
    assert trainer.strategy.class_weights == [1.0] * 7 + [3.0] and trainer.strategy.focus == ["contempt"]
    assert trainer.loss_fn.weight.tolist() == [1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0]
    trainer.fit()
    adaptive = get_plugins().get("sampler_strategy", "adaptive").build_for(FERPLUS_CLASSES, k=8)
    assert adaptive.k == 8 and len(adaptive.class_weights) == 8
    with pytest.raises(ConfigError, match="unknown emotion class 'contempt'"):
        get_plugins().get("loss", "cross_entropy").build_for(CLASSES, class_weights={"contempt": 2})
    problem = get_plugins().get("loss", "cross_entropy").option_problem({"classes": ["a"]})
    assert problem is not None and "set by the toolkit" in problem
