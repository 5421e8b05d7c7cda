"""Built-in commands, one module each."""

from fer_cli.commands.analyze import analyze
from fer_cli.commands.data import data
from fer_cli.commands.ensemble import ensemble
from fer_cli.commands.evaluate import evaluate
from fer_cli.commands.export import export
from fer_cli.commands.models import models
from fer_cli.commands.plugins import plugins_command
from fer_cli.commands.predict import predict
from fer_cli.commands.run import run
from fer_cli.commands.runs import runs
from fer_cli.commands.serve import serve
from fer_cli.commands.teacher import teacher
from fer_cli.commands.train import train

BUILTIN_COMMANDS = [analyze, data, ensemble, evaluate, export, models, plugins_command, predict, run, runs,
                    serve, teacher, train]

__all__ = ["BUILTIN_COMMANDS"]
