"""Hatch loads this file for the metadata hook; the hook itself is shared: packages/_lockstep.py.

In a checkout it sits one folder up; in an sdist, hatch's force-include put a copy beside this file.
"""

import sys
from pathlib import Path

_here = Path(__file__).resolve().parent
sys.path.insert(0, str(_here if (_here / "_lockstep.py").is_file() else _here.parent))

from _lockstep import LockstepHook  # noqa: E402

__all__ = ["LockstepHook"]
