"""What each model architecture reads and its hyper-parameters, without TensorFlow.

A model block of params.yaml names its ``architecture`` and states only what
differs from that architecture's defaults: its block class in textclf.core.schema
holds the keys, their checks and defaults. The pipeline layout (textclf.pipeline.layout)
reads this module to know which feature kind a model needs and whether it loads
a module; textclf.models.zoo holds the builders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textclf.core import schema


@dataclass(frozen=True)
class Architecture:
    block: type[schema.Block]  # its params block: keys, checks and defaults

    @property
    def features(self) -> str | None:
        """The feature kind it reads ("sequence", "ngrams", "text"); None: its members' exports (an ensemble)."""
        return self.block.reads

    @property
    def reads_module(self) -> bool:
        """It loads a TF Hub module (``handle``), which its stages then depend on."""
        return "handle" in self.block.model_fields

    @property
    def own_defaults(self) -> dict[str, Any]:
        """The defaults of its own hyper-parameters, without the training keys every trained model shares."""
        shared = schema.TrainedModel.model_fields if self.features else {}
        return {key: value for key, value in self.block.defaults().items() if key not in shared}


ARCHITECTURES: dict[str, Architecture] = {name: Architecture(block) for name, block in schema.MODEL_ARCHITECTURES.items()}
ENSEMBLE = "ensemble"
# What a dataset that names no model gets: the strong linear baseline and the bag of embeddings.
DEFAULT_ARCHITECTURES = ("ngram", "bow_mean")


def defaults_of(architecture: str) -> dict[str, Any]:
    """Every hyper-parameter's default for a block of ``architecture`` (dataset, features and teacher aside)."""
    defaults = ARCHITECTURES[architecture].block.defaults()
    return {key: value for key, value in defaults.items() if key not in schema.STRUCTURAL_KEYS}
