"""Matplotlib PNGs of the DVC plot data, for people reading the repo on the web."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# No creation date or software version in the PNG: the same data gives the same bytes.
_PNG_METADATA = {"Software": None}


def _save(figure, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=100, format="png", metadata=_PNG_METADATA)
    plt.close(figure)


def confusion_matrix_png(counts: dict[str, int], path: Path) -> None:
    matrix = np.array(
        [[counts["true_negatives"], counts["false_positives"]], [counts["false_negatives"], counts["true_positives"]]]
    )
    figure, axes = plt.subplots(figsize=(4, 3.6))
    axes.imshow(matrix, cmap="Blues")
    for (row, column), value in np.ndenumerate(matrix):
        colour = "white" if value > matrix.max() / 2 else "black"
        axes.text(column, row, f"{value:,}", ha="center", va="center", color=colour)
    axes.set_xticks([0, 1], ["neg", "pos"])
    axes.set_yticks([0, 1], ["neg", "pos"])
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual")
    axes.set_title("Confusion matrix (test)")
    _save(figure, path)


def curve_png(x, y, path: Path, xlabel: str, ylabel: str, title: str, diagonal: bool = False) -> None:
    figure, axes = plt.subplots(figsize=(4, 4))
    axes.plot(x, y, linewidth=2)
    if diagonal:
        axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    axes.set(xlabel=xlabel, ylabel=ylabel, title=title, xlim=(0, 1), ylim=(0, 1.01))
    axes.grid(alpha=0.3)
    _save(figure, path)


def training_curves_png(rows: list[dict], best_epoch: int, path: Path) -> None:
    epochs = [row["epoch"] for row in rows]
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(8, 3.4))
    for axes, metric in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        axes.plot(epochs, [row[metric] for row in rows], label=f"train {metric}")
        axes.plot(epochs, [row[f"val_{metric}"] for row in rows], label=f"validation {metric}")
        axes.axvline(best_epoch, color="grey", linestyle=":", label="kept weights")
        axes.set(xlabel="epoch", ylabel=metric)
        axes.grid(alpha=0.3)
        axes.legend()
    _save(figure, path)
