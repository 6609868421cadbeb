"""Turn texts into model inputs: the one home of each feature kind.

A kind (token-id sequences, sparse n-gram bags, raw text) knows how it is
fitted, stored, batched for training and computed inside an exported model.
Kinds with a vocabulary fit it on the train split only. Every split is stored
as TFRecord shards of one ``tf.train.Example`` per text (``<split>.json`` lists
them), so each feature set is cached once by DVC, shared by every model that
uses it, and read back either whole (``load_split``) or as a stream
(``open_split``), whose memory does not grow with the corpus.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from textclf.core import schema
from textclf.core.errors import TextclfError
from textclf.core.tf_runtime import keras, tf


def cut_padding(tokens):
    """Token ids cut to the batch's longest text: padding is masked anyway, and costs time."""
    tokens = tf.cast(tokens, tf.int32)
    longest = tf.reduce_max(tf.math.count_nonzero(tokens, axis=1, dtype=tf.int32))
    return tokens[:, : tf.maximum(longest, 1)]


def at_least_one_column(tokens):
    """A batch of empty texts keeps one column of padding, as ``cut_padding`` leaves it: models need a step."""
    return tf.pad(tokens, [[0, 0], [0, tf.maximum(1 - tf.shape(tokens)[1], 0)]])


class FeatureKind:
    """One kind of model input: how it is fitted, stored, batched and computed in an exported model.

    An example is one text's value in a tf.data pipeline, the same whether it
    comes from arrays in memory or from shards: a 1-D tensor of ids, or a string.
    """

    name: str
    description: str
    block: type[schema.Block]  # the keys of a feature set of this kind, and their defaults
    reserved: int = 0  # ids before the vocabulary's first token
    array_key: str  # the array that tells an in-memory split's kind
    fits_vocabulary = True
    # Texts per batch of a validation or prediction pass (no gradients kept): large batches cut the per-batch
    # cost that dominates cheap models (a transfer cell of 250 reviews validates on 5,000).
    predict_batch = 1024

    def vectorizer(self, settings: dict, vocabulary: Sequence[str] | None = None) -> keras.layers.TextVectorization:
        """A TextVectorization for ``settings``; without a vocabulary it is ready to adapt."""
        vectorizer = keras.layers.TextVectorization(
            standardize=None if settings["standardize"] == "none" else settings["standardize"],
            max_tokens=None if vocabulary is not None else settings["max_tokens"],
            **self.vectorizer_options(settings),
        )
        if vocabulary is not None:
            # Set rather than passed in: a layer keeps a vocabulary given to its constructor as a tracked Python
            # list, which saving a SavedModel walks item by item (minutes for a million n-grams). As an object
            # array: a list would become a fixed-width unicode array first (10 s for a million n-grams, not 0.6).
            vectorizer.set_vocabulary(np.array(vocabulary, dtype=object))
        return vectorizer

    def vectorizer_options(self, settings: dict) -> dict:
        raise NotImplementedError

    def fit(self, settings: dict, texts: Sequence[str] | tf.data.Dataset) -> list[str]:
        """Vocabulary learnt from ``texts`` alone (train, maybe unlabelled texts too: never validation or test).

        ``texts`` is a list, or a dataset of string batches, streamed through once.
        """
        batches = texts if isinstance(texts, tf.data.Dataset) else (
            tf.data.Dataset.from_tensor_slices(tf.constant(list(texts), tf.string)).batch(2048))
        if next(iter(batches.unbatch().take(1)), None) is None:
            raise TextclfError("cannot fit a vocabulary on an empty train split")
        vectorizer = self.vectorizer(settings)
        reserved = vectorizer.get_vocabulary()  # before any text: the padding and OOV tokens alone
        # Counted as adapt() counts, but sorted here: adapt would also build a lookup table of the vocabulary
        # (seconds for a million n-grams) that fitting throws away, since the stage builds the one it saves.
        for batch in batches:
            vectorizer.update_state(batch)
        tokens, counts = vectorizer._lookup_layer.token_counts.export()  # noqa: SLF001  (adapt's own counts)
        return most_frequent(tokens, counts, settings["max_tokens"] - len(reserved), reserved)

    def _batches(self, vectorizer, texts: Sequence[str], batch_size: int) -> list:
        """The vectorizer's output for each batch of texts, in order; batches are encoded in parallel, one per core."""
        if len(texts) == 0:
            return []
        batches = tf.data.Dataset.from_tensor_slices(tf.constant(list(texts), tf.string)).batch(batch_size)
        return list(batches.map(vectorizer, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True))

    def encode(self, vectorizer, texts: Sequence[str], batch_size: int = 2048) -> dict[str, np.ndarray]:
        """The arrays stored for one split."""
        raise NotImplementedError

    def examples(self, arrays: dict[str, np.ndarray]):
        """What tf.data slices into one example per text."""
        raise NotImplementedError

    def rows(self, arrays: dict[str, np.ndarray]) -> Iterator[tf.train.Feature]:
        """Each text's example as a record feature, in order."""
        raise NotImplementedError

    record_feature = tf.io.VarLenFeature(tf.int64)

    def parsed(self, value):
        """One parsed record feature as the example ``examples`` yields."""
        return value.values

    def arrays_of(self, value, max_length: int | None) -> dict[str, np.ndarray]:
        """The arrays of a batch of records parsed with ``record_feature``."""
        raise NotImplementedError

    def batch(self, dataset, batch_size: int, bucket_by_length: bool, max_length: int | None, width: int):
        """Batches of examples as the model takes them."""
        return dataset.batch(batch_size)

    def parsed_batch(self, value, width: int):
        """The model's input from a batch of records parsed at once with ``record_feature``: the same batch
        ``batch`` makes of their examples."""
        return value

    def serving_inputs(self, vectorizer, texts):
        """The model's input computed from a batch of strings, inside the exported graph."""
        return vectorizer(texts)

    def take(self, arrays: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
        return {name: array[rows] for name, array in arrays.items()}

    def concatenate(self, parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}

    def max_length(self, arrays: dict[str, np.ndarray]) -> int | None:
        """The longest example the arrays can hold (the padded width of token sequences)."""
        return None

    def lengths(self, arrays: dict[str, np.ndarray]) -> np.ndarray | None:
        """Each example's length where a batch's cost grows with its longest example, else None."""
        return None


class SequenceKind(FeatureKind):
    """Token ids: up to ``sequence_length`` per text, stored without padding, padded to the longest text of each batch."""

    name, description, array_key, reserved = "sequence", "token sequences", "tokens", 2  # padding, OOV
    # A recurrent step over 1,024 texts outgrows the CPU caches: batches of 256 predict a BiLSTM about
    # 1.5 times as fast, and a first pass of 1,024 pays several times the steady cost.
    predict_batch = 256
    block = schema.SequenceFeatures

    def vectorizer_options(self, settings: dict) -> dict:
        return {"output_mode": "int", "output_sequence_length": settings["sequence_length"]}

    def encode(self, vectorizer, texts: Sequence[str], batch_size: int = 2048) -> dict[str, np.ndarray]:
        batches = self._batches(vectorizer, texts, batch_size)
        width = vectorizer._output_sequence_length  # noqa: SLF001  (no public getter in Keras 2)
        tokens = np.concatenate([b.numpy() for b in batches]) if batches else np.zeros((0, width), np.int32)
        return {"tokens": tokens.astype(np.int32)}

    def examples(self, arrays: dict[str, np.ndarray]):
        # Padding is 0 and only ever trails the ids, so each text is its ids up to the last non-zero one.
        return tf.RaggedTensor.from_tensor(arrays["tokens"], padding=0)

    def rows(self, arrays: dict[str, np.ndarray]) -> Iterator[tf.train.Feature]:
        for tokens in arrays["tokens"]:
            yield tf.train.Feature(int64_list=tf.train.Int64List(value=tokens[: np.count_nonzero(tokens)]))

    def parsed(self, value):
        return tf.cast(value.values, tf.int32)

    def max_length(self, arrays: dict[str, np.ndarray]) -> int | None:
        return int(arrays["tokens"].shape[1])

    def lengths(self, arrays: dict[str, np.ndarray]) -> np.ndarray | None:
        return np.count_nonzero(arrays["tokens"], axis=1)

    def arrays_of(self, value, max_length: int | None) -> dict[str, np.ndarray]:
        tokens = tf.sparse.to_dense(value).numpy().astype(np.int32)
        return {"tokens": np.pad(tokens, ((0, 0), (0, max_length - tokens.shape[1])))}

    def batch(self, dataset, batch_size: int, bucket_by_length: bool, max_length: int | None, width: int):
        """Batches padded to their longest text; bucketing also groups texts of similar length,
        which is what makes recurrent models affordable on a CPU."""
        if bucket_by_length:
            boundaries = [bound for bound in (32, 64, 96, 128, 192, 256, 384, 512, 768) if bound < max_length]
            dataset = dataset.bucket_by_sequence_length(
                lambda tokens, _: tf.shape(tokens)[0],
                bucket_boundaries=boundaries,
                bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            )
        else:
            dataset = dataset.padded_batch(batch_size)
        return dataset.map(lambda tokens, labels: (at_least_one_column(tokens), labels), num_parallel_calls=tf.data.AUTOTUNE,
                           deterministic=True)

    def parsed_batch(self, value, width: int):
        # Parsed at once, a batch's id lists are padded with 0 to its longest, as padded_batch pads them.
        return at_least_one_column(tf.cast(tf.sparse.to_dense(value), tf.int32))

    def serving_inputs(self, vectorizer, texts):
        return cut_padding(vectorizer(texts))


class NgramKind(FeatureKind):
    """Sparse multi-hot n-gram bags, stored as CSR arrays (``indptr``, ``indices``)."""

    name, description, array_key, reserved = "ngrams", "n-gram bags", "indptr", 1  # OOV only
    block = schema.NgramFeatures

    def vectorizer_options(self, settings: dict) -> dict:
        return {"output_mode": "multi_hot", "ngrams": settings["ngrams"], "sparse": True}

    def encode(self, vectorizer, texts: Sequence[str], batch_size: int = 2048) -> dict[str, np.ndarray]:
        indptr, indices = [np.zeros(1, np.int64)], []
        for batch in self._batches(vectorizer, texts, batch_size):
            # Row-major order (rows ascend, columns ascend within a row): in a tf.data map the bag's order is arbitrary.
            rows, columns = tf.sparse.reorder(batch).indices.numpy().T
            counts = np.bincount(rows, minlength=batch.dense_shape[0].numpy())
            indptr.append(indptr[-1][-1] + np.cumsum(counts))
            indices.append(columns.astype(np.int32))
        return {"indptr": np.concatenate(indptr), "indices": np.concatenate(indices) if indices else np.zeros(0, np.int32)}

    def examples(self, arrays: dict[str, np.ndarray]):
        return tf.RaggedTensor.from_row_splits(arrays["indices"].astype(np.int64), arrays["indptr"].astype(np.int64))

    def rows(self, arrays: dict[str, np.ndarray]) -> Iterator[tf.train.Feature]:
        indptr, indices = arrays["indptr"], arrays["indices"]
        for start, end in zip(indptr[:-1], indptr[1:]):
            yield tf.train.Feature(int64_list=tf.train.Int64List(value=indices[start:end]))

    def arrays_of(self, value, max_length: int | None) -> dict[str, np.ndarray]:
        counts = np.bincount(value.indices.numpy()[:, 0], minlength=int(value.dense_shape[0]))
        return {"indptr": np.r_[0, np.cumsum(counts)].astype(np.int64), "indices": value.values.numpy().astype(np.int32)}

    @staticmethod
    def bags(indices: tf.RaggedTensor, width: int) -> tf.SparseTensor:
        """Multi-hot bags as a [batch, width] SparseTensor: the stored ids are each row's columns, in order."""
        coordinates = tf.stack([indices.value_rowids(), indices.values], axis=1)
        sparse = tf.SparseTensor(coordinates, tf.ones_like(indices.values, tf.float32),
                                 tf.stack([indices.nrows(), tf.constant(width, tf.int64)]))
        sparse.set_shape([None, width])
        return sparse

    def batch(self, dataset, batch_size: int, bucket_by_length: bool, max_length: int | None, width: int):
        return dataset.ragged_batch(batch_size).map(lambda indices, labels: (self.bags(indices, width), labels),
                                                    num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    def parsed_batch(self, value, width: int):
        return self.bags(tf.RaggedTensor.from_sparse(value), width)

    def concatenate(self, parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        offsets = np.cumsum([0] + [part["indptr"][-1] for part in parts[:-1]])
        indptr = [parts[0]["indptr"][:1]] + [part["indptr"][1:] + offset for part, offset in zip(parts, offsets)]
        return {"indptr": np.concatenate(indptr), "indices": np.concatenate([part["indices"] for part in parts])}

    def take(self, arrays: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
        starts, ends = arrays["indptr"][rows], arrays["indptr"][rows + 1]
        indices = np.concatenate([arrays["indices"][a:b] for a, b in zip(starts, ends)]) if len(rows) else np.zeros(0, np.int32)
        return {"indptr": np.r_[0, np.cumsum(ends - starts)], "indices": indices}


class TextKind(FeatureKind):
    """The cleaned texts as they are, for models that tokenize inside (TF Hub modules)."""

    name, description, array_key = "text", "raw text", "texts"
    block = schema.TextFeatures
    fits_vocabulary = False

    def encode(self, vectorizer, texts: Sequence[str], batch_size: int = 2048) -> dict[str, np.ndarray]:
        return {"texts": np.array(list(texts), dtype=object)}

    def examples(self, arrays: dict[str, np.ndarray]):
        return tf.constant(arrays["texts"].tolist(), dtype=tf.string)

    def rows(self, arrays: dict[str, np.ndarray]) -> Iterator[tf.train.Feature]:
        for text in arrays["texts"]:
            yield tf.train.Feature(bytes_list=tf.train.BytesList(value=[text.encode("utf-8")]))

    record_feature = tf.io.FixedLenFeature([], tf.string)

    def parsed(self, value):
        return value

    def arrays_of(self, value, max_length: int | None) -> dict[str, np.ndarray]:
        return {"texts": np.array([text.decode("utf-8") for text in value.numpy()], dtype=object)}

    def serving_inputs(self, vectorizer, texts):
        return texts


KINDS: dict[str, FeatureKind] = {kind.name: kind for kind in (SequenceKind(), NgramKind(), TextKind())}


def most_frequent(tokens: tf.Tensor, counts: tf.Tensor, limit: int, excluded: Sequence[str]) -> list[str]:
    """The ``limit`` most frequent of ``tokens`` (bar ``excluded``), ordered as Keras's adapt orders a
    vocabulary: by count, ties by the token's bytes, both descending."""
    tokens, counts = tokens.numpy(), counts.numpy()
    # Dropped from the NumPy arrays, which share the tokens' bytes: masking the string tensor would copy them all.
    kept = np.ones(len(tokens), bool)
    for token in excluded:
        kept &= tokens != token.encode("utf-8")
    tokens, counts = tokens[kept], counts[kept]
    if len(tokens) > limit > 0:
        # Sorting millions of byte strings is the slow part, so only the kept ones are sorted. Every token more
        # frequent than the limit-th is kept; of those as frequent as it (often millions of n-grams seen once),
        # the largest by bytes.
        threshold = np.partition(counts, len(counts) - limit)[len(counts) - limit]
        above, tied = np.flatnonzero(counts > threshold), np.flatnonzero(counts == threshold)
        kept = np.concatenate([above, tied[largest_by_bytes(tokens[tied], limit - len(above))]])
        tokens, counts = tokens[kept], counts[kept]
    order = np.lexsort((tokens, counts))[::-1][:limit]
    return [token.decode("utf-8") for token in tokens[order]]


def largest_by_bytes(tokens: np.ndarray, k: int) -> np.ndarray:
    """The positions of the ``k`` largest of distinct byte strings ``tokens``, in no particular order.

    A token's first 8 bytes, zero-padded and read as a big-endian integer, order the tokens as their bytes
    do, bar ties; a partition on those integers settles every token but those sharing the k-th's prefix,
    and only those are compared whole.
    """
    if k >= len(tokens):
        return np.arange(len(tokens))
    prefixes = tokens.astype("S8").view(">u8")
    pivot = np.partition(prefixes, len(prefixes) - k)[len(prefixes) - k]
    above, tied = np.flatnonzero(prefixes > pivot), np.flatnonzero(prefixes == pivot)
    return np.concatenate([above, tied[np.argsort(tokens[tied])[::-1][: k - len(above)]]])


def checked_features(block: dict, name: str) -> tuple[FeatureKind, dict]:
    """The kind of feature set ``name`` and its block (``textclf.pipeline.layout.Layout.features``) over the kind's defaults, checked."""
    if block.get("kind") not in KINDS:
        kinds = ", ".join(map(repr, KINDS))
        raise TextclfError(f"params.yaml: features.{name}.kind must be one of {kinds}, got {block.get('kind')!r}")
    kind = KINDS[block["kind"]]
    settings = schema.validated(kind.block, block, f"features.{name}")
    if kind.fits_vocabulary and settings["max_tokens"] <= kind.reserved:
        raise TextclfError(f"params.yaml: features.{name}.max_tokens must be at least {kind.reserved + 1}: the first "
                           f"{kind.reserved} id(s) are reserved, got {settings['max_tokens']}")
    return kind, settings


def kind_of(arrays: dict[str, np.ndarray]) -> FeatureKind:
    """The kind of one split's arrays, from the arrays it holds."""
    return next(kind for kind in KINDS.values() if kind.array_key in arrays)


def vocabulary_size(tokens: Sequence[str], kind: str = "sequence") -> int:
    return len(tokens) + KINDS[kind].reserved


def checked_streaming(params: dict) -> dict:
    """How vectorize@ writes splits and train@ streams them back (params.yaml `streaming`)."""
    return schema.block_of(params, "streaming", schema.Streaming)


@dataclass(frozen=True)
class ArraySplit:
    """A split held in memory: the arrays of every text and their labels."""

    arrays: dict[str, np.ndarray]
    labels: np.ndarray

    @property
    def kind(self) -> FeatureKind:
        return kind_of(self.arrays)

    @property
    def count(self) -> int:
        return len(self.labels)

    @property
    def max_length(self) -> int | None:
        return self.kind.max_length(self.arrays)

    def examples(self):
        # Slices of a ragged tensor come out ragged-typed; the identity map gives them as plain tensors, as parsed records are.
        return tf.data.Dataset.from_tensor_slices((self.kind.examples(self.arrays), self.labels)).map(
            lambda example, label: (example, label))

    def chunks(self) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
        yield self.arrays, self.labels


@dataclass(frozen=True)
class StoredSplit:
    """A split as vectorize wrote it: TFRecord shards, read as a stream or shard by shard."""

    kind: FeatureKind
    shards: tuple[str, ...]
    count: int
    label_shape: tuple[int, ...]
    max_length: int | None

    def _spec(self) -> dict:
        return {"value": self.kind.record_feature, "label": tf.io.FixedLenFeature(self.label_shape, tf.int64)}

    def records(self):
        """Each text's serialized record, in the stored order."""
        records = tf.data.TFRecordDataset(tf.constant(self.shards, tf.string))
        # A known size makes Keras iterate epochs as it does over arrays, which keeps every epoch's shuffle the same.
        return records.apply(tf.data.experimental.assert_cardinality(self.count))

    def examples(self):
        """(example, label) per text, in the stored order, parsed in parallel as the stream is read."""
        spec = self._spec()

        def parse(record):
            parsed = tf.io.parse_single_example(record, spec)
            return self.kind.parsed(parsed["value"]), tf.cast(parsed["label"], tf.int32)

        return self.records().map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    def parsed_batches(self, records, batch_size: int, width: int):
        """(model input, labels) per batch of ``records``, each batch parsed in one call: parsing text by text
        costs more than a small model's training step."""
        spec = self._spec()

        def parse(batch):
            parsed = tf.io.parse_example(batch, spec)
            return self.kind.parsed_batch(parsed["value"], width), tf.cast(parsed["label"], tf.int32)

        return records.batch(batch_size).map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    def chunks(self) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
        """The arrays and labels of one shard at a time."""
        spec = self._spec()
        for shard in self.shards:
            records = next(iter(tf.data.TFRecordDataset(shard).batch(1 << 30)), tf.constant([], tf.string))
            parsed = tf.io.parse_example(records, spec)
            yield self.kind.arrays_of(parsed["value"], self.max_length), parsed["label"].numpy().astype(np.int32)


def as_split(split: tuple | ArraySplit | StoredSplit) -> ArraySplit | StoredSplit:
    """A split given as (arrays, labels) is one in memory."""
    return ArraySplit(*split) if isinstance(split, tuple) else split


def save_split(directory: Path, split: str, chunks: Iterable[tuple[dict[str, np.ndarray], np.ndarray]]) -> int:
    """Write one split, a shard per chunk of encoded texts (at least one, maybe empty), then its index
    ``<split>.json``; returns how many texts it holds."""
    shards, count, first = [], 0, None
    for arrays, labels in chunks:
        first = first or (kind_of(arrays), arrays, labels)
        path = directory / f"{split}-{len(shards):05d}.tfrecord"
        with tf.io.TFRecordWriter(str(path)) as writer:
            for value, label in zip(first[0].rows(arrays), labels):
                example = tf.train.Example(features=tf.train.Features(feature={
                    "value": value, "label": tf.train.Feature(int64_list=tf.train.Int64List(value=np.ravel(label)))}))
                # A map's entries serialize in a per-process hash order unless asked: the same bytes every run.
                writer.write(example.SerializeToString(deterministic=True))
        shards.append(path.name)
        count += len(labels)
    if first is None:
        raise TextclfError(f"no encoded texts given for split '{split}'")
    kind, arrays, labels = first
    index = {"kind": kind.name, "examples": count, "shards": shards, "label_shape": list(labels.shape[1:]),
             "max_length": kind.max_length(arrays)}
    (directory / f"{split}.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    return count


def open_split(directory: Path, split: str) -> StoredSplit:
    """One stored split, ready to stream."""
    path = directory / f"{split}.json"
    if not path.is_file():
        raise TextclfError(f"encoded split '{split}' not found in {directory} (run `dvc repro vectorize`)")
    index = json.loads(path.read_text(encoding="utf-8"))
    return StoredSplit(KINDS[index["kind"]], tuple(str(directory / name) for name in index["shards"]), index["examples"],
                       tuple(index["label_shape"]), index["max_length"])


def load_split(directory: Path, split: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The arrays of one split and its labels, whole in memory."""
    stored = open_split(directory, split)
    parts = list(stored.chunks())
    return stored.kind.concatenate([arrays for arrays, _ in parts]), np.concatenate([labels for _, labels in parts])


def take(arrays: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """The given rows of one split's arrays, whatever their kind."""
    return kind_of(arrays).take(arrays, rows)


def prediction_order(arrays: dict[str, np.ndarray], count: int) -> np.ndarray:
    """An order of the rows that wastes the least padding: shortest texts first where lengths matter.

    A recurrent or convolutional model pays for every padded step of a batch padded to its longest
    text, so predicting texts of similar length together halves the work on IMDB's reviews.
    """
    lengths = kind_of(arrays).lengths(arrays)
    return np.arange(count) if lengths is None else np.argsort(lengths, kind="stable")


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
    index = directory / "train.json"
    return KINDS[json.loads(index.read_text(encoding="utf-8"))["kind"]] if index.is_file() else None


def feature_vocabulary(directory: Path, kind: str) -> list[str] | None:
    """The vocabulary a feature set was fitted with (None for raw text, which has none)."""
    return load_vocabulary(directory / "vocab.txt") if KINDS[kind].fits_vocabulary else None


def input_width(directory: Path, kind: str) -> int:
    """The model's input width for a feature set: its vocabulary plus reserved ids (0 for text)."""
    stored, wanted = stored_kind(directory), KINDS[kind]
    if stored and stored is not wanted:
        raise TextclfError(f"{directory} holds {stored.description}, but the model reads {wanted.description}")
    return vocabulary_size(load_vocabulary(directory / "vocab.txt"), kind) if wanted.fits_vocabulary else 0
