"""Turn review texts into model inputs: token-id sequences or sparse n-gram bags.

Both kinds fit their vocabulary on the train split only and are stored as plain
``.npy`` arrays, one set per split, so each feature set is cached once by DVC and
shared by every model that uses it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from textclf import params as p
from textclf.errors import TextclfError
from textclf.tf_runtime import keras, tf

STANDARDIZE = {
    "lower_and_strip_punctuation": "lower_and_strip_punctuation",
    "lower": "lower",
    "strip_punctuation": "strip_punctuation",
    "none": None,
}
# TextVectorization reserves index 0 for padding and 1 for out-of-vocabulary
# (multi-hot n-gram bags reserve only the out-of-vocabulary index).
RESERVED_TOKENS = {"sequence": 2, "ngrams": 1, "text": 0}
SCHEMAS = {
    "sequence": {
        "kind": p.one_of("sequence"),
        "max_tokens": p.positive_int,
        "sequence_length": p.positive_int,
        "standardize": p.one_of(*STANDARDIZE),
    },
    # Raw review text, for models that tokenize inside (TF Hub modules).
    "text": {"kind": p.one_of("text")},
    "ngrams": {
        "kind": p.one_of("ngrams"),
        "max_tokens": p.positive_int,
        "ngrams": p.positive_int,
        "standardize": p.one_of(*STANDARDIZE),
    },
}


def feature_schema(settings: dict, name: str) -> dict:
    kind = settings.get("kind") if isinstance(settings, dict) else None
    if kind not in SCHEMAS:
        raise TextclfError(f"params.yaml: features.{name}.kind must be one of {', '.join(map(repr, SCHEMAS))}, got {kind!r}")
    return SCHEMAS[kind]


def make_vectorizer(settings: dict, vocabulary: Sequence[str] | None = None) -> keras.layers.TextVectorization:
    """A TextVectorization for ``settings``; without a vocabulary it is ready to adapt."""
    common = {
        "standardize": STANDARDIZE[settings["standardize"]],
        "vocabulary": list(vocabulary) if vocabulary is not None else None,
        "max_tokens": None if vocabulary is not None else settings["max_tokens"],
    }
    if settings["kind"] == "sequence":
        return keras.layers.TextVectorization(output_mode="int", output_sequence_length=settings["sequence_length"], **common)
    return keras.layers.TextVectorization(output_mode="multi_hot", ngrams=settings["ngrams"], sparse=True, **common)


def fit_vocabulary(texts: Sequence[str], settings: dict) -> list[str]:
    """Vocabulary learnt from ``texts`` alone (pass train only: no peeking at test)."""
    if len(texts) == 0:
        raise TextclfError("cannot fit a vocabulary on an empty train split")
    vectorizer = make_vectorizer(settings)
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(list(texts)).batch(2048))
    return vectorizer.get_vocabulary()[RESERVED_TOKENS[settings["kind"]] :]


def vocabulary_size(tokens: Sequence[str], kind: str = "sequence") -> int:
    return len(tokens) + RESERVED_TOKENS[kind]


def encode(
    vectorizer: keras.layers.TextVectorization, texts: Sequence[str], kind: str, batch_size: int = 2048
) -> dict[str, np.ndarray]:
    """Arrays for one split: ``tokens`` [n, length], or CSR ``indptr``/``indices`` for n-gram bags."""
    batches = [vectorizer(tf.constant(list(texts[start : start + batch_size]))) for start in range(0, len(texts), batch_size)]
    if kind == "sequence":
        width = vectorizer._output_sequence_length  # noqa: SLF001  (no public getter in Keras 2)
        tokens = np.concatenate([b.numpy() for b in batches]) if batches else np.zeros((0, width), np.int32)
        return {"tokens": tokens.astype(np.int32)}
    indptr, indices = [np.zeros(1, np.int64)], []
    for batch in batches:
        rows, columns = batch.indices.numpy().T  # row-major order: rows ascend, columns ascend within a row
        counts = np.bincount(rows, minlength=batch.dense_shape[0].numpy())
        indptr.append(indptr[-1][-1] + np.cumsum(counts))
        indices.append(columns.astype(np.int32))
    return {"indptr": np.concatenate(indptr), "indices": np.concatenate(indices) if indices else np.zeros(0, np.int32)}


def save_split(directory: Path, split: str, arrays: dict[str, np.ndarray], labels: np.ndarray) -> None:
    for name, array in {**arrays, "labels": labels.astype(np.int32)}.items():
        if array.dtype == object:  # texts: parquet, as .npy would need pickle
            pd.DataFrame({name: array}).to_parquet(directory / f"{split}_{name}.parquet", index=False)
        else:
            np.save(directory / f"{split}_{name}.npy", array)


def load_split(directory: Path, split: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The arrays of one split and its labels, as ``save_split`` wrote them."""
    labels_path = directory / f"{split}_labels.npy"
    if not labels_path.is_file():
        raise TextclfError(f"encoded split '{split}' not found in {directory} (run `dvc repro vectorize`)")
    arrays = {path.stem[len(split) + 1 :]: np.load(path) for path in sorted(directory.glob(f"{split}_*.npy"))}
    for path in sorted(directory.glob(f"{split}_*.parquet")):
        name = path.stem[len(split) + 1 :]
        arrays[name] = pd.read_parquet(path)[name].to_numpy(dtype=object)
    labels = arrays.pop("labels")
    return arrays, labels


def take(arrays: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """The given rows of one split's arrays, whatever their kind."""
    if "indptr" not in arrays:
        return {name: array[rows] for name, array in arrays.items()}
    starts, ends = arrays["indptr"][rows], arrays["indptr"][rows + 1]
    indices = np.concatenate([arrays["indices"][a:b] for a, b in zip(starts, ends)]) if len(rows) else np.zeros(0, np.int32)
    return {"indptr": np.r_[0, np.cumsum(ends - starts)], "indices": indices}


def save_vocabulary(tokens: Sequence[str], path: Path) -> None:
    path.write_text("".join(f"{token}\n" for token in tokens), encoding="utf-8")


def load_vocabulary(path: Path) -> list[str]:
    if not path.is_file():
        raise TextclfError(f"vocabulary not found: {path} (run `dvc repro vectorize`)")
    # Bytes and "\n" only: text mode and splitlines() would also break tokens that
    # hold \r, \x85, \u2028 and other line separators, which IMDB reviews contain.
    return path.read_bytes().decode("utf-8").split("\n")[:-1]


def stored_kind(directory: Path) -> str | None:
    for kind, marker in (("sequence", "train_tokens.npy"), ("ngrams", "train_indptr.npy"), ("text", "train_texts.parquet")):
        if (directory / marker).is_file():
            return kind
    return None


def input_width(directory: Path, kind: str) -> int:
    """The model's input width for a feature set: its vocabulary plus reserved ids (0 for text)."""
    names = {"sequence": "token sequences", "ngrams": "n-gram bags", "text": "raw text"}
    stored = stored_kind(directory)
    if stored and stored != kind:
        raise TextclfError(f"{directory} holds {names[stored]}, but the model reads {names[kind]}")
    return 0 if kind == "text" else vocabulary_size(load_vocabulary(directory / "vocab.txt"), kind)
