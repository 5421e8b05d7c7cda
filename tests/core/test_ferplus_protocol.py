"""The FER+ protocol: which rows FER+ test scores, why the others are left out, its metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fer_core import CLASSES, DataError
from fer_core.data import FerDataset, read_ferplus_votes
from fer_core.training import FERPLUS_PROTOCOL, evaluate_ferplus, ferplus_metrics, ferplus_test_set

HEADER = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"
COLUMNS = HEADER.split(",")[2:]
SPLITS = ("Training", "PublicTest", "PrivateTest")


def vote_file(path, rows):
    """rows: (usage, image name, {column: votes})"""
    lines = [HEADER] + [",".join([u, name, *(str(v.get(c, 0)) for c in COLUMNS)]) for u, name, v in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def dataset_like(usage):
    """A FER2013-shaped dataset with the given Usage per row; row i's pixels are all i."""
    n = len(usage)
    images = torch.arange(n, dtype=torch.uint8).reshape(n, 1, 1, 1).expand(n, 1, 48, 48).contiguous()
    split_ids = torch.tensor([SPLITS.index(u) for u in usage], dtype=torch.int8)
    return FerDataset(images, torch.zeros(n, dtype=torch.long), split_ids, SPLITS,
                      {"train": "Training", "select": "PublicTest", "report": "PrivateTest"}, "made-up")


ROWS = [
    ("Training", "fer0.png", {"happiness": 10}),
    ("PrivateTest", "fer1.png", {"happiness": 8, "surprise": 2}),     # happy
    ("PrivateTest", "fer2.png", {"contempt": 6, "neutral": 4}),       # contempt: no canonical class
    ("PrivateTest", "fer3.png", {"unknown": 7, "sadness": 3}),        # unknown
    ("PrivateTest", "", {"NF": 10}),                                  # no FER+ image: unaligned
    ("PrivateTest", "fer5.png", {"NF": 9, "anger": 1}),               # not a face
    ("PrivateTest", "fer6.png", {"anger": 4, "fear": 3, "sadness": 3}),  # no majority
    ("PrivateTest", "fer7.png", {"fear": 9, "surprise": 1}),          # its name is reused below
    ("PrivateTest", "fer8.png", {"anger": 6, "disgust": 4}),          # angry
    ("PrivateTest", "fer7.png", {"sadness": 10}),                     # sad (the later of the pair)
]


@pytest.fixture
def made_up(tmp_path):
    votes = read_ferplus_votes(vote_file(tmp_path / "v.csv", ROWS))
    return dataset_like([r[0] for r in ROWS]), votes


def test_the_test_set_keeps_majority_rows_and_counts_the_rest(made_up):
    ds, votes = made_up
    test = ferplus_test_set(ds, votes)
    assert test.rows.tolist() == [1, 8, 9]
    assert [CLASSES[k] for k in test.labels] == ["happy", "angry", "sad"]
    assert test.total == 9 and len(test) == 3
    # row 7's image name is reused by row 9: FER+'s PNG of it was overwritten, its votes unusable
    assert test.excluded == {"unaligned": 2, "contempt": 1, "unknown": 1, "NF": 1, "no majority": 1}
    assert sum(test.excluded.values()) + len(test) == test.total
    assert test.describe() == ("PrivateTest: 3 of 9 rows with a usable FER+ majority (excluded: 2 unaligned, "
                               "1 contempt, 1 unknown, 1 NF, 1 no majority)")
    np.testing.assert_allclose(test.distribution[0, CLASSES.index("happy")], 0.8)


def test_metrics_against_majority_and_votes(made_up):
    ds, votes = made_up
    test = ferplus_test_set(ds, votes)
    probs = np.full((3, 7), 0.01)
    probs[0, CLASSES.index("happy")] = 0.94       # right
    probs[1, CLASSES.index("disgust")] = 0.94     # wrong, but 4 of 10 raters agree
    probs[2, CLASSES.index("sad")] = 0.94         # right
    m = ferplus_metrics(probs, test)
    assert m["accuracy"] == pytest.approx(2 / 3) and m["n"] == 3
    assert m["rater_agreement"] == pytest.approx((0.8 + 0.4 + 1.0) / 3)
    expected_ce = -(0.8 * np.log(0.94) + 0.2 * np.log(0.01) + 0.6 * np.log(0.01) + 0.4 * np.log(0.94)
                    + np.log(0.94)) / 3
    assert m["vote_cross_entropy"] == pytest.approx(expected_ce)
    assert m["excluded"]["contempt"] == 1 and m["protocol"] == "ferplus-majority"


def test_evaluate_ferplus_scores_exactly_the_test_rows(made_up):
    ds, votes = made_up

    class PixelValue(torch.nn.Module):
        """Predicts class (row number mod 7) from the image, which is filled with its row number."""

        def forward(self, x):
            row = torch.round(x[:, 0, 0, 0] * 0.2550 * 255 + 0.5077 * 255).long()
            return torch.nn.functional.one_hot(row % 7, 7).float() * 10

    m = evaluate_ferplus(PixelValue(), ds, votes)
    # rows 1, 8, 9 predicted as classes 1, 1, 2; their labels are happy(3), angry(0), sad(4)
    assert m["n"] == 3 and m["accuracy"] == 0.0
    assert m["confusion"][CLASSES.index("happy")][1] == 1


def test_files_that_do_not_line_up_are_one_error(made_up, tmp_path):
    ds, _ = made_up
    with pytest.raises(DataError, match="has 9 rows but made-up has 10"):
        ferplus_test_set(ds, read_ferplus_votes(vote_file(tmp_path / "short.csv", ROWS[:-1])))
    swapped = [("PublicTest", *r[1:]) if i == 3 else r for i, r in enumerate(ROWS)]
    with pytest.raises(DataError, match="row 3 is 'PublicTest' in the vote file but 'PrivateTest'"):
        ferplus_test_set(ds, read_ferplus_votes(vote_file(tmp_path / "swapped.csv", swapped)))


def test_the_protocol_says_what_it_is():
    assert FERPLUS_PROTOCOL.startswith("FER+ protocol") and "8 classes" in FERPLUS_PROTOCOL
    assert "Not comparable with FER2013" in FERPLUS_PROTOCOL


def test_real_ferplus_test_rows(ferplus_csv):
    votes = read_ferplus_votes(ferplus_csv)
    ds = dataset_like(votes.usage)
    test = ferplus_test_set(ds, votes)
    # measured on the real vote file: 15 PrivateTest rows have no FER+ image, row 33200's name is
    # reused by row 34334
    assert (len(test), test.total) == (3136, 3589)
    assert test.excluded == {"unaligned": 16, "contempt": 16, "unknown": 10, "NF": 1, "no majority": 410}
    assert 33200 not in test.rows and test.rows.min() >= 32298
    assert len(ferplus_test_set(ds, votes, "select")) == 3186
