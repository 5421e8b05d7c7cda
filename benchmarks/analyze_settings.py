"""What each speed setting of ``fercli analyze`` costs: frames/second end to end and faces found.

End to end is :func:`fer_temporal.analyze_to_files` without the plot (what ``fercli analyze
--no-plot`` runs per source, model loaded once) on ``single_face.mp4`` (640x360, 72 frames)
and on a five-face clip made in a temp dir (``multi_face.jpg`` panned and zoomed, 640x360, 90
frames: ``benchmarks/_clips.py``). Settings: the detector, ``--redetect-every``, RetinaFace's
``input_size`` and the classifier's ``--batch-size``. The rounds are interleaved (every setting
once per round, in turn), so a change of load on the machine hits all alike; medians.

Frames/second is wall time; frames per CPU-second counts the process's CPU time over all its
threads, which a busy machine inflates much less than wall time (with one thread, it is what the
frames/second would be on an idle core).

Faces found: rows whose box matches a labelled face at IoU >= 0.5, over the labelled faces
(``single_face.mp4``: every 10th frame, labelled by eye in ``tests/data/face_boxes.json``; the
clip: every frame, the photo's labels mapped through the pan and zoom).

    python benchmarks/analyze_settings.py [--model default] [--rounds 3] [--threads 2] [--out section.md]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

import fer_core
from fer_core.plugins import PluginSet
from fer_models import load
from fer_temporal import analyze_to_files, iou_matrix, resolve_detector

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _clips import MEDIA, labels, write_multi_face_clip
from _common import command, cpu_model, emit

#: (label, detector, detector options, redetect every, batch size); the first two are the
#: defaults of 0.2.0 (Haar) and of now (RetinaFace).
SETTINGS = [
    ("haar (0.2.0's default)", "haar", {}, 5, 32),
    ("**retinaface (the default)**", "retinaface", {}, 5, 32),
    ("retinaface, redetect every 1", "retinaface", {}, 1, 32),
    ("retinaface, redetect every 10", "retinaface", {}, 10, 32),
    ("retinaface, input_size 480", "retinaface", {"input_size": 480}, 5, 32),
    ("retinaface, input_size 320", "retinaface", {"input_size": 320}, 5, 32),
    ("retinaface, batch size 8", "retinaface", {}, 5, 8),
    ("retinaface, batch size 128", "retinaface", {}, 5, 128),
]


def found(csv_path: Path, truth: dict[int, np.ndarray]) -> tuple[int, int]:
    """(labelled faces matched by a row's box at IoU >= 0.5, labelled faces), one to one per frame."""
    boxes: dict[int, list] = defaultdict(list)
    with csv_path.open() as fh:
        for row in csv.DictReader(fh):
            if row["face_detected"] == "True":
                boxes[int(row["frame"])].append([float(row[k]) for k in ("x0", "y0", "x1", "y1")])
    hit = total = 0
    for frame, faces in truth.items():
        total += len(faces)
        if len(faces) and boxes.get(frame):
            iou = iou_matrix(np.array(boxes[frame]), faces)
            while iou.size and iou.max() >= 0.5:  # greedy one to one (enough for these few faces)
                r, c = np.unravel_index(int(iou.argmax()), iou.shape)
                hit += 1
                iou[r, :], iou[:, c] = 0, 0
    return hit, total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="what `fercli analyze --model` takes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    import cv2

    cv2.setNumThreads(args.threads)
    plugins = PluginSet.load(allow=["fer_models", "fer_temporal"])
    classifier = load(args.model, plugins=plugins)
    single = {e["frame"]: np.array(e["boxes"], float).reshape(-1, 4)
              for e in labels() if e["file"] == "single_face.mp4"}
    seconds: dict[tuple[str, str], list[float]] = defaultdict(list)
    cpu_seconds: dict[tuple[str, str], list[float]] = defaultdict(list)
    hits: dict[tuple[str, str], tuple[int, int]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        clip = tmp / "multi_face_pan.mp4"
        multi = dict(enumerate(write_multi_face_clip(clip)))
        videos = {"single_face.mp4 (72 frames)": (MEDIA / "single_face.mp4", single),
                  "five-face clip (90 frames)": (clip, multi)}
        for r in range(args.rounds):
            for label, name, options, every, batch in SETTINGS:
                opts = {**options, "threads": args.threads} if name == "retinaface" else options
                for video_label, (video, truth) in videos.items():
                    detector = resolve_detector(name, opts, plugins=plugins)  # fresh: no state kept
                    start, cpu = time.perf_counter(), time.process_time()
                    result = analyze_to_files(video, classifier, tmp / f"out{r}", detector=detector,
                                              redetect_every=every, batch_size=batch, plot=False)
                    seconds[label, video_label].append(time.perf_counter() - start)
                    cpu_seconds[label, video_label].append(time.process_time() - cpu)
                    frames = result["header"]["frames_read"]
                    hits[label, video_label] = (*found(result["paths"]["csv"], truth), frames)
    avg = os.getloadavg()
    lines = [
        "### What each setting of `fercli analyze` costs (end to end, frames/second)", "",
        f"Command: `{command(__file__, argv)}`. Model: {classifier.name} ({classifier.gmacs():.3f} GMAC "
        f"per face with TTA '{classifier.tta}'), {args.threads} threads (torch, OpenCV, ONNX Runtime); "
        f"medians of {args.rounds} interleaved rounds; {cpu_model()}, {os.cpu_count()} CPUs, load "
        f"average {avg[0]:.2f} / {avg[1]:.2f} / {avg[2]:.2f} at the end (other sessions share the "
        f"machine). torch {torch.__version__}, fer {fer_core.__version__}, Python "
        f"{platform.python_version()}.", "",
        "| setting | " + " | ".join(f"{v}: frames/s | frames per CPU-second | faces found"
                                    for v in videos) + " |",
        "|---" * (1 + 3 * len(videos)) + "|",
    ]
    for label, *_ in SETTINGS:
        cells = []
        for video_label in videos:
            hit, total, frames = hits[label, video_label]
            cells += [f"{frames / statistics.median(seconds[label, video_label]):.1f}",
                      f"{frames / statistics.median(cpu_seconds[label, video_label]):.1f}", f"{hit}/{total}"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    emit(lines, args.out)


if __name__ == "__main__":
    main()
