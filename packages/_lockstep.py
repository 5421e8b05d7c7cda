"""Hatch metadata hook shared by fer-models, fer-temporal and fer-cli: one version, siblings pinned to it.

The toolkit's version has one source, ``packages/fer-core/src/fer_core/_version.py``. Each sibling's
``hatch_build.py`` loads this hook, which sets the distribution's version to it and its dependencies to
``<sibling>==<version>`` for every name in ``siblings`` plus the third-party ``dependencies``, both read
from the distribution's ``[tool.hatch.metadata.hooks.custom]`` table. Built from an sdist (where the
fer-core tree is absent) the version comes from the sdist's own PKG-INFO.
"""

from __future__ import annotations

import re
from email.parser import Parser
from pathlib import Path
from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface

VERSION_FILE = Path("fer-core", "src", "fer_core", "_version.py")


def toolkit_version(project_root: Path) -> str:
    """The version in fer-core's ``_version.py`` beside ``project_root``, else the sdist's PKG-INFO."""
    source = project_root.parent / VERSION_FILE
    if source.is_file():
        found = re.search(r'^__version__ = "([^"]+)"$', source.read_text(encoding="utf-8"), re.M)
        if found is None:
            raise ValueError(f"{source}: no line __version__ = \"X.Y.Z\"")
        return found.group(1)
    pkg_info = project_root / "PKG-INFO"
    if pkg_info.is_file():
        return Parser().parsestr(pkg_info.read_text(encoding="utf-8"))["Version"]
    raise FileNotFoundError(f"neither {source} nor {pkg_info} exists: cannot tell the toolkit's version")


class LockstepHook(MetadataHookInterface):
    """Version from fer-core; siblings pinned ``==`` that version."""

    def update(self, metadata: dict[str, Any]) -> None:
        version = toolkit_version(Path(self.root))
        metadata["version"] = version
        siblings = [f"{name}=={version}" for name in self.config.get("siblings", [])]
        metadata["dependencies"] = siblings + list(self.config.get("dependencies", []))
