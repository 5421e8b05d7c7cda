"""Ensembles: weighted average and reciprocal rank fusion of trained classifiers, weights searched
on the selection split."""

from fer_models.ensemble._compare import Comparison, compare_ensembles
from fer_models.ensemble._ensemble import Ensemble
from fer_models.ensemble._fusion import (
    METHODS,
    RRF_K,
    fuse,
    reciprocal_rank_fusion,
    search_weights,
    weight_grid,
    weighted_average,
)

__all__ = [
    "METHODS",
    "RRF_K",
    "Comparison",
    "Ensemble",
    "compare_ensembles",
    "fuse",
    "reciprocal_rank_fusion",
    "search_weights",
    "weight_grid",
    "weighted_average",
]
