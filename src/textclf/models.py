"""Model zoo: each model is a name, a builder and the schema of its params block.

Every builder takes integer token ids ``[batch, sequence]`` and returns one
logit per review; the sigmoid is applied by the loss and at prediction time,
which is numerically safer than a sigmoid output layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from textclf import params as p
from textclf.errors import TextclfError
from textclf.tf_runtime import keras


@dataclass(frozen=True)
class ModelSpec:
    build: Callable[[dict, int], keras.Model]
    schema: dict[str, p.Check]


def build_bow_mean(hparams: dict, vocab_size: int) -> keras.Model:
    """Seed 004's baseline: the mean of word embeddings under a small MLP."""
    return keras.Sequential(
        [
            keras.Input(shape=(None,), dtype="int32", name="token_ids"),
            # Masking makes the mean ignore padding, so long and short reviews
            # are not pulled towards the padding vector.
            keras.layers.Embedding(vocab_size, hparams["embedding_dim"], mask_zero=hparams["mask_padding"]),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(hparams["hidden_units"], activation="relu"),
            keras.layers.Dense(1, name="logit"),
        ],
        name="bow_mean",
    )


MODELS: dict[str, ModelSpec] = {
    "bow_mean": ModelSpec(
        build=build_bow_mean,
        schema={"embedding_dim": p.positive_int, "hidden_units": p.positive_int, "mask_padding": p.boolean},
    ),
}


def model_spec(name: str) -> ModelSpec:
    if name not in MODELS:
        raise TextclfError(f"unknown model '{name}' (known: {', '.join(sorted(MODELS))})")
    return MODELS[name]


def build_model(name: str, hparams: dict, vocab_size: int) -> keras.Model:
    return model_spec(name).build(hparams, vocab_size)
