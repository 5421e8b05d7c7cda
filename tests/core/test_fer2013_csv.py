"""FER2013 in its Kaggle CSV form: a real slice loads right, and every bad file is named precisely."""

from __future__ import annotations

import csv
import gzip
import re

import pytest
import torch

from fer_core import NUM_CLASSES, DataError
from fer_core.data import read_fer2013_csv

VALID = " ".join(["128"] * 2304)


def _with(position: int, token: str) -> str:
    """VALID pixels with the value at ``position`` replaced by ``token``."""
    values = VALID.split()
    values[position] = token
    return " ".join(values)


def test_real_slice_splits_roles_and_shapes(fer2013_slice):
    ds = read_fer2013_csv(fer2013_slice)
    assert ds.images.shape == (1000, 1, 48, 48) and ds.images.dtype == torch.uint8
    assert ds.split_names == ("Training", "PublicTest", "PrivateTest")
    sizes = {role: (ds.split(role).name, len(ds.split(role))) for role in ("train", "select", "report")}
    assert sizes == {
        "train": ("Training", 700), "select": ("PublicTest", 150), "report": ("PrivateTest", 150),
    }
    assert int(ds.labels.min()) >= 0 and int(ds.labels.max()) < NUM_CLASSES
    assert len(set(ds.labels.tolist())) == NUM_CLASSES  # a real slice of 1000 rows has every class


def test_real_slice_matches_the_file_row_by_row(fer2013_slice):
    ds = read_fer2013_csv(fer2013_slice)
    with open(fer2013_slice, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert ds.labels.tolist() == [int(r["emotion"]) for r in rows]
    assert [ds.split_names[s] for s in ds.split_ids.tolist()] == [r["Usage"] for r in rows]
    expected = torch.tensor([[int(v) for v in r["pixels"].split()] for r in rows], dtype=torch.uint8)
    assert torch.equal(ds.images.reshape(len(rows), -1), expected)  # row-major 48x48


def test_gzip_and_plain_agree(fer2013_slice, tmp_path):
    gz = tmp_path / "slice.csv.gz"
    gz.write_bytes(gzip.compress(fer2013_slice.read_bytes(), compresslevel=1))
    no_suffix = tmp_path / "gzipped-but-named.csv"  # gzip is told by its first bytes, not the name
    no_suffix.write_bytes(gz.read_bytes())
    plain = read_fer2013_csv(fer2013_slice)
    for other in (read_fer2013_csv(gz), read_fer2013_csv(no_suffix)):
        assert torch.equal(other.images, plain.images)
        assert torch.equal(other.labels, plain.labels)
        assert torch.equal(other.split_ids, plain.split_ids)


def test_crlf_and_trailing_blank_line_are_fine(tmp_path):
    path = tmp_path / "windows.csv"
    path.write_bytes(f"emotion,pixels,Usage\r\n3,{VALID},Training\r\n5,{VALID},PublicTest\r\n\r\n".encode())
    ds = read_fer2013_csv(path)
    assert ds.labels.tolist() == [3, 5]
    assert len(ds.split("select")) == 1


@pytest.mark.parametrize("line,message", [
    ((3, " ".join(["128"] * 2303), "Training"), "pixels has 2303 values, expected 2304"),
    ((3, VALID + " 128", "Training"), "pixels has 2305 values, expected 2304"),
    ((3, "", "Training"), "pixels has 0 values, expected 2304"),
    ((3, _with(17, "12x"), "Training"), "pixels must be integers 0-255 .* found 'x'"),
    ((3, _with(17, "1.5"), "Training"), "pixels must be integers 0-255 .* found '.'"),
    ((3, _with(17, "-1"), "Training"), "pixels must be integers 0-255 .* found '-'"),
    ((3, _with(17, "256"), "Training"), "pixel value 256 is out of range 0-255"),
    # 2**32 and 2**32 + 200 once wrapped around to 0 and 200 and were silently accepted
    ((3, _with(17, "4294967296"), "Training"), "pixel value 4294967296 is out of range 0-255"),
    ((3, _with(17, "4294967496"), "Training"), "pixel value 4294967496 is out of range 0-255"),
    ((3, _with(17, "9" * 30), "Training"), "pixel value [0-9]+ is out of range 0-255"),
    (("happy", VALID, "Training"), "emotion 'happy' is not an integer"),
    (("", VALID, "Training"), "emotion '' is not an integer"),
    ((7, VALID, "Training"), "emotion 7 is out of range 0-6"),
    ((-1, VALID, "Training"), "emotion -1 is out of range 0-6"),
    ((3, VALID, "Validation"), "Usage 'Validation' is not one of Training, PublicTest, PrivateTest"),
    ((3, VALID, "training"), "Usage 'training' is not one of"),
    (f"3,{VALID}", "has 2 fields, expected 3"),
])
def test_bad_row_names_file_and_row(write_csv, line, message):
    path = write_csv([(0, 1, "Training"), (6, 2, "PrivateTest"), line], name="bad.csv")
    with pytest.raises(DataError, match=message) as info:
        read_fer2013_csv(path)
    text = str(info.value)
    assert text.startswith(f"{path}: row 2 (line 4): "), text  # 0-based data row; line 1 is the header


@pytest.mark.parametrize("lines,header,message", [
    ([], None, "the file is empty"),
    ([], "emotion,pixels,Usage", "has a header but no data rows"),
    ([f"3,{VALID}"], "emotion,pixels", re.escape("missing column(s) Usage; the header has emotion, pixels")),
    ([f"3,{VALID},Training"], "label,pixels,Usage", re.escape("missing column(s) emotion")),
])
def test_bad_file_is_named(write_csv, lines, header, message):
    path = write_csv(lines, header=header, name="bad.csv")
    with pytest.raises(DataError, match=message) as info:
        read_fer2013_csv(path)
    assert str(info.value).startswith(f"{path}: ")


def test_columns_may_come_in_any_order(write_csv):
    path = write_csv([f"Training,{VALID},4"], header="Usage,pixels,emotion")
    assert read_fer2013_csv(path).labels.tolist() == [4]


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(DataError, match=f"{re.escape(str(path))}: no such file"):
        read_fer2013_csv(path)


def test_truncated_gzip_is_named(write_csv, tmp_path):
    whole = write_csv([(0, seed, "Training") for seed in range(50)], gz=True)
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(DataError, match=f"{re.escape(str(cut))}: cannot be read as a \\(gzipped\\)"):
        read_fer2013_csv(cut)


def test_empty_split_is_an_error_naming_the_split(write_csv):
    ds = read_fer2013_csv(write_csv([(0, 1, "Training"), (1, 2, "Training")], name="train-only.csv"))
    assert len(ds.split("train")) == 2
    # the CSV reader always declares the three FER2013 splits, so a missing one is an empty one
    with pytest.raises(DataError, match=r"train-only\.csv: split 'PrivateTest' \(report\) is empty"):
        ds.split("report")
    assert len(ds.split("report", allow_empty=True)) == 0
    with pytest.raises(DataError, match="no split 'val'; it has: Training \\(train\\), PublicTest"):
        ds.split("val")
