"""fer-core: hook specs, plugin manager, data layer and trainer of the ``fer`` toolkit.

Importing it is light (no torch): what needs torch (:class:`EpochContext`,
:class:`SamplerStrategy`) is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fer_core._images import IMAGE_EXTENSIONS, MAX_PIXELS, ImageWarning, open_image, read_rgb
from fer_core._lazy import LazyFactory, lazy, lazy_exports
from fer_core._registrar import Register
from fer_core._version import __version__
from fer_core.classes import CLASSES, FERPLUS_CLASSES, NUM_CLASSES, class_index
from fer_core.errors import ConfigError, DataError, FerError, PluginError, PluginWarning
from fer_core.hookspecs import hookimpl

if TYPE_CHECKING:  # what __getattr__ hands out, as type checkers and IDEs should see it
    from fer_core.sampling import EpochContext, SamplerStrategy

_LAZY = {"EpochContext": "fer_core.sampling", "SamplerStrategy": "fer_core.sampling"}

__all__ = [
    "CLASSES",
    "FERPLUS_CLASSES",
    "IMAGE_EXTENSIONS",
    "MAX_PIXELS",
    "NUM_CLASSES",
    "ConfigError",
    "DataError",
    "EpochContext",
    "FerError",
    "ImageWarning",
    "LazyFactory",
    "PluginError",
    "PluginWarning",
    "Register",
    "SamplerStrategy",
    "__version__",
    "class_index",
    "hookimpl",
    "lazy",
    "open_image",
    "read_rgb",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)
