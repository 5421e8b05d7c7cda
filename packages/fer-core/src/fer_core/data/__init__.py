"""The data layer: FER2013 (CSV and folder forms), FER+ votes, splits with roles, reports.

Importing the package is light: each name below imports its module (and torch) on first use.

>>> from fer_core.data import load_dataset
>>> ds = load_dataset("../shared/data/fer2013/fer2013.csv.gz")   # doctest: +SKIP
>>> ds.split("select").name                                        # doctest: +SKIP
'PublicTest'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fer_core._lazy import lazy_exports

if TYPE_CHECKING:  # what __getattr__ hands out, as type checkers and IDEs should see it
    from fer_core.data._arrays import DatasetArrays
    from fer_core.data._cache import cache_dir
    from fer_core.data._dataset import FerDataset, Split
    from fer_core.data._fer2013_csv import read_fer2013_arrays, read_fer2013_csv
    from fer_core.data._ferplus import FerPlusVotes, apply_ferplus, read_ferplus_votes
    from fer_core.data._folder import (
        IMAGE_SUFFIXES,
        MAX_PIXELS,
        load_image,
        read_image_folder,
        read_image_folder_arrays,
    )
    from fer_core.data._labels import (
        FER2013_ROLES,
        LABEL_SOURCES,
        ROLES,
        SOFT_LABEL_SOURCES,
        label_classes,
    )
    from fer_core.data._load import load_arrays, load_dataset
    from fer_core.data._report import DataReport, data_report, format_report
    from fer_core.data._teacher import TeacherTargets, apply_teacher, read_teacher, soften

_LAZY = {
    "DatasetArrays": "fer_core.data._arrays",
    "cache_dir": "fer_core.data._cache",
    "FER2013_ROLES": "fer_core.data._labels",
    "ROLES": "fer_core.data._labels",
    "FerDataset": "fer_core.data._dataset",
    "Split": "fer_core.data._dataset",
    "read_fer2013_arrays": "fer_core.data._fer2013_csv",
    "read_fer2013_csv": "fer_core.data._fer2013_csv",
    "FerPlusVotes": "fer_core.data._ferplus",
    "apply_ferplus": "fer_core.data._ferplus",
    "read_ferplus_votes": "fer_core.data._ferplus",
    "IMAGE_SUFFIXES": "fer_core.data._folder",
    "MAX_PIXELS": "fer_core.data._folder",
    "load_image": "fer_core.data._folder",
    "read_image_folder": "fer_core.data._folder",
    "read_image_folder_arrays": "fer_core.data._folder",
    "LABEL_SOURCES": "fer_core.data._labels",
    "SOFT_LABEL_SOURCES": "fer_core.data._labels",
    "label_classes": "fer_core.data._labels",
    "load_arrays": "fer_core.data._load",
    "load_dataset": "fer_core.data._load",
    "DataReport": "fer_core.data._report",
    "data_report": "fer_core.data._report",
    "format_report": "fer_core.data._report",
    "TeacherTargets": "fer_core.data._teacher",
    "apply_teacher": "fer_core.data._teacher",
    "read_teacher": "fer_core.data._teacher",
    "soften": "fer_core.data._teacher",
}

__all__ = [
    "FER2013_ROLES",
    "IMAGE_SUFFIXES",
    "LABEL_SOURCES",
    "MAX_PIXELS",
    "ROLES",
    "SOFT_LABEL_SOURCES",
    "DataReport",
    "DatasetArrays",
    "FerDataset",
    "FerPlusVotes",
    "Split",
    "TeacherTargets",
    "apply_ferplus",
    "apply_teacher",
    "cache_dir",
    "data_report",
    "format_report",
    "label_classes",
    "load_arrays",
    "load_dataset",
    "load_image",
    "read_fer2013_arrays",
    "read_fer2013_csv",
    "read_ferplus_votes",
    "read_image_folder",
    "read_image_folder_arrays",
    "read_teacher",
    "soften",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)
