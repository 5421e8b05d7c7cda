"""``fercli runs list`` and ``fercli runs compare``: tables over run folders."""

from __future__ import annotations

import json
from pathlib import Path

import click

from fer_core.classes import CLASSES


def _fmt(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else ("-" if value is None else str(value))


def _classes(reports: list[dict]) -> list[str]:
    """The 7 classes, then any other a report names (FER+'s contempt), in order of appearance."""
    names = list(CLASSES)
    for rep in reports:
        names += [c for c in ((rep.get("report") or {}).get("per_class") or {}) if c not in names]
    return names


@click.group()
def runs() -> None:
    """List and compare run folders."""


@runs.command(name="list")
@click.option("--root", type=click.Path(path_type=Path), default=Path("runs"), show_default=True)
def list_runs(root: Path) -> None:
    """Every run under ROOT: status, best epoch and accuracies (select / report / Public+Private)."""
    from fer_core.training import find_runs

    found = find_runs(root) if root.is_dir() else []
    if not found:
        click.echo(f"no runs under {root}")
        return
    click.echo("| run | stage | status | best epoch | PublicTest | PrivateTest | Public+Private |")
    click.echo("|---|---|---|---|---|---|---|")
    for run in found:
        i = run.info()
        rel = run.path.relative_to(root)
        click.echo(f"| {rel} | {i.get('stage', '-')} | {i.get('status')} | {_fmt(i.get('best_epoch'))} "
                   f"| {_fmt(i.get('select_accuracy'))} | {_fmt(i.get('report_accuracy'))} "
                   f"| {_fmt(i.get('combined_accuracy'))} |")


@runs.command()
@click.argument("refs", nargs=-1, required=True)
@click.option("--root", type=click.Path(path_type=Path), default=Path("runs"), show_default=True)
def compare(refs: tuple[str, ...], root: Path) -> None:
    """Side-by-side PrivateTest metrics of runs (paths or names under ROOT)."""
    from fer_core.training import resolve_run

    runs_ = [resolve_run(ref, root) for ref in refs]
    reports = []
    for run in runs_:
        path = run.path / "report.json"
        reports.append(json.loads(path.read_text()) if path.exists() else {})
    head = "| metric | " + " | ".join(r.path.name for r in runs_) + " |"
    click.echo("Protocol: best epoch chosen on PublicTest; figures on PrivateTest (report).\n")
    click.echo(head)
    click.echo("|---|" + "---|" * len(runs_))

    def row(label: str, get) -> None:
        click.echo(f"| {label} | " + " | ".join(_fmt(get(rep)) for rep in reports) + " |")

    row("accuracy", lambda r: (r.get("report") or {}).get("accuracy"))
    row("macro-F1", lambda r: (r.get("report") or {}).get("macro_f1"))
    row("ECE", lambda r: (r.get("report") or {}).get("ece"))
    for name in _classes(reports):
        row(f"F1 {name}",
            lambda r, c=name: ((r.get("report") or {}).get("per_class") or {}).get(c, {}).get("f1"))
    row("Public+Private accuracy", lambda r: (r.get("combined") or {}).get("accuracy"))
    row("best epoch", lambda r: r.get("best_epoch"))
    row("steps", lambda r: r.get("steps"))
    parents = [((run.info().get("parent") or {}).get("sha256") or "-")[:12] for run in runs_]
    click.echo("| parent checkpoint | " + " | ".join(parents) + " |")
