"""``fercli models``: every registered backbone with its size and cost, and optionally its best runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from fer_core import plugins as fer_plugins

IMAGE = 48
# options that load weights but do not change the architecture: left out when only costing
WEIGHT_OPTIONS = ("pretrained", "pretrained_strict")

PROTOCOL = (
    "Protocol: params and GMACs of one forward pass of one gray image, 1x48x48 (and 1xCxC at the "
    "backbone's default crop C); GMACs = multiply-adds / 1e9 = torch FlopCounterMode FLOPs / 2, "
    "the unit fvcore (and the efficiency report) calls \"GFLOPs\"."
)
RUNS_PROTOCOL = (
    "Runs: PrivateTest = the best run.json report_accuracy among the completed runs of that backbone "
    "(each run's epoch chosen on PublicTest); run GMACs = GMACs per test image of that run, with its "
    "options, crop and test-time-augmentation views; acc/GMAC = PrivateTest / run GMACs."
)


def _cost(registered: Any, options: dict[str, Any], size: int) -> dict[str, Any]:
    """``{"macs", "params"}`` of the backbone with ``options`` at ``1 x size x size``, or ``{"error"}``.

    Built on the meta device and given uninitialised CPU memory (no weight init: costing an
    80 M-parameter model takes a fraction of a second); if that fails, built for real, so the
    error shown is the real one.
    """
    import torch

    from fer_models.flops import count_flops

    error = ""
    for fast in (True, False):
        try:
            kwargs = {"num_classes": 7, "in_chans": 1, **options}
            if fast:
                with torch.device("meta"):
                    model = registered.build_with(kwargs, input_size=size)
                model = model.to_empty(device="cpu")
            else:
                model = registered.build_with(kwargs, input_size=size)
            out = count_flops(model, (1, size, size))
        except Exception as exc:  # a backbone that cannot be built or run is a row, not a crash
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            continue
        return {"macs": out["macs"], "params": out["params"]}
    return {"error": error}


def _best_runs(root: Path, registry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per backbone, its completed run with the best PrivateTest (report) accuracy, and that run's cost."""
    from fer_core.training import find_runs

    best: dict[str, dict[str, Any]] = {}
    for run in find_runs(root):
        try:
            info = run.info()
            cfg = json.loads((run.path / "config.json").read_text())
        except (OSError, ValueError):
            continue
        acc = info.get("report_accuracy")
        if info.get("status") != "completed" or not isinstance(acc, (int, float)):
            continue
        model = cfg.get("model") or {}
        backbone = model.get("backbone")
        if not backbone:
            continue
        if backbone not in best or acc > best[backbone]["accuracy"]:
            train = cfg.get("resolved_train") or cfg.get("train") or {}
            best[backbone] = {
                "accuracy": float(acc), "run": str(run.path.relative_to(root)),
                "options": {k: v for k, v in (model.get("options") or {}).items() if k not in WEIGHT_OPTIONS},
                "crop_size": (train.get("augment") or {}).get("crop_size"), "tta": train.get("tta") or "none",
            }
    from fer_models.inference import TTA_VIEWS

    for backbone, entry in best.items():
        views = TTA_VIEWS.get(entry["tta"], 1)
        if backbone not in registry:
            entry["error"] = "not registered (is its plugin installed and loaded?)"
            continue
        cost = _cost(registry[backbone], entry["options"], entry["crop_size"] or IMAGE)
        if "error" in cost:
            entry["error"] = cost["error"]
            continue
        entry["run_gmacs"] = cost["macs"] * views / 1e9
        entry["acc_per_gmac"] = entry["accuracy"] / entry["run_gmacs"] if entry["run_gmacs"] else None
    return best


def backbone_rows(runs_root: Path | None = None) -> list[dict[str, Any]]:
    """One dict per registered backbone (and per run backbone that is not registered)."""
    registry = fer_plugins.get_plugins().backbones()
    best = _best_runs(runs_root, registry) if runs_root is not None else {}
    rows: list[dict[str, Any]] = []
    for name, reg in registry.items():
        crop = getattr(reg.factory, "default_crop", None)
        row: dict[str, Any] = {"name": name, "plugin": reg.plugin, "description": reg.description,
                               "default_crop": crop}
        cost = _cost(reg, {}, IMAGE)
        if "error" in cost:
            row["error"] = cost["error"]
        else:
            row["params"] = cost["params"]
            row["gmacs"] = cost["macs"] / 1e9
            if crop:
                at_crop = _cost(reg, {}, int(crop))
                row["gmacs_crop"] = at_crop["macs"] / 1e9 if "macs" in at_crop else None
        if name in best:
            row["runs"] = best[name]
        rows.append(row)
    for name, entry in best.items():
        if name not in registry:
            rows.append({"name": name, "plugin": "-", "description": "", "default_crop": None,
                         "error": entry["error"], "runs": entry})
    return rows


def _num(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


@click.command(name="models")
@click.option("--runs", "runs_root", type=click.Path(path_type=Path, exists=True, file_okay=False),
              default=None, help="Add each backbone's best PrivateTest accuracy over the completed runs "
                                 "under this folder, and accuracy per GMAC.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def models(runs_root: Path | None, as_json: bool) -> None:
    """Every registered backbone: plugin, parameters, GMACs at 1x48x48 (and at its crop), description."""
    rows = backbone_rows(runs_root)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    with_runs = runs_root is not None
    head = "| backbone | plugin | params (M) | GMACs 48x48 | GMACs crop |"
    rule = "|---|---|---:|---:|---:|"
    if with_runs:
        head += " PrivateTest | run | run GMACs | acc/GMAC |"
        rule += "---:|---|---:|---:|"
    click.echo(PROTOCOL)
    if with_runs:
        click.echo(RUNS_PROTOCOL)
    click.echo()
    click.echo(head + " description |")
    click.echo(rule + "---|")
    for row in rows:
        if "error" in row and "params" not in row:
            cells = [row["name"], row["plugin"], "-", "-", "-"]
            description = f"{row['description']} (not built at 1x48x48: {row['error']})".lstrip()
        else:
            crop = row.get("default_crop")
            crop_cell = f"{_num(row.get('gmacs_crop'), '.4f')} ({crop}x{crop})" if crop else "-"
            cells = [row["name"], row["plugin"], f"{row['params'] / 1e6:.2f}", f"{row['gmacs']:.4f}",
                     crop_cell]
            description = row["description"]
        if with_runs:
            run = row.get("runs")
            if run is None:
                cells += ["-", "-", "-", "-"]
            else:
                cells += [f"{run['accuracy']:.4f}", run["run"], _num(run.get("run_gmacs"), ".4f"),
                          _num(run.get("acc_per_gmac"), ".2f")]
        click.echo("| " + " | ".join([*cells, description.replace("|", "/")]) + " |")
