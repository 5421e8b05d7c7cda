"""The image file extensions every command reads (one list for all of them).

``fercli predict``, ``fercli analyze`` (files, folders and globs of frames) and the data layer's
folder form take the same ones. A GIF in a folder or given to ``predict`` is one image, its first
frame; given alone to ``fercli analyze`` an animated GIF is read like a video, every frame.
"""

from __future__ import annotations

#: Lower-case, with the dot, sorted.
IMAGE_EXTENSIONS: tuple[str, ...] = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")

__all__ = ["IMAGE_EXTENSIONS"]
