"""fer-cli: the ``fercli`` command. One module per command under :mod:`fer_cli.commands`."""

from fer_core import __version__

__all__ = ["__version__"]
