"""Members and ensembles side by side under the protocol: weights chosen on PublicTest only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from fer_core.data import FerDataset
from fer_core.training import PROTOCOL, classification_metrics
from fer_models.ensemble._ensemble import member_proba
from fer_models.ensemble._fusion import METHODS, RRF_K, fuse, search_weights

if TYPE_CHECKING:
    from fer_models.inference._base import ClassifierBase

#: The splits every row is measured on: selection, report, and both together (7,178 on FER2013).
SPLITS = ("select", "report", "both")


@dataclass
class Comparison:
    """Rows (members, then each method with equal and with searched weights) and the chosen weights."""

    rows: list[dict[str, Any]]
    weights: dict[str, tuple[float, ...]]
    report_metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    step: float = 0.1
    k: float = RRF_K

    def markdown(self) -> str:
        lines = [f"Protocol: {PROTOCOL}; ensemble weights searched on PublicTest (grid step {self.step}), "
                 "figures on PrivateTest and Public+Private.", "",
                 "| model | weights | GMACs per face | PublicTest (select) | PrivateTest (report) "
                 "| Public+Private |", "|---|---|---|---|---|---|"]
        for r in self.rows:
            w = ", ".join(f"{x:.2f}" for x in r["weights"]) if r["weights"] else "-"
            lines.append(f"| {r['name']} | {w} | {r['gmacs']:.4f} | {r['select']:.4f} "
                         f"| {r['report']:.4f} | {r['both']:.4f} |")
        return "\n".join(lines) + "\n"


def _accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    return float((probs.argmax(1) == labels).mean())


def compare_ensembles(members: Sequence[ClassifierBase], names: Sequence[str], dataset: FerDataset, *,
                      step: float = 0.1, k: float = RRF_K) -> Comparison:
    """Each member alone, then weighted average and rank fusion with equal and searched weights."""
    select, report = dataset.split("select"), dataset.split("report")
    labels = {"select": select.labels.numpy(), "report": report.labels.numpy()}
    probs = {"select": [member_proba(m, select.images) for m in members],
             "report": [member_proba(m, report.images) for m in members]}
    labels["both"] = np.concatenate([labels["select"], labels["report"]])
    probs["both"] = [np.concatenate(pair) for pair in zip(probs["select"], probs["report"], strict=True)]

    rows: list[dict[str, Any]] = []
    for i, (name, member) in enumerate(zip(names, members, strict=True)):
        rows.append({"name": f"{name} (tta {member.tta})", "method": "member", "weights": None,
                     "gmacs": member.gmacs(), **{s: _accuracy(probs[s][i], labels[s]) for s in SPLITS}})
    total = float(sum(r["gmacs"] for r in rows))
    chosen: dict[str, tuple[float, ...]] = {}
    metrics: dict[str, dict[str, Any]] = {}
    for method in METHODS:
        chosen[method], _ = search_weights(probs["select"], labels["select"], method=method, step=step, k=k)
        for label, weights in (("equal weights", None), ("weights searched on PublicTest", chosen[method])):
            fused = {s: fuse(probs[s], weights, method, k) for s in SPLITS}
            rows.append({"name": f"ensemble, {method}, {label}", "method": method,
                         "weights": list(weights) if weights is not None else None, "gmacs": total,
                         **{s: _accuracy(fused[s], labels[s]) for s in SPLITS}})
        fused_report = fuse(probs["report"], chosen[method], method, k)
        metrics[method] = classification_metrics(labels["report"], fused_report)
    return Comparison(rows, chosen, metrics, step, k)
