"""The embedding API: ``analyze`` (a whole Timeline in memory) and ``stream`` (rows as frames arrive).

For a long video, prefer :func:`stream` or :func:`analyze_to_files`: they never hold the rows.

>>> import numpy as np
>>> from fer_core import CLASSES
>>> import fer_temporal
>>> def classifier(crops):                     # any callable: uint8 crops [N, 48, 48] -> [N, 7]
...     probs = np.full((len(crops), 7), 0.1)
...     probs[:, CLASSES.index("happy")] += crops.reshape(len(crops), -1).mean(1) / 255
...     return probs / probs.sum(1, keepdims=True)
>>> frames = [(np.full((64, 64, 3), 0 if i < 5 else 255, np.uint8), i / 10) for i in range(10)]
>>> timeline = fer_temporal.analyze(frames, classifier, detector="full_frame", min_length=0.2)
>>> [(s["emotion"], s["start"]) for s in timeline.segments]
[('angry', 0.0), ('happy', 0.5)]
>>> timeline.summary[0]["dominant"], len(timeline.rows)
('angry', 10)
>>> for row in fer_temporal.stream(frames[:2], classifier, detector="full_frame"):
...     print(row["frame"], row["label"], round(row["p_happy"], 3))
0 angry 0.143
1 angry 0.143
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fer_core.files import atomic_write_text
from fer_temporal._analysis import Smoother, TimelineAnalysis
from fer_temporal._csv import CsvTimelineWriter
from fer_temporal._export import timeline_header
from fer_temporal._timeline import Analyzer


@dataclass
class Timeline:
    """Rows (one per processed frame and face), segments, transitions, change points, summary."""

    header: dict[str, Any]
    rows: list[dict[str, Any]]
    segments: list[dict[str, Any]]
    transitions: list[dict[str, Any]]
    change_points: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    columns: list[str] = field(default_factory=list)

    def to_csv(self, path: str | Path) -> Path:
        """The rows, long format (written to ``.partial`` and renamed, like every CSV here)."""
        with CsvTimelineWriter(path, self.columns) as writer:
            for row in self.rows:
                writer.write(row)
        return Path(path)

    def to_json(self, path: str | Path) -> Path:
        """Header, rows, segments, transitions, change points, summary (written atomically)."""
        data = {"header": self.header, "rows": self.rows, "segments": self.segments,
                "transitions": self.transitions, "change_points": self.change_points, "summary": self.summary}
        atomic_write_text(Path(path), json.dumps(data, indent=1) + "\n")
        return Path(path)

    def plot(self, path: str | Path) -> Path:
        """The PNG: probabilities over time per track, segment bands, a dominant-emotion ribbon."""
        from fer_temporal._plots import plot_rows

        return plot_rows(self.rows, self.segments, Path(path), self.header["classes"], self.header["source"])


def stream(source: Any, classifier: Any, detector: Any = "retinaface", *, smoother: Smoother | None = None,
           name: str | None = None, **options: Any) -> Iterator[dict[str, Any]]:
    """Timeline rows of ``source`` as its frames arrive, with smoothed ``s_<class>`` and ``s_label``.

    ``options`` go to :class:`~fer_temporal.Analyzer` (``fps``, ``stride``, ``batch_size``,
    ``realtime``, ``backend``, ``threads``...); ``classifier`` is any callable or a model's name
    (``"default"``: its ONNX copy, no torch). Nothing is kept: memory stays bounded however long the stream.
    """
    analyzer = Analyzer(classifier, detector, **options)
    analysis = TimelineAnalysis(analyzer.classes, smoother or Smoother(), min_length=0.0)
    for row in analyzer.rows(source, name=name):
        yield {**row, **analysis.add(row)}


def analyze(source: Any, classifier: Any, detector: Any = "retinaface", *, smoother: Smoother | None = None,
            min_length: float = 0.5, name: str | None = None, **options: Any) -> Timeline:
    """The whole :class:`Timeline` of ``source`` in memory (see :func:`stream` for long inputs)."""
    analyzer = Analyzer(classifier, detector, **options)
    analysis = TimelineAnalysis(analyzer.classes, smoother or Smoother(), min_length)
    label = name or (str(source) if isinstance(source, (str, Path)) else "stream")
    rows = [{**row, **analysis.add(row)} for row in analyzer.rows(source, name=label)]
    analysis.finish()
    columns = analyzer.columns + [f"s_{c}" for c in analyzer.classes] + ["s_label"]
    return Timeline(timeline_header(analyzer, analysis, label, analyzer.classifier, min_length), rows,
                    analysis.segments(), analysis.transitions(), analysis.change_points(), analysis.summary(),
                    columns)
