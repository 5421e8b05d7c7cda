"""Checkpoints and weight files: atomic writes, safe loads, safetensors exports, picking a checkpoint."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import pytest
import torch

from fer_core.training import (
    CheckpointError,
    RunDir,
    export_weights,
    load_checkpoint,
    load_weights,
    model_weights_from,
    newest_intact_checkpoint,
    sha256_file,
)
from fer_core.training._checkpoint import atomic_write, atomic_write_text, save_checkpoint


def _weights(seed: int = 0) -> dict[str, torch.Tensor]:
    from fer_models.backbones import small_cnn

    torch.manual_seed(seed)
    return small_cnn(widths=(8, 16)).state_dict()


def _equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# -- atomic writes ---------------------------------------------------------------------------------

def test_atomic_write_keeps_the_old_file_when_the_writer_fails(tmp_path):
    path = tmp_path / "state.pt"
    path.write_text("old contents")

    def half_then_crash(tmp: Path) -> None:
        tmp.write_text("new con")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        atomic_write(path, half_then_crash)
    assert path.read_text() == "old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.pt"]  # no temp file left behind

    atomic_write_text(path, "new contents")
    assert path.read_text() == "new contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.pt"]


# -- safe loading ------------------------------------------------------------------------------------

class _Payload:
    """Unpickling this object calls ``open(marker, "w")``: code running at load time."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_checkpoints_load_weights_only_and_refuse_code(tmp_path):
    bad = tmp_path / "evil.pt"
    marker = tmp_path / "pwned"
    torch.save({"model": {}, "extra": _Payload(marker)}, bad)
    with pytest.raises(CheckpointError, match="not a loadable checkpoint") as info:
        load_checkpoint(bad)
    assert str(bad) in str(info.value)
    assert not marker.exists()
    with pytest.raises(CheckpointError):
        model_weights_from(bad)
    assert not marker.exists()

    # the payload is real: plain unpickling (what an unsafe load does) runs it
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_Payload(control)))
    assert control.exists()


def test_damaged_or_foreign_checkpoints_are_named(tmp_path):
    path = tmp_path / "best.pt"
    sha = save_checkpoint({"format": 1, "model": _weights(), "ema": None}, path)
    assert sha == sha256_file(path)
    assert _equal(load_checkpoint(path)["model"], _weights())

    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # truncated, as by a full disk
    with pytest.raises(CheckpointError, match="not a loadable checkpoint") as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)

    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    torch.save({"weights": {}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a fer checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


# -- exported weights ------------------------------------------------------------------------------

def test_export_and_load_weights_round_trip(tmp_path):
    weights = _weights()
    config = {"backbone": "small_cnn", "options": {"widths": [8, 16]}, "num_classes": 7}
    path = export_weights(weights, tmp_path, config)
    assert path == tmp_path / "model.safetensors"
    meta = json.loads((tmp_path / "model.json").read_text())
    assert meta["weights_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert {k: meta[k] for k in config} == config
    loaded, loaded_config = load_weights(path)
    assert _equal(loaded, weights)
    assert loaded_config == meta

    # rebuilt from the folder, the model computes what the original did
    from fer_core.training import load_trained_model
    from fer_models.backbones import small_cnn

    model, _ = load_trained_model(tmp_path)
    original = small_cnn(widths=(8, 16))
    original.load_state_dict(weights)
    x = torch.randn(2, 1, 48, 48)
    assert torch.equal(model(x), original.eval()(x))

    path.write_bytes(b"not safetensors at all")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_weights(path)


def test_model_weights_from_a_run_folder_a_checkpoint_and_safetensors(tmp_path):
    run = tmp_path / "run"
    best = run / "checkpoints" / "best.pt"
    best.parent.mkdir(parents=True)
    save_checkpoint({"format": 1, "model": _weights(1), "ema": None}, best)
    export_weights(_weights(2), run, {"backbone": "small_cnn"})

    for ref in (run, best):  # a run folder means its best checkpoint
        weights, sha = model_weights_from(ref)
        assert _equal(weights, _weights(1)) and sha == sha256_file(best)

    weights, sha = model_weights_from(run / "model.safetensors")
    assert _equal(weights, _weights(2)) and sha == sha256_file(run / "model.safetensors")

    best.unlink()  # without a checkpoint, the run folder's exported weights
    weights, _ = model_weights_from(run)
    assert _equal(weights, _weights(2))

    ema = tmp_path / "ema.pt"  # EMA weights, when there are some, are what was evaluated
    save_checkpoint({"format": 1, "model": _weights(1), "ema": _weights(3)}, ema)
    assert _equal(model_weights_from(ema)[0], _weights(3))

    (tmp_path / "empty-run").mkdir()
    with pytest.raises(CheckpointError, match=r"without checkpoints/best\.pt"):
        model_weights_from(tmp_path / "empty-run")


def test_a_checkpoint_brings_its_stages_crop_and_tta(tmp_path):
    from fer_core.config import ExperimentConfig
    from fer_core.training import load_trained_model

    cfg = ExperimentConfig.from_dict({
        "data": {"path": "unused"}, "model": {"options": {"widths": [8, 16]}},
        "stages": [{"name": "plain"}, {"name": "cropped", "tta": "tencrop", "augment": {"crop_size": 40}}],
    }).to_json_dict()
    for stage, expected in (("cropped", {"crop_size": 40, "tta": "tencrop"}),
                            ("plain", {"crop_size": None, "tta": "none"})):
        path = tmp_path / f"{stage}.pt"
        save_checkpoint({"format": 1, "model": _weights(), "ema": None, "config": cfg, "stage": stage}, path)
        model, wcfg = load_trained_model(path)
        assert wcfg["preprocessing"] == expected, stage
        assert wcfg["backbone"] == "small_cnn" and not model.training


# -- picking a checkpoint to resume from ----------------------------------------------------------

def test_newest_intact_checkpoint_skips_a_corrupted_one(tmp_path, synthetic_dataset):
    from fer_core.config import ExperimentConfig
    from fer_core.training import Trainer

    cfg = ExperimentConfig.from_dict({
        "data": {"path": "unused"}, "device": "cpu", "evaluate": False,
        "model": {"options": {"widths": [8, 16]}},
        "train": {"epochs": 1, "max_steps": 3, "batch_size": 16, "checkpoint_every": 1, "keep_last": 2},
    })
    trainer = Trainer(cfg, dataset=synthetic_dataset.subset(8), run_root=tmp_path)
    trainer.fit()
    run = trainer.run
    manifest = json.loads((run.path / "checkpoints.json").read_text())
    steps = sorted(p.name for p in run.checkpoints.glob("step-*.pt"))
    assert steps == ["step-00000002.pt", "step-00000003.pt"]  # keep_last = 2
    assert set(manifest) == {*steps, "best.pt"}
    for name in steps:
        assert manifest[name]["sha256"] == sha256_file(run.checkpoints / name)

    messages: list[str] = []
    newest = run.checkpoints / "step-00000003.pt"
    assert newest_intact_checkpoint(run, messages.append) == newest and messages == []

    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: it may well still unpickle
    newest.write_bytes(bytes(data))
    chosen = newest_intact_checkpoint(RunDir(run.path), messages.append)
    assert chosen == run.checkpoints / "step-00000002.pt"
    assert len(messages) == 1 and str(newest) in messages[0] and "sha256" in messages[0]
    assert load_checkpoint(chosen)["position"]["step"] == 2

    older = run.checkpoints / "step-00000002.pt"
    older.write_bytes(older.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="no intact checkpoint"):
        newest_intact_checkpoint(run, messages.append)


def test_weights_and_checkpoints_get_a_plain_files_mode(tmp_path):
    """Atomic writes (fer_core.files) create files as open() would: 0o666 less the umask, not 0600."""
    import os

    import torch

    from fer_core.training import atomic_write, export_weights

    old = os.umask(0o022)
    try:
        weights = export_weights({"a": torch.zeros(2)}, tmp_path / "w", {"backbone": "x"})
        atomic_write(tmp_path / "c.pt", lambda tmp: torch.save({"step": 1}, tmp))
    finally:
        os.umask(old)
    for path in (weights, weights.with_name("model.json"), tmp_path / "c.pt"):
        assert path.stat().st_mode & 0o777 == 0o644, path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt", "w"]  # no temp file left
