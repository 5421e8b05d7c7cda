"""``fercli analyze SOURCE...``: emotion over time in videos, images, folders or a webcam."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import click

from fer_cli._options import inference_options, progress_option
from fer_cli._outputs import ensure_writable_dir
from fer_core.errors import DataError, FerError


@click.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--model", "model_ref", default="default", show_default=True,
              help="A shipped model's name, a run folder, model.safetensors, .onnx or ensemble.json. "
                   "A bare name is a shipped model even if a folder of that name is here: write "
                   "./NAME for the folder.")
@click.option("--detector", default="retinaface", show_default=True,
              help="A registered face detector: retinaface (5 landmarks), haar, full_frame (inputs "
                   "already face crops), a plugin's (fercli plugins lists them).")
@click.option("--detector-option", "detector_pairs", multiple=True, metavar="KEY=VALUE",
              help="An option of the detector, repeatable: retinaface takes input_size (long side "
                   "the frame is shrunk to, 640), score_threshold (0.7), nms_threshold, threads; "
                   "haar takes scale_factor, min_neighbors, min_size.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("timelines"), show_default=True,
              help="Folder for <name>.csv, <name>.json and <name>.png.")
@click.option("--fps", type=float, default=None,
              help="Analyze at most this many frames per second of stream time.")
@click.option("--stride", type=click.IntRange(min=1), default=1, show_default=True, help="Every N-th frame.")
@click.option("--redetect-every", type=click.IntRange(min=1), default=5, show_default=True,
              help="Detect faces in the whole frame every N frames; in between, only near the faces "
                   "already found (a new face is found up to N-1 frames late). 1: every frame in full.")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True,
              help="Faces classified together (from consecutive frames).")
@click.option("--align/--no-align", default=None,
              help="Crop faces aligned to FER2013's framing (eyes level, same scale and place), "
                   "from the detector's landmarks; faces without landmarks (haar, full_frame) keep "
                   "the square crop. Default: on (benchmarks/alignment.py in BENCHMARKS.md).")
@click.option("--smoothing", type=click.Choice(["ema", "median", "mean", "none"]), default="ema",
              show_default=True)
@click.option("--alpha", type=float, default=0.3, show_default=True, help="EMA weight of the newest frame.")
@click.option("--window", type=click.IntRange(min=1), default=5, show_default=True,
              help="Rows in the rolling median/mean window.")
@click.option("--min-length", type=float, default=0.5, show_default=True,
              help="Shortest emotion segment (seconds; frames when the source has no timestamps).")
@click.option("--max-faces", type=click.IntRange(min=1), default=None,
              help="Keep at most N faces per frame, the largest (default: every face).")
@click.option("--cut-threshold", type=click.FloatRange(min=0, max=255), default=27.0, show_default=True,
              help="Content score (mean HSV change, 0-255) at which a new shot starts and the faces "
                   "get new track ids; 0: never.")
@click.option("--realtime", is_flag=True, help="Live streams: drop frames to keep up, and say how many.")
@click.option("--plot/--no-plot", default=True, show_default=True, help="Write the PNG timeline.")
@click.option("--annotate", "--video", "video", is_flag=True,
              help="Also write an annotated copy (boxes, track ids, labels, probabilities): "
                   "<name>.annotated.jpg for an image, a folder <name>.annotated/ with one JPEG "
                   "per frame for a folder or glob of frames, <name>.annotated.mp4 for a video.")
@progress_option
@inference_options
def analyze(sources: tuple[str, ...], model_ref: str, detector: str, out: Path, fps: float | None,
            stride: int, batch_size: int, smoothing: str, alpha: float, window: int, min_length: float,
            realtime: bool, plot: bool, video: bool, progress: bool | None, redetect_every: int,
            detector_pairs: tuple[str, ...], threads: int | None, align: bool | None,
            backend: str, max_faces: int | None, cut_threshold: float) -> None:
    """Emotion timelines of SOURCES: video files, images, folders or globs of frames, or a
    webcam ("device:0").

    One row per processed frame and face (and one for a frame without a face), streamed to CSV;
    then segments, transitions, per-track summary (JSON) and a plot.

    A face keeps its track id through misses of up to 300 frames; at a shot cut the faces get
    new ids (the frames are listed in the JSON's "cuts").

    Images are read upright, as viewers show them (EXIF orientation), and so are phone videos
    (their rotation). An image larger than 2048 pixels is searched for faces on a shrunk copy;
    boxes and crops stay in its own pixels. Images of more than 64 megapixels (8000x8000) are
    refused. A GIF given alone is read like a video (every frame); in a folder, its first frame.

    A source that fails writes nothing; the others are still analyzed, and the command ends
    with an error naming the failed ones. A video that breaks off part-way is analyzed up to
    the frame where decoding stopped, with a warning naming it. Ctrl-C keeps the rows so far
    in <name>.csv.partial (named in the message).
    """
    from fer_core.threads import apply_threads
    from fer_models import load
    from fer_temporal import Smoother, unique_stems

    ensure_writable_dir(out)
    detector_options = _detector_options(detector, detector_pairs, threads)
    classifier = load(model_ref, backend=backend, threads=apply_threads(threads))
    options = {"detector": detector, "detector_options": detector_options, "fps": fps, "stride": stride,
               "batch_size": batch_size,
               "realtime": realtime, "min_length": min_length, "plot": plot, "video": video,
               "redetect_every": redetect_every, "max_faces": max_faces,
               "cut_threshold": cut_threshold or None}
    if align is not None:
        options["align"] = align
    Smoother(smoothing, alpha, window)  # a bad setting fails once, before any source
    failed: list[tuple[str, FerError]] = []
    for source, name in zip(sources, unique_stems(sources), strict=True):
        try:
            result = _analyze_one(source, name, classifier, out, progress,
                                  (smoothing, alpha, window), options)
        except DataError as exc:  # this source's problem (a config or plugin error stops the command)
            if len(sources) == 1:
                raise
            click.echo(f"skipped: {exc}", err=True)
            failed.append((source, exc))
            continue
        _report(source, result, realtime)
    if len(failed) == 1:
        raise DataError(f"{failed[0][1]}; the other {len(sources) - 1} source(s) were analyzed")
    if failed:
        raise DataError(f"{len(failed)} of {len(sources)} sources failed, each named above "
                        f"({', '.join(source for source, _exc in failed)})")


def _detector_options(detector: str, pairs: tuple[str, ...], threads: int | None) -> dict[str, Any]:
    """``--detector-option`` pairs as a dict (values read as JSON numbers or booleans when they
    are, else strings), plus ``threads`` when the detector's factory takes that option."""
    from fer_core.plugins import get_plugins

    registered = get_plugins().get("face_detector", detector)  # an unknown name fails here, once
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="'--detector-option'")
        try:
            options[key.strip()] = json.loads(value)
        except ValueError:
            options[key.strip()] = value
    allowed = registered.allowed_options()
    if threads is not None and "threads" not in options and allowed is not None and "threads" in allowed:
        options["threads"] = threads
    problem = registered.option_problem(options)
    if problem:
        raise click.BadParameter(f"{registered.label}: {problem}", param_hint="'--detector-option'")
    return options


def _analyze_one(source: str, name: str, classifier: Any, out: Path, progress: bool | None,
                 smoothing: tuple[str, float, int], options: dict[str, Any]) -> dict[str, Any]:
    """One source to files, with a progress bar; every failure a FerError naming the source."""
    from tqdm.auto import tqdm

    from fer_temporal import Smoother, SourceWarning, analyze_to_files, frame_count

    disable = None if progress is None else not progress  # None: only on a terminal
    try:
        with tqdm(total=frame_count(source), desc=Path(source).name, unit="frame", disable=disable,
                  dynamic_ncols=True) as bar, warnings.catch_warnings():
            warnings.simplefilter("ignore", SourceWarning)  # reported below, from the header

            def advance(frame, rows, bar=bar):  # frames read so far, sampled or not
                bar.update(frame.index + 1 - bar.n)

            result = analyze_to_files(source, classifier, out, name=name, smoother=Smoother(*smoothing),
                                      on_frame=advance, **options)
            bar.update(result["header"]["frames_read"] - bar.n)
    except KeyboardInterrupt as exc:
        kept = [str(p) for p in getattr(exc, "partial_files", [])]
        where = f"; the rows so far are kept in {', '.join(kept)}" if kept else "; nothing was written"
        raise click.ClickException(f"interrupted while analyzing {source}{where}") from None
    except OSError as exc:  # the output folder: not writable, a file, full...
        raise DataError(f"{exc.filename or out}: cannot write the outputs of {source}: "
                        f"{exc.strerror or exc}") from None
    for message in result["header"].get("warnings", []):
        click.echo(f"warning: {message}", err=True)
    return result


def _report(source: str, result: dict[str, Any], realtime: bool) -> None:
    h = result["header"]
    dropped = f", {h['frames_dropped']} dropped to keep up" if realtime else ""
    click.echo(f"{source}: {h['frames_processed']} of {h['frames_read']} frames analyzed{dropped}, "
               f"{h['faces']} faces in {h['tracks']} track(s)")
    for track in result["summary"]:
        segs = [s for s in result["segments"] if s["track_id"] == track["track_id"]]
        path = " -> ".join(s["emotion"] for s in segs)
        click.echo(f"  track {track['track_id']}: dominant {track['dominant']} "
                   f"({track['share'][track['dominant']]:.0%} of its frames), volatility "
                   f"{track['volatility']:.3f}; segments: {path}")
    click.echo("  wrote " + ", ".join(str(p) for p in result["paths"].values()))
