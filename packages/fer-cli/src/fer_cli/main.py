"""The ``fercli`` group: built-in commands plus those plugins add through ``register_commands``."""

from __future__ import annotations

import sys
from typing import Any

import click

from fer_cli.commands import BUILTIN_COMMANDS
from fer_core import __version__, plugins
from fer_core.errors import FerError


class FerGroup(click.Group):
    """A click group that turns the toolkit's own errors into one clear line, no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FerError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=FerGroup)
@click.version_option(__version__, prog_name="fercli")
def cli() -> None:
    """fercli: train, evaluate and analyze facial-emotion-recognition models."""


for command in BUILTIN_COMMANDS:
    cli.add_command(command)


def _add_plugin_commands() -> None:
    try:
        plugins.get_plugins().register_commands(cli)
    except FerError as exc:  # a broken plugin must not take the built-in commands down
        click.echo(f"warning: plugin commands not loaded: {exc}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    _add_plugin_commands()
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="fercli")
