"""Built-in commands, one module each."""

from fer_cli.commands.data import data
from fer_cli.commands.evaluate import evaluate
from fer_cli.commands.models import models
from fer_cli.commands.plugins import plugins_command
from fer_cli.commands.run import run
from fer_cli.commands.runs import runs
from fer_cli.commands.train import train

BUILTIN_COMMANDS = [data, evaluate, models, plugins_command, run, runs, train]

__all__ = ["BUILTIN_COMMANDS"]
