"""Does alignment help? FER2013 through the whole detect -> crop -> classify path, aligned or not.

Each 48x48 face of PublicTest and PrivateTest is upsampled to ``--face`` px (bicubic) and pasted
at a seeded random place into a ``640x360`` frame cut from ``no_face.jpg`` (a real background
with no face); in the *rolled* variant the frame is then turned about the face's centre by a
seeded random 10-25 degrees either way (heads tilt in real video; FER2013's faces are upright
within about 5 degrees, ``benchmarks/fer2013_framing.py``). The default detector runs on each
frame and its highest-scoring face is cropped the two ways ``fercli analyze`` can
(``face_crops(..., align=False | True)``) and classified by the model. A face the detector
misses counts as wrong. The model on the 48x48 originals is given as the ceiling.

Protocol: the default (align or not) is chosen on PublicTest; PrivateTest is reported;
Public+Private (7,178) for comparison with the reports.

    python benchmarks/alignment.py [--model default] [--face 128] [--limit N] [--out section.md]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

import fer_models
from fer_core.data import load_dataset
from fer_temporal._crops import face_crops
from fer_temporal._retinaface import retinaface

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command, cpu_model, emit

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "shared" / "data" / "fer2013" / "fer2013.csv.gz"
BACKGROUND = ROOT / "shared" / "media" / "no_face.jpg"
SIZE = (640, 360)


def frames(faces: np.ndarray, face_px: int, rolled: bool, seed: int) -> list[np.ndarray]:
    """The faces pasted into the background, one RGB frame each."""
    rng = np.random.default_rng(seed)
    background = np.asarray(Image.open(BACKGROUND).convert("RGB").resize(SIZE, Image.Resampling.BILINEAR))
    out = []
    for face in faces:
        frame = background.copy()
        x = int(rng.integers(face_px // 2, SIZE[0] - face_px - face_px // 2))
        y = int(rng.integers(face_px // 2, SIZE[1] - face_px - face_px // 2))
        big = cv2.resize(face, (face_px, face_px), interpolation=cv2.INTER_CUBIC)
        frame[y:y + face_px, x:x + face_px] = big[:, :, None]
        angle = float(rng.uniform(10, 25) * rng.choice([-1, 1]))
        if rolled:
            turn = cv2.getRotationMatrix2D((x + face_px / 2, y + face_px / 2), angle, 1.0)
            frame = cv2.warpAffine(frame, turn, SIZE, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        out.append(frame)
    return out


def crops(frames_: list[np.ndarray], size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plain and aligned crops of each frame's best face, and which frames had a face."""
    detect = retinaface()
    plain = np.zeros((len(frames_), size, size), np.uint8)
    aligned = plain.copy()
    found = np.zeros(len(frames_), bool)
    for i, frame in enumerate(frames_):
        boxes = detect(frame)
        if not boxes:
            continue
        best = max(boxes, key=lambda d: d.score or 0.0)
        found[i] = True
        plain[i] = face_crops(frame, [best], size, 0.1, align=False)[0]
        aligned[i] = face_crops(frame, [best], size, 0.1, align=True)[0]
    return plain, aligned, found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--face", type=int, default=128, help="pasted face size in pixels")
    parser.add_argument("--limit", type=int, default=None, help="the first N faces of each split")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    classifier = fer_models.load(args.model)
    data = load_dataset(args.data)
    start = time.perf_counter()
    results: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    for role in ("select", "report"):
        split = data.split(role)
        faces = split.images[:, 0].numpy()[:args.limit]
        labels = split.labels.numpy()[:args.limit]
        ceiling = classifier.predict_proba(faces).argmax(1) == labels
        for variant in ("upright", "rolled"):
            plain, aligned, found = crops(frames(faces, args.face, variant == "rolled", args.seed),
                                          classifier.size)
            results[(split.name, variant)] = {
                "n": np.array(len(faces)), "found": found, "ceiling": ceiling,
                "plain": (classifier.predict_proba(plain).argmax(1) == labels) & found,
                "aligned": (classifier.predict_proba(aligned).argmax(1) == labels) & found}
    seconds = time.perf_counter() - start
    lines = [
        f"### Alignment through the whole path: `{args.model}` on FER2013 faces pasted into frames",
        "",
        f"Command: `{command(__file__, argv)}`. Faces upsampled to {args.face} px in 640x360 frames; "
        f"missed faces count as wrong. {seconds:.0f} s on {cpu_model()}.",
        "Protocol: the default is chosen on PublicTest (select); PrivateTest (report) is reported; "
        "Public+Private (7,178) for comparison with the reports.",
        "",
        "| split | frames | faces found | 48x48 original (ceiling) | plain crop | aligned "
        "| aligned - plain |",
        "|---|---|---|---|---|---|---|",
    ]
    for variant in ("upright", "rolled"):
        names = [name for name, v in results if v == variant]
        rows = [(name, results[(name, variant)]) for name in names]
        union = {k: np.concatenate([r[k] for _, r in rows])
                 for k in ("found", "ceiling", "plain", "aligned")}
        for name, r in [*rows, ("Public+Private", union)]:
            n = len(r["found"])
            gain = r["aligned"].mean() - r["plain"].mean()
            lines.append(f"| {name}, {variant} | {n} | {r['found'].mean():.1%} "
                         f"| {r['ceiling'].mean():.2%} | {r['plain'].mean():.2%} "
                         f"| {r['aligned'].mean():.2%} | {gain * 100:+.2f} points |")
    emit(lines, args.out)


if __name__ == "__main__":
    main()
