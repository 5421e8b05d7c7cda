"""Every registered face detector side by side, in one run: recall, precision and time per frame.

Ground truth: ``tests/data/face_boxes.json``, boxes labelled by eye on every still of
``../shared/media`` and on every 10th frame of its clips (29 faces on 55 frames, 27 frames with
none). A detection matches a labelled face when their IoU is at least 0.5 (one to one,
Hungarian); recall = matched / labelled faces, precision = matched / detections. Time: the
median over the frames of one call, per frame size, after one untimed call.

Besides the registered detectors at their defaults, a few settings of them are timed too
(``VARIANTS``: Haar's finer settings from before 0.2, RetinaFace at a smaller input size).

Small faces: ``multi_face.jpg`` shrunk until its five faces are N px wide (median), pasted on a
grey 640x360 frame; the table gives the faces found (IoU >= 0.5 with the mapped labels, or
IoU >= 0.3 for faces under 24 px, where a few pixels of label error are a large share).

    python benchmarks/detectors.py [--threads 1] [--rounds 3] [--out section.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

import fer_core
from fer_core.plugins import get_plugins
from fer_temporal import iou_matrix, open_source, read_image
from fer_temporal._tracker import _assign

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _clips import MEDIA, labels, small_faces
from _common import command, cpu_model, emit

#: Other settings timed beside each detector's defaults: (label, detector name, options).
VARIANTS = [
    ("haar, scale 1.1, min size 0.05 (before 0.2)", "haar", {"scale_factor": 1.1, "min_size": 0.05}),
    ("retinaface, input_size 480", "retinaface", {"input_size": 480}),
    ("retinaface, input_size 320", "retinaface", {"input_size": 320}),
    ("retinaface, input_size 960", "retinaface", {"input_size": 960}),
]
SMALL = (40, 30, 24, 20, 16, 12)


def labelled_frames() -> list[tuple[str, int, np.ndarray, np.ndarray]]:
    """``(file, frame, image, boxes)`` of every labelled frame."""
    wanted = defaultdict(dict)
    for entry in labels():
        wanted[entry["file"]][entry["frame"]] = np.array(entry["boxes"], dtype=float).reshape(-1, 4)
    out = []
    for file, frames in wanted.items():
        path = MEDIA / file
        if path.suffix.lower() in (".jpg", ".jpeg", ".png"):
            out.append((file, 0, read_image(path), frames[0]))
            continue
        for frame in open_source(path):
            if frame.index in frames:
                out.append((file, frame.index, frame.image, frames[frame.index]))
        missing = set(frames) - {i for f, i, _, _ in out if f == file}
        if missing:
            raise SystemExit(f"{file}: labelled frames {sorted(missing)} do not decode")
    return out


def matches(found: np.ndarray, truth: np.ndarray, threshold: float = 0.5) -> int:
    """Detections matched one to one to labelled faces at IoU >= ``threshold``."""
    if not len(found) or not len(truth):
        return 0
    iou = iou_matrix(found, truth)
    rows, cols = _assign(iou)
    return int(sum(iou[r, c] >= threshold for r, c in zip(rows, cols, strict=True)))


def run(detector, frames, rounds: int) -> dict:
    detector(frames[0][2])  # first-call allocations
    per_size: dict[str, list[float]] = defaultdict(list)
    hit = det = faces = 0
    per_file: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # matched, labelled, false
    for file, _index, image, truth in frames:
        best = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            boxes = detector(image)
            best = min(best, time.perf_counter() - start)
        per_size[f"{image.shape[1]}x{image.shape[0]}"].append(best * 1000)
        found = np.array([b[:4] for b in boxes], dtype=float).reshape(-1, 4)
        m = matches(found, truth)
        hit, det, faces = hit + m, det + len(found), faces + len(truth)
        stats = per_file[file]
        stats[0] += m
        stats[1] += len(truth)
        stats[2] += len(found) - m
    small = {}
    for px in SMALL:
        image, truth = small_faces(px)
        found = np.array([b[:4] for b in detector(image)], dtype=float).reshape(-1, 4)
        small[px] = (matches(found, truth, 0.5 if px >= 24 else 0.3), len(found), len(truth))
    return {"recall": hit / faces, "precision": hit / det if det else float("nan"), "matched": hit,
            "faces": faces, "false": det - hit, "ms": {k: statistics.median(v) for k, v in per_size.items()},
            "files": dict(per_file), "small": small}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of each detector (OpenCV, ONNX)")
    parser.add_argument("--rounds", type=int, default=3, help="calls per frame; the fastest is kept")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    import cv2
    import onnxruntime

    cv2.setNumThreads(args.threads)
    plugins = get_plugins()
    registry = plugins.registry("face_detector")
    setups = []
    for name in registry:
        registered = plugins.get("face_detector", name)
        allowed = registered.allowed_options()
        options = {"threads": args.threads} if allowed is not None and "threads" in allowed else {}
        setups.append((f"**{name}**", registered.build(**options)))
    for label, name, options in VARIANTS:
        if name in registry:
            registered = plugins.get("face_detector", name)
            allowed = registered.allowed_options()
            extra = {"threads": args.threads} if allowed is not None and "threads" in allowed else {}
            setups.append((label, registered.build(**options, **extra)))
    frames = labelled_frames()
    results = [(label, run(detector, frames, args.rounds)) for label, detector in setups]
    sizes = sorted({k for _, r in results for k in r["ms"]}, key=lambda s: int(s.split("x")[0]))
    counts = {s: sum(f"{im.shape[1]}x{im.shape[0]}" == s for _, _, im, _ in frames) for s in sizes}
    files = list(dict.fromkeys(f for f, _, _, _ in frames))
    load = os.getloadavg()
    n_faces = results[0][1]["faces"]
    lines = [
        f"### Face detectors on {n_faces} faces labelled by eye ({len(frames)} frames of ../shared/media)",
        "",
        f"Command: `{command(__file__, argv)}`. {args.threads} thread(s) per detector; time per frame: the "
        f"fastest of {args.rounds} calls, median over the frames of a size. {cpu_model()}, "
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f} / {load[1]:.2f} at the end (other sessions "
        f"share the machine). OpenCV {cv2.__version__}, onnxruntime {onnxruntime.__version__}, fer "
        f"{fer_core.__version__}, Python {platform.python_version()}.", "",
        "| detector | recall (IoU 0.5) | precision | false faces | "
        + " | ".join(f"ms per {s} frame ({counts[s]})" for s in sizes) + " |",
        "|---" * (4 + len(sizes)) + "|",
    ]
    for label, r in results:
        ms = " | ".join(f"{r['ms'].get(s, float('nan')):.1f}" for s in sizes)
        lines.append(f"| {label} | {r['recall']:.2f} ({r['matched']}/{r['faces']}) | {r['precision']:.2f} | "
                     f"{r['false']} | {ms} |")
    lines += ["", "Per file: faces matched / labelled, and false faces (+N).", "",
              "| detector | " + " | ".join(files) + " |", "|---" * (1 + len(files)) + "|"]
    for label, r in results:
        cells = []
        for f in files:
            m, n, false = r["files"][f]
            cells.append(f"{m}/{n}" + (f" +{false}" if false else ""))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "Small faces: the five faces of multi_face.jpg shrunk to N px wide on a 640x360 frame "
              "(found / 5, and + false faces).", "",
              "| detector | " + " | ".join(f"{px} px" for px in SMALL) + " |",
              "|---" * (1 + len(SMALL)) + "|"]
    for label, r in results:
        cells = [f"{m}/{n}" + (f" +{d - m}" if d > m else "") for m, d, n in (r["small"][px] for px in SMALL)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    emit(lines, args.out)


if __name__ == "__main__":
    main()
