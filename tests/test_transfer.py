import json

import numpy as np
import pytest

from textclf.core.errors import TextclfError
from textclf.reporting import transfer


def test_balanced_subsets_grow_by_adding_reviews():
    labels = np.array([0] * 50 + [1] * 50)
    small, large = transfer.balanced_subset(labels, 10, seed=1), transfer.balanced_subset(labels, 40, seed=1)
    assert np.bincount(labels[small]).tolist() == [5, 5]
    assert set(small) <= set(large)
    assert len(transfer.balanced_subset(labels, 1000, seed=1)) == 100


def test_summary_from_setup_files(tmp_path):
    for setup, base in (("pretrained_frozen", 0.7), ("bow_mean", 0.6)):
        cells = {str(size): {"train_accuracy": 1.0, "test_accuracy": round(base + size / 1000, 6), "labelled_reviews": size}
                 for size in (10, 100)}
        (tmp_path / f"{setup}.json").write_text(json.dumps(cells))
    results = transfer.summary(transfer.collect(["pretrained_frozen", "bow_mean"], [100, 10], tmp_path), [100, 10])
    assert results["grid"]["pretrained_frozen"] == {"train_accuracy": 1.0, "test_accuracy": 0.8}
    assert results["learning_curve"]["bow_mean"] == {"10": 0.61, "100": 0.7}
    assert "| pretrained_frozen | 1.0000 | 0.8000 |" in transfer.grid_markdown(results["grid"], ["pretrained_frozen"])


def test_missing_setup_file_is_named(tmp_path):
    with pytest.raises(TextclfError, match="bow_mean.json not found"):
        transfer.collect(["bow_mean"], [10], tmp_path)


def test_missing_size_and_missing_number_are_named(tmp_path):
    (tmp_path / "bow_mean.json").write_text(json.dumps({"10": {"train_accuracy": 1.0, "labelled_reviews": 10}}))
    with pytest.raises(TextclfError, match=r"bow_mean.json has no cell for 20 labelled reviews \(run `dvc repro transfer@bow_mean`\)"):
        transfer.collect(["bow_mean"], [10, 20], tmp_path)
    with pytest.raises(TextclfError, match="bow_mean.json, size 10 lacks the number 'test_accuracy'"):
        transfer.collect(["bow_mean"], [10], tmp_path)
