"""Built-in sampler strategies, by registered name."""

from fer_models.strategies.static import Balanced, ClassWeights, Uniform

STRATEGIES = {"uniform": Uniform, "class_weights": ClassWeights, "balanced": Balanced}

__all__ = ["STRATEGIES", "Balanced", "ClassWeights", "Uniform"]
