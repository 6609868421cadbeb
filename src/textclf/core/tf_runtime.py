"""The one place that imports TensorFlow and Keras, so every process agrees.

Keras 2 (``tf_keras``) is used explicitly rather than through ``tf.keras``:
``textclf/__init__`` has set ``TF_USE_LEGACY_KERAS=1`` so TensorFlow and TF Hub
resolve ``tf.keras`` to the same package.
"""

from __future__ import annotations

import contextlib
import os
import sys

import textclf  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
from textclf.core.errors import TextclfError


@contextlib.contextmanager
def _native_stderr_silenced():
    """Hide what TensorFlow's C++ side prints before its log level applies.

    On import and on the first device query TensorFlow writes oneDNN and
    missing-CUDA notices straight to file descriptor 2, ignoring
    TF_CPP_MIN_LOG_LEVEL; they would bury a stage's one-line error. Setting
    TF_CPP_MIN_LOG_LEVEL to 0 or 1 shows them again.
    """
    if int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0")) < 2:
        yield
        return
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


with _native_stderr_silenced():
    import tensorflow as tf
    import tf_keras as keras

    _GPUS = tf.config.list_physical_devices("GPU")

# TF Hub's KerasLayer first tries standalone Keras 2's load context, `keras.saving.legacy`. The `keras`
# installed beside tf_keras is Keras 3, which has none: the attempt imports all of Keras 3 (2-3 s,
# scikit-learn included) in every process that loads a module, only to fail. Failing at once lands it
# on the load context TensorFlow's own loader (and tf_keras's) uses.
sys.modules.setdefault("keras.saving.legacy.saved_model", None)

# tf_keras's switch for what `model.save(..., save_traces=False)` skips, for SavedModels of modules that hold a
# Keras model. tf_keras exports it under no public name.
from tf_keras.src.saving.legacy.saved_model.utils import (
    keras_option_scope as _keras_option_scope,  # noqa: E402
)

if not tf.keras.layers.Dense.__module__.startswith("tf_keras"):
    raise TextclfError(
        "TensorFlow was imported before textclf and resolved tf.keras to Keras 3; "
        "import textclf first or set TF_USE_LEGACY_KERAS=1"
    )


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make TF ops deterministic."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def keras_traces_skipped():
    """A context in which ``tf.saved_model.save`` does not trace each Keras layer's call functions.

    Those traces only serve reviving the layers as Keras objects; our exports are served through
    their signatures. Tracing them runs every layer's call several times over (training on and
    off, with and without losses), and for an LSTM each trace builds its CPU and GPU variants and
    their gradients: 40 of the 44 s that saving `bilstm_stacked` took.
    """
    return _keras_option_scope(save_traces=False)


def device_summary() -> str:
    return f"{len(_GPUS)} GPU(s)" if _GPUS else "CPU"


__all__ = ["tf", "keras", "seed_everything", "keras_traces_skipped", "device_summary"]
