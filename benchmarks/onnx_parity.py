"""ONNX Runtime (numpy, no torch) against PyTorch on the real PrivateTest: accuracy both ways and
how far the probabilities are apart, for each shipped model with an ONNX copy.

Both backends classify all 3,589 PrivateTest faces (uint8 48x48, as the dataset decodes them),
with the model's own TTA and temperature. Reported per model: the ONNX file and whether it is
float or int8, PrivateTest accuracy and macro-F1 by each backend, faces whose top-1 label
differs, max and mean absolute probability difference, and each backend's faces per second at
batch 256 (one pass, busy machine: a rough figure).

    python benchmarks/onnx_parity.py [--data ../shared/data/fer2013/fer2013.csv.gz] [--models default fast]
        [--out section.md]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, command, cpu_model, emit

DATA = REPO.parent / "shared" / "data" / "fer2013" / "fer2013.csv.gz"


def timed(predict, faces: np.ndarray) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    probs = predict(faces)
    return probs, len(faces) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--models", nargs="*", default=["default", "fast"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    import fer_models
    from fer_core.data import load_dataset
    from fer_core.training import classification_metrics

    split = load_dataset(args.data).split("report")
    faces, labels = split.images[:, 0].numpy(), split.labels.numpy()
    lines = ["## ONNX Runtime (numpy, no torch) against PyTorch on PrivateTest", "",
             f"Command: `{command(__file__, argv)}`. {len(faces):,} PrivateTest faces, each model's "
             f"TTA and temperature; CPU: {cpu_model()} (busy: the faces/s are rough).", "",
             "| model | ONNX copy | PyTorch acc | ONNX acc | PyTorch macro-F1 | ONNX macro-F1 "
             "| top-1 differs | max abs diff | mean abs diff | faces/s torch | faces/s ONNX |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in args.models:
        onnx = fer_models.load(name, backend="onnx")
        torch_clf = fer_models.load(name, backend="torch")
        kind = "int8" if (onnx.config.get("onnx") or {}).get("quantization") else "float32"
        p_t, speed_t = timed(torch_clf.predict_proba, faces)
        p_o, speed_o = timed(onnx.predict_proba, faces)
        m_t, m_o = classification_metrics(labels, p_t), classification_metrics(labels, p_o)
        diff = np.abs(p_t.astype(np.float64) - p_o)
        flips = int((p_t.argmax(1) != p_o.argmax(1)).sum())
        lines.append(f"| `{name}` | {kind} | {m_t['accuracy']:.2%} | {m_o['accuracy']:.2%} "
                     f"| {m_t['macro_f1']:.4f} | {m_o['macro_f1']:.4f} | {flips} of {len(faces):,} "
                     f"| {diff.max():.2e} | {diff.mean():.2e} | {speed_t:.0f} | {speed_o:.0f} |")
    lines += ["", "The accuracy difference, ONNX minus PyTorch, in points: "
              "what `backend=\"auto\"` accepts is a float copy within 0.1 point (see the fer-models README)."]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
