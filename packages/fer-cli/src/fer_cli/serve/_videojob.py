"""What a video job runs: :func:`fer_temporal.analyze_to_files`, the function ``fercli analyze``
writes its CSV, JSON, PNG and annotated video with, on the shared model."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from fer_cli.serve._engine import Engine
from fer_cli.serve._jobs import Job
from fer_core.errors import FerError

#: output kind -> the key of analyze_to_files' ``paths`` and the media type served
OUTPUTS = {"csv": "text/csv", "json": "application/json", "png": "image/png", "video": "video/mp4"}


def video_runner(engine: Engine) -> Any:
    """The job runner: ``fercli analyze``'s defaults, every output, the server's model and detector."""

    def run(job: Job) -> tuple[dict[str, Path], dict[str, Any]]:
        from fer_temporal import SourceWarning, analyze_to_files, open_source

        s = engine.settings
        label = job.filename or "video"
        # the frames, decoded as fercli analyze decodes the file, carry the client's file name as
        # their source (never the server's path): the rows are fercli analyze's but for that name
        notes: list[str] = []
        frames = open_source(str(job.input), on_warning=notes.append)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SourceWarning)
            result = analyze_to_files(
                frames, engine.classifier, job.folder / "out", name=label,
                smoother=engine.smoother(), min_length=s.min_length, plot=True, video=True,
                detector=s.detector, detector_options=dict(s.detector_options),
                redetect_every=s.redetect_every,
                on_frame=lambda frame, rows: job.progress(frame.index + 1))
        paths = {kind: Path(p) for kind, p in result["paths"].items() if kind in OUTPUTS}
        header = dict(result["header"])
        header["warnings"] = [clean(job, w) for w in [*header.get("warnings", []), *notes]]
        return paths, {"header": header, "segments": result["segments"], "summary": result["summary"]}

    return run


def clean(job: Job, text: str) -> str:
    """A message with the server's own file path replaced by what the client sent."""
    return text.replace(str(job.input), job.filename or "the uploaded video")


def describe_error(job: Job, exc: BaseException) -> str | None:
    """The message of a job that failed on its input (a FerError), None for a bug."""
    if isinstance(exc, FerError):
        return clean(job, str(exc))
    return None
