"""examples/experiments/ship_ensemble.py: an ensemble from ``fercli ensemble`` becomes a named model."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "experiments" / "ship_ensemble.py"

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def shipped(tiny_runs, fer2013_slice, tmp_path_factory):
    """tiny_runs[0] is already shipped as ``tiny``; the ensemble of both runs ships as ``pair``."""
    from fer_cli.main import cli

    out = tmp_path_factory.mktemp("ship-ensemble")
    into = out / "weights"
    (into / "tiny").mkdir(parents=True)
    for name in ("model.safetensors", "model.json"):
        shutil.copy(tiny_runs[0] / name, into / "tiny" / name)
    made = CliRunner().invoke(cli, ["ensemble", *map(str, tiny_runs), "--out", str(out / "ens"),
                                    "--data", str(fer2013_slice)])
    assert made.exit_code == 0, made.output
    spec = importlib.util.spec_from_file_location("ship_ensemble", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main([str(out / "ens" / "ensemble.json"), "--name", "pair", "--data", str(fer2013_slice),
                 "--into", str(into), "--card", str(out / "MODEL_CARD-pair.md"), "--speed-seconds", "0.05"])
    return out


def test_a_shipped_member_is_referenced_and_the_other_copied(shipped, tiny_runs):
    folder = shipped / "weights" / "pair"
    spec = json.loads((folder / "ensemble.json").read_text())
    assert [m["ref"] for m in spec["members"]] == ["../tiny", "member-1"]
    assert (folder / "member-1" / "model.safetensors").read_bytes() == \
        (tiny_runs[1] / "model.safetensors").read_bytes()
    assert not (folder / "member-0").exists()  # the shipped one is not stored twice


def test_the_shipped_ensemble_loads_and_reproduces_its_card(shipped, fer2013_slice, tiny_runs):
    import fer_models
    from fer_core.data import load_dataset

    folder = shipped / "weights" / "pair"
    ens = fer_models.load(folder)
    card = ens.card
    report = load_dataset(fer2013_slice).split("report")
    acc = float((ens.predict_proba(report.images).argmax(1) == report.labels.numpy()).mean())
    assert acc == pytest.approx(card["PrivateTest_accuracy"], abs=1e-4)
    assert card["gmacs"] == pytest.approx(sum(fer_models.load(r).gmacs() for r in tiny_runs), abs=1e-4)
    original = fer_models.load(shipped / "ens" / "ensemble.json")
    faces = report.images[:16, 0].numpy()
    np.testing.assert_allclose(ens.predict_proba(faces), original.predict_proba(faces), atol=1e-6)
    text = (shipped / "MODEL_CARD-pair.md").read_text()
    assert f"**{card['PrivateTest_accuracy']:.2%}**" in text and card["command"] in text
    assert "| `../tiny` (tiny-0) |" in text


def test_a_changed_member_is_refused(shipped, tmp_path):
    import fer_models
    from fer_core.errors import ConfigError

    into = tmp_path / "weights"
    shutil.copytree(shipped / "weights", into)
    weights = into / "tiny" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(ConfigError, match="sha256 differs"):
        fer_models.load(into / "pair")
