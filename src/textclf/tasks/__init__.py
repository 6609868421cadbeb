"""Task types: what a dataset's labels are, and everything that follows from it.

A task decides the label arrays, the model's output units, the loss, the
probabilities, the test metrics, the plot data and how predict names a result.
Three kinds exist:

- ``binary``: two classes, one logit, sigmoid cross-entropy (IMDB sentiment);
- ``multi_class``: K exclusive classes, K logits, softmax cross-entropy (star ratings);
- ``multi_label``: any subset of K labels, K logits, sigmoid cross-entropy per label (movie genres).

Stages ask the task object; nothing else branches on the task's name. Labels are
stored in prepared tables as class indices (a list of them for multi-label).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from textclf.core.errors import TextclfError
from textclf.tasks import metrics


class _ImportedOnUse:
    """``tf`` or ``keras`` of textclf.core.tf_runtime, imported the first time an attribute is read.

    Labels, metrics and class names need neither, and the stages that only read
    those (prepare, leaderboards, the transfer analysis) would otherwise spend
    seconds importing TensorFlow.
    """

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str):
        from textclf.core import tf_runtime

        return getattr(getattr(tf_runtime, self._name), attribute)


tf, keras = _ImportedOnUse("tf"), _ImportedOnUse("keras")

# Exported models return probabilities; turning them back into logits clips them
# here, so a member's certain 0 or 1 is a large finite logit, not an infinite one.
_EPSILON = 1e-7


class Task:
    name: str
    uses_threshold = False  # binary and multi-label decisions need one; multi-class takes the most probable class
    default_metric: str  # what the leaderboard ranks by unless the dataset names another (higher is better)
    columns: dict[str, str]  # leaderboard columns from evaluate.json: key -> heading; the metrics a dataset may rank by
    threshold_metric = ""  # what a threshold chosen on validation maximizes, unless that is the main metric

    def __init__(self, classes: Sequence[str], threshold: float | None = 0.5, metric: str | None = None):
        """``threshold`` None: each model's is chosen on the validation split (``chosen_threshold``), 0.5 until then.
        ``metric`` None: the task's default main metric."""
        self.classes = [str(name) for name in classes]
        self.fixed_threshold = threshold is not None
        self.threshold = 0.5 if threshold is None else threshold
        if metric is not None and metric not in self.columns:
            raise TextclfError(f"metric must be one of {', '.join(self.columns)} for a {self.name} task, got {metric!r}")
        self.main_metric = metric or self.default_metric

    def describe(self) -> dict:
        """What ``read_task`` reads back."""
        return {"task": self.name, "classes": self.classes, "threshold": self.threshold if self.fixed_threshold else None,
                "metric": self.main_metric}

    def with_threshold(self, threshold: float) -> "Task":
        """The same task deciding at ``threshold`` (a model's own, chosen on validation)."""
        return type(self)(self.classes, threshold, self.main_metric)

    # Choosing ----------------------------------------------------------------
    def score(self, labels: np.ndarray, logits: np.ndarray) -> float:
        """The main metric of ``logits`` at this task's threshold."""
        return float(self.report(labels, logits)[self.main_metric])

    def chosen_threshold(self, labels: np.ndarray, logits: np.ndarray) -> float:
        """The dataset's fixed threshold, or the one that maximizes the main metric on these (validation) examples.

        A metric that no threshold changes (ROC-AUC) is maximized at any: then ``threshold_metric`` (F1) decides.
        """
        if not self.uses_threshold or self.fixed_threshold:
            return self.threshold
        truth = self.one_vs_rest(labels)
        scores = self.probabilities(logits)
        if self.name == "binary":
            truth, scores = truth[:, 1], scores[:, 1]
        metric = self.main_metric if self.main_metric in ("accuracy", "f1", "f1_micro") else self.threshold_metric
        return metrics.best_threshold(truth.ravel(), scores.ravel(), "accuracy" if metric == "accuracy" else "f1")

    def validation_score(self, labels: np.ndarray, logits: np.ndarray) -> tuple[float, float]:
        """The main metric at the threshold ``chosen_threshold`` picks on these examples, and that threshold:
        what early stopping watches each epoch."""
        threshold = self.chosen_threshold(labels, logits)
        return self.with_threshold(threshold).score(labels, logits), threshold

    @property
    def units(self) -> int:
        """Logits the model's head emits."""
        return len(self.classes)

    # Labels ------------------------------------------------------------------
    def label_array(self, labels: pd.Series) -> np.ndarray:
        """The prepared ``label`` column as the array models train on."""
        return labels.to_numpy().astype(np.int32)

    def training_labels(self, labels: np.ndarray) -> np.ndarray:
        """What the loss compares the logits with."""
        return labels.astype(np.int32)

    def one_vs_rest(self, labels: np.ndarray) -> np.ndarray:
        """[n, K] booleans: example i belongs to class k."""
        return labels[:, None] == np.arange(len(self.classes))[None, :]

    def head_targets(self, labels: np.ndarray) -> np.ndarray:
        """[n, units] booleans: which of the model's heads example i is positive for."""
        return self.one_vs_rest(labels)

    # Keras -------------------------------------------------------------------
    def loss(self):
        raise NotImplementedError

    def prior_logits(self, positives: np.ndarray, examples: int) -> np.ndarray:
        """The head's bias that predicts each class at its share of the train split, before any text is read.

        ``positives`` counts the examples each head is positive for. A head that starts at p = 0.5 spends
        its first epochs learning the base rate, which a small or imbalanced dataset may stop before
        reaching (the start recommended by the Keras guide to imbalanced classification).
        """
        share = (np.asarray(positives, np.float64) + 1.0) / (examples + 2.0)  # smoothed: an absent class is no -inf
        return np.log(share / (1.0 - share)).astype(np.float32)

    def accuracy(self):
        raise NotImplementedError

    # Predictions -------------------------------------------------------------
    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """[n, K] probabilities from the model's [n, units] logits."""
        raise NotImplementedError

    def tf_probabilities(self, logits):
        """The same, in a TensorFlow graph (the exported model)."""
        raise NotImplementedError

    def tf_logits(self, probabilities):
        """[n, units] logits that give back ``probabilities``: what an ensemble combines of an exported member."""
        raise NotImplementedError

    def predicted(self, probabilities: np.ndarray) -> np.ndarray:
        """Predicted class index per example ([n, K] booleans for multi-label)."""
        return np.argmax(probabilities, axis=1)

    def pseudo_labels(self, probabilities: np.ndarray) -> np.ndarray:
        """A teacher's decisions as the label array a model trains on (textclf.training.self_training)."""
        return self.predicted(probabilities).astype(np.int32)

    # What predict prints ------------------------------------------------------
    score_heading = "P"  # the table's probability column

    def prediction(self, probabilities: np.ndarray, top_k: int) -> dict:
        """The JSON fields of one example's prediction: the most probable class and every probability."""
        best = int(np.argmax(probabilities))
        return {"label": self.classes[best], "probability": round(float(probabilities[best]), 6),
                "probabilities": self._every(probabilities)}

    def _every(self, probabilities: np.ndarray) -> dict[str, float]:
        return {name: round(float(value), 6) for name, value in zip(self.classes, probabilities)}

    def cells(self, prediction: dict) -> tuple[str, str]:
        """The label and probability cells of predict's table."""
        return prediction["label"], f"{prediction['probability']:.3f}"

    # Evaluation --------------------------------------------------------------
    def report(self, labels: np.ndarray, logits: np.ndarray) -> dict:
        raise NotImplementedError

    def curves(self, labels: np.ndarray, probabilities: np.ndarray) -> dict[str, tuple]:
        """Class -> (labels, scores) pairs that the ROC and PR curves are drawn from."""
        truth = self.one_vs_rest(labels)
        return {name: (truth[:, k], probabilities[:, k]) for k, name in enumerate(self.classes)}


def _round(report: dict) -> dict:
    """Six decimals: enough for any comparison, and stable in diffs."""
    return {key: _round(value) if isinstance(value, dict) else round(float(value), 6) if isinstance(value, float) else value
            for key, value in report.items()}


def _precision_recall_f1(true_positives, predicted, actual):
    precision = np.divide(true_positives, predicted, out=np.zeros(np.shape(predicted)), where=np.asarray(predicted) > 0)
    recall = np.divide(true_positives, actual, out=np.zeros(np.shape(actual)), where=np.asarray(actual) > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros(np.shape(total)), where=total > 0)
    return precision, recall, f1


class Binary(Task):
    """Two classes (negative first), one logit: the probability of the second class, decided at the threshold."""

    name = "binary"
    uses_threshold = True
    default_metric = "accuracy"
    columns = {"accuracy": "test accuracy", "roc_auc": "ROC-AUC", "f1": "F1"}
    threshold_metric = "f1"

    def __init__(self, classes: Sequence[str], threshold: float | None = 0.5, metric: str | None = None):
        if len(classes) != 2:
            raise TextclfError(f"a binary task needs exactly two classes, got {len(classes)}: {list(classes)}")
        super().__init__(classes, threshold, metric)

    @property
    def units(self) -> int:
        return 1

    def training_labels(self, labels: np.ndarray) -> np.ndarray:
        return labels.astype(np.float32)

    def head_targets(self, labels: np.ndarray) -> np.ndarray:
        return (labels == 1)[:, None]

    def loss(self):
        return keras.losses.BinaryCrossentropy(from_logits=True)

    def accuracy(self):
        # The model emits logits, so the decision threshold is 0, not 0.5.
        return keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        positive = metrics.sigmoid(np.asarray(logits).reshape(-1))
        return np.stack([1.0 - positive, positive], axis=1)

    def tf_probabilities(self, logits):
        positive = tf.sigmoid(tf.reshape(logits, [-1]))
        return tf.stack([1.0 - positive, positive], axis=1)

    def tf_logits(self, probabilities):
        clipped = tf.clip_by_value(probabilities, _EPSILON, 1.0)
        return tf.math.log(clipped[:, 1:]) - tf.math.log(clipped[:, :1])

    def predicted(self, probabilities: np.ndarray) -> np.ndarray:
        return (probabilities[:, 1] >= self.threshold).astype(np.int64)

    @property
    def score_heading(self) -> str:
        return f"P({self.classes[1]})"

    def prediction(self, probabilities: np.ndarray, top_k: int) -> dict:
        """The label, and the probability of the second class (the one the model scores)."""
        return {"label": self.classes[int(probabilities[1] >= self.threshold)],
                "probability": round(float(probabilities[1]), 6), "probabilities": self._every(probabilities)}

    def report(self, labels: np.ndarray, logits: np.ndarray) -> dict:
        return metrics.binary_report(labels, np.asarray(logits).reshape(-1), self.threshold)

    def curves(self, labels: np.ndarray, probabilities: np.ndarray) -> dict[str, tuple]:
        return {self.classes[1]: (labels == 1, probabilities[:, 1])}


class MultiClass(Task):
    """K exclusive classes: softmax over K logits."""

    name = "multi_class"
    default_metric = "macro_f1"
    columns = {"macro_f1": "macro F1", "accuracy": "test accuracy", "weighted_f1": "weighted F1"}

    def loss(self):
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def accuracy(self):
        return keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    def prior_logits(self, positives: np.ndarray, examples: int) -> np.ndarray:
        """Softmax logits of the class shares: log-shares, up to the constant softmax ignores."""
        share = (np.asarray(positives, np.float64) + 1.0) / (examples + len(self.classes))
        return np.log(share).astype(np.float32)

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        return metrics.softmax(logits)

    def tf_probabilities(self, logits):
        return tf.nn.softmax(logits, axis=1)

    def tf_logits(self, probabilities):
        return tf.math.log(tf.clip_by_value(probabilities, _EPSILON, 1.0))  # softmax ignores the missing constant

    def report(self, labels: np.ndarray, logits: np.ndarray) -> dict:
        probabilities = self.probabilities(logits)
        predicted = self.predicted(probabilities)
        matrix = metrics.confusion_matrix(labels, predicted, self.units)
        support = matrix.sum(axis=1)
        precision, recall, f1 = _precision_recall_f1(np.diag(matrix), matrix.sum(axis=0), support)
        report = {
            "accuracy": float(np.mean(predicted == labels)),
            "loss": metrics.softmax_cross_entropy(labels, logits),
            "macro_f1": float(np.mean(f1)),
            "weighted_f1": float(np.sum(f1 * support) / max(support.sum(), 1)),
        }
        values = self.numeric_classes()
        if values is not None:  # ordered numeric classes (star ratings): how far off, in their unit
            report["mean_absolute_error"] = float(np.mean(np.abs(values[predicted] - values[labels])))
        report["per_class"] = {
            name: {"precision": precision[k], "recall": recall[k], "f1": f1[k], "support": int(support[k])}
            for k, name in enumerate(self.classes)
        }
        report["confusion_matrix"] = {
            actual: {predicted_name: int(matrix[i, j]) for j, predicted_name in enumerate(self.classes)}
            for i, actual in enumerate(self.classes)
        }
        return _round(report)

    def numeric_classes(self) -> np.ndarray | None:
        try:
            return np.array([float(name) for name in self.classes])
        except ValueError:
            return None


class MultiLabel(Task):
    """Any subset of K labels: an independent sigmoid per label, a threshold to decide."""

    name = "multi_label"
    uses_threshold = True
    default_metric = "roc_auc_micro"
    columns = {"roc_auc_micro": "micro ROC-AUC", "roc_auc_macro": "macro ROC-AUC", "precision_micro": "micro precision",
               "recall_micro": "micro recall", "f1_micro": "micro F1"}
    threshold_metric = "f1_micro"  # one threshold for every label, chosen on their pooled probabilities

    def label_array(self, labels: pd.Series) -> np.ndarray:
        hot = np.zeros((len(labels), self.units), np.int32)
        for row, indices in enumerate(labels):
            hot[row, list(indices)] = 1
        return hot

    def training_labels(self, labels: np.ndarray) -> np.ndarray:
        return labels.astype(np.float32)

    def one_vs_rest(self, labels: np.ndarray) -> np.ndarray:
        return labels.astype(bool)

    def loss(self):
        return keras.losses.BinaryCrossentropy(from_logits=True)

    def accuracy(self):
        # Per-label accuracy (1 - Hamming loss) at the 0.5 probability threshold.
        return keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        return metrics.sigmoid(logits)

    def tf_probabilities(self, logits):
        return tf.sigmoid(logits)

    def tf_logits(self, probabilities):
        clipped = tf.clip_by_value(probabilities, _EPSILON, 1.0 - _EPSILON)
        return tf.math.log(clipped) - tf.math.log(1.0 - clipped)

    def predicted(self, probabilities: np.ndarray) -> np.ndarray:
        return probabilities >= self.threshold

    score_heading = "top labels (* at or above the threshold)"

    def prediction(self, probabilities: np.ndarray, top_k: int) -> dict:
        """The labels at or above the threshold, the ``top_k`` most probable, and every probability."""
        order = np.argsort(-probabilities, kind="stable")
        return {"labels": [self.classes[k] for k in order if probabilities[k] >= self.threshold],
                "top": [[self.classes[k], round(float(probabilities[k]), 6)] for k in order[:top_k]],
                "threshold": self.threshold, "probabilities": self._every(probabilities)}

    def cells(self, prediction: dict) -> tuple[str, str]:
        chosen = set(prediction["labels"])  # the star follows the decision, not the rounded figure
        shown = ", ".join(f"{name} {value:.3f}{'*' if name in chosen else ''}" for name, value in prediction["top"])
        return ", ".join(prediction["labels"]) or "-", shown

    def report(self, labels: np.ndarray, logits: np.ndarray) -> dict:
        probabilities = self.probabilities(logits)
        truth, predicted = labels.astype(bool), self.predicted(probabilities)
        true_positives = (truth & predicted).sum(axis=0)
        precision, recall, f1 = _precision_recall_f1(true_positives, predicted.sum(axis=0), truth.sum(axis=0))
        micro = _precision_recall_f1(true_positives.sum(), predicted.sum(), truth.sum())
        aucs = np.array([metrics.roc_auc(truth[:, k], probabilities[:, k]) if 0 < truth[:, k].sum() < len(truth)
                         else np.nan for k in range(self.units)])
        report = {
            "roc_auc_micro": metrics.roc_auc(truth.ravel(), probabilities.ravel()),
            # Labels absent from (or present in every example of) the test split have no AUC.
            "roc_auc_macro": float(np.nanmean(aucs)) if not np.isnan(aucs).all() else 0.0,
            "precision_micro": float(micro[0]), "recall_micro": float(micro[1]), "f1_micro": float(micro[2]),
            "precision_macro": float(np.mean(precision)), "recall_macro": float(np.mean(recall)),
            "f1_macro": float(np.mean(f1)),
            "subset_accuracy": float(np.mean((truth == predicted).all(axis=1))),
            "hamming_loss": float(np.mean(truth != predicted)),
            "loss": metrics.log_loss_from_logits(truth.ravel(), np.asarray(logits).ravel()),
            "threshold": float(self.threshold),
            "per_label": {
                name: {"support": int(truth[:, k].sum()), **({"roc_auc": float(aucs[k])} if not np.isnan(aucs[k]) else {}),
                       "precision": precision[k], "recall": recall[k], "f1": f1[k]}
                for k, name in enumerate(self.classes)
            },
        }
        return _round(report)


TASKS: dict[str, type[Task]] = {task.name: task for task in (Binary, MultiClass, MultiLabel)}


def read_task(path: Path) -> Task:
    """The task prepare settled for a dataset (``textclf.pipeline.layout.task_file``): its kind, classes and threshold."""
    if not path.is_file():
        raise TextclfError(f"{path} not found (run `dvc repro prepare@{path.parent.name}`)")
    try:
        described = json.loads(path.read_text(encoding="utf-8"))
        return TASKS[described["task"]](described["classes"], described["threshold"], described.get("metric"))
    except (ValueError, KeyError, TypeError) as error:
        raise TextclfError(f"{path} is not a task description ({error}); run `dvc repro prepare@{path.parent.name}`") from None
