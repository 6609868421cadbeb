"""The plot writers: a real image, the same data gives the same bytes (no date or version inside), and
each task gets the evaluation plots dvc.yaml draws for it."""

import numpy as np
import pandas as pd
import pytest

from textclf import tasks
from textclf.reporting import plots

ROWS = [{"epoch": epoch, "loss": 1 / epoch, "accuracy": 1 - 0.5 / epoch, "val_loss": 1.1 / epoch,
         "val_accuracy": 0.9 - 0.4 / epoch} for epoch in (1, 2, 3)]
PER_CLASS = pd.DataFrame({"class": ["Comedy", "Horror"], "roc_auc": [0.9, 0.7], "f1": [0.8, 0.5], "support": [10, 4]})
DRAWINGS = {
    "training_curves": lambda path: plots.training_curves_png(ROWS, 2, path),
    "confusion_matrix": lambda path: plots.confusion_matrix_png(np.array([[40, 10], [5, 45]]), ["negative", "positive"], path),
    "confusion_matrix_8_classes": lambda path: plots.confusion_matrix_png(
        np.arange(64).reshape(8, 8), ["1", "2", "3", "4", "7", "8", "9", "10"], path),
    "roc": lambda path: plots.curve_png({"positive": ([0, 0.2, 1], [0, 0.8, 1])}, path, "fpr", "tpr", "ROC", diagonal=True),
    "roc_per_class": lambda path: plots.curve_png(
        {"Comedy": ([0, 0.2, 1], [0, 0.8, 1]), "Horror": ([0, 0.5, 1], [0, 0.6, 1])}, path, "fpr", "tpr", "ROC", diagonal=True),
    "per_class": lambda path: plots.per_class_png(PER_CLASS, ["roc_auc", "f1"], path, "per label"),
    "leaderboard": lambda path: plots.leaderboard_png(
        [{"model": "a", "accuracy": 0.9}, {"model": "b", "accuracy": 0.8}], "accuracy", "test accuracy", "Leaderboard", path),
    "transfer_grid": lambda path: plots.transfer_grid_png(
        {"frozen": {"train_accuracy": 0.8, "test_accuracy": 0.75}}, ["frozen", "absent"], path),
    "learning_curve": lambda path: plots.learning_curve_png(
        pd.DataFrame({"labelled_reviews": [250, 1000], "frozen": [0.6, 0.7]}), path),
}


@pytest.mark.parametrize("name", sorted(DRAWINGS))
def test_each_chart_is_a_png_with_the_same_bytes_every_time(name, tmp_path):
    DRAWINGS[name](tmp_path / "first.png")
    DRAWINGS[name](tmp_path / "second.png")
    first = (tmp_path / "first.png").read_bytes()
    assert first.startswith(b"\x89PNG\r\n\x1a\n") and len(first) > 2000
    assert first == (tmp_path / "second.png").read_bytes()
    assert b"Software" not in first and b"matplotlib" not in first.lower()


def binary_case():
    """A binary task's test labels and [n, 2] probabilities, as evaluate has them."""
    task = tasks.Binary(["negative", "positive"])
    labels = np.array([0, 1] * 20)
    logits = np.where(labels == 1, 1.0, -1.0) + np.linspace(-1.5, 1.5, len(labels))
    return task, labels, logits


def multi_class_case():
    task = tasks.MultiClass(["1", "2", "9", "10"])
    labels = np.arange(40) % 4
    logits = np.eye(4)[labels] * 2.0 + np.random.default_rng(0).normal(0, 1, (40, 4))
    return task, labels, logits


def multi_label_case():
    task = tasks.MultiLabel(["Comedy", "Horror", "Romance"], threshold=0.5)
    labels = (np.random.default_rng(1).random((40, 3)) < 0.4).astype(np.int32)
    labels[0] = [1, 1, 1]  # every label has an example
    logits = labels * 2.0 - 1.0 + np.random.default_rng(2).normal(0, 1, (40, 3))
    return task, labels, logits


# What evaluate writes into plots/models/<model>/ for each task (dvc.yaml's charts draw these files).
EXPECTED_FILES = {
    "binary": {"roc.csv", "precision_recall.csv", "confusion.csv", "roc.png", "precision_recall.png",
               "confusion_matrix.png"},
    "multi_class": {"roc.csv", "precision_recall.csv", "confusion.csv", "roc.png", "precision_recall.png",
                    "confusion_matrix.png", "per_class.csv", "per_class.png"},
    "multi_label": {"roc.csv", "precision_recall.csv", "roc.png", "precision_recall.png", "per_class.csv",
                    "per_class.png"},
}
CASES = {"binary": binary_case, "multi_class": multi_class_case, "multi_label": multi_label_case}


def evaluation_plots(case, directory):
    task, labels, logits = CASES[case]()
    report = task.report(labels, logits)
    plots.evaluation_plots(task, labels, task.probabilities(logits), report, "model", directory)
    return task


@pytest.mark.parametrize("case", sorted(CASES))
def test_evaluation_plots_write_what_each_task_has_and_the_same_bytes_twice(case, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    evaluation_plots(case, first)
    evaluation_plots(case, second)
    assert {path.name for path in first.iterdir()} == EXPECTED_FILES[case]
    for path in first.iterdir():
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name


def test_binary_curves_are_one_curve_of_the_positive_class(tmp_path):
    evaluation_plots("binary", tmp_path)
    roc = pd.read_csv(tmp_path / "roc.csv")
    assert list(roc.columns) == ["fpr", "tpr", "threshold"]
    assert roc["fpr"].is_monotonic_increasing and roc["tpr"].is_monotonic_increasing
    confusion = pd.read_csv(tmp_path / "confusion.csv")
    assert list(confusion.columns) == ["actual", "predicted"] and len(confusion) == 40
    assert set(confusion["actual"]) == {"negative", "positive"}


def test_multi_class_plots_name_each_class(tmp_path):
    task = evaluation_plots("multi_class", tmp_path)
    roc = pd.read_csv(tmp_path / "roc.csv", dtype={"class": str})
    assert list(roc.columns) == ["class", "fpr", "tpr", "threshold"]
    assert sorted(roc["class"].unique()) == sorted(task.classes)
    per_class = pd.read_csv(tmp_path / "per_class.csv", dtype={"class": str})
    assert list(per_class.columns) == ["class", "precision", "recall", "f1", "support"]
    assert list(per_class["class"]) == task.classes and per_class["support"].sum() == 40
    assert set(pd.read_csv(tmp_path / "confusion.csv", dtype=str)["predicted"]) <= set(task.classes)


def test_multi_label_plots_have_a_curve_and_a_bar_per_label(tmp_path):
    task = evaluation_plots("multi_label", tmp_path)
    precision_recall = pd.read_csv(tmp_path / "precision_recall.csv")
    assert list(precision_recall.columns) == ["class", "recall", "precision", "threshold"]
    assert sorted(precision_recall["class"].unique()) == sorted(task.classes)
    per_class = pd.read_csv(tmp_path / "per_class.csv")
    assert list(per_class.columns) == ["class", "roc_auc", "f1", "support"]
    assert list(per_class["class"]) == task.classes
    assert per_class["roc_auc"].between(0, 1).all() and per_class["roc_auc"].mean() > 0.7
