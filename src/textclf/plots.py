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


def leaderboard_png(rows: list[dict], path: Path) -> None:
    names = [row["model"] for row in rows][::-1]
    accuracies = [row["accuracy"] for row in rows][::-1]
    figure, axes = plt.subplots(figsize=(6, 0.5 + 0.5 * len(rows)))
    bars = axes.barh(names, accuracies, color="tab:blue")
    axes.bar_label(bars, labels=[f"{a:.4f}" for a in accuracies], padding=3)
    low = min(accuracies)
    axes.set(xlabel="test accuracy", xlim=(max(0.0, low - 0.05), 1.0), title="Leaderboard (IMDB test)")
    axes.grid(axis="x", alpha=0.3)
    _save(figure, path)


def transfer_grid_png(grid: dict, setups: list[str], path: Path) -> None:
    """Seed 001's grid as grouped bars: train and test accuracy per setup."""
    shown = [setup for setup in setups if setup in grid]
    positions = np.arange(len(shown))
    figure, axes = plt.subplots(figsize=(7, 3.6))
    for offset, split in ((-0.2, "train"), (0.2, "test")):
        values = [grid[setup][f"{split}_accuracy"] for setup in shown]
        bars = axes.bar(positions + offset, values, width=0.4, label=split)
        axes.bar_label(bars, labels=[f"{v:.3f}" for v in values], fontsize=8, padding=2)
    axes.set_xticks(positions, [setup.replace("_", "\n") for setup in shown])
    axes.set(ylabel="accuracy", ylim=(0.5, 1.02), title="Pretrained vs random, frozen vs fine-tuned")
    axes.legend(loc="lower right")
    axes.grid(axis="y", alpha=0.3)
    _save(figure, path)


def learning_curve_png(curve, path: Path) -> None:
    """Test accuracy against labelled reviews (log scale), one line per setup."""
    figure, axes = plt.subplots(figsize=(6, 4))
    for setup in curve.columns.drop("labelled_reviews"):
        axes.plot(curve["labelled_reviews"], curve[setup], marker="o", label=setup)
    axes.set_xscale("log")
    axes.set(xlabel="labelled training reviews", ylabel="test accuracy", title="Where pretraining pays off")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    _save(figure, path)
