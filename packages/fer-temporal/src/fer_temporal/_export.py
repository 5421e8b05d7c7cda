"""One call from a source to files: timeline CSV (streamed), JSON, PNG plot.

Output names come from the source's name, reduced to safe characters, and every path is checked
to lie inside the output folder the caller named (a video or track name cannot write elsewhere).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fer_core import CLASSES, __version__
from fer_core.errors import ConfigError
from fer_core.training import atomic_write
from fer_temporal._analysis import Smoother, TimelineAnalysis
from fer_temporal._csv import CsvTimelineWriter
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
        "duration_s": duration,
        "fps": (st.frames_read - 1) / duration if duration else None,
        "detector": analyzer.detector_name, **_model_info(classifier),
        "smoothing": analysis.smoother.describe(), "min_segment_length": min_length,
        "time_unit": "seconds (the stream's own timestamps)" if analysis.timed else "frames",
    }


def analyze_to_files(source: Any, classifier: Any, out_dir: str | Path, *, name: str | None = None,
                     analyzer: Analyzer | None = None, smoother: Smoother | None = None,
                     min_length: float = 0.5, plot: bool = True, video: bool = False,
                     **analyzer_options: Any) -> dict[str, Any]:
    """Analyze ``source`` and write ``<stem>.csv``, ``<stem>.json``, (``plot``) ``<stem>.png`` and
    (``video``) ``<stem>.annotated.mp4``.

    Other keyword arguments go to :class:`Analyzer` (``detector``, ``stride``, ``on_frame``: a
    progress bar can count frames there). Returns the paths written and the JSON header. Rows
    stream to the CSV as they are made (see
    :class:`CsvTimelineWriter`); the JSON and PNG are written atomically at the end.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    label = name or (str(source) if isinstance(source, (str, Path)) else "stream")
    stem = safe_stem(label)
    writer_video = None
    if video:
        from fer_temporal._video import AnnotatedVideoWriter

        classes = tuple(getattr(classifier, "classes", CLASSES))
        writer_video = AnnotatedVideoWriter(inside(out_dir, f"{stem}.annotated.mp4"), classes)
        analyzer_options["on_frame"] = _both(writer_video, analyzer_options.get("on_frame"))
    analyzer = analyzer or Analyzer(classifier, **analyzer_options)
    analysis = TimelineAnalysis(analyzer.classes, smoother or Smoother(), min_length)
    s_cols = [f"s_{c}" for c in analyzer.classes] + ["s_label"]
    csv_path = inside(out_dir, f"{stem}.csv")
    try:
        with CsvTimelineWriter(csv_path, analyzer.columns + s_cols) as writer:
            for row in analyzer.rows(source, name=label):
                writer.write({**row, **analysis.add(row)})
    except BaseException:
        if writer_video is not None:
            writer_video.close(complete=False)
        raise
    video_path = writer_video.close() if writer_video is not None else None
    analysis.finish()
    header = timeline_header(analyzer, analysis, label, classifier, min_length)
    json_path = inside(out_dir, f"{stem}.json")
    atomic_write(json_path, lambda tmp: _write_json(tmp, header, csv_path, analysis))
    paths = {"csv": csv_path, "json": json_path}
    if video_path is not None:
        paths["video"] = video_path
    if plot:
        from fer_temporal._plots import plot_timeline

        paths["png"] = plot_timeline(csv_path, analysis.segments(), inside(out_dir, f"{stem}.png"),
                                     analyzer.classes, title=label)
    return {"paths": paths, "header": header, "segments": analysis.segments(), "summary": analysis.summary(),
            "transitions": analysis.transitions()}


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
