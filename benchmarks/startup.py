"""Start-up cost of the commands: whole-process wall time and peak RSS, before and after, side by side.

What every ``fercli`` command pays before it does anything: the interpreter, the imports, loading
the plugins. Each case is a fresh process started from outside (``subprocess``); its wall time is
a monotonic clock around start and exit, its peak RSS the kernel's ``ru_maxrss`` of the finished
child (``os.wait4``). With ``--before VENV`` the same cases also run in that environment (say a
checkout of an older commit), ``before`` and ``after`` in turn (A B A B ...), and the ratio is
taken pair by pair, so that a machine whose load drifts during the run still gives a fair
ratio. Medians of ``--runs`` runs after ``--warmup`` uncounted ones.

Only the toolkit's own plugins load (``FER_LOAD_PLUGINS``, ``--plugins``): a third-party plugin
installed in one environment and not the other would measure the plugin, not the toolkit.

    python benchmarks/startup.py [--before /path/to/old/.venv] [--after .venv] [--runs 9] [--out section.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import command, cpu_model, emit, measure

#: (label, the command as run inside a venv: "{bin}" is its bin folder)
CASES = [
    ("`python -c pass` (the interpreter alone)", ["{bin}/python", "-c", "pass"]),
    ("`fercli --help`", ["{bin}/fercli", "--help"]),
    ("`fercli train --help`", ["{bin}/fercli", "train", "--help"]),
    ("`fercli plugins`", ["{bin}/fercli", "plugins"]),
    ('`python -c "import fer_models"`', ["{bin}/python", "-c", "import fer_models"]),
    ('`python -c "import fer_core"`', ["{bin}/python", "-c", "import fer_core"]),
    ("`fer_models.load(\"default\")` (real work: torch and the model load)",
     ["{bin}/python", "-c", "import fer_models; fer_models.load('default')"]),
]


def _bin(venv: Path) -> str:
    return str((venv / "bin").absolute())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--after", type=Path, default=Path(sys.executable).parent.parent,
                        help="the venv measured as 'after' (default: this interpreter's)")
    parser.add_argument("--before", type=Path, default=None, help="a venv measured as 'before'")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--plugins", default="fer_models,fer_temporal,fer_tensorboard",
                        help="FER_LOAD_PLUGINS for every run")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    env = {**os.environ, "FER_LOAD_PLUGINS": args.plugins}
    venvs = {"after": args.after} if args.before is None else {"before": args.before, "after": args.after}
    load_start = os.getloadavg()
    rows = []
    for label, template in CASES:
        sides = {side: [part.replace("{bin}", _bin(v)) for part in template] for side, v in venvs.items()}
        kept = measure(sides, args.runs, args.warmup, env)
        bad = {side: [r[2] for r in res if r[2] != 0] for side, res in kept.items()}
        cells = []
        for side in venvs:
            walls = [r[0] for r in kept[side]]
            rss = [r[1] for r in kept[side]]
            cells += [f"{statistics.median(walls):.3f} ({min(walls):.3f}-{max(walls):.3f})",
                      f"{statistics.median(rss):.0f}"]
        if "before" in venvs:
            pairs = list(zip(kept["after"], kept["before"], strict=True))
            ratio = statistics.median(a[0] / b[0] for a, b in pairs)
            rss_ratio = statistics.median(a[1] / b[1] for a, b in pairs)
            cells += [f"{ratio:.2f}", f"{rss_ratio:.2f}"]
        note = "; ".join(f"{side}: exit {codes[0]}" for side, codes in bad.items() if codes)
        rows.append(f"| {label}{' (' + note + ')' if note else ''} | " + " | ".join(cells) + " |")
    load_end = os.getloadavg()
    head, rule = "| command |", "|---|"
    for side in venvs:
        head += f" {side}: wall s, median (min-max) | {side}: peak RSS MB |"
        rule += "---:|---:|"
    if "before" in venvs:
        head += " wall after/before | RSS after/before |"
        rule += "---:|---:|"
    where = ", ".join(f"{side} = `{v}`" for side, v in venvs.items())
    lines = [
        "### Start-up: whole process, wall time and peak RSS", "",
        f"Command: `{command(__file__, argv)}`. {where}; FER_LOAD_PLUGINS={args.plugins}; "
        f"medians of {args.runs} runs after {args.warmup} warm-up, sides in turn; ratios pair by pair. "
        f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}. Load average "
        f"(1/5/15 min) at the start {load_start[0]:.2f}/{load_start[1]:.2f}/{load_start[2]:.2f}, "
        f"at the end {load_end[0]:.2f}/{load_end[1]:.2f}/{load_end[2]:.2f}.", "",
        head, rule, *rows,
    ]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
