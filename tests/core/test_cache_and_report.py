"""The decode cache, the data report (checked against the README's figures) and seeded subsets."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fer_core import CLASSES
from fer_core.data import FerDataset, cache_dir, data_report, format_report, load_dataset
from fer_core.data import _load as load_module


@pytest.fixture
def decodes(monkeypatch):
    """Counts real decodes (cache misses) of CSV files and image folders by load_dataset."""
    calls = []
    for name in ("read_fer2013_arrays", "read_image_folder_arrays"):
        real = getattr(load_module, name)

        def counting(*args, _real=real, **kwargs):
            calls.append(args[0])
            return _real(*args, **kwargs)

        monkeypatch.setattr(load_module, name, counting)
    return calls


def same(a: FerDataset, b: FerDataset) -> bool:
    return (torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
            and torch.equal(a.split_ids, b.split_ids) and a.split_names == b.split_names
            and a.roles == b.roles and a.locations == b.locations)


def new_entry(before: set[Path]) -> Path:
    (entry,) = set(cache_dir().glob("*.npz")) - before
    return entry


# --- the cache ------------------------------------------------------------------------------------


def test_cache_lives_in_the_configured_folder(tmp_path_factory):
    assert cache_dir() == tmp_path_factory.getbasetemp() / "fer-cache"


def test_second_load_of_the_full_csv_is_fast_and_identical(fer2013_csv, full_dataset):
    # full_dataset was the first load (about 10 s of parsing); this one must read the cache
    start = time.perf_counter()
    again = load_dataset(fer2013_csv)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"a cached load of the full CSV took {elapsed:.2f} s"
    assert same(again, full_dataset) and again.source == str(fer2013_csv)


def test_second_load_reads_the_cache(write_csv, decodes):
    path = write_csv([(k, k, "Training") for k in range(7)])
    first = load_dataset(path)
    second = load_dataset(path)
    assert decodes == [path] and same(first, second)
    load_dataset(path, cache=False)
    assert decodes == [path, path]


def test_edited_csv_is_decoded_again(write_csv, decodes):
    path = write_csv([(0, 1, "Training"), (0, 2, "PublicTest")])
    assert load_dataset(path).labels.tolist() == [0, 0]
    stat = path.stat()
    write_csv([(5, 1, "Training"), (6, 2, "PublicTest")])  # same size, new labels
    assert path.stat().st_size == stat.st_size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))  # saved 2 s later
    assert load_dataset(path).labels.tolist() == [5, 6]
    write_csv([(3, 1, "Training"), (3, 2, "PublicTest"), (3, 3, "PrivateTest")])  # grown
    assert load_dataset(path).labels.tolist() == [3, 3, 3]
    assert len(decodes) == 3


def test_folder_with_a_new_image_is_decoded_again(tmp_path, decodes):
    (tmp_path / "train" / "happy").mkdir(parents=True)
    Image.new("L", (48, 48), 10).save(tmp_path / "train" / "happy" / "a.png")
    assert len(load_dataset(tmp_path)) == 1
    assert len(load_dataset(tmp_path)) == 1
    Image.new("L", (48, 48), 20).save(tmp_path / "train" / "happy" / "b.png")
    assert len(load_dataset(tmp_path)) == 2
    assert len(decodes) == 2


@pytest.mark.parametrize("damage", ["empty", "garbage", "truncated", "flipped byte"])
def test_damaged_cache_entry_is_ignored_and_rebuilt(write_csv, decodes, damage):
    path = write_csv([(k % 7, k, "Training") for k in range(20)])
    before = set(cache_dir().glob("*.npz"))
    first = load_dataset(path)
    entry = new_entry(before)
    good = entry.read_bytes()
    bad = {
        "empty": b"",  # np.load raised EOFError here, which once escaped the cache
        "garbage": b"not an npz file" * 10,
        "truncated": good[: len(good) // 2],
        "flipped byte": good[:30_000] + bytes([good[30_000] ^ 0xFF]) + good[30_001:],
    }[damage]
    entry.write_bytes(bad)
    assert same(load_dataset(path), first)
    assert len(decodes) == 2  # decoded again, not served from the damaged entry
    assert entry.read_bytes() != bad  # and the entry was rewritten
    with np.load(entry) as z:
        assert np.array_equal(z["images"], first.images.numpy())


# --- the report -----------------------------------------------------------------------------------

# README.md of ../shared/data/fer2013, "Row counts (verified)", in CLASSES order
README_COUNTS = {
    "Training": [3995, 436, 4097, 7215, 4830, 3171, 4965],
    "PublicTest": [467, 56, 496, 895, 653, 415, 607],
    "PrivateTest": [491, 55, 528, 879, 594, 416, 626],
}


def test_report_on_the_full_csv_matches_the_readme(full_dataset):
    report = data_report(full_dataset)
    assert report.classes == list(CLASSES)
    assert {s.name: s.counts for s in report.splits} == README_COUNTS
    assert [(s.name, s.role, s.total) for s in report.splits] == [
        ("Training", "train", 28_709), ("PublicTest", "select", 3_589), ("PrivateTest", "report", 3_589)]
    d = report.duplicates
    assert (d.groups, d.rows_in_groups, d.redundant) == (1_514, 3_365, 1_851)
    assert d.conflicting_label_groups == 57
    assert d.cross_split_groups == 531
    assert sum(d.test_rows_in_train.values()) == 568
    assert set(d.test_rows_in_train) == {"PublicTest", "PrivateTest"}
    assert d.all_black == 12


def test_formatted_report_shows_the_readme_figures(full_dataset):
    text = format_report(data_report(full_dataset))
    assert re.search(r"Training \(train\) +28,709 +3,995 +436 +4,097 +7,215 +4,830 +3,171 +4,965 +16\.5",
                     text)
    assert re.search(r"PublicTest \(select\) +3,589 +467 +56 +496 +895 +653 +415 +607", text)
    assert re.search(r"PrivateTest \(report\) +3,589 +491 +55 +528 +879 +594 +416 +626", text)
    assert re.search(r"\nall +35,887 +4,953 +547 +5,121 +8,989 +6,077 +4,002 +6,198\n", text)
    assert re.search(r"groups of identical images: +1,514 covering 3,365 rows", text)
    assert re.search(r"redundant copies: +1,851\n", text)
    assert re.search(r"groups with conflicting labels: +57\n", text)
    assert re.search(r"groups spanning train and a test split: 531\n", text)
    assert re.search(r"test rows with a copy in train, all test splits: 568\n", text)
    assert re.search(r"all-black images: +12$", text)


def test_report_counts_duplicates_of_a_made_up_dataset():
    a, b, c, d = (np.full((1, 48, 48), v, np.uint8) for v in (10, 20, 30, 40))
    black = np.zeros((1, 48, 48), np.uint8)
    rows = [  # (image, label, split): A is in train twice with two labels and in select; B in train
        (a, 0, 0), (a, 1, 0), (b, 0, 0), (black, 2, 0),  # and report; D twice in report
        (a, 0, 1), (c, 2, 1),
        (b, 0, 2), (d, 3, 2), (d, 3, 2),
    ]
    ds = FerDataset(
        images=torch.from_numpy(np.stack([r[0] for r in rows])),
        labels=torch.tensor([r[1] for r in rows]),
        split_ids=torch.tensor([r[2] for r in rows], dtype=torch.int8),
        split_names=("Training", "PublicTest", "PrivateTest"),
        roles={"train": "Training", "select": "PublicTest", "report": "PrivateTest"},
        source="made-up",
    )
    report = data_report(ds)
    assert [s.counts for s in report.splits] == [[2, 1, 1, 0, 0, 0, 0], [1, 0, 1, 0, 0, 0, 0],
                                                 [1, 0, 0, 2, 0, 0, 0]]
    dup = report.duplicates
    assert (dup.groups, dup.rows_in_groups, dup.redundant) == (3, 7, 4)  # A, B, D
    assert dup.conflicting_label_groups == 1  # A
    assert dup.within_split_redundant == {"Training": 1, "PublicTest": 0, "PrivateTest": 1}
    assert dup.cross_split_groups == 2  # A and B
    assert dup.test_rows_in_train == {"PublicTest": 1, "PrivateTest": 1}
    assert dup.all_black == 1


# --- seeded subsets -------------------------------------------------------------------------------


def test_subset_caps_train_per_class_and_keeps_test_splits_whole(full_dataset):
    sub = full_dataset.subset(100, seed=0)
    assert sub.split("train").class_counts().tolist() == [100] * 7  # even disgust has 436
    for role in ("select", "report"):
        assert torch.equal(sub.split(role).images, full_dataset.split(role).images)
        assert torch.equal(sub.split(role).labels, full_dataset.split(role).labels)
    capped = full_dataset.subset(1000, seed=0).split("train").class_counts().tolist()
    assert capped == [1000, 436, 1000, 1000, 1000, 1000, 1000]  # at most, never more than there are


def test_subset_is_deterministic_per_seed(full_dataset):
    def train_rows(seed):
        sub = full_dataset.subset(100, seed=seed)
        return sub.images[sub.split_ids == 0]

    assert torch.equal(train_rows(0), train_rows(0))
    assert not torch.equal(train_rows(0), train_rows(1))


def test_subset_through_load_dataset(fer2013_csv, full_dataset):
    ds = load_dataset(fer2013_csv, subset_per_class=50, seed=3)
    assert same(ds, full_dataset.subset(50, seed=3))
    assert len(ds) == 7 * 50 + 2 * 3_589
    with pytest.raises(ValueError, match="per_class must be at least 1"):
        full_dataset.subset(0)
