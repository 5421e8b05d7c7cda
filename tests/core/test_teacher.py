"""Distillation targets: the teacher file (`fercli teacher`), [data] teacher, and what training sees."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fer_core import FerError
from fer_core.config import ExperimentConfig
from fer_core.data import TeacherTargets, apply_teacher, load_dataset, read_teacher, soften
from fer_core.errors import DataError
from fer_core.training import Trainer


def _teacher_for(ds, *, seed: int = 0) -> TeacherTargets:
    train = ds.split("train")
    probs = np.random.default_rng(seed).dirichlet(np.ones(7), size=len(train)).astype(np.float32)
    return TeacherTargets(probs, train.indices.numpy(), train.labels.numpy(), len(ds), "made-up", 1.0)


def test_soft_targets_mix_teacher_and_label(synthetic_dataset, tmp_path):
    teacher = _teacher_for(synthetic_dataset)
    path = teacher.save(tmp_path / "teacher.npz")
    ds = apply_teacher(synthetic_dataset, read_teacher(path), 0.7)
    train = ds.split("train")
    onehot = torch.nn.functional.one_hot(train.labels, 7).float()
    expected = 0.7 * torch.from_numpy(teacher.probs) + 0.3 * onehot
    assert torch.allclose(train.soft_labels, expected, atol=1e-6)
    assert torch.allclose(train.soft_labels.sum(1), torch.ones(len(train)), atol=1e-5)
    select = ds.split("select")  # never scored by the teacher: its own one-hot label
    assert torch.equal(select.soft_labels, torch.nn.functional.one_hot(select.labels, 7).float())


def test_temperature_softens_and_keeps_the_ranking():
    probs = np.array([[0.7, 0.2, 0.05, 0.03, 0.01, 0.005, 0.005]], np.float32)
    warm = soften(probs, 4.0)
    assert warm.max() < probs.max() and warm.min() > probs.min()
    assert np.allclose(warm.sum(), 1) and (np.argsort(warm[0]) == np.argsort(probs[0])).all()
    assert np.allclose(soften(probs, 1.0), probs / probs.sum(), atol=1e-6)


def test_teacher_made_from_other_data_is_refused(synthetic_dataset, tmp_path):
    teacher = _teacher_for(synthetic_dataset)
    wrong = TeacherTargets(teacher.probs, teacher.rows, (teacher.labels + 1) % 7, teacher.dataset_rows,
                           "x", 1.0, "t.npz")
    with pytest.raises(DataError, match=r"t\.npz: .* row 0 is labelled .* rows differ\): the file was made "
                                        r"from other data"):
        apply_teacher(synthetic_dataset, wrong, 0.5)
    short = TeacherTargets(teacher.probs[:5], teacher.rows[:5], teacher.labels[:5], teacher.dataset_rows,
                           "x", 1.0, "t.npz")
    with pytest.raises(DataError, match=r"no teacher target for \d+ Training rows"):
        apply_teacher(synthetic_dataset, short, 0.5)
    resized = TeacherTargets(teacher.probs, teacher.rows, teacher.labels, teacher.dataset_rows + 1, "x", 1.0,
                             "t.npz")
    with pytest.raises(DataError, match=r"made for a dataset of [\d,]+ rows"):
        apply_teacher(synthetic_dataset, resized, 0.5)


@pytest.mark.parametrize(("content", "expected"), [
    (b"not an npz", r"not a teacher file"),
    (None, r"no such teacher file \(make one with `fercli teacher"),
])
def test_unreadable_teacher_files(tmp_path, content, expected):
    path = tmp_path / "teacher.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=expected):
        read_teacher(path)


def test_a_teacher_row_that_is_not_a_distribution_is_named(synthetic_dataset, tmp_path):
    teacher = _teacher_for(synthetic_dataset)
    probs = teacher.probs.copy()
    probs[3] = np.nan
    path = TeacherTargets(probs, teacher.rows, teacher.labels, teacher.dataset_rows, "x", 1.0).save(
        tmp_path / "t.npz")
    row = int(teacher.rows[3])
    with pytest.raises(DataError, match=rf"entry 3 \(dataset row {row}\) is not a probability"):
        read_teacher(path)


def test_the_student_trains_on_the_mixed_targets(synthetic_dataset, one_thread):
    ds = apply_teacher(synthetic_dataset, _teacher_for(synthetic_dataset), 0.5)
    cfg = ExperimentConfig.from_dict({"data": {"path": "unused"}, "device": "cpu",
                                      "model": {"options": {"widths": [8, 16]}},
                                      "train": {"epochs": 1, "max_steps": 2, "batch_size": 32,
                                                "soft_labels": True}})
    trainer = Trainer(cfg, dataset=ds)
    seen = []
    loss_fn = trainer.loss_fn
    trainer.loss_fn = lambda logits, y: (seen.append(y.clone()), loss_fn(logits, y))[1]
    trainer.fit()
    assert len(seen) == 2 and seen[0].shape == (32, 7)
    assert (seen[0].max(1).values < 1.0).all()  # every target holds some of the teacher's spread


def test_config_checks_the_teacher_before_work(tmp_path):
    base = {"data": {"path": "unused.csv", "teacher": str(tmp_path / "missing.npz")},
            "train": {"soft_labels": True}}
    with pytest.raises(FerError, match=r"\[data\] teacher = .*missing\.npz' is not a file; make it with "
                                       r"`fercli teacher"):
        Trainer(ExperimentConfig.from_dict(base))
    (tmp_path / "t.npz").write_bytes(b"")
    unused = {"data": {"path": "unused.csv", "teacher": str(tmp_path / "t.npz")}}
    with pytest.raises(FerError, match=r"\[data\] teacher is set but no stage trains on it"):
        Trainer(ExperimentConfig.from_dict(unused))


def test_load_dataset_applies_the_file(fer2013_slice, tmp_path):
    ds = load_dataset(fer2013_slice, cache=False)
    path = _teacher_for(ds).save(tmp_path / "t.npz")
    taught = load_dataset(fer2013_slice, cache=False, teacher=path, teacher_weight=1.0)
    assert torch.allclose(taught.split("train").soft_labels, torch.from_numpy(read_teacher(path).probs))
    with pytest.raises(DataError, match=r"labels = 'ferplus-majority' with a teacher is not supported"):
        load_dataset(fer2013_slice, cache=False, teacher=path, labels="ferplus-majority", ferplus="x.csv")


def test_a_newer_teacher_file_format_is_refused(synthetic_dataset, tmp_path):
    path = _teacher_for(synthetic_dataset).save(tmp_path / "t.npz")
    with np.load(path) as z:
        fields = {k: z[k] for k in z.files}
    np.savez(path, **{**fields, "format": np.int64(99)})
    with pytest.raises(DataError, match=r"teacher file format 99 is newer than this fer-core reads \(1\)"):
        read_teacher(path)
