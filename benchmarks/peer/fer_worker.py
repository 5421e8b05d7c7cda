"""Runs inside the peer's environment (never the toolkit's): the `fer` package's mini-Xception.

Called by ``benchmarks/peer_fer.py``. Reads 48x48 uint8 faces (``.npy``), prepares them the way
``fer.FER.detect_emotions`` prepares a detected face (``cv2.resize`` to the model's input size,
``/ 255``, ``(x - 0.5) * 2``), and classifies them with ``FER._classify_emotions``, the
package's own classifier call, for both of its backends: the Keras model (``use_tflite=False``)
and the quantized TFLite copy (the default). Writes each backend's probabilities (``.npy``) and
images/second at batch 1 and 64 (preparation included) as JSON on stdout.

    PEER_PYTHON benchmarks/peer/fer_worker.py FACES.npy OUT_DIR [--seconds 1.0] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import images_per_second


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("faces", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import cv2
    import tensorflow as tf
    from fer.fer import FER

    tf.config.threading.set_intra_op_parallelism_threads(2)
    faces = np.load(args.faces)
    from importlib.metadata import version

    result = {"versions": {"fer": version("fer"), "tensorflow": tf.__version__,
                           "python": sys.version.split()[0]}}
    for backend in ("keras", "tflite"):
        detector = FER(use_tflite=backend == "tflite")
        side = 64  # the model's input size (fer's emotion_target_size)

        def classify(batch: np.ndarray, detector=detector, side=side) -> np.ndarray:
            x = np.stack([cv2.resize(f, (side, side)) for f in batch]).astype("float32")
            x = (x / 255.0 - 0.5) * 2.0
            return np.asarray(detector._classify_emotions(x))

        probs = np.concatenate([classify(faces[i:i + 64]) for i in range(0, len(faces), 64)])
        np.save(args.out / f"{backend}.npy", probs)
        result[backend] = {str(b): images_per_second(lambda b=b: classify(faces[:b]), b, args.seconds,
                                                      args.rounds) for b in (1, 64)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
