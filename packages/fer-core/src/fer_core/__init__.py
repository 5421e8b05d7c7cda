"""fer-core: hook specs, plugin manager, data layer and trainer of the ``fer`` toolkit."""

from fer_core._images import IMAGE_EXTENSIONS, MAX_PIXELS, ImageWarning, open_image, read_rgb
from fer_core._registrar import Register
from fer_core._version import __version__
from fer_core.classes import CLASSES, NUM_CLASSES, class_index
from fer_core.errors import ConfigError, DataError, FerError, PluginError, PluginWarning
from fer_core.hookspecs import hookimpl
from fer_core.sampling import EpochContext, SamplerStrategy

__all__ = [
    "CLASSES",
    "IMAGE_EXTENSIONS",
    "MAX_PIXELS",
    "NUM_CLASSES",
    "ConfigError",
    "DataError",
    "EpochContext",
    "FerError",
    "ImageWarning",
    "PluginError",
    "PluginWarning",
    "Register",
    "SamplerStrategy",
    "__version__",
    "class_index",
    "hookimpl",
    "open_image",
    "read_rgb",
]
