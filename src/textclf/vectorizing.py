"""Turn texts into model inputs: the one home of each feature kind.

A kind (token-id sequences, sparse n-gram bags, raw text) knows how it is
fitted, stored, batched for training and computed inside an exported model.
Kinds with a vocabulary fit it on the train split only; every kind is stored as
plain files, one set per split, so each feature set is cached once by DVC and
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


def cut_padding(tokens):
    """Token ids cut to the batch's longest text: padding is masked anyway, and costs time."""
    tokens = tf.cast(tokens, tf.int32)
    longest = tf.reduce_max(tf.math.count_nonzero(tokens, axis=1, dtype=tf.int32))
    return tokens[:, : tf.maximum(longest, 1)]


class FeatureKind:
    """One kind of model input: how it is fitted, stored, batched and computed in an exported model."""

    name: str
    description: str
    schema: dict[str, p.Check]
    reserved: int = 0  # ids before the vocabulary's first token
    marker: str  # the train split's file that shows a directory holds this kind
    fits_vocabulary = True

    def vectorizer(self, settings: dict, vocabulary: Sequence[str] | None = None) -> keras.layers.TextVectorization:
        """A TextVectorization for ``settings``; without a vocabulary it is ready to adapt."""
        return keras.layers.TextVectorization(
            standardize=STANDARDIZE[settings["standardize"]],
            vocabulary=list(vocabulary) if vocabulary is not None else None,
            max_tokens=None if vocabulary is not None else settings["max_tokens"],
            **self.vectorizer_options(settings),
        )

    def vectorizer_options(self, settings: dict) -> dict:
        raise NotImplementedError

    def fit(self, settings: dict, texts: Sequence[str]) -> list[str]:
        """Vocabulary learnt from ``texts`` alone (pass train only: no peeking at test)."""
        if len(texts) == 0:
            raise TextclfError("cannot fit a vocabulary on an empty train split")
        vectorizer = self.vectorizer(settings)
        vectorizer.adapt(tf.data.Dataset.from_tensor_slices(list(texts)).batch(2048))
        return vectorizer.get_vocabulary()[self.reserved :]

    def _batches(self, vectorizer, texts: Sequence[str], batch_size: int) -> list:
        return [vectorizer(tf.constant(list(texts[start : start + batch_size]))) for start in range(0, len(texts), batch_size)]

    def encode(self, vectorizer, texts: Sequence[str], batch_size: int = 2048) -> dict[str, np.ndarray]:
        """The arrays stored for one split."""
        raise NotImplementedError

    def inputs(self, arrays: dict[str, np.ndarray], count: int, width: int):
        """What a tf.data pipeline slices into examples."""
        raise NotImplementedError

    def batch(self, dataset, batch_size: int, bucket_by_length: bool, arrays: dict[str, np.ndarray]):
        return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def serving_inputs(self, vectorizer, texts):
        """The model's input computed from a batch of strings, inside the exported graph."""
        return vectorizer(texts)

    def take(self, arrays: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
        return {name: array[rows] for name, array in arrays.items()}


class SequenceKind(FeatureKind):
    """Token ids, padded to a fixed length on disk and cut to the longest text in each batch."""

    name, description, marker, reserved = "sequence", "token sequences", "train_tokens.npy", 2  # padding, OOV
    schema = {"kind": p.one_of("sequence"), "dataset": p.text, "max_tokens": p.positive_int,
              "sequence_length": p.positive_int, "standardize": p.one_of(*STANDARDIZE)}

    def vectorizer_options(self, settings: dict) -> dict:
        return {"output_mode": "int", "output_sequence_length": settings["sequence_length"]}

    def encode(self, vectorizer, texts: Sequence[str], batch_size: int = 2048) -> dict[str, np.ndarray]:
        batches = self._batches(vectorizer, texts, batch_size)
        width = vectorizer._output_sequence_length  # noqa: SLF001  (no public getter in Keras 2)
        tokens = np.concatenate([b.numpy() for b in batches]) if batches else np.zeros((0, width), np.int32)
        return {"tokens": tokens.astype(np.int32)}

    def inputs(self, arrays: dict[str, np.ndarray], count: int, width: int):
        return arrays["tokens"]

    def batch(self, dataset, batch_size: int, bucket_by_length: bool, arrays: dict[str, np.ndarray]):
        """Batches cut to their longest text; bucketing also groups texts of similar length,
        which is what makes recurrent models affordable on a CPU."""
        if bucket_by_length:
            length = arrays["tokens"].shape[1]
            boundaries = [bound for bound in (32, 64, 96, 128, 192, 256, 384, 512, 768) if bound < length]
            dataset = dataset.bucket_by_sequence_length(
                lambda tokens, _: tf.math.count_nonzero(tokens, dtype=tf.int32),
                bucket_boundaries=boundaries,
                bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
                no_padding=True,
            )
        else:
            dataset = dataset.batch(batch_size)
        return dataset.map(lambda tokens, labels: (cut_padding(tokens), labels), num_parallel_calls=tf.data.AUTOTUNE,
                           deterministic=True).prefetch(tf.data.AUTOTUNE)

    def serving_inputs(self, vectorizer, texts):
        return cut_padding(vectorizer(texts))


class NgramKind(FeatureKind):
    """Sparse multi-hot n-gram bags, stored as CSR arrays (``indptr``, ``indices``)."""

    name, description, marker, reserved = "ngrams", "n-gram bags", "train_indptr.npy", 1  # OOV only
    schema = {"kind": p.one_of("ngrams"), "dataset": p.text, "max_tokens": p.positive_int, "ngrams": p.positive_int,
              "standardize": p.one_of(*STANDARDIZE)}

    def vectorizer_options(self, settings: dict) -> dict:
        return {"output_mode": "multi_hot", "ngrams": settings["ngrams"], "sparse": True}

    def encode(self, vectorizer, texts: Sequence[str], batch_size: int = 2048) -> dict[str, np.ndarray]:
        indptr, indices = [np.zeros(1, np.int64)], []
        for batch in self._batches(vectorizer, texts, batch_size):
            rows, columns = batch.indices.numpy().T  # row-major order: rows ascend, columns ascend within a row
            counts = np.bincount(rows, minlength=batch.dense_shape[0].numpy())
            indptr.append(indptr[-1][-1] + np.cumsum(counts))
            indices.append(columns.astype(np.int32))
        return {"indptr": np.concatenate(indptr), "indices": np.concatenate(indices) if indices else np.zeros(0, np.int32)}

    def inputs(self, arrays: dict[str, np.ndarray], count: int, width: int):
        rows = np.repeat(np.arange(count, dtype=np.int64), np.diff(arrays["indptr"]))
        indices = np.stack([rows, arrays["indices"].astype(np.int64)], axis=1)
        return tf.SparseTensor(indices, tf.ones(len(rows), tf.float32), (count, width))

    def take(self, arrays: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
        starts, ends = arrays["indptr"][rows], arrays["indptr"][rows + 1]
        indices = np.concatenate([arrays["indices"][a:b] for a, b in zip(starts, ends)]) if len(rows) else np.zeros(0, np.int32)
        return {"indptr": np.r_[0, np.cumsum(ends - starts)], "indices": indices}


class TextKind(FeatureKind):
    """The cleaned texts as they are, for models that tokenize inside (TF Hub modules)."""

    name, description, marker = "text", "raw text", "train_texts.parquet"
    schema = {"kind": p.one_of("text"), "dataset": p.text}
    fits_vocabulary = False

    def encode(self, vectorizer, texts: Sequence[str], batch_size: int = 2048) -> dict[str, np.ndarray]:
        return {"texts": np.array(list(texts), dtype=object)}

    def inputs(self, arrays: dict[str, np.ndarray], count: int, width: int):
        return tf.constant(arrays["texts"].tolist(), dtype=tf.string)

    def serving_inputs(self, vectorizer, texts):
        return texts


KINDS: dict[str, FeatureKind] = {kind.name: kind for kind in (SequenceKind(), NgramKind(), TextKind())}


def checked_features(params: dict, name: str) -> tuple[FeatureKind, dict]:
    """The kind and the checked params block of feature set ``name``."""
    block = params.get("features", {}).get(name) if isinstance(params.get("features"), dict) else None
    if not isinstance(block, dict):
        raise TextclfError(f"params.yaml: missing block 'features.{name}'")
    if block.get("kind") not in KINDS:
        kinds = ", ".join(map(repr, KINDS))
        raise TextclfError(f"params.yaml: features.{name}.kind must be one of {kinds}, got {block.get('kind')!r}")
    kind = KINDS[block["kind"]]
    return kind, p.checked_block(params, f"features.{name}", kind.schema)


def kind_of(arrays: dict[str, np.ndarray]) -> FeatureKind:
    """The kind of one split's arrays, from the arrays it holds."""
    return next(kind for kind in KINDS.values() if kind.marker.split("_", 1)[1].split(".")[0] in arrays)


def vocabulary_size(tokens: Sequence[str], kind: str = "sequence") -> int:
    return len(tokens) + KINDS[kind].reserved


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
    return kind_of(arrays).take(arrays, rows)


def save_vocabulary(tokens: Sequence[str], path: Path) -> None:
    path.write_text("".join(f"{token}\n" for token in tokens), encoding="utf-8")


def load_vocabulary(path: Path) -> list[str]:
    if not path.is_file():
        raise TextclfError(f"vocabulary not found: {path} (run `dvc repro vectorize`)")
    # Bytes and "\n" only: text mode and splitlines() would also break tokens that
    # hold \r, \x85, \u2028 and other line separators, which IMDB reviews contain.
    return path.read_bytes().decode("utf-8").split("\n")[:-1]


def load_vectorizer(directory: Path, kind: FeatureKind, settings: dict) -> keras.layers.TextVectorization | None:
    """The vectorizer the vectorize stage fitted for ``directory`` (None for raw text)."""
    return kind.vectorizer(settings, load_vocabulary(directory / "vocab.txt")) if kind.fits_vocabulary else None


def stored_kind(directory: Path) -> FeatureKind | None:
    return next((kind for kind in KINDS.values() if (directory / kind.marker).is_file()), None)


def feature_vocabulary(directory: Path, kind: str) -> list[str] | None:
    """The vocabulary a feature set was fitted with (None for raw text, which has none)."""
    return load_vocabulary(directory / "vocab.txt") if KINDS[kind].fits_vocabulary else None


def input_width(directory: Path, kind: str) -> int:
    """The model's input width for a feature set: its vocabulary plus reserved ids (0 for text)."""
    stored, wanted = stored_kind(directory), KINDS[kind]
    if stored and stored is not wanted:
        raise TextclfError(f"{directory} holds {stored.description}, but the model reads {wanted.description}")
    return vocabulary_size(load_vocabulary(directory / "vocab.txt"), kind) if wanted.fits_vocabulary else 0
