"""Property-based fuzzing of the parsers users feed: every input gives a result or a toolkit error
that names the input; never another exception, never a hang (hypothesis deadline per case).

The case counts of the CI run are the ``max_examples`` below; ``FER_FUZZ_EXAMPLES`` raises them
for a heavier campaign.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fer_core import ConfigError, DataError, FerError
from fer_core.config import ExperimentConfig
from fer_core.data import load_image, read_fer2013_csv

EXAMPLES = int(os.environ.get("FER_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

tokens = st.one_of(st.integers(-5, 300).map(str), st.text(max_size=6),
                   st.sampled_from(["", " ", "1e3", "0x10", "99999999999999999999"]))
pixels = st.one_of(
    st.lists(st.integers(0, 255), min_size=2304, max_size=2304).map(lambda v: " ".join(map(str, v))),
    st.lists(tokens, max_size=40).map(" ".join),
    st.text(max_size=60),
)
usage = st.one_of(st.sampled_from(["Training", "PublicTest", "PrivateTest"]), st.text(max_size=12))
rows = st.lists(st.tuples(tokens, pixels, usage), min_size=0, max_size=4)


def _write(tmp: Path, body: bytes, name: str) -> Path:
    path = tmp / name
    path.write_bytes(body)
    return path


@FUZZ
@given(rows=rows, header=st.sampled_from(["emotion,pixels,Usage", "emotion,pixels", "", "a,b,c"]),
       gz=st.booleans(), cut=st.one_of(st.none(), st.integers(0, 400)))
def test_fer2013_csv_rows(rows, header, gz, cut):
    text = "\n".join([header, *(",".join(r) for r in rows)]) + "\n"
    body = text.encode("utf-8", "replace")
    body = gzip.compress(body) if gz else body
    if cut is not None:
        body = body[:cut]
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), body, "fer.csv.gz" if gz else "fer.csv")
        try:
            ds = read_fer2013_csv(path)
        except DataError as exc:
            assert str(path) in str(exc)
        else:
            assert len(ds.labels) == len(ds.images)


@FUZZ
@given(body=st.binary(max_size=300))
def test_fer2013_csv_garbage_bytes(body):
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), body, "fer.csv")
        with pytest.raises(DataError) as info:
            read_fer2013_csv(path)
        assert str(path) in str(info.value)


toml_values = st.recursive(
    st.one_of(st.integers(-10, 10), st.floats(allow_nan=True), st.text(max_size=8), st.booleans()),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=3)),
    max_leaves=8)


@FUZZ
@given(data=st.dictionaries(st.sampled_from(["name", "seed", "data", "model", "train", "stages", "output",
                                             "device", "evaluate", "junk"]), toml_values, max_size=5))
def test_experiment_configs_from_any_dict(data):
    try:
        ExperimentConfig.from_dict(data, source="fuzz.toml")
    except ConfigError as exc:
        assert "fuzz.toml" in str(exc)


@FUZZ
@given(text=st.text(max_size=200))
def test_toml_text(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "exp.toml"
        path.write_bytes(text.encode("utf-8", "replace"))
        try:
            ExperimentConfig.from_toml(path)
        except ConfigError as exc:
            assert str(path) in str(exc)


def _png(width: int, height: int) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.zeros((height, width), np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


@FUZZ
@given(kind=st.sampled_from(["garbage", "truncated", "empty", "wrong_magic"]), body=st.binary(max_size=200),
       cut=st.integers(0, 60))
def test_image_files(kind, body, cut):
    data = {"garbage": body, "truncated": _png(48, 48)[:cut], "empty": b"",
            "wrong_magic": b"GIF89a" + _png(48, 48)[6:]}[kind]
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), data, "face.png")
        with pytest.raises(DataError) as info:
            load_image(path)
        assert str(path) in str(info.value)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_is_refused_without_decoding(tmp_path):
    # A 10,000 x 10,000 PNG of zeros compresses to a few hundred KB; decoding it would need 100 MB.
    from PIL import Image

    path = tmp_path / "bomb.png"
    Image.new("L", (10_000, 10_000)).save(path, format="PNG", optimize=False)
    with pytest.raises(DataError, match="larger than"):
        load_image(path)


@settings(max_examples=max(10, EXAMPLES // 3), deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["garbage", "truncated", "zero"]), body=st.binary(max_size=400),
       fraction=st.floats(0.0, 0.9))
def test_video_containers(kind, body, fraction, tmp_path_factory):
    from fer_temporal import open_source

    media = Path(__file__).resolve().parents[2].parent / "shared" / "media" / "single_face.mp4"
    if kind != "garbage" and not media.exists():
        pytest.skip("needs ../shared/media")
    data = {"garbage": body, "zero": b"",
            "truncated": media.read_bytes()[: int(media.stat().st_size * fraction)] if media.exists()
            else b""}[kind]
    path = tmp_path_factory.mktemp("v") / "clip.mp4"
    path.write_bytes(data)
    try:
        frames = sum(1 for _ in open_source(path))
    except FerError as exc:
        assert "clip.mp4" in str(exc)
    else:
        assert frames < 72
