"""``fercli evaluate MODEL``: metrics of a trained model on FER2013 splits, under the protocol."""

from __future__ import annotations

import json
from pathlib import Path

import click

from fer_cli._outputs import ensure_writable_file


@click.command()
@click.argument("model_ref", metavar="MODEL", type=click.Path(path_type=Path))
@click.option("--data", "data_path", type=click.Path(path_type=Path),
              help="FER2013 CSV or folder (default: the data of MODEL's run).")
@click.option("--tta", type=click.Choice(["none", "flip", "tencrop"]), default=None,
              help="Test-time augmentation (default: what the model was selected with).")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "json_out", type=click.Path(path_type=Path), help="Also write the metrics here.")
def evaluate(model_ref: Path, data_path: Path | None, tta: str | None, batch_size: int,
             json_out: Path | None) -> None:
    """Evaluate MODEL (run folder, .safetensors or checkpoint) on PublicTest, PrivateTest and both."""
    import torch

    from fer_core.data import Split, load_dataset
    from fer_core.errors import FerError
    from fer_core.training import (
        PROTOCOL,
        atomic_write_text,
        load_trained_model,
        per_class_table,
        resolve_device,
        run_config,
    )
    from fer_core.training import (
        evaluate as evaluate_model,
    )

    if json_out is not None:
        ensure_writable_file(json_out, "--json")
    model, wcfg = load_trained_model(model_ref)
    cfg = run_config(model_ref) if model_ref.is_dir() else None
    if data_path is None:
        if cfg is None:
            raise FerError(f"{model_ref}: no run config to take the data from; pass --data PATH")
        data_path = Path(cfg["data"]["path"])
    # the labels the run was trained and selected on (FER2013's, or FER+ majority votes)
    data_cfg = (cfg or {}).get("data") or {}
    labels = data_cfg.get("labels") or "fer2013"
    ferplus = data_cfg.get("ferplus") if labels != "fer2013" else None
    prep = wcfg.get("preprocessing", {})
    tta = tta or prep.get("tta") or "none"
    device = resolve_device("auto")
    model.to(device)
    ds = load_dataset(data_path, ferplus=ferplus, labels=labels if ferplus else "fer2013")
    select, report = ds.split("select"), ds.split("report")
    both = Split("Public+Private", None, torch.cat([select.images, report.images]),
                 torch.cat([select.labels, report.labels]), torch.cat([select.indices, report.indices]))
    results = {}
    click.echo(f"Protocol: {PROTOCOL}. TTA: {tta}. Labels: {labels if ferplus else 'fer2013'}.\n")
    for name, split in (("PublicTest (select)", select), ("PrivateTest (report)", report),
                        ("Public+Private", both)):
        m = evaluate_model(model, split.images, split.labels, batch_size=batch_size, device=device,
                           crop_size=prep.get("crop_size"), tta=tta)
        results[name] = m
        click.echo(per_class_table(m, name) + "\n")
    if json_out is not None:
        text = json.dumps({"protocol": PROTOCOL, "tta": tta, **results}, indent=2) + "\n"
        atomic_write_text(json_out, text)
