import json

import numpy as np
import pytest

from textclf import transfer
from textclf.errors import TextclfError


def test_balanced_subsets_grow_by_adding_reviews():
    labels = np.array([0] * 50 + [1] * 50)
    small, large = transfer.balanced_subset(labels, 10, seed=1), transfer.balanced_subset(labels, 40, seed=1)
    assert np.bincount(labels[small]).tolist() == [5, 5]
    assert set(small) <= set(large)
    assert len(transfer.balanced_subset(labels, 1000, seed=1)) == 100


def test_summary_from_cell_files(tmp_path):
    for setup, base in (("pretrained_frozen", 0.7), ("bow_mean", 0.6)):
        for size in (10, 100):
            cell = {"train_accuracy": 1.0, "test_accuracy": round(base + size / 1000, 6), "labelled_reviews": size}
            (tmp_path / f"{transfer.cell_name(setup, size)}.json").write_text(json.dumps(cell))
    results = transfer.summary(transfer.collect(["pretrained_frozen", "bow_mean"], [100, 10], tmp_path), [100, 10])
    assert results["grid"]["pretrained_frozen"] == {"train_accuracy": 1.0, "test_accuracy": 0.8}
    assert results["learning_curve"]["bow_mean"] == {"10": 0.61, "100": 0.7}
    assert "| pretrained_frozen | 1.0000 | 0.8000 |" in transfer.grid_markdown(results["grid"], ["pretrained_frozen"])


def test_missing_cell_is_named(tmp_path):
    with pytest.raises(TextclfError, match="bow_mean-10.json not found"):
        transfer.collect(["bow_mean"], [10], tmp_path)
