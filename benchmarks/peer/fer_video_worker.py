"""Runs inside the peer's environment (never the toolkit's): the `fer` package on a whole video.

Called by ``benchmarks/peer_video.py`` as one timed process, the way a user of that package
analyses a clip: ``fer.classes.Video(path).analyze(fer.fer.FER(), ...)`` with its defaults (Haar cascade,
the quantized TFLite mini-Xception), no display, no saved frames or video; its default
``output="csv"`` writes ``data.csv`` into the working folder (the script runs there).
To score agreement it also records each frame's faces in order (the package's own result list
drops frames without a face, so ``detect_emotions`` is wrapped to see every frame) and writes
them as JSON lines: ``{"frame": i, "labels": [top-1 of each face]}``.

    PEER_PYTHON benchmarks/peer/fer_video_worker.py CLIP OUT_DIR
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main() -> None:
    clip, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    from fer.classes import Video
    from fer.fer import FER

    detector = FER()
    frames: list[list[str]] = []
    detect = detector.detect_emotions

    def recording(frame, *args, **kwargs):  # one call per frame, in order (batch_size=1)
        faces = detect(frame, *args, **kwargs)
        frames.append([max(f["emotions"], key=f["emotions"].get) for f in faces])
        return faces

    detector.detect_emotions = recording
    video = Video(str(clip), outdir=str(out))
    os.chdir(out)  # the package writes data.csv into the working folder
    video.analyze(detector, display=False, save_frames=False, save_video=False,
                         annotate_frames=False, zip_images=False)
    with open("frames.jsonl", "w") as f:
        for i, labels in enumerate(frames):
            f.write(json.dumps({"frame": i, "labels": labels}) + "\n")


if __name__ == "__main__":
    main()
