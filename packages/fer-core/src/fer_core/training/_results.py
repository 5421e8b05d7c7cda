"""Reports: markdown tables in the reports' shape, JSON, and confusion-matrix PNGs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fer_core.classes import CLASSES
from fer_core.training._checkpoint import atomic_write_text
from fer_core.training._runs import RunDir
from fer_core.training._types import TrainResult


def _rows(result: TrainResult) -> list[tuple[str, dict[str, Any]]]:
    rows: list[tuple[str, dict[str, Any]]] = [("PublicTest (select)", result.select)]
    if result.report is not None:
        rows.append(("PrivateTest (report)", result.report))
    if result.combined is not None:
        rows.append(("Public+Private", result.combined))
    return rows


def class_names(metrics: dict[str, Any]) -> tuple[str, ...]:
    """The classes ``metrics`` (of :func:`~fer_core.training.classification_metrics`) were scored on."""
    return tuple(metrics.get("per_class") or CLASSES)


def format_result(result: TrainResult) -> str:
    """A markdown table: one row per evaluated split, accuracy, macro-F1 and per-class F1."""
    classes = class_names(result.select)
    head = "| split | n | accuracy | macro-F1 | ECE | " + " | ".join(classes) + " |"
    tta = (result.report or result.select).get("tta", "none")
    best = f"best epoch {result.best_epoch}" if result.best_epoch is not None else "no epoch finished"
    lines = [f"Protocol: {result.protocol}. TTA: {tta}; {best}.", "", head,
             "|" + "---|" * (5 + len(classes))]
    for name, m in _rows(result):
        f1 = " | ".join(f"{v:.3f}" for v in m["per_class_f1"])
        ece = f"{m['ece']:.3f}" if "ece" in m else "-"
        lines.append(f"| {name} | {m['n']:,} | {m['accuracy']:.4f} | {m['macro_f1']:.3f} | {ece} | {f1} |")
    lines.append("")
    lines.append(f"{result.steps} steps, {result.epochs} epoch(s), {result.seconds:.0f} s.")
    return "\n".join(lines)


def per_class_table(metrics: dict[str, Any], title: str) -> str:
    """The reports' per-class table: precision, recall, F1, support, then macro/weighted averages."""
    lines = [f"**{title}** (n = {metrics['n']:,}, accuracy {metrics['accuracy']:.4f})", "",
             "| emotion | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for name, m in metrics["per_class"].items():
        lines.append(f"| {name} | {m['precision']:.4f} | {m['recall']:.4f} | {m['f1']:.4f} "
                     f"| {m['support']:,} |")
    for avg, m in metrics.get("averages", {}).items():
        lines.append(f"| {avg} avg | {m['precision']:.4f} | {m['recall']:.4f} | {m['f1']:.4f} "
                     f"| {metrics['n']:,} |")
    return "\n".join(lines)


def plot_confusion(confusion: list[list[int]], path: Path, title: str,
                   classes: tuple[str, ...] = CLASSES) -> None:
    """Row-normalised confusion matrix (rows = true class) as a PNG, counts in the cells."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    counts = np.asarray(confusion)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.4, 5.6), dpi=110)
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, f"{counts[i, j]}", ha="center", va="center", fontsize=7,
                    color="white" if share[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, label="share of true class")
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)


def write_report(run: RunDir, result: TrainResult) -> None:
    """``report.json``, ``report.md`` and one confusion PNG per evaluated split."""
    data = {"protocol": result.protocol, "best_epoch": result.best_epoch, "steps": result.steps,
            "epochs": result.epochs, "seconds": result.seconds,
            "select": result.select, "report": result.report, "combined": result.combined}
    run.write_json("report.json", data)
    md = [f"# {run.path.name}", "", format_result(result), ""]
    for (name, metrics), slug in zip(_rows(result), ("select", "report", "combined"), strict=False):
        md += [per_class_table(metrics, name), ""]
        png = run.path / f"confusion_{slug}.png"
        plot_confusion(metrics["confusion"], png, f"{run.path.name}: {name}", class_names(metrics))
        md += [f"![confusion matrix, {name}]({png.name})", ""]
    atomic_write_text(run.path / "report.md", "\n".join(md))
