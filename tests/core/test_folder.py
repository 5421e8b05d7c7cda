"""FER2013 in the Kaggle folder form: splits by folder and file-name prefix, labels by folder name."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
import torch
from PIL import Image

from fer_core import CLASSES, DataError, class_index
from fer_core.data import load_dataset, read_image_folder


def save(path, pixels):
    """Write a uint8 array as an image file: [h, w] is gray, [h, w, 3] is RGB."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(path)
    return path


def flat(value, shape=(48, 48)):
    return np.full(shape, value, dtype=np.uint8)


def test_kaggle_layout_splits_test_folder_by_prefix(tmp_path):
    save(tmp_path / "train/happy/Training_1.png", flat(10))
    save(tmp_path / "train/sad/Training_2.jpg", flat(20))
    save(tmp_path / "test/happy/PublicTest_3.png", flat(30))
    save(tmp_path / "test/angry/PublicTest_4.jpg", flat(40))
    save(tmp_path / "test/neutral/PrivateTest_5.png", flat(50))
    (tmp_path / "test/neutral/notes.txt").write_text("not an image, ignored")
    ds = read_image_folder(tmp_path)
    assert ds.roles == {"train": "train", "select": "PublicTest", "report": "PrivateTest"}
    train, select, report = ds.split("train"), ds.split("select"), ds.split("report")
    assert sorted(train.labels.tolist()) == [3, 4]
    assert (select.name, sorted(select.labels.tolist())) == ("PublicTest", [0, 3])
    assert (report.name, report.labels.tolist()) == ("PrivateTest", [6])
    assert len(ds) == 5 and all(loc.startswith(str(tmp_path)) for loc in ds.locations)


def test_folder_names_map_by_name_not_by_position(tmp_path):
    # Kaggle's folders sort alphabetically (neutral before sad); spelling and case vary
    names = ["Angry", "disgust", "FEAR", "Happiness", "neutral", "Sad", "surprised"]
    for k, name in enumerate(names):
        save(tmp_path / "train" / name / "a.png", flat(20 * k))
    ds = read_image_folder(tmp_path)
    labels = ds.labels.tolist()
    by_marker = {int(img[0, 0, 0]) // 20: label for img, label in zip(ds.images, labels, strict=True)}
    assert by_marker == {k: class_index(name) for k, name in enumerate(names)}
    assert by_marker[4] == CLASSES.index("neutral") == 6


def test_folder_form_labels_the_real_slice_like_the_csv(fer2013_slice, tmp_path):
    """Write the real slice out as Kaggle-style PNGs: both forms must give each image the same label."""
    csv_ds = load_dataset(fer2013_slice)
    root = tmp_path / "kaggle"
    for i, (img, label, split) in enumerate(
        zip(csv_ds.images, csv_ds.labels.tolist(), csv_ds.split_ids.tolist(), strict=True)
    ):
        usage = csv_ds.split_names[split]
        folder = "train" if usage == "Training" else "test"
        save(root / folder / CLASSES[label] / f"{usage}_{i}.png", img[0].numpy())  # PNG is lossless
    folder_ds = load_dataset(root)

    def examples(ds):
        return Counter(
            (ds.role_of(ds.split_names[s]), img.numpy().tobytes(), label)
            for img, label, s in zip(ds.images, ds.labels.tolist(), ds.split_ids.tolist(), strict=True)
        )

    assert len(folder_ds) == len(csv_ds) == 1000
    assert examples(folder_ds) == examples(csv_ds)  # same (role, pixels, label) multiset
    for role in ("train", "select", "report"):
        assert len(folder_ds.split(role)) == len(csv_ds.split(role))


def test_unreadable_image_names_its_path(tmp_path):
    bad = tmp_path / "train/happy/broken.png"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"this is not a PNG")
    with pytest.raises(DataError, match=f"{re.escape(str(bad))}: cannot read image"):
        read_image_folder(tmp_path)


def test_wrong_size_names_path_and_size_unless_resized(tmp_path):
    odd = save(tmp_path / "train/fear/wide.png", flat(90, shape=(40, 50)))  # 50 wide, 40 high
    with pytest.raises(DataError, match=f"{re.escape(str(odd))}: image is 50x40, expected 48x48"):
        read_image_folder(tmp_path)
    ds = read_image_folder(tmp_path, resize=True)
    assert ds.images.shape == (1, 1, 48, 48) and ds.labels.tolist() == [2]
    assert int(ds.images.min()) == int(ds.images.max()) == 90


def test_skip_bad_warns_with_every_skipped_path(tmp_path):
    save(tmp_path / "train/happy/good.png", flat(7))
    broken = tmp_path / "train/happy/broken.png"
    broken.write_bytes(b"\x89PNG garbage")
    odd = save(tmp_path / "train/sad/small.png", flat(7, shape=(24, 24)))
    with pytest.warns(UserWarning, match="skipped 2 unreadable image") as record:
        ds = read_image_folder(tmp_path, skip_bad=True)
    text = "\n".join(str(w.message) for w in record)
    assert str(broken) in text and str(odd) in text
    assert ds.labels.tolist() == [3] and ds.locations == [str(tmp_path / "train/happy/good.png")]


def test_skip_bad_is_not_cached_away(tmp_path):
    """A cached load must not hide the skipped images: every load with skip_bad warns again."""
    save(tmp_path / "train/happy/good.png", flat(7))
    (tmp_path / "train/happy/broken.png").write_bytes(b"garbage")
    for _ in range(2):
        with pytest.warns(UserWarning, match="broken.png"):
            assert len(load_dataset(tmp_path, skip_bad=True)) == 1


def test_unknown_emotion_folder_is_named(tmp_path):
    save(tmp_path / "train/happy/a.png", flat(1))
    save(tmp_path / "train/smiling/b.png", flat(2))
    folder = re.escape(str(tmp_path / "train" / "smiling"))
    with pytest.raises(DataError, match=f"{folder}: folder name is not an emotion: .*'smiling'"):
        read_image_folder(tmp_path)


@pytest.mark.parametrize("layout", ["empty", "folders without images"])
def test_no_images_is_an_error(tmp_path, layout):
    if layout == "folders without images":
        (tmp_path / "train" / "happy").mkdir(parents=True)
        (tmp_path / "train" / "happy" / "README.txt").write_text("nothing here")
    with pytest.raises(DataError, match=f"{re.escape(str(tmp_path))}: no images found"):
        read_image_folder(tmp_path)


def test_missing_root(tmp_path):
    with pytest.raises(DataError, match="no such folder"):
        read_image_folder(tmp_path / "absent")
    with pytest.raises(DataError, match="no such file or folder"):
        load_dataset(tmp_path / "absent")


def test_rgb_becomes_gray(tmp_path):
    rgb = np.zeros((48, 48, 3), dtype=np.uint8)
    rgb[:, :24] = (255, 0, 0)  # red half
    rgb[:, 24:] = (0, 255, 0)  # green half
    save(tmp_path / "train/surprise/colour.png", rgb)
    ds = read_image_folder(tmp_path)
    assert ds.images.shape == (1, 1, 48, 48) and ds.images.dtype == torch.uint8
    # ITU-R 601 luma, L = 0.299 R + 0.587 G + 0.114 B: not one channel, not the mean
    assert int(ds.images[0, 0, 0, 0]) == 76 and int(ds.images[0, 0, 0, 47]) == 150
