"""`fercli analyze` with no --model: the shipped default model on the real media, and one command's
outputs never overwrite each other."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from fer_cli.main import cli
from fer_models.inference._load import SHIPPED_DIR
from fer_temporal import unique_stems


def test_unique_stems_keep_every_source_apart():
    assert unique_stems(["clip.mp4", "other.mov"]) == ["clip", "other"]
    assert unique_stems(["a/clip.mp4", "clip.jpg"]) == ["clip_mp4", "clip_jpg"]
    three = ["a/clip.mp4", "b/clip.mp4", "c/clip.mp4"]
    assert unique_stems(three) == ["clip_mp4", "clip_mp4-2", "clip_mp4-3"]
    assert unique_stems(["../../etc/passwd", "x"]) == ["passwd", "x"]  # still reduced to a safe name


@pytest.mark.shared
def test_fercli_analyze_uses_the_shipped_default_model_on_real_media(media, tmp_path):
    pytest.importorskip("cv2")
    # the video and the still share a stem: both timelines must survive
    sources = [str(media / "single_face.mp4"), str(media / "single_face.jpg")]
    result = CliRunner().invoke(cli, ["analyze", *sources, "--out", str(tmp_path), "--no-plot"])
    assert result.exit_code == 0, result.output
    video = json.loads((tmp_path / "single_face_mp4.json").read_text())
    still = json.loads((tmp_path / "single_face_jpg.json").read_text())
    shipped = json.loads((SHIPPED_DIR / "default" / "model.json").read_text())
    assert video["header"]["weights_sha256"] == shipped["weights_sha256"]
    # media README, by eye: one man, neutral, then a broad smile (happy), then back toward neutral
    rows = video["rows"]
    assert len(rows) == 72 and all(r["face_detected"] for r in rows)
    path = [s["emotion"] for s in video["segments"]]
    assert path[0] == "neutral" and "happy" in path
    assert video["summary"][0]["dominant"] == "happy"
    # the still: the same man, smiling
    assert [r["label"] for r in still["rows"]] == ["happy"]
