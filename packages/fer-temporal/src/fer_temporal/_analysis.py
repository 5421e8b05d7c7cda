"""Streaming analysis of timeline rows: smoothing, emotion segments, transitions, per-track summary.

Everything here consumes rows one at a time and keeps only per-track state (a smoothing window,
the open segment, running sums), so memory stays bounded however long the stream.

* **Smoothing** (per track): ``ema`` (``s = alpha * p + (1 - alpha) * s``), ``median`` (rolling
  median over the last ``window`` rows, renormalised), ``mean`` (rolling mean), or ``none``.
* **Segments**: maximal runs where the smoothed dominant emotion stays the same, with start and
  end time (or frame), frames, and mean probability of that emotion. Runs shorter than
  ``min_length`` (seconds when the stream has times, else frames) are absorbed: the current
  segment goes on as if they had not happened.
* **Transitions**: counts of ``from -> to`` between consecutive segments of a track.
* **Change points**: the start of every segment after a track's first.
* **Summary** per track: share of processed frames per (smoothed) emotion, dominant emotion,
  mean probabilities, and volatility = mean over rows of the mean absolute per-class change
  from the track's previous row (raw probabilities).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fer_core.classes import CLASSES
from fer_core.errors import ConfigError

SMOOTHING = ("ema", "median", "mean", "none")


@dataclass
class Smoother:
    """Per-track smoothing of probability vectors (see the module docstring)."""

    method: str = "ema"
    alpha: float = 0.3
    window: int = 5
    _state: dict[Any, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method not in SMOOTHING:
            raise ConfigError(f"smoothing must be one of {list(SMOOTHING)}, got {self.method!r}")
        if not 0 < self.alpha <= 1 or self.window < 1:
            raise ConfigError(f"smoothing: need 0 < alpha <= 1 and window >= 1, "
                              f"got {self.alpha}, {self.window}")

    def update(self, track: Any, probs: np.ndarray) -> np.ndarray:
        p = np.asarray(probs, dtype=np.float64)
        if self.method == "none":
            return p
        if self.method == "ema":
            prev = self._state.get(track)
            out = p if prev is None else self.alpha * p + (1 - self.alpha) * prev
            self._state[track] = out
            return out
        buf = self._state.setdefault(track, deque(maxlen=self.window))
        buf.append(p)
        stacked = np.stack(buf)
        out = np.median(stacked, axis=0) if self.method == "median" else stacked.mean(axis=0)
        total = out.sum()
        return out / total if total > 0 else out

    def describe(self) -> dict[str, Any]:
        return {"method": self.method, "alpha": self.alpha, "window": self.window}


@dataclass
class _Open:
    label: int
    start: float
    end: float
    start_frame: int
    end_frame: int
    prob_sum: float
    n: int


@dataclass
class _TrackState:
    open: _Open | None = None
    pending: _Open | None = None  # a run not yet min_length long
    counts: Counter = field(default_factory=Counter)
    prob_sum: np.ndarray | None = None
    rows: int = 0
    delta_sum: float = 0.0
    delta_rows: int = 0
    last_label: int | None = None


class TimelineAnalysis:
    """Feed it rows (:meth:`add`), then read :meth:`segments`, :meth:`transitions`, :meth:`summary`."""

    def __init__(self, classes: tuple[str, ...] = CLASSES, smoother: Smoother | None = None,
                 min_length: float = 0.5) -> None:
        self.classes = tuple(classes)
        self.smoother = smoother or Smoother()
        self.min_length = float(min_length)
        self._tracks: dict[Any, _TrackState] = {}
        self._segments: list[dict[str, Any]] = []
        self._transitions: Counter = Counter()
        self.timed = True  # the rows carry stream times (else lengths and positions are in frames)
        self.frames_without_face = 0

    def _length(self, seg: _Open) -> float:
        return seg.end - seg.start if self.timed else float(seg.end_frame - seg.start_frame + 1)

    def add(self, row: dict[str, Any]) -> dict[str, Any]:
        """Take one timeline row; returns the smoothed probabilities (``s_<class>``) and label for it."""
        if not row.get("face_detected"):
            self.frames_without_face += 1
            return {}
        track = row["track_id"]
        probs = np.array([float(row[f"p_{c}"]) for c in self.classes])
        smooth = self.smoother.update(track, probs)
        label = int(smooth.argmax())
        st = self._tracks.setdefault(track, _TrackState())
        self.timed = row.get("time") not in (None, "")
        t = float(row["time"]) if self.timed else float(row["frame"])
        frame = int(row["frame"])
        st.rows += 1
        st.counts[label] += 1
        st.prob_sum = probs if st.prob_sum is None else st.prob_sum + probs
        deltas = [row.get(f"d_{c}") for c in self.classes]
        if all(d not in (None, "") for d in deltas):
            st.delta_sum += float(np.mean(np.abs(np.array(deltas, dtype=np.float64))))
            st.delta_rows += 1
        self._advance(track, st, label, t, frame, float(smooth[label]))
        return {**{f"s_{c}": float(v) for c, v in zip(self.classes, smooth, strict=True)},
                "s_label": self.classes[label]}

    def _advance(self, track: Any, st: _TrackState, label: int, t: float, frame: int, prob: float) -> None:
        if st.open is None:
            st.open = _Open(label, t, t, frame, frame, prob, 1)
            return
        if label == st.open.label and st.pending is None:
            st.open.end, st.open.end_frame = t, frame
            st.open.prob_sum += prob
            st.open.n += 1
            return
        if st.pending is not None and label == st.pending.label:
            st.pending.end, st.pending.end_frame = t, frame
            st.pending.prob_sum += prob
            st.pending.n += 1
        elif label == st.open.label:  # the pending run ended too short: absorbed into the open one
            st.pending = None
            st.open.end, st.open.end_frame = t, frame
            st.open.prob_sum += prob
            st.open.n += 1
            return
        else:
            st.pending = _Open(label, t, t, frame, frame, prob, 1)
        if self._length(st.pending) >= self.min_length or self.min_length <= 0:
            self._close(track, st.open)
            self._transitions[(self.classes[st.open.label], self.classes[st.pending.label])] += 1
            st.open, st.pending = st.pending, None

    def _close(self, track: Any, seg: _Open) -> None:
        self._segments.append({
            "track_id": track, "emotion": self.classes[seg.label], "start": seg.start, "end": seg.end,
            "start_frame": seg.start_frame, "end_frame": seg.end_frame, "rows": seg.n,
            "mean_probability": seg.prob_sum / seg.n})

    def finish(self) -> None:
        """Close every track's open segment (call once, at the end of the stream)."""
        for track, st in self._tracks.items():
            if st.open is not None:
                if st.pending is not None:  # a short run at the very end: absorbed
                    st.open.end, st.open.end_frame = st.pending.end, st.pending.end_frame
                self._close(track, st.open)
                st.open = st.pending = None

    def segments(self) -> list[dict[str, Any]]:
        return sorted(self._segments, key=lambda s: (str(s["track_id"]), s["start_frame"]))

    def transitions(self) -> list[dict[str, Any]]:
        return [{"from": a, "to": b, "count": n} for (a, b), n in sorted(self._transitions.items())]

    def change_points(self) -> list[dict[str, Any]]:
        out, seen = [], set()
        for seg in self.segments():
            if seg["track_id"] in seen:
                out.append({"track_id": seg["track_id"], "time": seg["start"], "frame": seg["start_frame"],
                            "to": seg["emotion"]})
            seen.add(seg["track_id"])
        return out

    def summary(self) -> list[dict[str, Any]]:
        out = []
        for track, st in sorted(self._tracks.items(), key=lambda kv: str(kv[0])):
            if st.prob_sum is None:  # no row yet (a track has one from its first row on)
                continue
            shares = {c: st.counts[i] / st.rows for i, c in enumerate(self.classes)}
            mean = st.prob_sum / st.rows
            out.append({"track_id": track, "rows": st.rows, "share": shares,
                        "dominant": max(shares, key=lambda c: shares[c]),
                        "mean_probability": dict(zip(self.classes, map(float, mean), strict=True)),
                        "volatility": st.delta_sum / st.delta_rows if st.delta_rows else 0.0})
        return out
