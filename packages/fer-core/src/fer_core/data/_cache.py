"""A decode cache: the second load of a dataset reads one uncompressed ``.npz`` instead of parsing.

The key is the source's absolute path, size and modification time plus the loader's options,
so an edited file is decoded again. The cache folder is ``$FER_CACHE_DIR`` or
``~/.cache/fer``; writes are atomic, so a crash never leaves a half-written entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fer_core.data._arrays import DatasetArrays

FORMAT_VERSION = 1
CACHE_ENV = "FER_CACHE_DIR"


def cache_dir() -> Path:
    """Where decoded datasets are cached."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "fer")


def _fingerprint(path: Path, options: dict[str, Any]) -> str:
    path = path.resolve()
    if path.is_dir():
        # A folder's fingerprint covers every file's name, size and mtime.
        entries = sorted(
            (str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns)
            for p in path.rglob("*") if p.is_file()
        )
    else:
        st = path.stat()
        entries = [(str(path), st.st_size, st.st_mtime_ns)]
    blob = json.dumps([FORMAT_VERSION, str(path), entries, options], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _save(ds: DatasetArrays, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    meta = {"split_names": ds.split_names, "roles": ds.roles, "source": ds.source}
    arrays: dict[str, Any] = {  # (np.savez types its **kwds so that a plain dict of arrays clashes)
        "images": ds.images,
        "labels": ds.labels,
        "split_ids": ds.split_ids,
        "meta": np.array(json.dumps(meta)),
    }
    if ds.locations is not None:
        arrays["locations"] = np.array(ds.locations)
    if ds.soft_labels is not None:
        arrays["soft_labels"] = ds.soft_labels
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load(target: Path) -> DatasetArrays | None:
    try:
        with np.load(target, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            images, labels, split_ids = z["images"], z["labels"], z["split_ids"]
            if (images.dtype != np.uint8 or images.ndim != 4
                    or not len(images) == len(labels) == len(split_ids)):
                return None  # (what FerDataset would refuse) decoded again
            return DatasetArrays(
                images=images,
                labels=labels,
                split_ids=split_ids,
                split_names=tuple(meta["split_names"]),
                roles=dict(meta["roles"]),
                source=meta["source"],
                locations=z["locations"].tolist() if "locations" in z.files else None,
                soft_labels=z["soft_labels"] if "soft_labels" in z.files else None,
            )
    except Exception:  # EOFError, BadZipFile, NotImplementedError, TokenError, ... all mean damaged
        return None  # a damaged entry is decoded again and overwritten


def cached(
    path: Path, options: dict[str, Any], decode: Callable[[], DatasetArrays], *, enabled: bool = True
) -> DatasetArrays:
    """Return the cached decode of ``path`` with ``options``, decoding (and caching) on a miss."""
    if not enabled:
        return decode()
    target = cache_dir() / f"{_fingerprint(path, options)}.npz"
    if target.is_file():
        hit = _load(target)
        if hit is not None:
            hit.source = str(path)  # the same bytes may be reached by another path
            return hit
    ds = decode()
    with contextlib.suppress(OSError):  # a read-only or full cache folder must not stop the work
        _save(ds, target)
    return ds
