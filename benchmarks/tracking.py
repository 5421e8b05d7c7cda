"""Multi-face tracking through the whole `Analyzer` path: ids kept through misses, new after cuts.

The clip (made in memory from ``../shared/media``, never saved): three shots of 640x360 frames.

- shot 1, 90 frames: three people of ``multi_face.jpg`` on a mountain background, faces 20, 48
  and 110 px wide, drifting slowly; the 48-px face is covered by a grey card for frames 30-49
  (0.67 s at 30 fps), the 110-px face for frames 60-64;
- shot 2, 60 frames: two other people on another background;
- shot 3, 60 frames: shot 1's people and background again (a cut back: new ids are expected,
  as a person in a new shot cannot be known to be the same without face recognition).

Ground truth: each pasted face's box and identity (shot, person). A detection is matched to a
true face at IoU >= 0.3 (one to one). Per setting: recall; **ids per identity** (distinct track
ids a true face got within its shot: 1.0 is ideal); **id switches** (times a true face's id
changed within its shot); **ids across shots** (track ids seen in two shots: 0 is ideal); the
cuts found (true: frames 90 and 150). Settings compared in one run: the tracker before this
change (IoU only, tracks forgotten after 10 missed frames, no cut detection) and now.

Real cuts: every clip of ``../shared/media`` and the cut score of each frame: within a shot the
largest score, and the frames where a cut was found (by eye: ``face_noface.mov`` cuts at frame
72, the next frame in between; ``noface_face.mov`` at 96, and its last frame, 168, is black).

    python benchmarks/tracking.py [--redetect-every 5] [--out section.md]
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import numpy as np
from PIL import ImageDraw

import fer_core
from fer_temporal import Analyzer, IoUTracker, iou_matrix, open_source
from fer_temporal._cuts import ShotCuts
from fer_temporal._tracker import _assign

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _clips import MEDIA, background, face_patches, paste_face
from _common import command, cpu_model, emit

SHOTS = [  # (background, [(patch, face px, start centre, drift px/frame)], frames, covers)
    (0, [(0, 20, (120, 90), 0.4), (1, 48, (320, 200), 0.3), (2, 110, (520, 180), -0.2)], 90,
     {1: range(30, 50), 2: range(60, 65)}),
    (1, [(3, 60, (200, 180), 0.5), (5, 90, (460, 170), -0.3)], 60, {}),
    (0, [(0, 20, (120, 90), 0.4), (1, 48, (320, 200), 0.3), (2, 110, (520, 180), -0.2)], 60, {}),
]
TRUE_CUTS = [90, 150]


def make_clip() -> tuple[list[np.ndarray], list[list[tuple[tuple[int, int], np.ndarray]]]]:
    """The frames and, per frame, ``((shot, person), box)`` of every visible face."""
    patches = face_patches()
    frames, truth = [], []
    for shot, (which, people, n, covers) in enumerate(SHOTS):
        back = background(which=which)
        for t in range(n):
            canvas = back.copy()
            faces = []
            for person, (patch, px, (cx, cy), drift) in enumerate(people):
                box = paste_face(canvas, patches[patch], px, (cx + drift * t, cy + 0.2 * drift * t))
                if t in covers.get(person, ()):
                    pad = 0.3 * (box[2] - box[0])
                    ImageDraw.Draw(canvas).rectangle(
                        [box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad], fill=(128, 128, 128))
                else:
                    faces.append(((shot, person), box))
            frames.append(np.asarray(canvas))
            truth.append(faces)
    return frames, truth


def score(rows: list[dict], truth: list, cuts: list[int]) -> dict:
    by_frame: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        if row["face_detected"]:
            by_frame[row["frame"]].append(row)
    ids_of: dict[tuple, list[int]] = defaultdict(list)
    shots_of_id: dict[int, set[int]] = defaultdict(set)
    matched = total = 0
    for index, faces in enumerate(truth):
        total += len(faces)
        found = by_frame.get(index, [])
        if not faces or not found:
            continue
        iou = iou_matrix(np.array([b for _, b in faces]),
                         np.array([[r["x0"], r["y0"], r["x1"], r["y1"]] for r in found]))
        for r, c in zip(*_assign(iou), strict=True):
            if iou[r, c] >= 0.3:
                matched += 1
                identity = faces[r][0]
                ids_of[identity].append(found[c]["track_id"])
                shots_of_id[found[c]["track_id"]].add(identity[0])
    switches = sum(sum(a != b for a, b in pairwise(ids)) for ids in ids_of.values())
    return {"recall": matched / total,
            "ids per identity": np.mean([len(set(ids)) for ids in ids_of.values()]),
            "id switches": switches,
            "ids across shots": sum(len(s) > 1 for s in shots_of_id.values()),
            "cuts": cuts}


def real_cuts() -> list[str]:
    lines = ["| clip | frames | largest score within a shot | cuts found at frame (score) |",
             "| --- | ---: | ---: | --- |"]
    for path in sorted(MEDIA.glob("*.m[op][4v]")):
        cuts, found, within = ShotCuts(), [], 0.0
        n = 0
        for frame in open_source(path):
            n += 1
            if cuts(frame.image):
                found.append(f"{frame.index} ({cuts.last_score:.0f})")
            elif cuts.last_score < cuts.threshold:
                within = max(within, cuts.last_score)
        lines.append(f"| {path.name} | {n} | {within:.1f} | {', '.join(found) or 'none'} |")
    return lines


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redetect-every", type=int, default=5, help="as fercli analyze (default 5)")
    parser.add_argument("--detector", default="retinaface")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    frames, truth = make_clip()

    def uniform(crops: np.ndarray) -> np.ndarray:  # tracking does not depend on the classifier
        return np.full((len(crops), 7), 1 / 7)

    settings = {
        "before: IoU only, forget after 10 frames, no cuts":
            {"tracker": IoUTracker(max_age=10, lost_age=10, reid_distance=0), "cut_threshold": None},
        "now: + re-find within 1 face size, 300 frames; cuts": {},
    }
    lines = [f"### Tracking on a made three-shot clip ({len(frames)} frames, 640x360, "
             f"{sum(map(len, truth))} visible faces of 5 people, faces 20-110 px)", "",
             f"Command: `{command(__file__, argv)}`. Detector `{args.detector}`, "
             f"`--redetect-every {args.redetect_every}`; fer {fer_core.__version__}, "
             f"{cpu_model()}, Python {platform.python_version()}. True cuts at frames "
             f"{', '.join(map(str, TRUE_CUTS))}; ideal: 1.00 ids per identity, 0 switches, "
             f"0 ids across shots.", "",
             "| tracker | recall | ids per identity | id switches | ids across shots | cuts found |",
             "| --- | ---: | ---: | ---: | ---: | --- |"]
    for name, options in settings.items():
        analyzer = Analyzer(uniform, args.detector, redetect_every=args.redetect_every, **options)
        rows = list(analyzer.rows(frames))
        s = score(rows, truth, analyzer.stats.cuts)
        lines.append(f"| {name} | {s['recall']:.1%} | {s['ids per identity']:.2f} | {s['id switches']} | "
                     f"{s['ids across shots']} | {', '.join(map(str, s['cuts'])) or 'none'} |")
    lines += ["", "### Cut scores on the real clips", "", *real_cuts()]
    return emit(lines, args.out)


if __name__ == "__main__":
    main()
