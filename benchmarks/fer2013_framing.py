"""How FER2013 frames its faces, measured with the default detector's landmarks.

Each 48x48 face of a split is upsampled to ``--upsample`` px (bicubic) and pasted, with a grey
border of half that on every side, into a frame the detector runs on; the detection with the
highest score gives 5 landmarks. Printed: the detection rate, and the median and quartiles of
the eye distance, the eye line's midpoint, the mouth's midpoint and the eye line's angle, as
fractions of the face image's side; the same for the plain square crop of the detected box
(``square_box``, margin 0.1), to show how far that framing is from FER2013's; and the median
landmarks, which are ``fer_temporal._align.TEMPLATE``.

    python benchmarks/fer2013_framing.py [--split select] [--upsample 192] [--out section.md]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from fer_core.data import load_dataset
from fer_temporal._crops import square_box
from fer_temporal._retinaface import retinaface

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command, cpu_model, emit

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013" / "fer2013.csv.gz"


def landmarks_of(faces: np.ndarray, upsample: int) -> tuple[list[np.ndarray | None], list[tuple]]:
    """Each face's landmarks in the face image's pixels (``None`` if not found), and its box."""
    detect, pad = retinaface(), upsample // 2
    marks, boxes = [], []
    for face in faces:
        frame = np.full((upsample + 2 * pad,) * 2, 128, np.uint8)
        frame[pad:pad + upsample, pad:pad + upsample] = cv2.resize(
            face, (upsample, upsample), interpolation=cv2.INTER_CUBIC)
        found = detect(np.repeat(frame[:, :, None], 3, axis=2))
        if not found:
            marks.append(None)
            boxes.append(None)
            continue
        best = max(found, key=lambda d: d.score or 0.0)
        marks.append(np.array(best.landmarks) - pad)
        boxes.append(tuple(v - pad for v in best[:4]))
    return marks, boxes


def framing(points: np.ndarray) -> dict[str, np.ndarray]:
    """Per face: eye distance, eye midpoint x/y, mouth midpoint y, eye-line angle (degrees)."""
    le, re, ml, mr = points[:, 0], points[:, 1], points[:, 3], points[:, 4]
    eyes = (le + re) / 2
    return {"eye distance": np.linalg.norm(re - le, axis=1), "eye midpoint x": eyes[:, 0],
            "eye midpoint y": eyes[:, 1], "mouth midpoint y": ((ml + mr) / 2)[:, 1],
            "eye-line angle (degrees)": np.degrees(np.arctan2(re[:, 1] - le[:, 1], re[:, 0] - le[:, 0]))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--split", default="select", help="a role or split name (PublicTest is 'select')")
    parser.add_argument("--upsample", type=int, default=192)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    split = load_dataset(args.data).split(args.split)
    faces = split.images[:, 0].numpy()
    start = time.perf_counter()
    marks, boxes = landmarks_of(faces, args.upsample)
    seconds = time.perf_counter() - start
    found = [i for i, m in enumerate(marks) if m is not None]
    in_face = np.stack([marks[i] for i in found]) / args.upsample
    in_crop = []
    for i in found:
        x0, y0, x1, _ = square_box(boxes[i], 0.1)
        in_crop.append((marks[i] - [x0, y0]) / (x1 - x0))
    ours = framing(np.stack(in_crop))
    theirs = framing(in_face)
    lines = [
        "### How FER2013 frames its faces (RetinaFace landmarks on upsampled faces)",
        "",
        f"Command: `{command(__file__, argv)}`. {split.name}: {len(faces)} faces upsampled to "
        f"{args.upsample} px, the default detector found {len(found)} ({len(found) / len(faces):.1%}) "
        f"in {seconds:.0f} s on {cpu_model()}. Fractions of the face image's side (FER2013) or of "
        "the plain crop's side (the detected box squared, margin 0.1): median (quartiles).",
        "",
        "| measure | FER2013 face | plain crop of the detected box |",
        "|---|---|---|",
    ]
    for name in theirs:
        cells = []
        for values in (theirs[name], ours[name]):
            q1, q2, q3 = np.percentile(values, [25, 50, 75])
            cells.append(f"{q2:.3f} ({q1:.3f}-{q3:.3f})")
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    median = np.median(in_face, axis=0)
    lines += ["", "Median landmarks in the FER2013 face (x, y), the alignment template: "
              + ", ".join(f"({x:.4f}, {y:.4f})" for x, y in median)]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
