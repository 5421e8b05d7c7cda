"""Results as markdown tables in the shape of the reports' tables, with the protocol stated."""

from __future__ import annotations

from typing import Any

from fer_core.classes import CLASSES
from fer_core.training._trainer import TrainResult


def format_result(result: TrainResult) -> str:
    """A markdown table: one row per evaluated split, accuracy, macro-F1 and per-class F1."""
    rows: list[tuple[str, dict[str, Any]]] = [("PublicTest (select)", result.select)]
    if result.report is not None:
        rows.append(("PrivateTest (report)", result.report))
    if result.combined is not None:
        rows.append(("Public+Private", result.combined))
    head = "| split | n | accuracy | macro-F1 | " + " | ".join(CLASSES) + " |"
    lines = [f"Protocol: {result.protocol}.", "", head, "|" + "---|" * (4 + len(CLASSES))]
    for name, m in rows:
        f1 = " | ".join(f"{v:.3f}" for v in m["per_class_f1"])
        lines.append(f"| {name} | {m['n']:,} | {m['accuracy']:.4f} | {m['macro_f1']:.3f} | {f1} |")
    lines.append("")
    lines.append(f"{result.steps} steps, {result.epochs} epoch(s), {result.seconds:.0f} s.")
    return "\n".join(lines)
