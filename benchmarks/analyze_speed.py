"""Speed of ``fercli analyze`` on a real video, end to end, and the cost of each stage.

End to end is :func:`fer_temporal.analyze_to_files` (what ``fercli analyze`` runs for each source)
on ``single_face.mp4`` (640x360, 72 frames, h264), or with ``--video multi`` on a clip of five
faces made in a temp dir (``multi_face.jpg`` panned and zoomed, 640x360, 90 frames, h264; see
``benchmarks/_clips.py``): decode (PyAV), detect (``--detector``, RetinaFace by default), track,
crop, classify in batches (``--model``, with its TTA), and write the timeline CSV and JSON. The
PNG plot is timed on its own (``--no-plot`` leaves it out), and so is the whole command in a
fresh process (``fercli analyze ... --no-plot``, imports and model loading included).

The stages are then timed one by one on the same frames, each over all of them:

- decode: ``open_source`` to RGB arrays;
- detect: the detector on each decoded frame, in full every ``--redetect-every`` frames and
  near the last faces in between, as ``fercli analyze`` does (and, for comparison, in full on
  every frame: the detector as set, RetinaFace at a smaller input size, Haar at its defaults);
- track + crop: the IoU tracker and the square gray crops at the classifier's size;
- classify: the classifier on the crops, ``--batch-size`` at a time;
- write: CSV rows with smoothing and the streaming analysis, then the JSON.

Each configuration runs ``--rounds`` times, interleaved; the table shows medians. Frames/second
of a stage is frames / its seconds; its share is its seconds / the sum of the stages.
Target (the temporal issue): at least 30 frames/second end to end on 2 CPU cores.

    python benchmarks/analyze_speed.py [--model default] [--video PATH|multi] [--redetect-every 5]
        [--detector retinaface] [--detector-option KEY=VALUE]... [--batch-size 32] [--rounds 5]
        [--threads 2] [--out section.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import fer_core
from fer_core.plugins import PluginSet
from fer_models import load
from fer_temporal import (
    DEFAULT_DETECTOR,
    Analyzer,
    CsvTimelineWriter,
    FollowingDetector,
    IoUTracker,
    Smoother,
    TimelineAnalysis,
    analyze_to_files,
    face_crops,
    open_source,
    resolve_detector,
)
from fer_temporal._export import _write_json

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _clips import write_multi_face_clip
from _common import command, emit

VIDEO = Path(__file__).resolve().parents[2] / "shared" / "media" / "single_face.mp4"


def _timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    out = call()
    return time.perf_counter() - start, out


def stage_times(video: Path, classifier, detector, every: int, batch_size: int, tmp: Path,
                compare: dict) -> dict[str, float]:
    """Seconds of each stage over the whole video, run one stage at a time (and of the
    ``compare`` detectors, each in full on every frame)."""
    t = {}
    t["decode"], frames = _timed(lambda: [f.image for f in open_source(video)])
    following = FollowingDetector(detector, every) if every > 1 else detector
    t["detect"], boxes = _timed(lambda: [following(f) for f in frames])
    for key, other in compare.items():  # other detectors on every frame, for comparison
        t[key], found = _timed(lambda other=other: [other(f) for f in frames])
        t[key + " faces"] = sum(map(len, found))

    def track_and_crop() -> list[np.ndarray]:
        tracker = IoUTracker()
        crops = []
        for frame, bs in zip(frames, boxes, strict=True):
            tracker.update(bs)
            if bs:
                crops.append(face_crops(frame, bs, classifier.size))
        return crops

    t["track + crop"], crops = _timed(track_and_crop)
    faces = np.concatenate(crops) if crops else np.zeros((0, classifier.size, classifier.size), np.uint8)
    t["classify"], _ = _timed(lambda: [classifier(faces[i:i + batch_size])
                                       for i in range(0, len(faces), batch_size)])
    # the rows themselves come from a run of the real pipeline; writing them is timed alone
    analyzer = Analyzer(classifier, detector, batch_size=batch_size, redetect_every=every)
    rows = list(analyzer.rows(video))

    def write() -> None:
        analysis = TimelineAnalysis(analyzer.classes, Smoother("ema"), 0.5)
        s_cols = [f"s_{c}" for c in analyzer.classes] + ["s_label"]
        path = tmp / "stage.csv"
        with CsvTimelineWriter(path, analyzer.columns + s_cols) as writer:
            for row in rows:
                writer.write({**row, **analysis.add(row)})
        analysis.finish()
        _write_json(tmp / "stage.json", {"source": str(video)}, path, analysis)

    t["write"], _ = _timed(write)
    return t


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="what `fercli analyze --model` takes")
    parser.add_argument("--video", default=str(VIDEO), help="a video, or 'multi': the five-face clip")
    parser.add_argument("--detector", default=DEFAULT_DETECTOR)
    parser.add_argument("--detector-option", action="append", default=[], metavar="KEY=VALUE",
                        help="as fercli analyze --detector-option")
    parser.add_argument("--redetect-every", type=int, default=5, help="as fercli analyze (its default: 5)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    import cv2

    cv2.setNumThreads(args.threads)
    plugins = PluginSet.load(allow=["fer_models", "fer_temporal"])
    classifier = load(args.model, plugins=plugins)
    options = {k: _value(v) for k, _, v in (o.partition("=") for o in args.detector_option)}
    threaded = {"threads": args.threads}
    if args.detector == "retinaface":
        options = {**threaded, **options}
    detector = resolve_detector(args.detector, options, plugins=plugins)
    shown = ", ".join(f"{k} {v}" for k, v in options.items() if k != "threads")
    compare = {f"{args.detector}{', ' + shown if shown else ''}, every frame in full": detector}
    if args.detector != "haar":
        compare["haar (defaults), every frame in full"] = resolve_detector("haar", plugins=plugins)
    if options.get("input_size", 640) != 320 and args.detector == "retinaface":
        compare["retinaface, input_size 320, every frame in full"] = resolve_detector(
            "retinaface", {**options, "input_size": 320}, plugins=plugins)
    ends, plots, stages = [], [], []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.video == "multi":
            video = tmp / "multi_face_pan.mp4"
            write_multi_face_clip(video)
        else:
            video = Path(args.video)
        args.video = video
        h, w = next(iter(open_source(video))).image.shape[:2]
        for r in range(args.rounds):
            run_stages = lambda: stages.append(stage_times(  # noqa: E731
                args.video, classifier, detector, args.redetect_every, args.batch_size, tmp, compare))

            def end_to_end() -> None:
                seconds, result = _timed(lambda: analyze_to_files(
                    args.video, classifier, tmp / "e2e", detector=detector, batch_size=args.batch_size,
                    redetect_every=args.redetect_every, plot=False, plugins=plugins))
                ends.append((seconds, result["header"]))
                plots.append(_timed(lambda: analyze_to_files(
                    args.video, classifier, tmp / "plot", detector=detector, batch_size=args.batch_size,
                    redetect_every=args.redetect_every, plot=True, plugins=plugins))[0] - seconds)

            for step in ((end_to_end, run_stages) if r % 2 == 0 else (run_stages, end_to_end)):
                step()
        cli = [str(Path(sys.executable).with_name("fercli")), "analyze", str(args.video),
               "--model", args.model, "--detector", args.detector, "--out", str(tmp / "cli"), "--no-plot",
               "--no-progress", "--redetect-every", str(args.redetect_every), "--threads", str(args.threads),
               "--batch-size", str(args.batch_size)]
        cli += [a for o in args.detector_option for a in ("--detector-option", o)]
        cli_seconds = statistics.median(
            _timed(lambda: subprocess.run(cli, check=True, capture_output=True))[0] for _ in range(3))
    header = ends[0][1]
    n = header["frames_read"]
    end = statistics.median(s for s, _ in ends)
    stage = {k: statistics.median(s[k] for s in stages) for k in stages[0]}
    compared = {k: (stage.pop(k), stage.pop(k + " faces")) for k in compare}
    total = sum(stage.values())
    lines = [
        f"### `fercli analyze` on {args.video.name} ({w}x{h}, {n} frames, {header['faces']} faces)", "",
        f"Command: `{command(__file__, argv)}`. Model: {classifier.name} "
        f"({classifier.gmacs():.3f} GMAC per face with TTA '{classifier.tta}'), detector {args.detector}"
        f"{' (' + shown + ')' if shown else ''} in full every {args.redetect_every} frames, "
        f"batch {args.batch_size}, {args.threads} threads; medians of {args.rounds} rounds. torch "
        f"{torch.__version__}, OpenCV {cv2.__version__}, fer {fer_core.__version__}, Python "
        f"{platform.python_version()}, {platform.machine()}; load average "
        f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())} at the end.", "",
        "| | seconds | frames/second | share of the stages |",
        "|---|---|---|---|",
        f"| **end to end** (decode, detect, classify, write CSV + JSON) | {end:.3f} | **{n / end:.1f}** | |",
    ]
    lines += [f"| stage: {k} | {v:.3f} | {n / v:.0f} | {v / total:.0%} |" for k, v in stage.items()]
    lines += [f"| (for comparison) detect: {k}; {faces:.0f} faces | {v:.3f} | {n / v:.0f} | |"
              for k, (v, faces) in compared.items()]
    lines += [
        f"| sum of the stages | {total:.3f} | {n / total:.1f} | 100% |",
        f"| PNG plot (extra, `--plot`) | {statistics.median(plots):.3f} | | |",
        f"| whole command in a fresh process (`fercli analyze ... --no-plot`: imports, model load) "
        f"| {cli_seconds:.2f} | {n / cli_seconds:.1f} | |",
    ]
    emit(lines, args.out)


def _value(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return text


if __name__ == "__main__":
    main()
