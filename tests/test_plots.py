"""The PNG writers: a real image, and the same data gives the same bytes (no date or version inside)."""

import pandas as pd
import pytest

from textclf import plots

ROWS = [{"epoch": epoch, "loss": 1 / epoch, "accuracy": 1 - 0.5 / epoch, "val_loss": 1.1 / epoch,
         "val_accuracy": 0.9 - 0.4 / epoch} for epoch in (1, 2, 3)]
DRAWINGS = {
    "training_curves": lambda path: plots.training_curves_png(ROWS, 2, path),
    "confusion_matrix": lambda path: plots.confusion_matrix_png(
        {"true_negatives": 40, "false_positives": 10, "false_negatives": 5, "true_positives": 45}, path),
    "roc": lambda path: plots.curve_png([0, 0.2, 1], [0, 0.8, 1], path, "fpr", "tpr", "ROC", diagonal=True),
    "leaderboard": lambda path: plots.leaderboard_png([{"model": "a", "accuracy": 0.9}, {"model": "b", "accuracy": 0.8}], path),
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
