"""The data layer: FER2013 (CSV and folder forms), FER+ votes, splits with roles, reports.

>>> from fer_core.data import load_dataset
>>> ds = load_dataset("../shared/data/fer2013/fer2013.csv.gz")   # doctest: +SKIP
>>> ds.split("select").name                                        # doctest: +SKIP
'PublicTest'
"""

from fer_core.data._cache import cache_dir
from fer_core.data._dataset import FER2013_ROLES, ROLES, FerDataset, Split
from fer_core.data._fer2013_csv import read_fer2013_csv
from fer_core.data._ferplus import FerPlusVotes, apply_ferplus, read_ferplus_votes
from fer_core.data._folder import IMAGE_SUFFIXES, MAX_PIXELS, load_image, read_image_folder
from fer_core.data._load import LABEL_SOURCES, load_dataset
from fer_core.data._report import DataReport, data_report, format_report

__all__ = [
    "FER2013_ROLES",
    "IMAGE_SUFFIXES",
    "LABEL_SOURCES",
    "MAX_PIXELS",
    "ROLES",
    "DataReport",
    "FerDataset",
    "FerPlusVotes",
    "Split",
    "apply_ferplus",
    "cache_dir",
    "data_report",
    "format_report",
    "load_dataset",
    "load_image",
    "read_fer2013_csv",
    "read_ferplus_votes",
    "read_image_folder",
]
