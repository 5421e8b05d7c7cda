"""Ship an ensemble made by ``fercli ensemble`` as a named model of fer-models, with its card.

    fercli ensemble RUN_A RUN_B RUN_C --out ens
    python examples/experiments/ship_ensemble.py ens/ensemble.json --name ensemble \\
        [--data fer2013.csv.gz] [--into packages/fer-models/src/fer_models/weights] \\
        [--card packages/fer-models/MODEL_CARD-NAME.md]

A member whose weights are already shipped (same sha256 as a shipped model) is referenced as
``../<that name>``; every other member is copied to ``INTO/NAME/member-<i>/`` (its
``model.safetensors`` and ``model.json``, unchanged). ``INTO/NAME/ensemble.json`` keeps the
method and the weights searched on PublicTest. Everything in the card is then measured on the
shipped copy, on the full FER2013 test splits: accuracy and macro-F1 on PrivateTest (reported),
PublicTest (where the weights were chosen) and Public+Private, the per-class table, the size of
every weights file it loads, GMACs (the sum of the members', their TTA counted) and CPU
throughput. All writes are atomic.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Any

from fer_core.classes import CLASSES
from fer_core.data import load_dataset
from fer_core.errors import ConfigError
from fer_core.training import (
    PROTOCOL,
    WEIGHTS_CONFIG,
    WEIGHTS_NAME,
    atomic_write,
    atomic_write_text,
    classification_metrics,
    sha256_file,
)
from fer_models.inference import ENSEMBLE_FILE, load

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ship_model import (
    CARDS,
    DATA,
    INTO,
    SPLITS,
    accuracy_table,
    invocation,
    per_class_table,
    speed,
    split_probabilities,
)


def ship_members(spec: dict[str, Any], source: Path, folder: Path, into: Path) -> list[dict[str, Any]]:
    """Each member referenced by a shipped model's name or copied below ``folder``."""
    shipped = {sha256_file(d / WEIGHTS_NAME): d.name for d in sorted(into.iterdir())
               if d.name != folder.name and (d / WEIGHTS_NAME).is_file()} if into.is_dir() else {}
    members = []
    for i, entry in enumerate(spec["members"]):
        ref = Path(entry["ref"]) if Path(entry["ref"]).is_absolute() else source.parent / entry["ref"]
        weights = ref / WEIGHTS_NAME if ref.is_dir() else ref
        if weights.suffix != ".safetensors" or not (weights.parent / WEIGHTS_CONFIG).is_file():
            raise ConfigError(f"{source}: member {i} ({ref}) is not a run folder or model.safetensors "
                              "with its model.json: only those can ship")
        digest = sha256_file(weights)
        if digest in shipped:
            shown = f"../{shipped[digest]}"
        else:
            shown = f"member-{i}"
            for name in (WEIGHTS_NAME, WEIGHTS_CONFIG):
                data = (weights.parent / name).read_bytes()
                atomic_write(folder / shown / name, lambda tmp, data=data: tmp.write_bytes(data))
        members.append({**entry, "ref": shown, "sha256": digest})
    return members


def measure(folder: Path, data: Path, seconds: float) -> dict[str, Any]:
    ens = load(folder)
    ds = load_dataset(data)
    private = ds.split("report")
    probs, labels = split_probabilities(ens.predict_proba, ds)
    files = [Path(r) / WEIGHTS_NAME for r in ens.refs]
    return {"metrics": {s: classification_metrics(labels[s], probs[s]) for s in SPLITS},
            "members": [{"name": m.name, "tta": m.tta, "gmacs": m.gmacs(),
                         "PrivateTest_accuracy": float((m.predict_proba(private.images).argmax(1)
                                                        == labels["PrivateTest"]).mean())}
                        for m in ens.members],
            "gmacs": ens.gmacs(), "bytes": sum(f.stat().st_size for f in files),
            "speed": speed(folder, private.images[:64, 0].numpy(), seconds)}


def render(name: str, spec: dict[str, Any], m: dict[str, Any], command: str) -> str:
    pv = m["metrics"]["PrivateTest"]
    lines = [
        f"# Model card: fer-models `{name}` (an ensemble)", "",
        f"`fer_models.load(\"{name}\")`: {len(m['members'])} models trained from scratch by this toolkit on "
        f"FER2013 Training only, fused by {spec['method']} with weights searched on PublicTest "
        "(`fercli ensemble`), shipped inside the fer-models wheel (no download). Input and output as "
        "for a single model: faces of any size, gray/RGB/RGBA; probabilities of "
        f"{', '.join(CLASSES)}, in that order.", "",
        "Every number below was measured on the shipped copy by one command:", "",
        "```bash", command, "```", "",
        f"Protocol: {PROTOCOL}; the fusion weights were chosen on PublicTest too.", "",
        "## Members", "",
        "| member | weight | TTA | GMACs | PrivateTest accuracy alone |", "|---|---|---|---|---|",
    ]
    for entry, member, w in zip(spec["members"], m["members"], spec["weights"], strict=True):
        lines.append(f"| `{entry['ref']}` ({member['name']}) | {w:.2f} | {member['tta']} "
                     f"| {member['gmacs']:.3f} | {member['PrivateTest_accuracy']:.2%} |")
    lines += ["", "## Accuracy", "", *accuracy_table(m["metrics"]),
              "", "### Per class, PrivateTest", "", *per_class_table(pv)]
    sp = m["speed"]
    lines += [
        "", "## Cost", "",
        f"{m['gmacs']:.3f} GMACs per face, every member's TTA counted; {m['bytes'] / 2**20:.1f} MB of "
        "weights in all (a member shipped on its own is not stored twice). Throughput of "
        "`predict_proba`, 2 CPU threads:", "",
        "| backend | batch 1 (images/s) | batch 64 (images/s) |", "|---|---|---|",
        f"| PyTorch eager | {sp['torch_1']:.0f} | {sp['torch_64']:.0f} |",
        f"| ONNX Runtime | {sp['onnx_1']:.0f} | {sp['onnx_64']:.0f} |",
        "", "## Known limits", "",
        "Those of its members (MODEL_CARD.md): FER2013's label noise and near-duplicates, 48x48 gray "
        "faces, a demographic skew nobody measured. No temperature is fitted for the fused scores.",
        "", f"Measured {datetime.date.today().isoformat()}.", "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ensemble", type=Path, help="an ensemble.json written by fercli ensemble")
    parser.add_argument("--name", default="ensemble")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--into", type=Path, default=INTO)
    parser.add_argument("--card", type=Path, default=None, help="default: MODEL_CARD-NAME.md")
    parser.add_argument("--speed-seconds", type=float, default=1.0, help="per timing round (3 rounds)")
    args = parser.parse_args(argv)
    card = args.card or CARDS / f"MODEL_CARD-{args.name}.md"
    command = invocation(__file__, argv)
    spec = json.loads(args.ensemble.read_text())
    folder = args.into / args.name
    shipped = {**spec, "members": ship_members(spec, args.ensemble, folder, args.into)}
    atomic_write_text(folder / ENSEMBLE_FILE, json.dumps(shipped, indent=2) + "\n")
    m = measure(folder, args.data, args.speed_seconds)
    shipped["card"] = {
        "name": args.name, "protocol": PROTOCOL, "method": spec["method"], "weights": spec["weights"],
        **{f"{split}_{key}": round(m["metrics"][split][key], 4) for split in SPLITS
           for key in ("accuracy", "macro_f1")},
        "gmacs": round(m["gmacs"], 4), "megabytes": round(m["bytes"] / 2**20, 1),
        "images_per_second": {k: round(v) for k, v in m["speed"].items()},
        "measured": datetime.date.today().isoformat(), "command": command}
    atomic_write_text(folder / ENSEMBLE_FILE, json.dumps(shipped, indent=2) + "\n")
    atomic_write_text(card, render(args.name, shipped, m, command))
    print(f"shipped {folder} ({m['bytes'] / 2**20:.1f} MB of weights); card {card}; "
          f"PrivateTest {m['metrics']['PrivateTest']['accuracy']:.2%}")


if __name__ == "__main__":
    main()
