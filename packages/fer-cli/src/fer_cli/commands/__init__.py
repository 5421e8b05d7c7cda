"""Built-in commands, one module each."""

from fer_cli.commands.data import data
from fer_cli.commands.plugins import plugins_command
from fer_cli.commands.run import run

BUILTIN_COMMANDS = [data, plugins_command, run]

__all__ = ["BUILTIN_COMMANDS"]
