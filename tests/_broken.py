"""Small things to break commands with: a tiny model folder, a tiny FER2013 CSV, a config, bad files;
and the checks every error case makes (one ``Error:`` line, no traceback, nothing left behind)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from click.testing import CliRunner, Result
from PIL import Image

from fer_cli.main import cli


def save_tiny_model(folder: Path, *, seed: int = 0, edit=None) -> Path:
    """A random narrow small_cnn saved as ``model.safetensors`` + ``model.json`` (no training).

    ``edit(state_dict)`` changes the weights before saving (the recorded sha256 is of the edited file).
    """
    import torch

    from fer_core import CLASSES
    from fer_core.training import export_weights
    from fer_models.backbones import small_cnn

    torch.manual_seed(seed)
    state = small_cnn(widths=(8, 16)).state_dict()
    if edit is not None:
        edit(state)
    config = {"backbone": "small_cnn", "options": {"widths": [8, 16]}, "num_classes": 7, "in_chans": 1,
              "classes": list(CLASSES),
              "preprocessing": {"size": 48, "gray": True, "scale": 1 / 255, "mean": 0.5, "std": 0.25,
                                "crop_size": None, "tta": "none"}}
    folder.mkdir(parents=True, exist_ok=True)
    export_weights(state, folder, config)
    return folder


def write_tiny_csv(path: Path, per_class: int = 4) -> Path:
    """A FER2013-form CSV: ``per_class`` Training and half as many PublicTest / PrivateTest rows per class."""
    rng = np.random.default_rng(0)
    lines = ["emotion,pixels,Usage"]
    splits = (("Training", per_class), ("PublicTest", per_class // 2), ("PrivateTest", per_class // 2))
    for usage, n in splits:
        for k in range(7):
            for _ in range(n):
                pixels = " ".join(map(str, rng.integers(0, 256, 48 * 48)))
                lines.append(f"{k},{pixels},{usage}")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_config(path: Path, data: Path) -> Path:
    path.write_text(f'name = "tiny"\nseed = 0\ndevice = "cpu"\n[data]\npath = "{data}"\ncache = false\n'
                    '[model]\nbackbone = "small_cnn"\noptions = { widths = [8, 16] }\n'
                    '[train]\nepochs = 1\nmax_steps = 1\nbatch_size = 8\n')
    return path


def write_face(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (48, 48), dtype=np.uint8)).save(path)
    return path


def flip_byte(path: Path, offset: int | None = None) -> Path:
    """Invert one byte of ``path`` (by default one in the second half: tensor data, not the header)."""
    data = bytearray(path.read_bytes())
    i = offset if offset is not None else len(data) * 3 // 4
    data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def tree(root: Path) -> set[str]:
    """Every file and folder under ``root``, relative to it."""
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_one_line_error(result: Result, *expected: str, code: int = 1) -> str:
    """Exit ``code``, no traceback, and a last line ``Error: ...`` holding each of ``expected``."""
    output = result.output
    assert result.exit_code == code, output
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    last = output.strip().splitlines()[-1]
    assert last.startswith("Error: "), output
    for text in expected:
        assert str(text) in last, f"{text!r} not in {last!r}"
    return last


def read_only_mount() -> Path | None:
    """A folder on a read-only mount (root ignores chmod, so only a mount stops it): the folder named
    by ``FER_READONLY_DIR``, else ``/sys`` when it is mounted read-only (as in most containers), else
    None (the case is skipped)."""
    named = os.environ.get("FER_READONLY_DIR")
    if named:
        return Path(named)
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return None
    for line in mounts:
        parts = line.split()
        if len(parts) >= 4 and parts[1] == "/sys" and "ro" in parts[3].split(","):
            return Path("/sys")
    return None
