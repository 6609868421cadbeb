"""What each model architecture reads and its hyper-parameters: schema and defaults, without TensorFlow.

A model block of params.yaml names its ``architecture`` and states only what
differs from the defaults here. The pipeline layout (textclf.layout) reads this
module to know which feature kind a model needs and whether it loads a module;
textclf.models holds the builders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textclf import params as p

# Keys every trained model has, whatever its architecture, and their defaults.
TRAINING_SCHEMA: dict[str, p.Check] = {
    "seed": p.non_negative_int,
    "batch_size": p.positive_int,
    "epochs": p.positive_int,
    "learning_rate": p.positive_float,
    "patience": p.non_negative_int,
}
# Early stopping on the validation loss keeps the best epoch: `epochs` is a cap, `patience` ends the run sooner.
TRAINING_DEFAULTS: dict[str, Any] = {"seed": 42, "batch_size": 64, "epochs": 30, "learning_rate": 0.001, "patience": 2}


@dataclass(frozen=True)
class Architecture:
    features: str | None  # the feature kind it reads ("sequence", "ngrams", "text"); None: its members' exports
    schema: dict[str, p.Check]
    defaults: dict[str, Any] = field(default_factory=dict)
    # Keys without a default: the block must state them.
    required: tuple[str, ...] = ()

    @property
    def reads_module(self) -> bool:
        """It loads a TF Hub module (``handle``), which its stages then depend on."""
        return "handle" in self.schema


_BILSTM_SCHEMA = {
    "embedding_dim": p.positive_int,
    "lstm_units": p.list_of(p.positive_int),
    "hidden_units": p.positive_int,
    "dropout": p.probability,
    "bucket_by_length": p.boolean,
}

ARCHITECTURES: dict[str, Architecture] = {
    # Seed 004's baseline: the mean of word embeddings under a small MLP.
    "bow_mean": Architecture(
        features="sequence",
        schema={"embedding_dim": p.positive_int, "hidden_units": p.positive_int, "mask_padding": p.boolean},
        defaults={"embedding_dim": 16, "hidden_units": 16, "mask_padding": True},
    ),
    # Seed 003: one or more bidirectional LSTMs.
    "bilstm": Architecture(
        features="sequence", schema=_BILSTM_SCHEMA,
        defaults={"embedding_dim": 64, "lstm_units": [64], "hidden_units": 64, "dropout": 0.0, "bucket_by_length": True},
    ),
    # A linear model on n-gram bags, naive-Bayes weighted (NBSVM) or plain.
    "ngram": Architecture(
        features="ngrams",
        schema={"weighting": p.one_of("naive_bayes", "none"), "l2": p.non_negative_float},
        defaults={"weighting": "naive_bayes", "l2": 0.0},
    ),
    # A 1-D convolution over word vectors, started from a pretrained module's (``handle``; null: random).
    "cnn": Architecture(
        features="sequence",
        schema={"handle": p.optional(p.text), "embedding_dim": p.positive_int, "filters": p.positive_int,
                "kernel_size": p.positive_int, "dropout": p.probability, "bucket_by_length": p.boolean},
        defaults={"handle": None, "embedding_dim": 128, "filters": 256, "kernel_size": 5, "dropout": 0.25,
                  "bucket_by_length": True},
    ),
    # Seeds 001/002: a TF Hub text-embedding module under Dense layers. `handle` has no default:
    # a local module (the pretrain stage's) or any tfhub.dev / Kaggle handle.
    "hub_dnn": Architecture(
        features="text",
        schema={"handle": p.text, "trainable": p.boolean, "hidden_units": p.list_of(p.positive_int)},
        defaults={"trainable": True, "hidden_units": [16]},
        required=("handle",),
    ),
    # One Dense layer over its members' logits, fitted on the validation split (textclf.ensembles).
    "ensemble": Architecture(
        features=None,
        schema={"members": p.list_of(p.text), "seed": p.non_negative_int, "epochs": p.positive_int,
                "learning_rate": p.positive_float, "l2": p.non_negative_float},
        defaults={"seed": 42, "epochs": 500, "learning_rate": 0.05, "l2": 0.0001},
        required=("members",),
    ),
}
ENSEMBLE = "ensemble"
# What a dataset that names no model gets: the strong linear baseline and the bag of embeddings.
DEFAULT_ARCHITECTURES = ("ngram", "bow_mean")


def schema_of(architecture: str) -> dict[str, p.Check]:
    """Every key a block of ``architecture`` may hold (besides dataset, architecture, features and teacher)."""
    spec = ARCHITECTURES[architecture]
    return spec.schema if spec.features is None else TRAINING_SCHEMA | spec.schema


def defaults_of(architecture: str) -> dict[str, Any]:
    spec = ARCHITECTURES[architecture]
    return dict(spec.defaults) if spec.features is None else TRAINING_DEFAULTS | spec.defaults
