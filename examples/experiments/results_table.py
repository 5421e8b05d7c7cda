"""Print the RESULTS.md table from run folders: ``python results_table.py RUNS_ROOT``.

Every figure comes from the runs' own ``report.json`` and ``run.json``, written by ``fercli run``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fer_core.classes import CLASSES
from fer_core.training import find_runs


def main(root: Path) -> None:
    print("Protocol: best epoch chosen on PublicTest (select); PrivateTest (report) reported once; "
          "Public+Private (7,178) for comparison with the reports.\n")
    print("| experiment / stage | epochs (best) | steps | minutes | PublicTest acc | PrivateTest acc "
          "| PrivateTest macro-F1 | weakest class (F1) | Public+Private acc |")
    print("|---|---|---|---|---|---|---|---|---|")
    for run in find_runs(root):
        info = run.info()
        report_file = run.path / "report.json"
        if info.get("status") != "completed" or not report_file.exists():
            continue
        rep = json.loads(report_file.read_text())
        private = rep["report"]
        f1 = private["per_class_f1"]
        weakest = min(range(len(f1)), key=f1.__getitem__)
        name = f"{info.get('experiment')} / {info.get('stage')}"
        print(f"| {name} | {rep['epochs']} ({rep['best_epoch']}) | {rep['steps']:,} "
              f"| {rep['seconds'] / 60:.1f} | {rep['select']['accuracy']:.4f} | {private['accuracy']:.4f} "
              f"| {private['macro_f1']:.3f} | {CLASSES[weakest]} ({f1[weakest]:.3f}) "
              f"| {rep['combined']['accuracy']:.4f} |")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs"))
