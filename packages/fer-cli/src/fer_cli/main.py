"""The ``fercli`` group: built-in commands plus those plugins add through ``register_commands``."""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import click

from fer_cli.commands import BUILTIN_COMMANDS
from fer_core import __version__, plugins
from fer_core.errors import FerError, FerWarning


@contextlib.contextmanager
def fer_warnings_as_lines() -> Iterator[None]:
    """Inside: the toolkit's own warnings print as one ``warning: ...`` line on stderr, others as usual."""
    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: Any = None, line: str | None = None) -> None:
            if issubclass(category, FerWarning):
                click.echo(f"warning: {message}", err=True)
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield


class FerGroup(click.Group):
    """A click group that turns the toolkit's own errors, and the operating system's (a full disk,
    a file that cannot be written), into one clear line, no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with fer_warnings_as_lines():
                return super().invoke(ctx)
        except FerError as exc:
            raise click.ClickException(str(exc)) from exc
        except ModuleNotFoundError as exc:
            if exc.name != "torch":
                raise
            raise click.ClickException("this needs PyTorch, which is not installed here (a torch-free "
                                       "install analyzes and predicts with ONNX models only): pip install "
                                       "torch, or pip install 'fer-models[torch]'") from exc
        except BrokenPipeError:
            raise
        except OSError as exc:  # the disk, not the code: a full disk, a read-only mount, a lost mount
            where = exc.filename if exc.filename is not None else "?"
            raise click.ClickException(f"{exc.strerror or type(exc).__name__} ({where})") from exc


@click.group(cls=FerGroup)
@click.version_option(__version__, prog_name="fercli")
def cli() -> None:
    """fercli: train, evaluate and analyze facial-emotion-recognition models."""


for command in BUILTIN_COMMANDS:
    cli.add_command(command)


def _add_plugin_commands() -> None:
    try:
        with fer_warnings_as_lines():
            plugins.get_plugins().register_commands(cli)
    except FerError as exc:  # a broken plugin must not take the built-in commands down
        click.echo(f"warning: plugin commands not loaded: {exc}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    _add_plugin_commands()
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="fercli")
