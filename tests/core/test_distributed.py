"""DDP on CPU: ``torchrun --nproc-per-node 2 -m fer_cli train``; ranks agree, only rank 0 writes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from fer_core.training import find_runs

CONFIG = """
name = "ddp"
seed = 0
device = "cpu"
threads = 1
[data]
path = "{data}"
eval_limit = 40
[model]
backbone = "small_cnn"
options = {{ widths = [8, 16] }}
[train]
epochs = 1
steps_per_epoch = 6
batch_size = 16
strategy = "balanced"
checkpoint_every = 2
[train.augment]
translate = 2
erasing = 0.3
"""

# Each rank saves the weights it ended with, through an after_train hook, then runs fercli.
SCRIPT = textwrap.dedent("""
    import os, sys, torch
    from fer_core import hookimpl, plugins
    from fer_cli.main import main

    class SaveWeights:
        @hookimpl
        def after_train(self, trainer, result):
            out = os.path.join(os.environ["WEIGHTS_DIR"], f"rank{trainer.dist.rank}.pt")
            torch.save({"world": trainer.dist.world, "steps": result.steps,
                        "weights": trainer.model.state_dict()}, out)

    plugins._default = plugins.PluginSet.load(allow=["fer_models"], extra={"save": SaveWeights()})
    main(sys.argv[1:])
""")


@pytest.mark.slow
def test_two_cpu_processes_agree_and_only_rank0_writes(tmp_path, fer2013_slice):
    cfg = tmp_path / "ddp.toml"
    cfg.write_text(CONFIG.format(data=fer2013_slice))
    script = tmp_path / "ddp_train.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "FER_LOAD_PLUGINS": "fer_models", "WEIGHTS_DIR": str(tmp_path),
           "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           str(script), "train", str(cfg), "--out", str(tmp_path / "runs"), "--no-progress"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]

    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert [r["world"] for r in ranks] == [2, 2]
    assert ranks[0]["steps"] == ranks[1]["steps"] == 6
    for key, value in ranks[0]["weights"].items():
        assert torch.equal(value, ranks[1]["weights"][key]), f"ranks disagree on {key}"

    (run,) = find_runs(tmp_path / "runs")  # one run folder: rank 1 wrote none
    assert run.info()["world_size"] == 2
    names = sorted(p.name for p in run.checkpoints.iterdir())
    assert "best.pt" in names and "step-00000006.pt" in names
    assert out.stdout.count("run folder:") == 1  # only rank 0 reports
