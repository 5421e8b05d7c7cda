"""Kill a training run with a real SIGKILL mid-epoch; resuming reaches the same weights, bit for bit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from fer_core.training import find_runs, load_checkpoint

# Every source of randomness the trainer has: weighted draw, augmentation, MixUp, dropout, EMA.
CONFIG = """
name = "killme"
seed = 3
device = "cpu"
threads = 2
[data]
path = "{data}"
eval_limit = 40
[model]
backbone = "small_cnn"
options = {{ widths = [8, 16], dropout = 0.3 }}
[train]
epochs = 2
batch_size = 16
lr = 0.003
scheduler = "onecycle"
strategy = "adaptive"
loss = "cross_entropy"
loss_options = {{ label_smoothing = 0.1 }}
ema = 0.9
grad_clip = 1.0
checkpoint_every = 5
[train.augment]
translate = 3
rotate = 10
erasing = 0.5
mixup = 0.4
mix_prob = 0.5
"""

# A plugin that SIGKILLs its own process after optimizer step KILL_AT (between checkpoints).
KILLER = textwrap.dedent("""
    import os, signal, sys
    from fer_core import hookimpl, plugins
    from fer_cli.main import main

    class Killer:
        @hookimpl
        def after_batch(self, trainer, step, loss):
            if step == int(os.environ["KILL_AT"]):
                os.kill(os.getpid(), signal.SIGKILL)

    plugins._default = plugins.PluginSet.load(allow=["fer_models"], extra={"killer": Killer()})
    main(sys.argv[1:])
""")


def _fercli(*args: str, kill_at: int | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "FER_LOAD_PLUGINS": "fer_models"}
    if kill_at is None:
        cmd = [sys.executable, "-m", "fer_cli", *args]
    else:
        env["KILL_AT"] = str(kill_at)
        cmd = [sys.executable, "-c", KILLER, *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


def _final_state(root: Path) -> dict[str, torch.Tensor]:
    (run,) = find_runs(root)
    last = sorted(run.checkpoints.glob("step-*.pt"))[-1]
    state = load_checkpoint(last)
    return {**{f"model.{k}": v for k, v in state["model"].items()},
            **{f"ema.{k}": v for k, v in state["ema"].items()}}


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_is_bit_exact(tmp_path, fer2013_slice):
    cfg = tmp_path / "exp.toml"
    cfg.write_text(CONFIG.format(data=fer2013_slice))
    # 700 training images / 16 = 44 steps per epoch; step 23 is mid-epoch 0, between checkpoints
    straight = _fercli("train", str(cfg), "--out", str(tmp_path / "a"))
    assert straight.returncode == 0, straight.stderr

    killed = _fercli("train", str(cfg), "--out", str(tmp_path / "b"), kill_at=23)
    assert killed.returncode == -signal.SIGKILL
    (run,) = find_runs(tmp_path / "b")
    assert run.info()["status"] == "running"  # no chance to say anything: it was SIGKILLed
    newest = sorted(run.checkpoints.glob("step-*.pt"))[-1]
    assert newest.name == "step-00000020.pt"  # checkpoint_every = 5: the last before step 23

    resumed = _fercli("train", "--resume", str(run.path))
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from" in resumed.stdout and "epoch 0, batch 20, step 20" in resumed.stdout

    a, b = _final_state(tmp_path / "a"), _final_state(tmp_path / "b")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), f"{key} differs after resume"
    assert run.info()["status"] == "completed"
    # the resumed run's metric log has each epoch once, as the straight run's does
    assert len(run.history()) == 2
    (straight_run,) = find_runs(tmp_path / "a")
    assert [h["select"] for h in run.history()] == [h["select"] for h in straight_run.history()]
