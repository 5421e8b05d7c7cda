"""fer-temporal: emotion over time in videos and frame streams (the temporal issue fills it in)."""

from fer_core import __version__

__all__ = ["__version__"]
