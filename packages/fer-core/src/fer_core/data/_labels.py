"""Label sources and split roles (a leaf: the config schema and the numpy readers import it, no torch)."""

from __future__ import annotations

#: ``[data] labels``: the dataset's own labels, or FER+ votes (majority class or distribution).
LABEL_SOURCES = ("fer2013", "ferplus-majority", "ferplus-distribution")

#: The roles a split plays under the toolkit's protocol: fit on ``train``, choose (early
#: stopping, best checkpoint, ensemble weights) on ``select``, report once on ``report``.
ROLES = ("train", "select", "report")

#: FER2013 ``Usage`` values and the roles they play.
FER2013_ROLES = {"Training": "train", "PublicTest": "select", "PrivateTest": "report"}



def role_of(roles: dict[str, str], split_name: str) -> str | None:
    """The role (``train``/``select``/``report``) that ``split_name`` plays in ``roles``, or ``None``."""
    return next((role for role, name in roles.items() if name == split_name), None)


__all__ = ["FER2013_ROLES", "LABEL_SOURCES", "ROLES", "role_of"]
