"""`fercli analyze` against the `fer` package on whole videos: wall time, frames/s, peak RSS, agreement.

Each measurement is one fresh process started from outside, as a user runs it: ``fercli analyze
CLIP --out DIR`` with its defaults (the shipped ``default`` model, the default detector), against
the peer's ``Video(CLIP).analyze(FER())`` with its defaults (Haar, the TFLite mini-Xception;
``benchmarks/peer/fer_video_worker.py``). The two take turns (A B A B ...) and the speed ratio is
taken pair by pair, so a machine whose load drifts during the run still gives a fair ratio; the
figures are medians of ``--rounds`` pairs after one uncounted pair. Wall time is a monotonic clock
around start and exit, peak RSS the kernel's ``ru_maxrss`` of the finished child.

The clips: every video in ``../shared/media``, a five-face clip made from ``multi_face.jpg``
(``_clips.write_multi_face_clip``), a 60 s clip made by playing ``single_face.mp4`` forwards and
backwards, and a one-frame clip whose time is the start-up alone (imports, model and detector
loading, writing the outputs). Top-1 agreement is counted on the frames where each side found
exactly one face: our per-frame (unsmoothed) label against the peer's.

The peer lives in its own environment, made by this script on first use the way a user installs
it (it needs TensorFlow and ``setuptools<81``; never a dependency of the toolkit)::

    python benchmarks/peer_video.py [--peer-venv ~/.cache/fer-bench/peer-venv] [--rounds 3]
        [--fercli .venv/bin/fercli] [--out section.md] [-- extra fercli analyze options]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _clips import MEDIA, write_multi_face_clip
from _common import command, cpu_model, emit, measure

WORKER = Path(__file__).resolve().parent / "peer" / "fer_video_worker.py"
PEER_REQUIREMENTS = ["fer==25.10.3", "tensorflow-cpu", "setuptools<81"]


def peer_python(path: Path) -> Path:
    """The peer venv's python, made and filled on first use."""
    python = path / "bin" / "python"
    if not python.exists():
        print(f"making the peer's venv in {path} ({' '.join(PEER_REQUIREMENTS)}) ...", file=sys.stderr)
        venv.create(path, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_REQUIREMENTS], check=True)
    return python


def made_clips(tmp: Path) -> list[Path]:
    """The five-face clip, the 60 s clip and the one-frame clip, written into ``tmp``."""
    import av

    multi = tmp / "multi_face_pan.mp4"
    write_multi_face_clip(multi)
    with av.open(str(MEDIA / "single_face.mp4")) as src:
        frames = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
    loop = frames + frames[-2:0:-1]
    long_clip, one = tmp / "single_face_60s.mp4", tmp / "one_frame.mp4"
    for path, seq in ((long_clip, (loop * (1800 // len(loop) + 1))[:1800]), (one, frames[:1])):
        with av.open(str(path), "w") as out:
            stream = out.add_stream("libx264", rate=30, options={"preset": "veryfast", "crf": "20"})
            stream.width, stream.height, stream.pix_fmt = seq[0].shape[1], seq[0].shape[0], "yuv420p"
            for rgb in seq:
                out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
            out.mux(stream.encode())
    return [multi, long_clip, one]


def frame_count(clip: Path) -> int:
    import av

    with av.open(str(clip)) as c:
        return sum(1 for _ in c.decode(video=0))


def our_labels(csv_path: Path) -> dict[int, str]:
    """Frame -> label where our CSV has exactly one face in that frame."""
    faces: dict[int, list[str]] = {}
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            if row["face_detected"] == "True":
                probs = {k[2:]: float(v) for k, v in row.items() if k.startswith("p_") and v}
                faces.setdefault(int(row["frame"]), []).append(max(probs, key=probs.__getitem__))
    return {i: labels[0] for i, labels in faces.items() if len(labels) == 1}


def peer_labels(jsonl: Path) -> dict[int, str]:
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    return {r["frame"]: r["labels"][0] for r in rows if len(r["labels"]) == 1}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peer-venv", type=Path, default=Path.home() / ".cache/fer-bench/peer-venv")
    parser.add_argument("--fercli", default=str(Path(sys.executable).parent / "fercli"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument("extra", nargs="*", help="more `fercli analyze` options, after --")
    args = parser.parse_args(argv)
    python = peer_python(args.peer_venv)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    load = [os.getloadavg()[0]]
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        clips = sorted(p for p in MEDIA.iterdir() if p.suffix.lower() in {".mp4", ".mov"})
        for clip in clips + made_clips(tmp):
            ours_dir, peer_dir = tmp / f"ours-{clip.stem}", tmp / f"peer-{clip.stem}"
            sides = {"ours": [args.fercli, "analyze", str(clip), "--out", str(ours_dir), *args.extra],
                     "fer": [str(python), str(WORKER), str(clip), str(peer_dir)]}
            runs = measure(sides, args.rounds, 1, env)
            bad = {side: [r[2] for r in rs if r[2]] for side, rs in runs.items()}
            if any(bad.values()):
                raise SystemExit(f"{clip.name}: a run failed: exit codes {bad}")
            ours, peer = our_labels(ours_dir / f"{clip.stem}.csv"), peer_labels(peer_dir / "frames.jsonl")
            both = sorted(set(ours) & set(peer))
            agree = sum(ours[i] == peer[i] for i in both)
            n = frame_count(clip)
            wall = {side: statistics.median(r[0] for r in rs) for side, rs in runs.items()}
            rss = {side: statistics.median(r[1] for r in rs) for side, rs in runs.items()}
            ratio = statistics.median(b[0] / a[0] for a, b in zip(runs["ours"], runs["fer"], strict=True))
            rows.append((clip.name, n, wall, rss, ratio, agree, len(both), len(ours), len(peer),
                         max(r[1] for r in runs["ours"])))
            load.append(os.getloadavg()[0])
    lines = [
        "### `fercli analyze` against the `fer` package, whole process per clip",
        "",
        f"Command: `{command(__file__, argv)}`. Medians of {args.rounds} paired runs (A B A B ...) after "
        "one uncounted pair; speed-up is the median of the pairs' ratios (fer's wall / ours). "
        f"CPU: {cpu_model()}, {os.cpu_count()} cores; 1-minute load average "
        f"{min(load):.2f}-{max(load):.2f} during the run.",
        "`fercli`: shipped `default` model and default detector"
        + (f", options `{' '.join(args.extra)}`" if args.extra else "")
        + "; `fer` 25.10.3: `Video(clip).analyze(FER())` defaults (Haar, TFLite mini-Xception).",
        "",
        "| clip | frames | fercli s | fer s | speed-up | fercli frames/s | fer frames/s "
        "| fercli peak RSS MB (max) | fer peak RSS MB | frames with one face (ours / fer) "
        "| top-1 agreement |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, n, wall, rss, ratio, agree, both, n_ours, n_peer, rss_max in rows:
        share = f"{agree / both:.1%} of {both}" if both else "-"
        lines.append(
            f"| {name} | {n} | {wall['ours']:.2f} | {wall['fer']:.2f} | {ratio:.2f}x "
            f"| {n / wall['ours']:.1f} | {n / wall['fer']:.1f} | {rss['ours']:.0f} ({rss_max:.0f}) "
            f"| {rss['fer']:.0f} | {n_ours} / {n_peer} | {share} |")
    ratios = np.array([r[4] for r in rows])
    lines += ["", f"Speed-up over the clips: min {ratios.min():.2f}x, median {np.median(ratios):.2f}x; "
              f"our largest peak RSS {max(r[9] for r in rows):.0f} MB."]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
