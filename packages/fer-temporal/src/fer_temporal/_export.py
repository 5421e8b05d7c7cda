"""One call from a source to files: timeline CSV (streamed), JSON, PNG plot.

Output names come from the source's name, reduced to safe characters, and every path is checked
to lie inside the output folder the caller named (a video or track name cannot write elsewhere).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fer_core import CLASSES, __version__
from fer_core.errors import ConfigError
from fer_core.files import commit, make_dirs, remove_if_empty, stage
from fer_temporal._analysis import Smoother, TimelineAnalysis
from fer_temporal._annotate import replace_folder
from fer_temporal._csv import CsvTimelineWriter
from fer_temporal._models import resolve_classifier
from fer_temporal._sources import Frame
from fer_temporal._timeline import Analyzer, FrameCallback


def safe_stem(name: str) -> str:
    """A file-name stem from any source name: letters, digits, ``._-`` only, no leading dots."""
    return _clean(Path(str(name)).stem)


def _clean(text: str) -> str:
    return (re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "stream")[:100]


def unique_stems(sources: Sequence[Any]) -> list[str]:
    """One output stem per source, never the same twice, so that one command's outputs never
    overwrite each other: ``clip.mp4`` and ``clip.jpg`` become ``clip_mp4`` and ``clip_jpg``;
    ``a/clip.mp4`` and ``b/clip.mp4`` become ``clip_mp4`` and ``clip_mp4-2``. A stem no other
    source shares stays as :func:`safe_stem` makes it.

    >>> unique_stems(["x/clip.mp4", "clip.jpg", "other.mov", "y/clip.mp4"])
    ['clip_mp4', 'clip_jpg', 'other', 'clip_mp4-2']
    """
    plain = [safe_stem(str(s)) for s in sources]
    out: list[str] = []
    for source, stem in zip(sources, plain, strict=True):
        if plain.count(stem) > 1:
            suffix = Path(str(source)).suffix.lstrip(".")
            stem = _clean(f"{stem}_{suffix}") if suffix else stem
        candidate, n = stem, 2
        while candidate in out:
            candidate, n = f"{stem}-{n}", n + 1
        out.append(candidate)
    return out


def inside(folder: Path, name: str) -> Path:
    """``folder / name``, refusing anything that would resolve outside ``folder``."""
    base = folder.resolve()
    path = (base / name).resolve()
    if base not in path.parents:
        raise ConfigError(f"output name {name!r} would leave the output folder {str(folder)!r}")
    return path


def _model_info(classifier: Any) -> dict[str, Any]:
    config = getattr(classifier, "config", None) or {}
    return {"model": getattr(classifier, "source", None) or config.get("name") or type(classifier).__name__,
            "backbone": config.get("backbone"), "weights_sha256": config.get("weights_sha256")}


def timeline_header(analyzer: Analyzer, analysis: TimelineAnalysis, label: str, classifier: Any,
                    min_length: float) -> dict[str, Any]:
    """The JSON header: what the source was, what was analyzed, with what model and settings."""
    st = analyzer.stats
    first, last = st.first_time, st.last_time
    duration = (last - first) if first is not None and last is not None else None
    return {
        "source": label, "toolkit_version": __version__, "classes": list(analyzer.classes),
        "frames_read": st.frames_read, "frames_processed": st.frames_processed,
        "frames_dropped": st.frames_dropped, "faces": st.faces, "tracks": len(st.tracks),
        "cuts": list(st.cuts), "max_faces": analyzer.max_faces,
        "duration_s": duration,
        "fps": (st.frames_read - 1) / duration if duration else None,
        "detector": analyzer.detector_name, "align": analyzer.align, **_model_info(classifier),
        "smoothing": analysis.smoother.describe(), "min_segment_length": min_length,
        "time_unit": "seconds (the stream's own timestamps)" if analysis.timed else "frames",
        "warnings": list(st.warnings),
    }


def analyze_to_files(source: Any, classifier: Any, out_dir: str | Path, *, name: str | None = None,
                     analyzer: Analyzer | None = None, smoother: Smoother | None = None,
                     min_length: float = 0.5, plot: bool = True, video: bool = False,
                     **analyzer_options: Any) -> dict[str, Any]:
    """Analyze ``source`` and write ``<stem>.csv``, ``<stem>.json``, (``plot``) ``<stem>.png`` and
    (``video``) the annotated copy: ``<stem>.annotated.mp4`` for a video (or arrays, a device, an
    animated GIF), ``<stem>.annotated.jpg`` for one image, and a folder ``<stem>.annotated/`` of
    ``<frame file stem>.jpg`` for a folder or glob of frames (see :mod:`fer_temporal._annotate`).

    Other keyword arguments go to :class:`Analyzer` (``detector``, ``stride``, ``on_frame``: a
    progress bar can count frames there). Returns the paths written and the JSON header.

    All or nothing: rows stream to ``<stem>.csv.partial`` (see :class:`CsvTimelineWriter`) and
    frames to ``<stem>.annotated.partial.mp4``; the JSON and PNG are made in temp files beside
    them; only when every output is complete are they renamed into place. If anything fails,
    every file of this call is removed (earlier outputs of the same names stay untouched), and
    so is ``out_dir`` if this call created it and left it empty. Only an interruption
    (KeyboardInterrupt) keeps the partial CSV (every row so far) and video: the exception's
    ``partial_files`` attribute lists them.
    """
    out_dir = Path(out_dir)
    label = name or (str(source) if isinstance(source, (str, Path)) else "stream")
    stem = safe_stem(label)
    csv_path = inside(out_dir, f"{stem}.csv")
    json_path = inside(out_dir, f"{stem}.json")
    png_path = inside(out_dir, f"{stem}.png")
    created = make_dirs(out_dir)
    writer_csv: CsvTimelineWriter | None = None
    writer_video = None
    video_done: Path | None = None
    video_path: Path | None = None
    staged: list[tuple[Path, Path]] = []  # (finished temp file, final name), renamed at the end
    try:
        if analyzer is None:  # a model's name: loaded once, here (the classes name the video's labels)
            classifier = resolve_classifier(classifier, analyzer_options.pop("backend", "auto"),
                                            analyzer_options.get("threads"))
        if video:
            writer_video = _annotated_writer(source, out_dir, stem,
                                             tuple(getattr(classifier, "classes", CLASSES)))
            analyzer_options["on_frame"] = _both(writer_video, analyzer_options.get("on_frame"))
        analyzer = analyzer or Analyzer(classifier, **analyzer_options)
        analysis = TimelineAnalysis(analyzer.classes, smoother or Smoother(), min_length)
        s_cols = [f"s_{c}" for c in analyzer.classes] + ["s_label"]
        writer_csv = CsvTimelineWriter(csv_path, analyzer.columns + s_cols)
        for row in analyzer.rows(source, name=label):
            writer_csv.write({**row, **analysis.add(row)})
        writer_csv.close(complete=False)  # complete, still under its .partial name
        staged.append((writer_csv.partial, csv_path))
        video_done = writer_video.finish() if writer_video is not None else None
        if writer_video is not None and video_done is not None:
            video_path = writer_video.path
            staged.append((video_done, video_path))
        analysis.finish()
        header = timeline_header(analyzer, analysis, label, analyzer.classifier, min_length)
        rows_file = writer_csv.partial
        json_tmp = stage(json_path, lambda tmp: _write_json(tmp, header, rows_file, analysis))
        staged.append((json_tmp, json_path))
        if plot:
            from fer_temporal._plots import plot_timeline

            def draw(tmp: Path) -> None:
                plot_timeline(rows_file, analysis.segments(), tmp, analyzer.classes, title=label,
                              atomic=False)

            staged.append((stage(png_path, draw, suffix=".png"), png_path))
    except KeyboardInterrupt as exc:
        kept = _abort(writer_csv, writer_video, staged, keep=True)
        exc.partial_files = kept  # type: ignore[attr-defined]
        remove_if_empty(created)
        raise
    except BaseException:
        _abort(writer_csv, writer_video, staged, keep=False)
        remove_if_empty(created)
        raise
    paths = {"csv": csv_path, "json": json_path}
    for tmp, final in staged:
        if tmp.is_dir():  # the folder of annotated frames
            replace_folder(tmp, final)
        else:
            commit(tmp, final)
    if video_path is not None:
        paths["video" if video_path.suffix == ".mp4" else "annotated"] = video_path
    if plot:
        paths["png"] = png_path
    return {"paths": paths, "header": header, "segments": analysis.segments(), "summary": analysis.summary(),
            "transitions": analysis.transitions()}


def _abort(writer_csv: CsvTimelineWriter | None, writer_video: Any, staged: list[tuple[Path, Path]],
           keep: bool) -> list[Path]:
    """Clean up after a failure: remove the temp files, and the partial CSV and video unless
    ``keep`` (an interruption); returns the partial files kept."""
    kept: list[Path] = []
    if writer_csv is not None:
        try:
            writer_csv.close(complete=False)
        except OSError:  # the disk that failed the run may fail this too: remove what is there
            keep = False
        if keep:
            kept.append(writer_csv.partial)
        else:
            writer_csv.partial.unlink(missing_ok=True)
    if writer_video is not None:
        video_kept = writer_video.abort(keep=keep)
        if video_kept is not None:
            kept.append(video_kept)
    for tmp, _final in staged:
        if tmp not in kept:
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)
    return kept


def _annotated_writer(source: Any, out_dir: Path, stem: str, classes: tuple[str, ...]) -> Any:
    """The annotated copy of ``source``: ``<stem>.annotated.jpg`` for one image, a folder
    ``<stem>.annotated/`` of JPEGs for a folder or glob of frames, else ``<stem>.annotated.mp4``."""
    from fer_temporal._annotate import AnnotatedFramesWriter, AnnotatedImageWriter
    from fer_temporal._sources import source_kind
    from fer_temporal._video import AnnotatedVideoWriter

    kind = source_kind(source)
    if kind == "image":
        return AnnotatedImageWriter(inside(out_dir, f"{stem}.annotated.jpg"), classes)
    if kind == "images":
        return AnnotatedFramesWriter(inside(out_dir, f"{stem}.annotated"), classes, stem=safe_stem)
    return AnnotatedVideoWriter(inside(out_dir, f"{stem}.annotated.mp4"), classes)


def _both(first: FrameCallback, second: FrameCallback | None) -> FrameCallback:
    """One ``on_frame`` callback that calls ``first`` and then (if given) ``second``."""
    if second is None:
        return first

    def call(frame: Frame, rows: list[dict[str, Any]]) -> None:
        first(frame, rows)
        second(frame, rows)
    return call


def _typed(value: str) -> Any:
    if value == "":
        return None
    if value in ("True", "False"):
        return value == "True"
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def _write_json(tmp: Path, header: dict[str, Any], csv_path: Path, analysis: TimelineAnalysis) -> None:
    """Header, then the rows (streamed back from the CSV, one at a time), segments, summary."""
    with open(tmp, "w", encoding="utf-8") as out, open(csv_path, newline="", encoding="utf-8") as fh:
        out.write('{"header": ' + json.dumps(header) + ',\n "rows": [')
        for i, row in enumerate(csv.DictReader(fh)):
            kept = {k: _typed(v) for k, v in row.items() if v != ""}
            out.write(("," if i else "") + "\n  " + json.dumps(kept))
        out.write("\n ],\n")
        for key, value in (("segments", analysis.segments()), ("transitions", analysis.transitions()),
                           ("change_points", analysis.change_points())):
            out.write(f' "{key}": ' + json.dumps(value) + ",\n")
        out.write(' "summary": ' + json.dumps(analysis.summary()) + "\n}\n")
