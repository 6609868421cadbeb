"""End-to-end models: raw review strings in, probability of a positive review out.

A trained zoo model reads token ids or n-gram bags, so on its own it is useless
to anyone holding plain text. ``export`` wraps it with the same
TextVectorization the vectorize stage used and a sigmoid, and saves one TF2
SavedModel with a ``serving_default`` signature. Loading it needs neither this
package nor Keras custom objects: ``tf.saved_model.load(path)`` is enough (and
TF Serving can serve it as is).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from textclf import artifacts, vectorizing
from textclf.errors import TextclfError
from textclf.tf_runtime import keras, tf

LABELS = ("negative", "positive")  # label 0 and label 1, as prepare encodes them
SIGNATURE = "serving_default"


class EndToEndModel(tf.Module):
    def __init__(self, model: keras.Model, vectorizer: keras.layers.TextVectorization | None, kind: str):
        super().__init__()
        self.model, self.vectorizer, self.kind = model, vectorizer, kind

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def probabilities(self, texts):
        if self.kind == "text":
            inputs = texts
        elif self.kind == "sequence":
            tokens = tf.cast(self.vectorizer(texts), tf.int32)
            # Padding is masked anyway; cutting it to the longest review saves work.
            longest = tf.reduce_max(tf.math.count_nonzero(tokens, axis=1, dtype=tf.int32))
            inputs = tokens[:, : tf.maximum(longest, 1)]
        else:
            inputs = self.vectorizer(texts)
        return {"probability": tf.sigmoid(tf.reshape(self.model(inputs, training=False), [-1]))}


def end_to_end(model: keras.Model, kind: str, settings: dict | None, vocabulary: Sequence[str] | None) -> EndToEndModel:
    """Wrap ``model`` (which reads features of ``kind``) with its vectorizer."""
    vectorizer = None if kind == "text" else vectorizing.make_vectorizer(settings, vocabulary)
    return EndToEndModel(model, vectorizer, kind)


def export(wrapped: EndToEndModel, path: Path) -> None:
    artifacts.save_saved_model(wrapped, path, signatures={SIGNATURE: wrapped.probabilities})


class Predictor:
    """An exported model, loaded once, predicting batches of strings."""

    def __init__(self, path: Path):
        if not (path / "saved_model.pb").is_file():
            raise TextclfError(f"no exported model in {path}")
        try:
            self._serve = tf.saved_model.load(str(path)).signatures[SIGNATURE]
        except Exception as error:  # TensorFlow raises anything from IndexError to OpError on a damaged file
            reason = (str(error).splitlines() or [type(error).__name__])[0]
            raise TextclfError(f"cannot load the exported model in {path} ({reason}); it is damaged or incomplete: "
                               "rebuild it with `dvc repro` or fetch it again with `dvc pull`") from None

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0, np.float32)
        return self._serve(texts=tf.constant(list(texts), tf.string))["probability"].numpy()


def label_of(probability: float) -> str:
    return LABELS[int(probability >= 0.5)]
