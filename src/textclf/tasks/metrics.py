"""Classification metrics and curves in plain NumPy.

Written out rather than imported so the pipeline needs no scikit-learn and the
curve points DVC plots are exactly the ones the AUC is computed from.
"""

from __future__ import annotations

import numpy as np


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def softmax_cross_entropy(labels: np.ndarray, logits: np.ndarray) -> float:
    """Mean categorical cross-entropy of class indices, stable for large logits."""
    z = np.asarray(logits, dtype=np.float64)
    top = z.max(axis=1, keepdims=True)
    log_normaliser = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
    return float(np.mean(log_normaliser - z[np.arange(len(z)), np.asarray(labels, dtype=np.int64)]))


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, classes: int) -> np.ndarray:
    """[actual, predicted] counts of class indices."""
    return np.bincount(np.asarray(labels, np.int64) * classes + np.asarray(predictions, np.int64),
                       minlength=classes * classes).reshape(classes, classes)


def log_loss_from_logits(labels: np.ndarray, logits: np.ndarray) -> float:
    """Mean binary cross-entropy, stable for large |logit|."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def _ranked_counts(labels: np.ndarray, scores: np.ndarray):
    """True and false positives when thresholding at each distinct score, high to low."""
    order = np.argsort(-np.asarray(scores), kind="mergesort")
    sorted_scores = np.asarray(scores)[order]
    sorted_labels = np.asarray(labels)[order].astype(np.int64)
    last_of_each_score = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(sorted_scores) - 1]
    true_positives = np.cumsum(sorted_labels)[last_of_each_score]
    false_positives = 1 + last_of_each_score - true_positives
    return true_positives, false_positives, sorted_scores[last_of_each_score]


def roc_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tps, fps, thresholds = _ranked_counts(labels, scores)
    tpr = np.r_[0.0, tps / max(tps[-1], 1)]
    fpr = np.r_[0.0, fps / max(fps[-1], 1)]
    return fpr, tpr, np.r_[np.inf, thresholds]


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    fpr, tpr, _ = roc_curve(labels, scores)
    return float(np.trapezoid(tpr, fpr))


def precision_recall_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tps, fps, thresholds = _ranked_counts(labels, scores)
    precision = tps / (tps + fps)
    recall = tps / max(tps[-1], 1)
    return precision, recall, thresholds


def confusion(labels: np.ndarray, predictions: np.ndarray) -> dict[str, int]:
    labels, predictions = np.asarray(labels).astype(bool), np.asarray(predictions).astype(bool)
    return {
        "true_positives": int(np.sum(labels & predictions)),
        "false_positives": int(np.sum(~labels & predictions)),
        "true_negatives": int(np.sum(~labels & ~predictions)),
        "false_negatives": int(np.sum(labels & ~predictions)),
    }


def binary_report(labels: np.ndarray, logits: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, loss, precision, recall, F1 (deciding at ``threshold``) and ROC-AUC, rounded for stable diffs."""
    probabilities = sigmoid(logits)
    counts = confusion(labels, probabilities >= threshold)
    predicted_positive = counts["true_positives"] + counts["false_positives"]
    actual_positive = counts["true_positives"] + counts["false_negatives"]
    precision = counts["true_positives"] / predicted_positive if predicted_positive else 0.0
    recall = counts["true_positives"] / actual_positive if actual_positive else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    report = {
        "accuracy": (counts["true_positives"] + counts["true_negatives"]) / len(labels),
        "loss": log_loss_from_logits(labels, logits),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "roc_auc": roc_auc(labels, probabilities),
        "threshold": threshold,
    }
    return {name: round(float(value), 6) for name, value in report.items()}


def best_threshold(labels: np.ndarray, scores: np.ndarray, metric: str) -> float:
    """The threshold (``scores >= threshold`` is positive) that maximizes ``metric`` (accuracy or F1) on these
    examples, halfway between two neighbouring scores so that it holds for examples near them.

    On a tie the one nearest 0.5 wins: the usual threshold unless the data says otherwise.
    """
    labels = np.asarray(labels).astype(bool)
    true_positives, false_positives, cuts = _ranked_counts(labels, scores)
    # Candidate k: positive iff score >= cuts[k]; the first candidate calls nothing positive.
    true_positives, false_positives = np.r_[0, true_positives], np.r_[0, false_positives]
    positives, negatives = labels.sum(), len(labels) - labels.sum()
    if metric == "accuracy":
        values = (true_positives + negatives - false_positives) / max(len(labels), 1)
    else:
        values = np.divide(2 * true_positives, true_positives + false_positives + positives,
                           out=np.zeros(len(true_positives)), where=true_positives + false_positives + positives > 0)
    above, below = np.r_[1.0, cuts], np.r_[cuts, 0.0]
    thresholds = np.clip((above + below) / 2, 1e-6, 1 - 1e-6)
    best = np.flatnonzero(values >= values.max() - 1e-12)
    return round(float(thresholds[best[np.argmin(np.abs(thresholds[best] - 0.5))]]), 6)


def thin(n_points: int, max_points: int) -> np.ndarray:
    """Evenly spaced indices (ends included) so curve files stay small in git."""
    if n_points <= max_points:
        return np.arange(n_points)
    return np.unique(np.linspace(0, n_points - 1, max_points).round().astype(int))
