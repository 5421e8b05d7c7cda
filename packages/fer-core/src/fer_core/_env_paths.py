"""``${NAME}`` and ``${NAME:-default}`` in config paths, so one config works on every machine.

>>> import os
>>> os.environ.pop("FER_DOC_DIR", None) and None
>>> expand_path("${FER_DOC_DIR:-../shared}/data/x.csv")
'../shared/data/x.csv'
>>> os.environ["FER_DOC_DIR"] = "/srv/fer"
>>> expand_path("${FER_DOC_DIR:-../shared}/data/x.csv")
'/srv/fer/data/x.csv'
>>> del os.environ["FER_DOC_DIR"]

A value taken from the environment is made absolute against the working directory (where the user
set it); a default stays as written, relative to the config file like any other path in it.
"""

from __future__ import annotations

import os
import re

from fer_core.errors import ConfigError

_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def expand_path(text: str, *, key: str = "path") -> str:
    """``text`` with each ``${NAME}`` / ``${NAME:-default}`` replaced; an unset name without a
    default is a :class:`ConfigError` naming ``key``."""

    def replace(match: re.Match[str]) -> str:
        name, default = match.group("name"), match.group("default")
        value = os.environ.get(name)
        if value:
            return os.path.abspath(value)
        if default is None:
            raise ConfigError(f"{key} = {text!r}: environment variable {name} is not set "
                              f"(set it, or write ${{{name}:-default}})")
        return default

    return _VAR.sub(replace, text)
