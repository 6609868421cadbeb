"""Transfer-learning analysis: seed 001's {pretrained, random} x {frozen, fine-tuned} grid
and a learning curve over the number of labelled reviews."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from textclf.core.errors import TextclfError
from textclf.reporting import leaderboard


def balanced_subset(labels: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Indices of ``size`` reviews, half of each label, the same for every setup of one size.

    Smaller subsets are prefixes of larger ones (one seeded order per label), so
    the curve adds data rather than redrawing it.
    """
    if size >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    per_label = [rng.permutation(np.flatnonzero(labels == label)) for label in (0, 1)]
    half = size // 2
    return np.sort(np.concatenate([per_label[0][: size - half], per_label[1][:half]]))


def collect(setups: list[str], sizes: list[int], cells_dir: Path) -> dict:
    """Every cell's metrics, checked, as {setup: {size: cell}} (one file per setup, one entry per size)."""
    keys = ["train_accuracy", "test_accuracy", "labelled_reviews"]
    cells = {}
    for setup in setups:
        path = cells_dir / f"{setup}.json"
        by_size = leaderboard.read_json(path)
        missing = [size for size in sizes if str(size) not in by_size]
        if missing:
            raise TextclfError(f"{path} has no cell for {missing[0]} labelled reviews (run `dvc repro transfer@{setup}`)")
        cells[setup] = {size: leaderboard.checked_numbers(by_size[str(size)], keys, f"{path}, size {size}") for size in sizes}
    return cells


def summary(cells: dict, sizes: list[int]) -> dict:
    """The grid at the largest size and the learning curves, ready for JSON."""
    if not sizes:
        raise TextclfError("params.yaml: transfer.sizes is empty")
    largest = max(sizes)
    return {
        "grid": {
            setup: {"train_accuracy": by_size[largest]["train_accuracy"], "test_accuracy": by_size[largest]["test_accuracy"]}
            for setup, by_size in cells.items()
        },
        "learning_curve": {
            setup: {str(size): by_size[size]["test_accuracy"] for size in sorted(sizes)} for setup, by_size in cells.items()
        },
    }


def grid_markdown(grid: dict, setups: list[str]) -> str:
    lines = ["| setup | train accuracy | test accuracy |", "|---|---|---|"]
    lines += [f"| {setup} | {grid[setup]['train_accuracy']:.4f} | {grid[setup]['test_accuracy']:.4f} |" for setup in setups if setup in grid]
    return "\n".join(lines) + "\n"
