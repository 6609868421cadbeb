"""Task types: the labels, heads, probabilities, reports and predictions of binary, multi-class and multi-label tasks.

Reports are checked against values worked out by hand on tiny examples; each
task's loss is checked to teach a real model a tiny separable problem.
"""

import json
import random

import numpy as np
import pandas as pd
import pytest

from textclf import tasks
from textclf.core.errors import TextclfError
from textclf.core.tf_runtime import keras, seed_everything, tf
from textclf.features import vectorizing
from textclf.models import zoo
from textclf.tasks import metrics
from textclf.training import fitting

BINARY = tasks.Binary(["negative", "positive"])
RATINGS = tasks.MultiClass([1, 2, 10])  # numeric class names: the report adds a mean absolute error
COLOURS = tasks.MultiClass(["red", "green", "blue"])
GENRES = tasks.MultiLabel(["Comedy", "Drama", "Horror", "Western"], threshold=0.5)
EVERY_TASK = {"binary": BINARY, "multi_class": COLOURS, "multi_label": GENRES}


def logit(probabilities):
    probabilities = np.asarray(probabilities, dtype=np.float64)
    return np.log(probabilities / (1 - probabilities))


# Labels -----------------------------------------------------------------------


def test_units_follow_the_task():
    assert (BINARY.units, COLOURS.units, GENRES.units) == (1, 3, 4)
    assert RATINGS.classes == ["1", "2", "10"]  # class names are strings, whatever params.yaml wrote
    assert tasks.TASKS == {"binary": tasks.Binary, "multi_class": tasks.MultiClass, "multi_label": tasks.MultiLabel}


def test_binary_labels_and_targets():
    labels = BINARY.label_array(pd.Series([0, 1, 1]))
    assert labels.dtype == np.int32 and labels.tolist() == [0, 1, 1]
    targets = BINARY.training_labels(labels)
    assert targets.dtype == np.float32 and targets.tolist() == [0.0, 1.0, 1.0]
    assert BINARY.head_targets(labels).tolist() == [[False], [True], [True]]  # one head: the second class


def test_multi_class_labels_and_targets():
    labels = COLOURS.label_array(pd.Series([2, 0, 1]))
    assert labels.dtype == np.int32 and labels.tolist() == [2, 0, 1]
    assert COLOURS.training_labels(labels).dtype == np.int32  # class indices, for the sparse loss
    assert COLOURS.head_targets(labels).tolist() == [[False, False, True], [True, False, False], [False, True, False]]


def test_multi_label_labels_are_multi_hot_also_as_parquet_reads_them(tmp_path):
    pd.DataFrame({"label": [[0, 2], [1], [3, 0, 2]]}).to_parquet(tmp_path / "t.parquet")
    stored = pd.read_parquet(tmp_path / "t.parquet")["label"]  # a Series of NumPy arrays
    labels = GENRES.label_array(stored)
    assert labels.dtype == np.int32
    assert labels.tolist() == [[1, 0, 1, 0], [0, 1, 0, 0], [1, 0, 1, 1]]
    targets = GENRES.training_labels(labels)
    assert targets.dtype == np.float32 and targets.shape == (3, 4)
    assert GENRES.head_targets(labels).tolist() == labels.astype(bool).tolist()


# Probabilities ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EVERY_TASK))
def test_numpy_and_tensorflow_probabilities_agree(name):
    task = EVERY_TASK[name]
    logits = np.random.default_rng(0).normal(0, 3, (7, task.units)).astype(np.float32)
    expected = task.probabilities(logits)
    got = task.tf_probabilities(tf.constant(logits)).numpy()
    assert expected.shape == got.shape == (7, len(task.classes))
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert ((expected >= 0) & (expected <= 1)).all()


def test_binary_probabilities_are_both_classes_from_one_logit():
    probabilities = BINARY.probabilities(np.array([[0.0], [2.0], [-1.0]]))
    np.testing.assert_allclose(probabilities[:, 1], 1 / (1 + np.exp(-np.array([0.0, 2.0, -1.0]))))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert BINARY.predicted(probabilities).tolist() == [1, 1, 0]  # 0.5 goes to the second class


def test_multi_class_probabilities_are_a_softmax_and_multi_label_ones_are_independent():
    logits = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
    probabilities = COLOURS.probabilities(logits)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    np.testing.assert_allclose(probabilities[0], np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum())
    assert np.isfinite(probabilities).all()  # huge logits do not overflow
    assert COLOURS.predicted(probabilities).tolist() == [2, 0]
    independent = GENRES.probabilities(np.array([[0.0, 3.0, 3.0, -3.0]]))
    assert independent[0, 1] == independent[0, 2] and independent.sum() > 1
    assert GENRES.predicted(independent).tolist() == [[True, True, True, False]]  # 0.5 is at the threshold


# Keras loss and accuracy -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "labels", "logits", "loss"),
    [
        ("binary", [1.0, 0.0, 1.0], [[0.1], [-0.1], [-0.2]], "BinaryCrossentropy"),
        ("multi_class", [2, 0, 1], [[0.0, 0.1, 0.3], [2.0, 0.0, 0.0], [1.0, 0.0, 0.0]], "SparseCategoricalCrossentropy"),
        ("multi_label", [[1.0, 0.0, 0.0, 1.0]] * 3, [[0.1, -0.1, -3.0, 2.0], [0.1, -0.1, -3.0, 2.0], [0.1, 0.1, 0.1, 0.1]],
         "BinaryCrossentropy"),
    ],
)
def test_loss_and_accuracy_read_logits(name, labels, logits, loss):
    """Models emit logits: the loss is told so, and a logit just above 0 is a positive (probability above 0.5)."""
    task = EVERY_TASK[name]
    assert type(task.loss()).__name__ == loss and task.loss().get_config()["from_logits"]
    accuracy = task.accuracy()
    accuracy.update_state(tf.constant(labels), tf.constant(logits))
    assert accuracy.name == "accuracy"
    # Binary and multi-class: 2 of 3 examples right; multi-label: 10 of 12 labels right.
    assert float(accuracy.result()) == pytest.approx(10 / 12 if name == "multi_label" else 2 / 3)
    expected = keras.losses.get(loss)  # the same loss on probabilities, as a cross-check
    probabilities = task.tf_probabilities(tf.constant(logits, tf.float32))
    if name == "binary":
        probabilities = probabilities[:, 1:]
    assert float(task.loss()(tf.constant(labels), tf.constant(logits))) == pytest.approx(
        float(tf.reduce_mean(expected(tf.constant(labels), probabilities))), rel=1e-4)


# Reports ----------------------------------------------------------------------


def test_binary_report_is_the_binary_metrics_of_the_one_logit():
    labels = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    logits = np.array([[3.0], [2.0], [-1.0], [1.0], [-2.0], [-3.0], [-4.0], [-5.0]])
    report = BINARY.report(labels, logits)
    assert set(report) == {"accuracy", "loss", "precision", "recall", "f1", "roc_auc", "threshold"}
    assert report["accuracy"] == 0.75 and report["threshold"] == 0.5
    assert report["precision"] == report["recall"] == report["f1"] == pytest.approx(2 / 3, abs=1e-6)
    assert report["roc_auc"] == pytest.approx(14 / 15, abs=1e-6)  # one of 15 pairs misordered (-1 < 1)
    # At a threshold under sigmoid(-1) = 0.27 the third positive is found, and so is the negative at 1.
    lenient = BINARY.with_threshold(0.2).report(labels, logits)
    assert (lenient["recall"], lenient["precision"], lenient["accuracy"]) == (1.0, 0.75, 0.875)
    assert lenient["roc_auc"] == report["roc_auc"]


# Thresholds chosen on validation ----------------------------------------------------


def test_best_threshold_maximizes_the_metric_over_every_cut_as_a_brute_force_search_does():
    rng = np.random.default_rng(3)
    for trial in range(30):
        labels = rng.random(40) < 0.2
        scores = np.round(np.clip(rng.normal(0.3 + 0.3 * labels, 0.2), 0.001, 0.999), 2)  # rounded: ties
        for metric, of in (("accuracy", lambda p: np.mean(p == labels)),
                           ("f1", lambda p: 2 * np.sum(p & labels) / max(np.sum(p) + np.sum(labels), 1))):
            threshold = metrics.best_threshold(labels, scores, metric)
            every = [of(scores >= cut) for cut in np.r_[np.unique(scores), 1.0]]
            assert of(scores >= threshold) == pytest.approx(max(every)), (trial, metric)
            assert not np.any(np.isclose(scores, threshold))  # halfway between two scores, never on one


def test_best_threshold_prefers_the_one_nearest_a_half_on_a_tie_and_holds_extremes():
    # Perfectly separated: every cut between 0.3 and 0.7 is right; the midpoint of the gap is 0.5.
    assert metrics.best_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.3, 0.7, 0.9]), "accuracy") == 0.5
    # Nothing positive: calling nothing positive is best, above the highest score.
    assert metrics.best_threshold(np.array([0, 0, 0]), np.array([0.2, 0.4, 0.6]), "accuracy") > 0.6


def test_a_task_chooses_its_threshold_for_its_main_metric_unless_the_dataset_fixes_one():
    labels = np.array([0] * 8 + [1] * 2)
    probabilities = np.array([0.05, 0.1, 0.1, 0.15, 0.2, 0.2, 0.25, 0.42, 0.3, 0.45])
    logits = np.log(probabilities / (1 - probabilities))[:, None]
    by_accuracy = tasks.Binary(["no", "yes"], threshold=None)
    by_f1 = tasks.Binary(["no", "yes"], threshold=None, metric="f1")
    assert by_f1.main_metric == "f1" and by_accuracy.main_metric == "accuracy"
    # F1 wants both positives (cut under 0.3, one false positive at 0.42); accuracy ties that cut (0.9) with the one
    # above 0.42 (one false negative), which is nearer 0.5.
    f1_cut = by_f1.chosen_threshold(labels, logits)
    assert 0.25 < f1_cut < 0.3 and by_f1.with_threshold(f1_cut).score(labels, logits) == pytest.approx(0.8)
    score, threshold = by_accuracy.validation_score(labels, logits)
    assert score == pytest.approx(0.9) and by_accuracy.with_threshold(threshold).predicted(
        by_accuracy.probabilities(logits)).sum() == 1
    # At the usual 0.5 nothing is positive: accuracy 0.8, F1 0.
    assert tasks.Binary(["no", "yes"]).score(labels, logits) == pytest.approx(0.8)
    fixed = tasks.Binary(["no", "yes"], threshold=0.5, metric="f1")
    assert fixed.chosen_threshold(labels, logits) == 0.5 and fixed.validation_score(labels, logits) == (0.0, 0.5)
    assert tasks.MultiClass(["a", "b", "c"], threshold=None).chosen_threshold(np.array([0]), np.zeros((1, 3))) == 0.5


def test_multi_label_threshold_maximizes_micro_f1_when_the_main_metric_is_roc_auc():
    truth = np.array([[1, 0], [1, 1], [0, 0], [0, 1]])
    probabilities = np.array([[0.4, 0.1], [0.35, 0.3], [0.2, 0.05], [0.1, 0.32]])
    logits = np.log(probabilities / (1 - probabilities))
    task = tasks.MultiLabel(["a", "b"], threshold=None)
    threshold = task.chosen_threshold(truth, logits)
    assert 0.2 < threshold < 0.3  # every true label is at or above 0.3, every other under 0.2
    assert task.with_threshold(threshold).report(truth, logits)["f1_micro"] == 1.0


def test_a_metric_the_task_does_not_report_is_refused():
    with pytest.raises(TextclfError, match=r"metric must be one of accuracy, roc_auc, f1 for a binary task, got 'macro_f1'"):
        tasks.Binary(["a", "b"], metric="macro_f1")


def test_prior_logits_give_back_the_class_shares():
    np.testing.assert_allclose(metrics.sigmoid(BINARY.prior_logits(np.array([9]), 38)), [10 / 40])
    shares = metrics.softmax(tasks.MultiClass(["a", "b", "c"]).prior_logits(np.array([1, 2, 6]), 9)[None, :])[0]
    np.testing.assert_allclose(shares, [2 / 12, 3 / 12, 7 / 12], rtol=1e-6)


# Six examples of three classes: actual -> predicted 0->0, 0->0, 0->1, 1->1, 1->2, 2->2.
MULTI_CLASS_LABELS = np.array([0, 0, 0, 1, 1, 2])
MULTI_CLASS_PREDICTED = np.array([0, 0, 1, 1, 2, 2])


def multi_class_logits():
    logits = np.zeros((6, 3))
    logits[np.arange(6), MULTI_CLASS_PREDICTED] = 2.0
    return logits


def test_multi_class_report_on_a_hand_checked_example():
    logits = multi_class_logits()
    report = RATINGS.report(MULTI_CLASS_LABELS, logits)
    assert set(report) == {"accuracy", "loss", "macro_f1", "weighted_f1", "mean_absolute_error", "per_class", "confusion_matrix"}
    assert report["accuracy"] == pytest.approx(4 / 6, abs=1e-6)
    # Per class (precision, recall, F1): "1" (1, 2/3, 0.8), "2" (1/2, 1/2, 1/2), "10" (1/2, 1, 2/3).
    assert report["per_class"]["1"] == {"precision": 1.0, "recall": 0.666667, "f1": 0.8, "support": 3}
    assert report["per_class"]["2"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert report["per_class"]["10"] == {"precision": 0.5, "recall": 1.0, "f1": 0.666667, "support": 1}
    assert report["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3, abs=1e-6)
    assert report["weighted_f1"] == pytest.approx((0.8 * 3 + 0.5 * 2 + 2 / 3 * 1) / 6, abs=1e-6)
    # Star values 1, 2, 10: the errors are 0, 0, 1, 0, 8, 0 stars.
    assert report["mean_absolute_error"] == 1.5
    assert report["confusion_matrix"] == {
        "1": {"1": 2, "2": 1, "10": 0},
        "2": {"1": 0, "2": 1, "10": 1},
        "10": {"1": 0, "2": 0, "10": 1},
    }
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected_loss = -np.mean(np.log(probabilities[np.arange(6), MULTI_CLASS_LABELS]))
    assert report["loss"] == pytest.approx(expected_loss, abs=1e-6)


def test_multi_class_report_has_no_mean_absolute_error_for_named_classes():
    report = COLOURS.report(MULTI_CLASS_LABELS, multi_class_logits())
    assert "mean_absolute_error" not in report
    assert list(report["per_class"]) == list(report["confusion_matrix"]) == ["red", "green", "blue"]
    assert report["macro_f1"] == RATINGS.report(MULTI_CLASS_LABELS, multi_class_logits())["macro_f1"]


# Four examples of four labels; Western is in none of them, and predicted once.
MULTI_LABEL_TRUTH = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0]])
MULTI_LABEL_PROBABILITIES = np.array([
    [0.9, 0.45, 0.1, 0.3],  # Comedy: right
    [0.6, 0.4, 0.2, 0.1],  # Comedy, Drama: Drama missed
    [0.3, 0.7, 0.8, 0.6],  # Drama, Horror: Western too
    [0.2, 0.1, 0.5, 0.2],  # Horror, at exactly the threshold: right
])


def test_multi_label_report_on_a_hand_checked_example():
    logits = logit(MULTI_LABEL_PROBABILITIES)  # Horror's 0.5 in the last row is a logit of exactly 0
    report = GENRES.report(MULTI_LABEL_TRUTH, logits)
    assert set(report) == {"roc_auc_micro", "roc_auc_macro", "precision_micro", "recall_micro", "f1_micro",
                           "precision_macro", "recall_macro", "f1_macro", "subset_accuracy", "hamming_loss", "loss",
                           "threshold", "per_label"}
    # 5 true positives among 6 predicted and 6 actual labels.
    assert report["precision_micro"] == report["recall_micro"] == report["f1_micro"] == pytest.approx(5 / 6, abs=1e-6)
    # Per label (precision, recall, F1): Comedy (1, 1, 1), Drama (1, 1/2, 2/3), Horror (1, 1, 1), Western (0, 0, 0).
    assert report["precision_macro"] == 0.75
    assert report["recall_macro"] == 0.625
    assert report["f1_macro"] == pytest.approx((1 + 2 / 3 + 1 + 0) / 4, abs=1e-6)
    assert report["subset_accuracy"] == 0.5  # rows 1 and 4
    assert report["hamming_loss"] == 2 / 16
    assert report["threshold"] == 0.5
    # Drama's scores: positives 0.4, 0.7 against negatives 0.45, 0.1: 3 of 4 pairs in order.
    assert report["per_label"]["Drama"] == {"support": 2, "roc_auc": 0.75, "precision": 1.0, "recall": 0.5, "f1": 0.666667}
    assert report["per_label"]["Comedy"]["roc_auc"] == report["per_label"]["Horror"]["roc_auc"] == 1.0
    assert report["per_label"]["Western"] == {"support": 0, "precision": 0.0, "recall": 0.0, "f1": 0.0}  # no AUC
    assert report["roc_auc_macro"] == pytest.approx((1 + 0.75 + 1) / 3, abs=1e-6)  # over the labels that have one
    # Micro: 6 positive and 10 negative scores; 56.5 of the 60 pairs in order (one tie at 0.6).
    assert report["roc_auc_micro"] == pytest.approx(56.5 / 60, abs=1e-6)
    p, y = GENRES.probabilities(logits), MULTI_LABEL_TRUTH
    assert report["loss"] == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), abs=1e-6)


def test_multi_label_report_follows_the_threshold():
    strict = tasks.MultiLabel(GENRES.classes, threshold=0.65)
    report = strict.report(MULTI_LABEL_TRUTH, logit(MULTI_LABEL_PROBABILITIES))
    # At 0.65: Comedy 0.9, Drama 0.7, Horror 0.8 are predicted; Western's 0.6 no longer is.
    assert report["threshold"] == 0.65
    assert report["precision_micro"] == 1.0 and report["recall_micro"] == 0.5
    assert report["per_label"]["Western"]["precision"] == 0.0


def test_multi_label_report_when_no_label_has_an_auc():
    task = tasks.MultiLabel(["a", "b"], threshold=0.5)
    report = task.report(np.array([[1, 0], [1, 0]]), np.array([[1.0, -1.0], [2.0, -2.0]]))
    assert report["roc_auc_macro"] == 0.0
    assert all("roc_auc" not in entry for entry in report["per_label"].values())


def test_curves_are_one_vs_rest_per_class_and_one_for_binary():
    probabilities = COLOURS.probabilities(multi_class_logits())
    curves = COLOURS.curves(MULTI_CLASS_LABELS, probabilities)
    assert list(curves) == ["red", "green", "blue"]
    assert curves["green"][0].tolist() == [False, False, False, True, True, False]
    np.testing.assert_array_equal(curves["green"][1], probabilities[:, 1])
    binary = BINARY.curves(np.array([0, 1]), np.array([[0.8, 0.2], [0.1, 0.9]]))
    assert list(binary) == ["positive"] and binary["positive"][1].tolist() == [0.2, 0.9]


# What predict prints ----------------------------------------------------------


def test_binary_prediction_names_the_label_and_the_second_class_probability():
    assert BINARY.prediction(np.array([0.8, 0.2]), top_k=3) == {
        "label": "negative", "probability": 0.2, "probabilities": {"negative": 0.8, "positive": 0.2}}
    assert BINARY.prediction(np.array([0.5, 0.5]), top_k=3)["label"] == "positive"
    assert BINARY.score_heading == "P(positive)"
    assert BINARY.cells(BINARY.prediction(np.array([0.25, 0.75]), top_k=3)) == ("positive", "0.750")
    assert BINARY.cells(BINARY.prediction(np.array([0.8, 0.2]), top_k=3)) == ("negative", "0.200")


def test_multi_class_prediction_is_the_most_probable_class():
    prediction = RATINGS.prediction(np.array([0.1, 0.2, 0.7]), top_k=3)
    assert prediction == {"label": "10", "probability": 0.7, "probabilities": {"1": 0.1, "2": 0.2, "10": 0.7}}
    assert RATINGS.cells(prediction) == ("10", "0.700")
    assert RATINGS.score_heading == "P"


def test_multi_label_prediction_lists_the_labels_at_or_above_the_threshold_and_the_top_k():
    probabilities = np.array([0.2, 0.9, 0.5, 0.6])
    prediction = GENRES.prediction(probabilities, top_k=2)
    assert prediction == {
        "labels": ["Drama", "Western", "Horror"],  # most probable first; 0.5 is at the threshold
        "top": [["Drama", 0.9], ["Western", 0.6]],
        "threshold": 0.5,
        "probabilities": {"Comedy": 0.2, "Drama": 0.9, "Horror": 0.5, "Western": 0.6},
    }
    assert GENRES.cells(prediction) == ("Drama, Western, Horror", "Drama 0.900*, Western 0.600*")
    below = GENRES.prediction(np.array([0.1, 0.4, 0.3, 0.2]), top_k=2)
    assert below["labels"] == [] and GENRES.cells(below) == ("-", "Drama 0.400, Horror 0.300")
    lenient = tasks.MultiLabel(GENRES.classes, threshold=0.15)
    assert lenient.prediction(probabilities, top_k=9)["labels"] == ["Drama", "Western", "Horror", "Comedy"]
    assert len(lenient.prediction(probabilities, top_k=9)["top"]) == 4


# The task prepare settles for a dataset, read back by every later stage ------------


def test_a_task_is_written_and_read_back(tmp_path):
    path = tmp_path / "task.json"
    for task in (tasks.Binary(["neg", "pos"]), tasks.MultiClass([3, 1]), tasks.MultiLabel(["a", "b", "c"], threshold=0.4)):
        path.write_text(json.dumps(task.describe()))
        again = tasks.read_task(path)
        assert type(again) is type(task) and again.classes == task.classes and again.threshold == task.threshold
        assert again.main_metric == task.main_metric and again.fixed_threshold
    assert tasks.read_task(path).units == 3 and tasks.MultiClass([3, 1]).classes == ["3", "1"]
    chosen_later = tasks.Binary(["no", "yes"], threshold=None, metric="f1")
    path.write_text(json.dumps(chosen_later.describe()))
    again = tasks.read_task(path)
    assert (again.main_metric, again.fixed_threshold, again.threshold) == ("f1", False, 0.5)


def test_a_missing_or_broken_task_file_says_what_to_run(tmp_path):
    path = tmp_path / "d" / "task.json"
    with pytest.raises(TextclfError, match=r"task.json not found \(run `dvc repro prepare@d`\)"):
        tasks.read_task(path)
    path.parent.mkdir()
    path.write_text('{"task": "regression", "classes": ["a"], "threshold": 0.5}')
    with pytest.raises(TextclfError, match=r"is not a task description \('regression'\); run `dvc repro prepare@d`"):
        tasks.read_task(path)


def test_a_binary_task_needs_exactly_two_classes():
    with pytest.raises(TextclfError, match=r"a binary task needs exactly two classes, got 3: \['neg', 'neutral', 'pos'\]"):
        tasks.Binary(["neg", "neutral", "pos"])


# Each task's loss teaches a real model ---------------------------------------

CUES = {"red": "apple cherry ruby", "green": "grass leaf lime", "blue": "sky ocean sapphire", "grey": "ash smoke slate"}
FILLER = "the a of and it was this that with on some".split()
CUE_TASKS = {
    "binary": tasks.Binary(["red", "green"]),
    "multi_class": tasks.MultiClass(["red", "green", "blue"]),
    "multi_label": tasks.MultiLabel(["red", "green", "blue", "grey"], threshold=0.5),
}


def cue_texts(task, count, seed):
    """Texts of filler and two cue words of each of their classes, with their labels as ``task`` stores them.

    Binary and multi-class texts have one class; every third multi-label text has two.
    """
    rng = random.Random(seed)
    texts, labels = [], []
    for number in range(count):
        chosen = [number % len(task.classes)]
        if task.name == "multi_label" and number % 3 == 0:
            chosen.append((chosen[0] + 1 + rng.randrange(len(task.classes) - 1)) % len(task.classes))
        words = [rng.choice(FILLER) for _ in range(rng.randint(4, 10))]
        words += [rng.choice(CUES[task.classes[k]].split()) for k in chosen for _ in range(2)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(sorted(chosen) if task.name == "multi_label" else chosen[0])
    return texts, task.label_array(pd.Series(labels))


def encoded(kind_name, train_texts, *other_texts):
    """A real feature kind fitted on ``train_texts``: the arrays of each list of texts, and the model's input width."""
    kind = vectorizing.KINDS[kind_name]
    settings = {"kind": kind_name, "dataset": "cues", "max_tokens": 200, "standardize": "lower_and_strip_punctuation"}
    settings |= {"sequence": {"sequence_length": 16}, "ngrams": {"ngrams": 1}}[kind_name]
    vocabulary = kind.fit(settings, train_texts)
    vectorizer = kind.vectorizer(settings, vocabulary)
    arrays = [kind.encode(vectorizer, texts) for texts in (train_texts, *other_texts)]
    return arrays, vectorizing.vocabulary_size(vocabulary, kind_name)


LEARNING = {
    "bow_mean": {"embedding_dim": 8, "hidden_units": 16, "mask_padding": True, "learning_rate": 0.03, "epochs": 15},
    "ngram": {"weighting": "naive_bayes", "l2": 0.0, "learning_rate": 0.05, "epochs": 5},
}
# The task's main metric on held-out texts, and how high it must get.
LEARNT = {"binary": ("accuracy", 0.95), "multi_class": ("macro_f1", 0.9), "multi_label": ("roc_auc_micro", 0.95)}


@pytest.mark.parametrize("architecture", sorted(LEARNING))
@pytest.mark.parametrize("name", sorted(CUE_TASKS))
def test_each_tasks_loss_teaches_a_real_model(name, architecture):
    seed_everything(0)
    task, spec = CUE_TASKS[name], zoo.MODELS[architecture]
    train_texts, train_labels = cue_texts(task, 96, seed=1)
    test_texts, test_labels = cue_texts(task, 48, seed=2)
    (train, test), width = encoded(spec.features, train_texts, test_texts)
    hparams = LEARNING[architecture] | {"seed": 0, "batch_size": 16, "patience": 30, "class_weight": "balanced"}
    model, rows, _ = fitting.train_model(spec, hparams, width, (train, train_labels), (test, test_labels), task)
    assert model.output_shape == (None, task.units)
    assert rows[-1]["loss"] < rows[0]["loss"]
    assert fitting.predict_logits(model, test, test_labels, width).shape == (48, task.units)
    report = fitting.evaluate(model, test, test_labels, width, task)
    metric, floor = LEARNT[name]
    assert report[metric] >= floor, report
