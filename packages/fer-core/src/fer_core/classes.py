"""The toolkit's one canonical class order, and the mappings from each data source's order.

Every tensor of labels or probabilities in the toolkit uses :data:`CLASSES` order, which is the
original FER2013 CSV order (``emotion`` column: 0=Angry ... 6=Neutral). Other sources map onto it
by *name*, never by position:

>>> from fer_core.classes import CLASSES, class_index
>>> CLASSES[3], class_index("Happiness"), class_index("neutral")
('happy', 3, 6)
"""

from __future__ import annotations

from collections.abc import Sequence

CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NUM_CLASSES = len(CLASSES)

#: FER+'s eight classes (its ``contempt`` votes kept): the seven of :data:`CLASSES`, in that order,
#: then ``contempt``, so that an 8-class model's first seven outputs are the 7-class mapping's.
FERPLUS_CLASSES: tuple[str, ...] = (*CLASSES, "contempt")

# Spellings used by the common sources: Kaggle folders, FER+ vote columns, Hugging Face id2label.
_ALIASES = {
    "anger": "angry",
    "disgusted": "disgust",
    "fearful": "fear",
    "scared": "fear",
    "happiness": "happy",
    "sadness": "sad",
    "surprised": "surprise",
    "calm": "neutral",
}


def class_index(name: str, classes: Sequence[str] | None = None) -> int:
    """Index in ``classes`` (default :data:`CLASSES`) of a class name, case-insensitive, with common
    aliases ("happiness", "scared", ...).

    Raises ``KeyError`` naming the allowed names when ``name`` is not one of them.
    """
    names = CLASSES if classes is None else tuple(classes)
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    try:
        return names.index(key)
    except ValueError:
        raise KeyError(
            f"unknown emotion class {name!r}; expected one of {', '.join(names)}"
        ) from None
