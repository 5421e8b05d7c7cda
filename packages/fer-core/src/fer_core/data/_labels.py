"""Label sources and split roles (a leaf: the config schema and the numpy readers import it, no torch)."""

from __future__ import annotations

from fer_core.classes import CLASSES, FERPLUS_CLASSES

#: ``[data] labels``: the dataset's own labels, or FER+ votes (majority class or distribution),
#: on the 7 classes (``ferplus-``) or on FER+'s 8 with contempt (``ferplus8-``).
LABEL_SOURCES = ("fer2013", "ferplus-majority", "ferplus-distribution",
                 "ferplus8-majority", "ferplus8-distribution")

#: the label sources that carry a vote distribution (``soft_labels``) for every row
SOFT_LABEL_SOURCES = ("ferplus-distribution", "ferplus8-distribution")



def label_classes(labels: str) -> tuple[str, ...]:
    """The class set a label source gives: FER+'s 8 for ``ferplus8-``, else the canonical 7."""
    return FERPLUS_CLASSES if labels.startswith("ferplus8-") else CLASSES


#: The roles a split plays under the toolkit's protocol: fit on ``train``, choose (early
#: stopping, best checkpoint, ensemble weights) on ``select``, report once on ``report``.
ROLES = ("train", "select", "report")

#: FER2013 ``Usage`` values and the roles they play.
FER2013_ROLES = {"Training": "train", "PublicTest": "select", "PrivateTest": "report"}



def role_of(roles: dict[str, str], split_name: str) -> str | None:
    """The role (``train``/``select``/``report``) that ``split_name`` plays in ``roles``, or ``None``."""
    return next((role for role, name in roles.items() if name == split_name), None)


__all__ = ["FER2013_ROLES", "LABEL_SOURCES", "ROLES", "SOFT_LABEL_SOURCES", "label_classes", "role_of"]
