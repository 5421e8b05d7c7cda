"""``fercli plugins``: every plugin, its distribution, version, hooks and registered names."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from fer_core import plugins as fer_plugins


@click.command(name="plugins")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def plugins_command(as_json: bool) -> None:
    """List installed plugins (set FER_LOAD_PLUGINS=a,b to limit which load).

    A plugin that failed to load is listed as FAILED with the reason; the others work.
    """
    infos = fer_plugins.get_plugins().info()
    if as_json:
        click.echo(json.dumps([asdict(i) for i in infos], indent=2))
        return
    if not infos:
        click.echo("no plugins loaded")
    for info in infos:
        click.echo(f"{info.name}  ({info.distribution} {info.version}, {info.module})")
        if info.error:
            click.echo(f"  FAILED, skipped: {info.error}")
        for problem in info.problems:
            click.echo(f"  dropped: {problem}")
        click.echo(f"  hooks: {', '.join(info.hooks) or '-'}")
        for kind, names in sorted(info.registered.items()):
            click.echo(f"  {kind}: {', '.join(names)}")
