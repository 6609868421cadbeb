"""The one place that imports TensorFlow and Keras, so every process agrees.

Keras 2 (``tf_keras``) is used explicitly rather than through ``tf.keras``:
``textclf/__init__`` has set ``TF_USE_LEGACY_KERAS=1`` so TensorFlow and TF Hub
resolve ``tf.keras`` to the same package.
"""

from __future__ import annotations

import textclf  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)

import tensorflow as tf
import tf_keras as keras

from textclf.errors import TextclfError

if not tf.keras.layers.Dense.__module__.startswith("tf_keras"):
    raise TextclfError(
        "TensorFlow was imported before textclf and resolved tf.keras to Keras 3; "
        "import textclf first or set TF_USE_LEGACY_KERAS=1"
    )


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make TF ops deterministic."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def device_summary() -> str:
    gpus = tf.config.list_physical_devices("GPU")
    return f"{len(gpus)} GPU(s)" if gpus else "CPU"


__all__ = ["tf", "keras", "seed_everything", "device_summary"]
