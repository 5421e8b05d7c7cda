"""The timeline plot: smoothed probabilities over time per track, a dominant-emotion ribbon and
segment bands (matplotlib, Agg backend, written atomically)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fer_core.files import atomic_write

#: A plotted line has at most this many points (longer series are averaged in equal bins).
MAX_POINTS = 2000

#: One colour per emotion, in CLASSES order (angry, disgust, fear, happy, sad, surprise, neutral).
#: One colour per class in CLASSES order, then contempt (FER+'s 8th class); matplotlib's tab10.
COLORS = ("#d62728", "#8c564b", "#9467bd", "#2ca02c", "#1f77b4", "#ff7f0e", "#7f7f7f", "#e377c2")


def _decimate(values: Any) -> Any:
    n = len(values)
    if n <= MAX_POINTS:
        return values
    edges = (np.arange(MAX_POINTS + 1) * n) // MAX_POINTS
    return np.add.reduceat(values, edges[:-1]) / np.diff(edges)


def plot_timeline(csv_path: Path, segments: Sequence[dict[str, Any]], out: Path, classes: Sequence[str],
                  title: str = "", atomic: bool = True) -> Path:
    """The plot of a timeline CSV (rows read one at a time)."""
    with open(csv_path, newline="", encoding="utf-8") as fh:
        return plot_rows(csv.DictReader(fh), segments, out, classes, title, atomic=atomic)


def plot_rows(rows: Iterable[dict[str, Any]], segments: Sequence[dict[str, Any]], out: Path,
              classes: Sequence[str], title: str = "", atomic: bool = True) -> Path:
    """The plot of timeline rows (dicts as the Analyzer makes them, or as read back from the CSV).

    Written atomically (a temp file renamed over ``out``), or, ``atomic=False``, straight into
    ``out`` (a temp file the caller renames itself)."""
    import matplotlib

    matplotlib.use("Agg")
    from array import array

    import matplotlib.pyplot as plt

    tracks: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["face_detected"] not in (True, "True"):
            continue
        t = float(row["time"]) if row.get("time") not in (None, "") else float(row["frame"])
        empty = {"t": array("d"), **{c: array("d") for c in classes}}
        series = tracks.setdefault(str(row["track_id"]), empty)
        series["t"].append(t)
        for c in classes:
            value = row.get(f"s_{c}")
            series[c].append(float(value if value not in (None, "") else row[f"p_{c}"]))
    for track, series in tracks.items():  # at most MAX_POINTS per line: bin means of long series
        tracks[track] = {k: _decimate(np.frombuffer(v, dtype=np.float64)) for k, v in series.items()}
    n = max(1, len(tracks))
    fig, axes = plt.subplots(n, 1, figsize=(10, 2.6 * n + 0.6), squeeze=False, sharex=True)
    color = {c: COLORS[i % len(COLORS)] for i, c in enumerate(classes)}
    ordered = sorted(tracks.items(), key=lambda kv: int(kv[0]))
    for ax, (track, series) in zip(axes[:, 0], ordered, strict=False):
        for seg in (s for s in segments if str(s["track_id"]) == track):
            band = color[seg["emotion"]]
            ax.axvspan(seg["start"], seg["end"], color=band, alpha=0.12, lw=0)  # segment band
            ax.axvspan(seg["start"], seg["end"], ymin=1.0, ymax=1.06, color=band, clip_on=False)  # ribbon
        for c in classes:
            ax.plot(series["t"], series[c], color=color[c], lw=1.2, label=c)
        ax.set_ylim(0, 1)
        ax.set_ylabel(f"track {track}\nprobability")
    if not tracks:
        axes[0, 0].text(0.5, 0.5, "no face detected", ha="center", va="center",
                        transform=axes[0, 0].transAxes)
    axes[-1, 0].set_xlabel("time (s)")
    if tracks:  # nothing plotted (no face): no legend, and no matplotlib warning about it
        axes[0, 0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.suptitle(title or "emotion timeline")
    fig.tight_layout()
    try:
        if atomic:
            atomic_write(out, lambda tmp: fig.savefig(tmp, format="png", dpi=100), suffix=".png")
        else:
            fig.savefig(out, format="png", dpi=100)
    finally:
        plt.close(fig)
    return out
