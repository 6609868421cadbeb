import pytest

from textclf import training
from textclf.errors import TextclfError


def test_history_is_written_as_tsv(tmp_path):
    rows = [{"epoch": 1, "loss": 0.5, "accuracy": 0.7, "val_loss": 0.6, "val_accuracy": 0.65}]
    training.write_history(rows, tmp_path / "history.tsv")
    assert (tmp_path / "history.tsv").read_text() == (
        "epoch\tloss\taccuracy\tval_loss\tval_accuracy\n1\t0.500000\t0.700000\t0.600000\t0.650000\n"
    )


def test_missing_model_says_what_to_run(tmp_path):
    with pytest.raises(TextclfError, match="run `dvc repro` to train it"):
        training.load_model(tmp_path / "model.keras")
