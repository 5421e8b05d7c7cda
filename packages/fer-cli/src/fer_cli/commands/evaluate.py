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
@click.option("--labels", "labels_opt", type=click.Choice(["fer2013", "ferplus-majority"]), default=None,
              help="fer2013: FER2013's labels; ferplus-majority: the FER+ protocol (FER+ test; 8 classes "
                   "and the 7-class mapping for an 8-class model). Default: the labels MODEL's run "
                   "was trained on.")
@click.option("--ferplus", "ferplus_path", type=click.Path(path_type=Path),
              help="FER+ vote file for --labels ferplus-majority (default: the run's, else "
                   "ferplus_votes.csv.gz or fer2013new.csv beside the data).")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "json_out", type=click.Path(path_type=Path), help="Also write the metrics here.")
def evaluate(model_ref: Path, data_path: Path | None, tta: str | None, labels_opt: str | None,
             ferplus_path: Path | None, batch_size: int, json_out: Path | None) -> None:
    """Evaluate MODEL (run folder, .safetensors or checkpoint) on PublicTest, PrivateTest and both.

    With --labels ferplus-majority: the FER+ protocol, on the PublicTest and PrivateTest rows
    with a usable FER+ majority (the excluded rows counted by reason).
    """
    import torch

    from fer_core.classes import CLASSES
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
    if labels_opt == "ferplus-majority":
        votes_path = ferplus_path or (Path(data_cfg["ferplus"]) if data_cfg.get("ferplus") else None)
        votes_path = votes_path or _votes_beside(data_path)
        if votes_path is None:
            raise FerError(f"--labels ferplus-majority needs the FER+ vote file; pass --ferplus PATH "
                           f"(none beside {data_path})")
        _evaluate_ferplus(model, data_path, votes_path, tta, prep.get("crop_size"), batch_size,
                          device, json_out, tuple(wcfg.get("classes") or CLASSES))
        return
    if labels_opt == "fer2013":
        labels, ferplus = "fer2013", None
    ds = load_dataset(data_path, ferplus=ferplus, labels=labels if ferplus else "fer2013")
    select, report = ds.split("select"), ds.split("report")
    both = Split("Public+Private", None, torch.cat([select.images, report.images]),
                 torch.cat([select.labels, report.labels]), torch.cat([select.indices, report.indices]),
                 classes=ds.classes)
    results = {}
    click.echo(f"Protocol: {PROTOCOL}. TTA: {tta}. Labels: {labels if ferplus else 'fer2013'}.\n")
    for name, split in (("PublicTest (select)", select), ("PrivateTest (report)", report),
                        ("Public+Private", both)):
        m = evaluate_model(model, split.images, split.labels, batch_size=batch_size, device=device,
                           crop_size=prep.get("crop_size"), tta=tta, classes=ds.classes)
        results[name] = m
        click.echo(per_class_table(m, name) + "\n")
    if json_out is not None:
        text = json.dumps({"protocol": PROTOCOL, "tta": tta, **results}, indent=2) + "\n"
        atomic_write_text(json_out, text)


def _votes_beside(data_path: Path) -> Path | None:
    """``ferplus_votes.csv.gz`` (or FERPlus's own ``fer2013new.csv``) in the data's folder."""
    folder = data_path if data_path.is_dir() else data_path.parent
    for name in ("ferplus_votes.csv.gz", "fer2013new.csv", "fer2013new.csv.gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _evaluate_ferplus(model: object, data_path: Path, votes_path: Path, tta: str, crop_size: int | None,
                      batch_size: int, device: object, json_out: Path | None,
                      classes: tuple[str, ...]) -> None:
    """The FER+ protocol: PublicTest (select) and PrivateTest (FER+ test) FER+ rows."""
    from fer_core.classes import FERPLUS_CLASSES
    from fer_core.data import load_dataset, read_ferplus_votes
    from fer_core.training import (
        FERPLUS8_PROTOCOL,
        FERPLUS_PROTOCOL,
        atomic_write_text,
        evaluate_ferplus,
        per_class_table,
    )

    ds = load_dataset(data_path)
    votes = read_ferplus_votes(votes_path)
    protocol = FERPLUS8_PROTOCOL if len(classes) == len(FERPLUS_CLASSES) else FERPLUS_PROTOCOL
    click.echo(f"{protocol}. TTA: {tta}. Votes: {votes_path}.\n")
    results = {}
    splits = (("FER+ PublicTest (select)", "select"), ("FER+ test = PrivateTest (report)", "report"))
    for name, role in splits:
        m = evaluate_ferplus(model, ds, votes, role, batch_size=batch_size, device=device,  # type: ignore[arg-type]
                             crop_size=crop_size, tta=tta)
        results[name] = m
        eight = m.get("seven_class") is not None
        for scored, what in ((m, ", 8 classes" if eight else ""),
                             (m.get("seven_class"), ", 7-class mapping")):
            if scored is None:
                continue
            click.echo(per_class_table(scored, f"{name}, FER+ protocol{what}") + "\n")
            click.echo(f"{scored['rows']}\nvote cross-entropy {scored['vote_cross_entropy']:.4f}, "
                       f"rater agreement {scored['rater_agreement']:.2%}\n")
    if json_out is not None:
        text = json.dumps({"protocol": protocol, "tta": tta, **results}, indent=2) + "\n"
        atomic_write_text(json_out, text)
