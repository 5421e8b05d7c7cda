"""Run directories: the unit of tracking.

A run folder holds ``run.json`` (status, lineage, best epoch), ``config.json`` (the resolved
config), ``metrics.jsonl`` and ``metrics.csv`` (one line per epoch), ``checkpoints/``, the
exported best weights (``model.safetensors`` + ``model.json``) and the report
(``report.json``, ``report.md``, confusion-matrix PNG). A multi-stage experiment is a chain of
runs: each stage's ``run.json`` names its parent run and the sha256 of the checkpoint it
started from.
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fer_core._version import __version__
from fer_core.classes import CLASSES
from fer_core.training._checkpoint import atomic_write_text

RUN_FILE = "run.json"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


@dataclass
class RunDir:
    """One run folder."""

    path: Path

    @classmethod
    def create(cls, root: Path, name: str, *, info: dict[str, Any]) -> RunDir:
        """A new run folder ``root/name`` (``name-2``, ``name-3``... when taken)."""
        root.mkdir(parents=True, exist_ok=True)
        path, k = root / name, 1
        while True:
            try:
                path.mkdir()
                break
            except FileExistsError:
                k += 1
                path = root / f"{name}-{k}"
        run = cls(path)
        run.write_info({"name": path.name, "status": "running", "created": _now(),
                        "toolkit_version": __version__, **info})
        return run

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    def info(self) -> dict[str, Any]:
        return json.loads((self.path / RUN_FILE).read_text())

    def write_info(self, info: dict[str, Any]) -> None:
        atomic_write_text(self.path / RUN_FILE, json.dumps(info, indent=2, default=str) + "\n")

    def update_info(self, **changes: Any) -> None:
        self.write_info({**self.info(), **changes})

    def write_json(self, name: str, data: Any) -> None:
        atomic_write_text(self.path / name, json.dumps(data, indent=2, default=str) + "\n")

    def log_epoch(self, row: dict[str, Any]) -> None:
        """Append one epoch to ``metrics.jsonl`` and ``metrics.csv`` (the built-in CSV logger)."""
        with open(self.path / "metrics.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, default=str) + "\n")
        flat = _flatten(row)
        csv_path = self.path / "metrics.csv"
        new = not csv_path.exists()
        with open(csv_path, "a", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(flat), extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(flat)

    def history(self) -> list[dict[str, Any]]:
        path = self.path / "metrics.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def truncate_history(self, epochs: int) -> None:
        """Keep the first ``epochs`` lines of the logs (a resumed run rewrites what follows)."""
        rows = self.history()[:epochs]
        atomic_write_text(self.path / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
        if rows:
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=list(_flatten(rows[0])), extrasaction="ignore")
            writer.writeheader()
            for r in rows:
                writer.writerow(_flatten(r))
            atomic_write_text(self.path / "metrics.csv", buf.getvalue())
        else:
            (self.path / "metrics.csv").unlink(missing_ok=True)


def _flatten(row: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key in ("epoch", "step", "lr", "train_loss", "seconds"):
        if key in row:
            flat[key] = row[key]
    sel = row.get("select") or {}
    for key in ("accuracy", "macro_f1"):
        if key in sel:
            flat[f"select_{key}"] = sel[key]
    classes = tuple(row.get("classes") or CLASSES)  # FER+'s 8 with ferplus8- labels
    for name, f1 in zip(classes, sel.get("per_class_f1", []), strict=False):
        flat[f"f1_{name}"] = f1
    # the same columns every epoch, so a value first seen in a later epoch is not dropped
    weights = row.get("class_weights") or [None] * len(classes)
    for name, w in zip(classes, weights, strict=False):
        flat[f"weight_{name}"] = "" if w is None else w
    for name, share in zip(classes, row.get("class_share") or [None] * len(classes), strict=False):
        flat[f"share_{name}"] = "" if share is None else share
    flat["focus"] = " ".join(row.get("focus") or [])
    return flat


def find_runs(root: Path) -> list[RunDir]:
    """Every run folder under ``root`` (nested stage folders included), oldest first."""
    runs = [RunDir(p.parent) for p in Path(root).rglob(RUN_FILE)]
    return sorted(runs, key=lambda r: (r.info().get("created", ""), str(r.path)))


def resolve_run(ref: str | Path, root: Path = Path("runs")) -> RunDir:
    """A run by path, or by name under ``root``."""
    from fer_core.errors import FerError

    for candidate in (Path(ref), Path(root) / str(ref)):
        if (candidate / RUN_FILE).is_file():
            return RunDir(candidate)
    matches = [r for r in find_runs(root) if r.path.name == str(ref)] if Path(root).is_dir() else []
    if len(matches) == 1:
        return matches[0]
    raise FerError(f"no run {str(ref)!r} (looked for {RUN_FILE} at that path and under {root})")
