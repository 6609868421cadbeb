"""DVC plot data (CSV) and Matplotlib PNGs of it, for people reading the repo on the web."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from textclf.tasks import (
    Task,  # noqa: E402
    metrics,  # noqa: E402
)

CURVE_POINTS = 200  # per curve: plenty for a smooth line, small enough to commit

# No creation date or software version in the PNG: the same data gives the same bytes.
_PNG_METADATA = {"Software": None}


def _save(figure, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=100, format="png", metadata=_PNG_METADATA)
    plt.close(figure)


def confusion_matrix_png(matrix: np.ndarray, classes: list[str], path: Path) -> None:
    """[actual, predicted] counts as a heat map, each cell labelled."""
    size = len(classes)
    figure, axes = plt.subplots(figsize=(4, 3.6) if size <= 2 else (1.6 + 0.55 * size, 1.2 + 0.55 * size))
    axes.imshow(matrix, cmap="Blues")
    for (row, column), value in np.ndenumerate(matrix):
        colour = "white" if value > matrix.max() / 2 else "black"
        axes.text(column, row, f"{value:,}", ha="center", va="center", color=colour, fontsize=10 if size <= 4 else 8)
    axes.set_xticks(range(size), classes, rotation=0 if size <= 4 else 45)
    axes.set_yticks(range(size), classes)
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual")
    axes.set_title("Confusion matrix (test)")
    _save(figure, path)


def curve_png(curves: dict[str, tuple], path: Path, xlabel: str, ylabel: str, title: str, diagonal: bool = False) -> None:
    """One line per class (a single curve has no legend)."""
    figure, axes = plt.subplots(figsize=(4, 4) if len(curves) == 1 else (5.5, 4.5))
    for name, (x, y) in curves.items():
        axes.plot(x, y, linewidth=2 if len(curves) == 1 else 1.2, label=name)
    if diagonal:
        axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    axes.set(xlabel=xlabel, ylabel=ylabel, title=title, xlim=(0, 1), ylim=(0, 1.01))
    axes.grid(alpha=0.3)
    if len(curves) > 1:
        axes.legend(fontsize=7, loc="lower right" if diagonal else "lower left")
    _save(figure, path)


def per_class_png(table, metrics_shown: list[str], path: Path, title: str) -> None:
    """Grouped horizontal bars: one group per class or label, one bar per metric."""
    names = list(table["class"])[::-1]
    positions = np.arange(len(names))
    height = 0.8 / len(metrics_shown)
    figure, axes = plt.subplots(figsize=(6, 1 + 0.45 * len(names) * len(metrics_shown)))
    for offset, metric in enumerate(metrics_shown):
        values = list(table[metric])[::-1]
        bars = axes.barh(positions + (offset - (len(metrics_shown) - 1) / 2) * height, values, height=height, label=metric)
        axes.bar_label(bars, labels=[f"{v:.3f}" for v in values], fontsize=7, padding=2)
    axes.set_yticks(positions, names)
    axes.set(xlim=(0, 1.1), title=title)
    axes.grid(axis="x", alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
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


def leaderboard_png(rows: list[dict], metric: str, label: str, title: str, path: Path) -> None:
    names = [row["model"] for row in rows][::-1]
    values = [row[metric] for row in rows][::-1]
    figure, axes = plt.subplots(figsize=(6, 0.5 + 0.5 * len(rows)))
    bars = axes.barh(names, values, color="tab:blue")
    axes.bar_label(bars, labels=[f"{v:.4f}" for v in values], padding=3)
    low = min(values)
    axes.set(xlabel=label, xlim=(max(0.0, low - 0.05), 1.0), title=title)
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


def _curve_table(curves: dict[str, tuple], columns: tuple[str, str, str]) -> pd.DataFrame:
    """Thinned curve points; a ``class`` column when there is more than one curve."""
    parts = []
    for name, values in curves.items():
        keep = metrics.thin(len(values[0]), CURVE_POINTS)
        part = pd.DataFrame({column: np.asarray(value)[keep] for column, value in zip(columns, values)})
        parts.append(part if len(curves) == 1 else part.assign(**{"class": name})[["class", *columns]])
    return pd.concat(parts, ignore_index=True).round(6)


def evaluation_plots(task: Task, labels: np.ndarray, probabilities: np.ndarray, report: dict, model: str,
                     directory: Path) -> None:
    """The test-set plots of one model: ROC and precision-recall per class (the positive class
    alone for binary), the confusion matrix (single-label tasks) and per-class bars (multi-label)."""
    roc, pr = {}, {}
    for name, (truth, scores) in task.curves(labels, probabilities).items():
        fpr, tpr, roc_thresholds = metrics.roc_curve(truth, scores)
        precision, recall, pr_thresholds = metrics.precision_recall_curve(truth, scores)
        roc[name], pr[name] = (fpr, tpr, roc_thresholds), (recall, precision, pr_thresholds)
    predicted = task.predicted(probabilities)
    if predicted.ndim == 1:  # one class per example: a confusion matrix says where the errors go
        pd.DataFrame({"actual": np.asarray(task.classes)[labels], "predicted": np.asarray(task.classes)[predicted]}).to_csv(
            directory / "confusion.csv", index=False)
        confusion_matrix_png(metrics.confusion_matrix(labels, predicted, len(task.classes)), task.classes,
                             directory / "confusion_matrix.png")
    _curve_table(roc, ("fpr", "tpr", "threshold")).to_csv(directory / "roc.csv", index=False)
    _curve_table(pr, ("recall", "precision", "threshold")).to_csv(directory / "precision_recall.csv", index=False)
    auc = f" (AUC {report['roc_auc']:.3f})" if "roc_auc" in report else ""
    curve_png({name: points[:2] for name, points in roc.items()}, directory / "roc.png", "false positive rate",
              "true positive rate", f"{model}: ROC{auc}", diagonal=True)
    curve_png({name: points[:2] for name, points in pr.items()}, directory / "precision_recall.png", "recall",
              "precision", f"{model}: precision-recall (test)")
    per_class = report.get("per_label") or report.get("per_class")
    if per_class:
        shown = ["roc_auc", "f1"] if "per_label" in report else ["precision", "recall", "f1"]
        table = pd.DataFrame([{"class": name, **{key: values.get(key, 0.0) for key in [*shown, "support"]}}
                              for name, values in per_class.items()])
        table.to_csv(directory / "per_class.csv", index=False)
        per_class_png(table, shown, directory / "per_class.png", f"{model}: per {'label' if 'per_label' in report else 'class'} (test)")
