"""fer-models: the toolkit's built-in backbones, sampler strategies and losses.

They are registered through the ``fer`` entry-point group by :mod:`fer_models.plugin`, the same
way a third-party plugin registers its own.
"""

from fer_core import __version__

__all__ = ["__version__"]
