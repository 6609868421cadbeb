"""Which models params.yaml declares, by block and dataset, read without importing TensorFlow.

Leaderboards, the CI fan-out and the benchmarks list models by name; only the
stages that build or load one need textclf.models and its TensorFlow import.
"""

from __future__ import annotations

# Blocks of params.yaml that hold models: hub models have their own, because their
# stages also depend on the module they load, and self-trained models theirs, because
# theirs depend on their teacher's export and the unlabelled texts (textclf.self_training).
MODEL_BLOCKS = ("models", "hub_models", "self_trained")
# Ensembles (textclf.ensembles) are ranked and served like models, but trained from their members' exports.
ENSEMBLE_BLOCK = "ensembles"


def model_names(params: dict, dataset: str | None = None) -> list[str]:
    """Every model of the zoo (of one dataset, if given), hub and self-trained models included, in params.yaml order."""
    return [name for group in MODEL_BLOCKS if isinstance(params.get(group), dict) for name, block in params[group].items()
            if dataset is None or (isinstance(block, dict) and block.get("dataset") == dataset)]


def ranked_model_names(params: dict, dataset: str | None = None) -> list[str]:
    """What a leaderboard ranks: every model of the zoo (see ``model_names``), then every ensemble."""
    ensembles = params.get(ENSEMBLE_BLOCK) if isinstance(params.get(ENSEMBLE_BLOCK), dict) else {}
    return model_names(params, dataset) + [name for name, block in ensembles.items()
                                           if dataset is None or (isinstance(block, dict) and block.get("dataset") == dataset)]
