"""Built-in sampler strategies, by registered name."""

from fer_models.strategies.adaptive import Adaptive
from fer_models.strategies.static import Balanced, ClassWeights, Uniform

STRATEGIES = {"uniform": Uniform, "class_weights": ClassWeights, "balanced": Balanced, "adaptive": Adaptive}

__all__ = ["STRATEGIES", "Adaptive", "Balanced", "ClassWeights", "Uniform"]
