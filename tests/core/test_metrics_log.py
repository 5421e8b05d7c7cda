"""The per-epoch logs keep every column, even one whose first value comes in a later epoch."""

from __future__ import annotations

import csv

from fer_core.training import RunDir


def test_focus_first_seen_in_epoch_1_is_kept(tmp_path):
    run = RunDir.create(tmp_path, "r", info={})
    select = {"accuracy": 0.5, "macro_f1": 0.4, "per_class_f1": [0.1] * 7}
    run.log_epoch({"epoch": 0, "step": 10, "select": select, "focus": None, "class_weights": None})
    run.log_epoch({"epoch": 1, "step": 20, "select": select, "focus": ["fear", "sad"],
                   "class_weights": [1, 1, 5, 1, 3, 1, 1]})
    rows = list(csv.DictReader((tmp_path / "r" / "metrics.csv").read_text().splitlines()))
    assert [r["focus"] for r in rows] == ["", "fear sad"]
    assert [r["weight_fear"] for r in rows] == ["", "5"]
    assert [h["focus"] for h in run.history()] == [None, ["fear", "sad"]]
    run.truncate_history(1)
    assert len(run.history()) == 1
    assert len(list(csv.DictReader((tmp_path / "r" / "metrics.csv").read_text().splitlines()))) == 1
