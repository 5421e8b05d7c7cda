"""Print the RESULTS.md table from run folders: ``python results_table.py RUNS_ROOT``.

Every figure comes from the runs' own ``report.json`` and ``run.json``, written by ``fercli run``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fer_core.classes import CLASSES
from fer_core.training import find_runs


def _completed(root: Path) -> list[tuple[dict, dict]]:
    out = []
    for run in find_runs(root):
        info = run.info()
        report_file = run.path / "report.json"
        if info.get("status") == "completed" and report_file.exists():
            out.append((info, json.loads(report_file.read_text())))
    return out


def main(root: Path) -> None:
    print("Protocol: best epoch chosen on PublicTest (select); PrivateTest (report) reported once; "
          "Public+Private (7,178) for comparison with the reports.\n")
    print("| experiment / stage | epochs (best) | steps | minutes | PublicTest acc | PrivateTest acc "
          "| PrivateTest macro-F1 | weakest class (F1) | Public+Private acc |")
    print("|---|---|---|---|---|---|---|---|---|")
    runs = _completed(root)
    for info, rep in runs:
        private = rep["report"]
        f1 = private["per_class_f1"]
        weakest = min(range(len(f1)), key=f1.__getitem__)
        name = f"{info.get('experiment')} / {info.get('stage')}"
        print(f"| {name} | {rep['epochs']} ({rep['best_epoch']}) | {rep['steps']:,} "
              f"| {rep['seconds'] / 60:.1f} | {rep['select']['accuracy']:.4f} | {private['accuracy']:.4f} "
              f"| {private['macro_f1']:.3f} | {CLASSES[weakest]} ({f1[weakest]:.3f}) "
              f"| {rep['combined']['accuracy']:.4f} |")
    print("\nPer-class F1 on PrivateTest (report), same runs:\n")
    print("| experiment / stage | " + " | ".join(CLASSES) + " |")
    print("|---|" + "---|" * len(CLASSES))
    for info, rep in runs:
        f1 = rep["report"]["per_class_f1"]
        cells = " | ".join(f"{v:.3f}" for v in f1)
        print(f"| {info.get('experiment')} / {info.get('stage')} | {cells} |")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs"))
