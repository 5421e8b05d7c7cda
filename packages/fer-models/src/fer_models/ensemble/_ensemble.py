"""An ensemble of trained classifiers, saved as ``ensemble.json`` that names its members."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from fer_core.classes import CLASSES
from fer_core.errors import ConfigError
from fer_core.training import atomic_write_text, sha256_file
from fer_models.ensemble._fusion import METHODS, RRF_K, fuse

if TYPE_CHECKING:
    from fer_models.inference._base import ClassifierBase

#: Loads one member: ``(ref, tta)`` -> a classifier (``fer_models.load`` passes itself, bound to the
#: device, backend and plugins). Injected, so that ensembles sit below the loading layer.
MemberLoader: TypeAlias = "Callable[[Path, str | None], ClassifierBase]"


def _weights_file(ref: Path) -> Path:
    """The file whose sha256 identifies a member (its weights)."""
    if ref.is_dir():
        return ref / "model.safetensors"
    return ref


def member_proba(member: ClassifierBase, faces: Any, **kwargs: Any) -> np.ndarray:
    """A member's probabilities on the 7 :data:`~fer_core.classes.CLASSES`, in their order.

    A member trained on more classes (FER+'s 8, with contempt) has its extra outputs dropped and
    the 7 renormalised, as the FER+ 7-class mapping does; a member lacking one of the 7 is refused.
    """
    columns = seven_columns(member)
    probs = member.predict_proba(faces, **kwargs)
    if columns == list(range(len(CLASSES))) and probs.shape[1] == len(CLASSES):
        return probs
    seven = probs[:, columns]
    return seven / np.clip(seven.sum(axis=1, keepdims=True), 1e-12, None)


def seven_columns(member: ClassifierBase) -> list[int]:
    """Where each of the 7 classes sits in ``member``'s outputs; a ConfigError if one is missing."""
    classes = tuple(member.classes)
    missing = [c for c in CLASSES if c not in classes]
    if missing:
        raise ConfigError(f"member {member.source}: its classes {list(classes)} lack {missing}")
    return [classes.index(c) for c in CLASSES]


class Ensemble:
    """Members' probabilities fused by ``method`` (``weighted`` or ``rrf``) with ``weights``.

    Takes faces like :class:`~fer_models.inference.Classifier` and returns fused scores
    ``[N, 7]`` (rows sum to 1) in :attr:`classes` order. Its cost is the sum of its members'.
    Members on FER+'s 8 classes take part on the 7 (:func:`member_proba`).
    """

    def __init__(self, members: Sequence[ClassifierBase], weights: Sequence[float] | None = None,
                 method: str = "weighted", k: float = RRF_K, refs: Sequence[str] | None = None,
                 card: dict[str, Any] | None = None) -> None:
        if not members:
            raise ConfigError("an ensemble needs at least one member")
        if method not in METHODS:
            raise ConfigError(f"ensemble method must be one of {list(METHODS)}, got {method!r}")
        for member in members:
            seven_columns(member)  # refuses a member without the 7, before any face is seen
        self.members = list(members)
        self.weights = tuple(float(w) for w in (weights or [1.0 / len(members)] * len(members)))
        if len(self.weights) != len(self.members):
            raise ConfigError(f"{len(self.members)} members but {len(self.weights)} weights")
        self.method = method
        self.k = float(k)
        self.refs = list(refs or [m.source for m in self.members])
        self._card = dict(card or {})

    classes = CLASSES

    @property
    def size(self) -> int:
        """The largest input side of the members (faces are resized per member anyway)."""
        return max(m.size for m in self.members)

    @property
    def card(self) -> dict[str, Any]:
        return dict(self._card)

    def member_probabilities(self, faces: Any, **kwargs: Any) -> list[np.ndarray]:
        """Each member's probabilities on the 7 classes (each with its own size, crop and TTA)."""
        return [member_proba(m, faces, **kwargs) for m in self.members]

    def predict_proba(self, faces: Any, **kwargs: Any) -> np.ndarray:
        return fuse(self.member_probabilities(faces, **kwargs), self.weights, self.method, self.k).astype(
            np.float32)

    __call__ = predict_proba

    def predict(self, faces: Any, **kwargs: Any) -> list[str]:
        return [self.classes[i] for i in self.predict_proba(faces, **kwargs).argmax(1)]

    def gmacs(self) -> float:
        """Multiply-accumulates per face (billions): the sum of the members', their TTA counted."""
        return float(sum(m.gmacs() for m in self.members))

    # -- persistence ---------------------------------------------------------------------------

    def to_dict(self, base: Path | None = None) -> dict[str, Any]:
        members = []
        for ref, member in zip(self.refs, self.members, strict=True):
            path = Path(ref).resolve()
            shown = str(path)
            if base is not None:
                with contextlib.suppress(ValueError):  # not below the file: keep the absolute path
                    shown = str(path.relative_to(base.resolve()))
            weights = _weights_file(path)
            members.append({"ref": shown, "name": member.name, "tta": member.tta,
                            "sha256": sha256_file(weights) if weights.is_file() else None})
        return {"method": self.method, "weights": list(self.weights), "k": self.k, "classes": list(CLASSES),
                "members": members, "card": self._card}

    def save(self, path: str | Path) -> Path:
        """Write ``ensemble.json`` (member paths relative to it when they are below it)."""
        path = Path(path)
        atomic_write_text(path, json.dumps(self.to_dict(path.parent), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path, load_member: MemberLoader) -> Ensemble:
        """Read ``ensemble.json``: each member loads through ``load_member(ref, tta)``; sha256 checked.

        ``fer_models.load(path)`` calls this with its own loader; call that to load an ensemble.
        """
        path = Path(path)
        try:
            spec = json.loads(path.read_text())
            entries = spec["members"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}: not an ensemble file ({type(exc).__name__}: {exc})") from None
        members, refs = [], []
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("ref"), str):
                raise ConfigError(f"{path}: member {i} has no 'ref' (the member's path)")
            ref = Path(entry["ref"])
            ref = ref if ref.is_absolute() else path.parent / ref
            weights = _weights_file(ref)
            expected = entry.get("sha256")
            actual = sha256_file(weights) if expected and weights.is_file() else expected
            if actual != expected:
                raise ConfigError(f"{path}: member {i} ({weights}) has changed since the ensemble was made "
                                  f"(sha256 differs: {actual} != recorded {expected})")
            members.append(load_member(ref, entry.get("tta")))
            refs.append(str(ref))
        return cls(members, spec.get("weights"), spec.get("method", "weighted"), spec.get("k", RRF_K), refs,
                   spec.get("card"))
