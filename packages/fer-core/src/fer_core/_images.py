"""The still-image file extensions every command reads as pictures (one list for all of them).

A ``.gif`` is not among them: ``fercli analyze`` reads it as a video, frame by frame, so
``fercli predict`` does not take it as one face either. The data layer's folder form also
reads ``.gif`` faces (:data:`fer_core.data.IMAGE_SUFFIXES`).
"""

from __future__ import annotations

#: Lower-case, with the dot, sorted.
IMAGE_EXTENSIONS: tuple[str, ...] = (".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")

__all__ = ["IMAGE_EXTENSIONS"]
