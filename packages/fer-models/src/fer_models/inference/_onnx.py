"""ONNX export of a trained network, and ONNX Runtime as an inference backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fer_core.errors import ConfigError
from fer_core.training import atomic_write, atomic_write_text, sha256_file

ONNX_OPSET = 18


def _need(module: str, extra: str = "onnx") -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"{module} is needed for this: pip install 'fer-models[{extra}]'") from None


def export_onnx(model: torch.nn.Module, path: str | Path, config: dict[str, Any] | None = None, *,
                size: int | None = None, opset: int = ONNX_OPSET) -> Path:
    """Export ``model`` (normalised ``[N, 1, S, S]`` in, logits out) to ``path`` with a dynamic batch.

    The config is written beside it (same name, ``.json``) so :func:`fer_models.load` can rebuild
    the preprocessing, with the ONNX file's sha256 (checked when it loads); both writes are
    atomic. ``S`` is the crop size the model was trained with, else the image size.
    """
    _need("onnxscript")
    path = Path(path)
    config = dict(config or {})
    pre = config.get("preprocessing") or {}
    side = int(size or pre.get("crop_size") or pre.get("size") or 48)
    example = torch.zeros(2, 1, side, side)
    model = model.eval().cpu()
    try:
        program = torch.onnx.export(model, (example,), dynamo=True, opset_version=opset,
                                    input_names=["input"], output_names=["logits"],
                                    dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False)
    except Exception as exc:  # the exporter's errors come in many types
        raise ConfigError(f"ONNX export of {config.get('backbone', type(model).__name__)} failed: "
                          f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from None
    if program is None:  # only the legacy (dynamo=False) exporter returns None
        raise ConfigError(f"ONNX export of {config.get('backbone', type(model).__name__)} gave no program")
    atomic_write(path, lambda tmp: program.save(str(tmp)))
    sidecar = {**config, "onnx": {"opset": opset, "input": "input", "output": "logits", "side": side,
                                  "sha256": sha256_file(path)}}
    atomic_write_text(path.with_suffix(".json"), json.dumps(sidecar, indent=2) + "\n")
    return path


class OnnxModel(torch.nn.Module):
    """An ONNX Runtime session behind a module's call: tensors in, logits tensor out (CPU)."""

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        super().__init__()
        ort = _need("onnxruntime")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        # no busy-waiting between runs: the spinning threads would slow the torch ops around each call
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ConfigError(f"{path}: not a loadable ONNX model ({type(exc).__name__}: {exc})") from None
        self.input_name = self.session.get_inputs()[0].name
        self.path = Path(path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = np.ascontiguousarray(x.detach().cpu().float().numpy())
        return torch.from_numpy(self.session.run(None, {self.input_name: batch})[0])
