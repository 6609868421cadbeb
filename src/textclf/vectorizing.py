"""Fit a TextVectorization vocabulary on train texts and integer-encode splits."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from textclf.errors import TextclfError
from textclf.tf_runtime import keras, tf

STANDARDIZE = {
    "lower_and_strip_punctuation": "lower_and_strip_punctuation",
    "lower": "lower",
    "strip_punctuation": "strip_punctuation",
    "none": None,
}
# TextVectorization reserves index 0 for padding and 1 for out-of-vocabulary.
RESERVED_TOKENS = 2


def make_vectorizer(
    sequence_length: int, standardize: str, vocabulary: Sequence[str] | None = None, max_tokens: int | None = None
) -> keras.layers.TextVectorization:
    return keras.layers.TextVectorization(
        max_tokens=max_tokens,
        standardize=STANDARDIZE[standardize],
        output_mode="int",
        output_sequence_length=sequence_length,
        vocabulary=list(vocabulary) if vocabulary is not None else None,
    )


def fit_vocabulary(texts: Sequence[str], max_tokens: int, standardize: str) -> list[str]:
    """Vocabulary learnt from ``texts`` alone (pass train only: no peeking at test)."""
    if len(texts) == 0:
        raise TextclfError("cannot fit a vocabulary on an empty train split")
    vectorizer = make_vectorizer(1, standardize, max_tokens=max_tokens)
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(list(texts)).batch(2048))
    return vectorizer.get_vocabulary()[RESERVED_TOKENS:]


def encode(vectorizer: keras.layers.TextVectorization, texts: Sequence[str], batch_size: int = 2048) -> np.ndarray:
    chunks = [
        vectorizer(tf.constant(list(texts[start : start + batch_size]))).numpy()
        for start in range(0, len(texts), batch_size)
    ]
    width = vectorizer._output_sequence_length  # noqa: SLF001  (no public getter in Keras 2)
    return np.concatenate(chunks).astype(np.int32) if chunks else np.zeros((0, width), np.int32)


def save_vocabulary(tokens: Sequence[str], path: Path) -> None:
    path.write_text("".join(f"{token}\n" for token in tokens), encoding="utf-8")


def load_vocabulary(path: Path) -> list[str]:
    if not path.is_file():
        raise TextclfError(f"vocabulary not found: {path} (run `dvc repro vectorize`)")
    return path.read_text(encoding="utf-8").splitlines()


def vocabulary_size(tokens: Sequence[str]) -> int:
    return len(tokens) + RESERVED_TOKENS
