"""End-to-end models: raw strings in, the probability of every class out.

A trained zoo model reads token ids or n-gram bags, so on its own it is useless
to anyone holding plain text. ``export`` wraps it with the same
TextVectorization the vectorize stage used and the task's sigmoid or softmax,
and saves one TF2 SavedModel with a ``serving_default`` signature that returns
``probabilities`` [n, K] and the class names ``labels`` [n, K] beside them, so
a result can be read without this project. Loading it needs neither this
package nor Keras custom objects: ``tf.saved_model.load(path)`` is enough (and
TF Serving can serve it as is).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from textclf.core.errors import TextclfError
from textclf.core.tf_runtime import keras, tf
from textclf.features.vectorizing import FeatureKind
from textclf.models import artifacts
from textclf.tasks import TASKS, Task

SIGNATURE = "serving_default"
# Texts per call of an exported model run over a whole split (an ensemble's members, a self-trained model's
# teacher): the export reads strings, so a call's cost is mostly per text, and 1,024 amortise the rest.
SPLIT_BATCH = 1024


class EndToEndModel(tf.Module):
    def __init__(self, model: keras.Model, kind: FeatureKind, vectorizer: keras.layers.TextVectorization | None, task: Task):
        super().__init__()
        self.model, self.kind, self.vectorizer, self.task = model, kind, vectorizer, task
        self.class_names = tf.constant(task.classes, tf.string)
        # Saved with the model, so predict can tell the task apart without params.yaml.
        self.task_name = tf.Variable(task.name, trainable=False, name="task")
        self.threshold = tf.Variable(task.threshold, trainable=False, dtype=tf.float32, name="threshold")

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def probabilities(self, texts):
        logits = self.model(self.kind.serving_inputs(self.vectorizer, texts), training=False)
        probabilities = self.task.tf_probabilities(logits)
        labels = tf.tile(self.class_names[None, :], [tf.shape(texts)[0], 1])
        return {"probabilities": probabilities, "labels": labels}


def in_length_order(predict: Callable[[list[str]], np.ndarray], texts: Sequence[str], batch_size: int,
                    progress: Callable[[range], Iterable[int]] = iter) -> np.ndarray | None:
    """``predict`` over ``texts``, ``batch_size`` at a time, the outputs stacked in the order of ``texts``
    (None for no texts). The batches go shortest texts first: a sequence model pads each batch to about
    the length of its own texts, not to the longest text of the input. ``progress`` wraps the batch starts."""
    order = np.argsort([len(text) for text in texts], kind="stable")
    ordered = [texts[row] for row in order]
    batches = [predict(ordered[start : start + batch_size]) for start in progress(range(0, len(texts), batch_size))]
    return np.concatenate(batches)[np.argsort(order)] if batches else None


def export(wrapped: EndToEndModel, path: Path) -> None:
    artifacts.save_saved_model(wrapped, path, signatures={SIGNATURE: wrapped.probabilities})


class Predictor:
    """An exported model, loaded once, predicting batches of strings."""

    def __init__(self, path: Path):
        if not (path / "saved_model.pb").is_file():
            raise TextclfError(f"no exported model in {path}")
        try:
            loaded = tf.saved_model.load(str(path))
            self._serve = loaded.signatures[SIGNATURE]
            classes = [name.decode("utf-8") for name in self._serve(texts=tf.constant([""]))["labels"].numpy()[0]]
            task_name, threshold = loaded.task_name.numpy().decode("utf-8"), round(float(loaded.threshold.numpy()), 6)
        except Exception as error:  # TensorFlow raises anything from IndexError to OpError on a damaged file
            reason = (str(error).splitlines() or [type(error).__name__])[0]
            raise TextclfError(f"cannot load the exported model in {path} ({reason}); it is damaged or incomplete: "
                               "rebuild it with `dvc repro` or fetch it again with `dvc pull`") from None
        self.task = TASKS[task_name](classes, threshold)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """[n, K] probabilities, in the order of the task's classes."""
        if not texts:
            return np.zeros((0, len(self.task.classes)), np.float32)
        return self._serve(texts=tf.constant(list(texts), tf.string))["probabilities"].numpy()
