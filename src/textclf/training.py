"""Fit a model on integer-encoded splits with early stopping on validation loss."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from textclf.errors import TextclfError
from textclf.tf_runtime import keras, tf

HISTORY_COLUMNS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]


def load_split(directory: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    tokens_path, labels_path = directory / f"{split}_tokens.npy", directory / f"{split}_labels.npy"
    if not tokens_path.is_file() or not labels_path.is_file():
        raise TextclfError(f"encoded split '{split}' not found in {directory} (run `dvc repro vectorize`)")
    return np.load(tokens_path), np.load(labels_path)


def make_dataset(tokens: np.ndarray, labels: np.ndarray, batch_size: int, shuffle_seed: int | None = None):
    dataset = tf.data.Dataset.from_tensor_slices((tokens, labels.astype(np.float32)))
    if shuffle_seed is not None:
        # A full-size buffer is a true shuffle; the seed fixes every epoch's order.
        dataset = dataset.shuffle(len(labels), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def compile_model(model: keras.Model, learning_rate: float) -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        # The model emits logits, so the decision threshold is 0, not 0.5.
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)],
    )


def fit(model: keras.Model, train_data, validation_data, epochs: int, patience: int) -> tuple[list[dict], int]:
    """Train; return per-epoch history rows and the 1-based epoch whose weights were kept."""
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    history = model.fit(train_data, validation_data=validation_data, epochs=epochs, callbacks=[stopper], verbose=2)
    rows = [
        {"epoch": epoch + 1, **{key: float(history.history[key][epoch]) for key in HISTORY_COLUMNS[1:]}}
        for epoch in range(len(history.history["loss"]))
    ]
    best_epoch = 1 + int(np.argmin([row["val_loss"] for row in rows]))
    return rows, best_epoch


def write_history(rows: list[dict], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=HISTORY_COLUMNS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: (f"{value:.6f}" if isinstance(value, float) else value) for key, value in row.items()})


def load_model(path: Path) -> keras.Model:
    if not path.exists():
        raise TextclfError(f"model not found: {path} (run `dvc repro train`)")
    return keras.models.load_model(path)
