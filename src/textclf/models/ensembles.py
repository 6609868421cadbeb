"""Ensembles: one model made of other models' exports, weighted on the validation split.

An ensemble's members are exported models of one dataset (``models/<member>/serving``).
Each member's probabilities are turned back into logits, and one Dense layer, with
the task's loss, learns how much each member's logits count. It is fitted on the
validation split only: the members were fitted on train, so their train-split
logits are overconfident and would teach the combiner to trust whichever member
overfits most. The test split is only predicted.

The exported ensemble holds its members' SavedModels and answers the same
``serving_default`` signature as any export (probabilities and class names), so
``textclf predict`` and TF Serving use it as they use a single model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from textclf.core.errors import TextclfError
from textclf.core.tf_runtime import keras, tf
from textclf.models import artifacts
from textclf.serving.exports import SIGNATURE, SPLIT_BATCH, in_length_order
from textclf.tasks import Task


class Ensemble(tf.Module):
    """Member exports under a combiner: raw strings in, class probabilities out."""

    def __init__(self, member_paths: Sequence[Path], task: Task, combiner: keras.Model | None = None):
        super().__init__()
        for path in member_paths:
            if not (Path(path) / "saved_model.pb").is_file():
                raise TextclfError(f"no exported model in {path} (run `dvc repro` to export the ensemble's members)")
        self.members = [tf.saved_model.load(str(path)) for path in member_paths]
        self.task = task
        self.combiner = combiner  # fitted on the members' logits, so set once they are computed
        self.class_names = tf.constant(task.classes, tf.string)
        # The same attributes as a single model's export: predict reads them.
        self.task_name = tf.Variable(task.name, trainable=False, name="task")
        self.threshold = tf.Variable(task.threshold, trainable=False, dtype=tf.float32, name="threshold")

    def decide_at(self, task: Task) -> None:
        """Decide as ``task`` does: the same task at the threshold chosen for the ensemble."""
        self.task = task
        self.threshold.assign(task.threshold)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def member_logits(self, texts):
        """[n, members * units]: each member's logits side by side, in the order of ``members``."""
        return tf.concat([self.task.tf_logits(member.signatures[SIGNATURE](texts=texts)["probabilities"])
                          for member in self.members], axis=1)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def probabilities(self, texts):
        logits = self.combiner(self.member_logits(texts), training=False)
        labels = tf.tile(self.class_names[None, :], [tf.shape(texts)[0], 1])
        return {"probabilities": self.task.tf_probabilities(logits), "labels": labels}


def member_logits(ensemble: Ensemble, texts: Sequence[str]) -> np.ndarray:
    logits = in_length_order(lambda batch: ensemble.member_logits(tf.constant(batch, tf.string)).numpy(), texts, SPLIT_BATCH)
    return np.zeros((0, len(ensemble.members) * ensemble.task.units), np.float32) if logits is None else logits


def build_combiner(members: int, units: int, l2: float) -> keras.Model:
    """One Dense layer over the members' logits, starting as their plain average."""
    average = np.tile(np.eye(units, dtype=np.float32), (members, 1)) / members
    return keras.Sequential([
        keras.Input(shape=(members * units,), name="member_logits"),
        keras.layers.Dense(units, kernel_initializer=keras.initializers.Constant(average),
                           kernel_regularizer=keras.regularizers.l2(l2) if l2 else None, name="logit"),
    ], name="ensemble")


def fit_combiner(logits: np.ndarray, labels: np.ndarray, task: Task, hparams: dict) -> tuple[keras.Model, list[float]]:
    """Fit the combiner on (validation) member logits, full batch: a convex problem of a few dozen weights."""
    if len(labels) == 0:
        raise TextclfError("cannot fit an ensemble on an empty validation split")
    combiner = build_combiner(logits.shape[1] // task.units, task.units, hparams["l2"])
    combiner.compile(optimizer=keras.optimizers.Adam(learning_rate=hparams["learning_rate"]), loss=task.loss())
    history = combiner.fit(logits, task.training_labels(labels), batch_size=len(labels), epochs=hparams["epochs"],
                           shuffle=False, verbose=0)
    return combiner, [float(loss) for loss in history.history["loss"]]


def member_weights(combiner: keras.Model, members: Sequence[str], task: Task) -> dict[str, float]:
    """How much each member's own-class logits count (the mean diagonal of its block of the kernel)."""
    kernel = combiner.get_layer("logit").kernel.numpy()
    units = task.units
    return {member: round(float(np.mean(np.diag(kernel[i * units : (i + 1) * units]))), 6) for i, member in enumerate(members)}


def export(ensemble: Ensemble, path: Path) -> None:
    artifacts.save_saved_model(ensemble, path, signatures={SIGNATURE: ensemble.probabilities})
