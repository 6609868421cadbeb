import numpy as np
import pytest

from textclf import models, training
from textclf.errors import TextclfError
from textclf.tf_runtime import keras, seed_everything

HPARAMS = {"embedding_dim": 8, "hidden_units": 8, "mask_padding": True}


def separable_data(n=256, length=12, seed=0):
    """Token 2 marks positives, token 3 negatives; the rest is noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n).astype(np.int32)
    tokens = rng.integers(4, 50, (n, length)).astype(np.int32)
    tokens[:, 0] = np.where(labels == 1, 2, 3)
    tokens[: n // 2, -3:] = 0  # some padding
    return tokens, labels


def train_once(epochs=5):
    seed_everything(7)
    tokens, labels = separable_data()
    model = models.build_model("bow_mean", HPARAMS, vocab_size=50)
    training.compile_model(model, learning_rate=0.05)
    data = training.make_dataset(tokens, labels, batch_size=32, shuffle_seed=7)
    rows, best_epoch = training.fit(model, data, training.make_dataset(tokens, labels, 64), epochs=epochs, patience=2)
    return model, rows, best_epoch


def test_bow_mean_learns_saves_and_reloads(tmp_path):
    model, rows, best_epoch = train_once()
    assert rows[-1]["accuracy"] > 0.9
    assert 1 <= best_epoch <= len(rows)
    assert [row["epoch"] for row in rows] == list(range(1, len(rows) + 1))
    model.save(tmp_path / "model.keras")
    reloaded = training.load_model(tmp_path / "model.keras")
    tokens, _ = separable_data(n=20, seed=1)
    np.testing.assert_array_equal(model.predict(tokens, verbose=0), reloaded.predict(tokens, verbose=0))


def test_training_is_deterministic():
    _, first, _ = train_once(epochs=2)
    _, second, _ = train_once(epochs=2)
    assert first == second


def test_keras_2_is_the_keras_in_use():
    import tensorflow as tf

    assert tf.keras.layers.Dense is keras.layers.Dense
    assert keras.__name__.startswith("tf_keras")


def test_history_is_written_as_tsv(tmp_path):
    rows = [{"epoch": 1, "loss": 0.5, "accuracy": 0.7, "val_loss": 0.6, "val_accuracy": 0.65}]
    training.write_history(rows, tmp_path / "history.tsv")
    assert (tmp_path / "history.tsv").read_text() == (
        "epoch\tloss\taccuracy\tval_loss\tval_accuracy\n1\t0.500000\t0.700000\t0.600000\t0.650000\n"
    )


def test_unknown_model_and_missing_inputs(tmp_path):
    with pytest.raises(TextclfError, match="unknown model 'transformer' \\(known: bow_mean\\)"):
        models.model_spec("transformer")
    with pytest.raises(TextclfError, match="run `dvc repro vectorize`"):
        training.load_split(tmp_path, "train")
    with pytest.raises(TextclfError, match="run `dvc repro train`"):
        training.load_model(tmp_path / "model.keras")
