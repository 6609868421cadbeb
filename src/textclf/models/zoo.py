"""Model zoo: the builder of each architecture (its feature kind, schema and defaults are in textclf.models.architectures).

Every model ends in ``units`` logits, as many as its task asks for (one for a
binary task); the sigmoid or softmax is applied by the loss and at prediction
time, which is numerically safer than a probability output layer.
A model's params block in params.yaml names its ``architecture``, so variants of
one architecture are just more blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from textclf.core.errors import TextclfError
from textclf.core.tf_runtime import keras, tf
from textclf.models import architectures

# Logits stay float32 under a mixed-precision policy (textclf.training.distribute): the loss's sigmoid or softmax
# loses too much in 16 bits. The n-gram models are float32 throughout (their input is a sparse float32 bag).
LOGITS_DTYPE = "float32"


@dataclass(frozen=True)
class ModelSpec:
    build: Callable[[dict, int, int], keras.Model]  # (hparams, input width, output units)
    features: str  # the feature kind it reads (textclf.models.architectures): "sequence", "ngrams" or "text"
    # Fits what the model derives from training data before gradient descent, given chunks of
    # (arrays, [n, units] booleans of which head each example is positive for).
    prime: Callable[[keras.Model, Iterable[tuple[dict, np.ndarray]]], None] | None = None
    # Sets weights from outside the training data before training (pretrained word
    # vectors), given the hyper-parameters and the feature set's vocabulary.
    initialize: Callable[[keras.Model, dict, list[str]], None] | None = None
    # Where the model starts with a part that training leaves unchanged: that part and the head
    # above it, sharing the model's layers, so each text is encoded once instead of every epoch.
    frozen_split: Callable[[keras.Model, dict], tuple[keras.layers.Layer, keras.Model] | None] | None = None


def build_bow_mean(hparams: dict, vocab_size: int, units: int) -> keras.Model:
    """Seed 004's baseline: the mean of word embeddings under a small MLP."""
    return keras.Sequential(
        [
            keras.Input(shape=(None,), dtype="int32", name="token_ids"),
            # Masking makes the mean ignore padding, so long and short reviews
            # are not pulled towards the padding vector.
            keras.layers.Embedding(vocab_size, hparams["embedding_dim"], mask_zero=hparams["mask_padding"]),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(hparams["hidden_units"], activation="relu"),
            keras.layers.Dense(units, name="logit", dtype=LOGITS_DTYPE),
        ],
        name="bow_mean",
    )


def build_bilstm(hparams: dict, vocab_size: int, units: int) -> keras.Model:
    """Seed 003: masked embeddings, one or more bidirectional LSTMs, a small head."""
    layers = [
        keras.Input(shape=(None,), dtype="int32", name="token_ids"),
        keras.layers.Embedding(vocab_size, hparams["embedding_dim"], mask_zero=True),
    ]
    lstm_units = hparams["lstm_units"]
    for depth, width in enumerate(lstm_units):
        last = depth == len(lstm_units) - 1
        layers.append(keras.layers.Bidirectional(keras.layers.LSTM(width, return_sequences=not last)))
    layers.append(keras.layers.Dense(hparams["hidden_units"], activation="relu"))
    if hparams["dropout"]:
        layers.append(keras.layers.Dropout(hparams["dropout"]))
    layers.append(keras.layers.Dense(units, name="logit", dtype=LOGITS_DTYPE))
    return keras.Sequential(layers, name="bilstm")


class _WeightedBagHead(keras.layers.Layer):
    """A linear head over n-gram bags that a statistic of the train split reweights (set by ``prime_ngram_weights``)."""

    def __init__(self, units: int, kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def add_statistic(self, width: int) -> None:
        raise NotImplementedError

    def build(self, input_shape):
        width = input_shape[-1]
        self.add_statistic(width)
        self.kernel = self.add_weight(name="kernel", shape=(width, self.units), initializer="glorot_uniform",
                                      regularizer=self.kernel_regularizer)
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

    def get_config(self):
        return super().get_config() | {"units": self.units,
                                       "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer)}


@keras.saving.register_keras_serializable(package="textclf")
class NaiveBayesDense(_WeightedBagHead):
    """One linear head per class over n-gram bags scaled by that class's naive-Bayes log-count ratios
    (NBSVM, Wang & Manning 2012): logits = bags . (ratios * kernel) + bias.

    The ratios are statistics of the training labels, set once by ``prime_ngram_weights``
    and saved with the model, so the exported model needs nothing else. Scaling the
    kernel rather than the inputs makes every head one sparse matmul together, and
    keeps the sparse bag's values untouched.
    """

    def add_statistic(self, width: int) -> None:
        self.ratios = self.add_weight(name="ratios", shape=(width, self.units), initializer="ones", trainable=False)

    def call(self, inputs):
        return tf.sparse.sparse_dense_matmul(inputs, self.ratios * self.kernel) + self.bias


@keras.saving.register_keras_serializable(package="textclf")
class TfidfDense(_WeightedBagHead):
    """A linear head over n-gram bags weighted by inverse document frequency and scaled to unit length:
    logits = (bags . (idf * kernel)) / |bags * idf| + bias, the TF-IDF features of a linear classifier.

    The idf weights are statistics of the training texts, set once by ``prime_ngram_weights`` and saved
    with the model. The bags are multi-hot, so a bag's squared length is bags . idf^2: one more sparse
    matmul, and the sparse bag is never densified.
    """

    def add_statistic(self, width: int) -> None:
        self.idf = self.add_weight(name="idf", shape=(width, 1), initializer="ones", trainable=False)

    def call(self, inputs):
        length = tf.sqrt(tf.sparse.sparse_dense_matmul(inputs, tf.square(self.idf)))
        weighted = tf.sparse.sparse_dense_matmul(inputs, self.idf * self.kernel)
        return tf.math.divide_no_nan(weighted, length) + self.bias


def build_ngram(hparams: dict, vocab_size: int, units: int) -> keras.Model:
    """A linear model on sparse n-gram bags: TF-IDF weighted, naive-Bayes weighted (NBSVM) or plain.

    With several classes or labels, naive-Bayes weighting is one-vs-rest: each
    class scales the n-grams by its own ratios under its own linear head.
    """
    inputs = keras.Input(shape=(vocab_size,), sparse=True, name="ngram_bag")
    regularizer = keras.regularizers.l2(hparams["l2"]) if hparams["l2"] else None
    if hparams["weighting"] == "tfidf":
        logits = TfidfDense(units, kernel_regularizer=regularizer, name="logit", dtype=LOGITS_DTYPE)(inputs)
    elif hparams["weighting"] == "naive_bayes":
        logits = NaiveBayesDense(units, kernel_regularizer=regularizer, name="logit", dtype=LOGITS_DTYPE)(inputs)
    else:
        logits = keras.layers.Dense(units, kernel_regularizer=regularizer, name="logit", dtype=LOGITS_DTYPE)(inputs)
    return keras.Model(inputs, logits, name="ngram")


def class_counts(indptr: np.ndarray, indices: np.ndarray, positives: np.ndarray, width: int) -> np.ndarray:
    """[2, width]: how many examples of the class (``positives``) and of the rest hold each n-gram."""
    rows = np.repeat(np.arange(len(positives)), np.diff(indptr))
    positive = positives[rows].astype(bool)
    return np.stack([np.bincount(indices[positive], minlength=width), np.bincount(indices[~positive], minlength=width)])


def log_count_ratios(counts: np.ndarray, alpha: float) -> np.ndarray:
    """log( (alpha + count in positives) / |.|_1  over  (alpha + count in negatives) / |.|_1 ), from ``class_counts``."""
    p_counts, q_counts = alpha + counts[0], alpha + counts[1]
    return np.log((p_counts / p_counts.sum()) / (q_counts / q_counts.sum())).astype(np.float32)


def naive_bayes_ratios(indptr: np.ndarray, indices: np.ndarray, positives: np.ndarray, width: int, alpha: float) -> np.ndarray:
    """The log-count ratios of one class over examples in memory."""
    return log_count_ratios(class_counts(indptr, indices, positives, width), alpha)


def inverse_document_frequencies(document_counts: np.ndarray, documents: int) -> np.ndarray:
    """Smoothed idf, as scikit-learn's TfidfVectorizer computes it: 1 + log((1 + n) / (1 + df))."""
    return (1.0 + np.log((1.0 + documents) / (1.0 + document_counts))).astype(np.float32)


def prime_ngram_weights(model: keras.Model, chunks) -> None:
    """Set the statistics an n-gram model's weighting reads from the train split (plain weighting has none):
    the idf of every n-gram (TfidfDense), or each head's ratios from the examples positive for it
    (NaiveBayesDense).

    ``chunks`` yields (arrays, [n, units] positives) a part of the train split at a time, so the counts
    of a split streamed from its shards never need it whole in memory.
    """
    layer = model.get_layer("logit")
    if isinstance(layer, TfidfDense):
        width, documents = layer.idf.shape[0], 0
        counts = np.zeros(width, np.int64)
        for arrays, positives in chunks:
            counts += np.bincount(arrays["indices"], minlength=width)  # multi-hot: an n-gram once per text
            documents += len(positives)
        layer.idf.assign(inverse_document_frequencies(counts, documents)[:, None])
        return
    if not isinstance(layer, NaiveBayesDense):
        return
    width = layer.ratios.shape[0]
    counts = np.zeros((layer.units, 2, width), np.int64)
    for arrays, positives in chunks:
        for head in range(layer.units):
            counts[head] += class_counts(arrays["indptr"], arrays["indices"], positives[:, head], width)
    # alpha = 1 is Laplace smoothing, as in the NBSVM paper.
    layer.ratios.assign(np.stack([log_count_ratios(counts[head], alpha=1.0) for head in range(layer.units)], axis=1))


def build_hub_dnn(hparams: dict, width: int, units: int) -> keras.Model:
    """Seeds 001/002: a TF Hub text-embedding module under Dense layers.

    ``handle`` is any TF Hub / Kaggle handle or local path: by default the
    module the pretrain stage exports; online, e.g. google/nnlm-en-dim50/2.
    """
    import tensorflow_hub as hub

    layers = [hub.KerasLayer(hparams["handle"], input_shape=[], dtype=tf.string, trainable=hparams["trainable"], name="embedding")]
    layers += [keras.layers.Dense(units, activation="relu") for units in hparams["hidden_units"]]
    layers.append(keras.layers.Dense(units, name="logit", dtype=LOGITS_DTYPE))
    return keras.Sequential(layers, name="hub_dnn")


def split_frozen_module(model: keras.Model, hparams: dict) -> tuple[keras.layers.Layer, keras.Model] | None:
    """A frozen module is a fixed function of the text: (the module, the Dense layers above it)."""
    if hparams["trainable"]:
        return None
    embedding, *head = model.layers
    return embedding, keras.Sequential([keras.Input(shape=embedding.output_shape[1:]), *head], name="hub_dnn_head")


@keras.saving.register_keras_serializable(package="textclf")
class ZeroPadding(keras.layers.Layer):
    """Values at the padded steps of a batch (token id 0) set to zero; takes [values, token_ids].

    A convolution has no mask: without this, the learnt vector of the padding id would enter the
    windows at a text's end, and max-pooling would see the padded steps, so a review's prediction
    would depend on the longest review of its batch.
    """

    def call(self, inputs):
        values, token_ids = inputs
        return values * tf.cast(tf.not_equal(token_ids, 0), values.dtype)[..., None]


def build_cnn(hparams: dict, vocab_size: int, units: int) -> keras.Model:
    """Word vectors (the pretrained module's, fine-tuned) under a 1-D convolution and max-pooling over time.

    It reads word order and generalizes through the vectors learnt on the
    unlabelled reviews, where the n-gram model sees only n-grams it met in
    train: its errors differ, which is what an ensemble needs. Padding is zeroed
    before and after the convolution: zero vectors are what the convolution pads
    with itself, and after its ReLU no real step is below zero, so the padded
    steps change neither a window nor the maximum.
    """
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    vectors = ZeroPadding()([keras.layers.Embedding(vocab_size, hparams["embedding_dim"], name="embedding")(token_ids), token_ids])
    vectors = keras.layers.Dropout(hparams["dropout"])(vectors)
    features = keras.layers.Conv1D(hparams["filters"], hparams["kernel_size"], activation="relu", padding="same")(vectors)
    features = keras.layers.GlobalMaxPooling1D()(ZeroPadding()([features, token_ids]))
    logits = keras.layers.Dense(units, name="logit", dtype=LOGITS_DTYPE)(keras.layers.Dropout(hparams["dropout"])(features))
    return keras.Model(token_ids, logits, name="cnn")


def initialize_from_module(model: keras.Model, hparams: dict, vocabulary: list[str]) -> None:
    """Copy the module's vector of each vocabulary word into the embedding; other words keep their random start.

    The copied vectors are rescaled to the random ones' spread, so the known
    words do not swamp the layer above at the first step.
    """
    import tensorflow_hub as hub

    if hparams["handle"] is None:  # no pretrained vectors: every word starts random
        return
    module = hub.load(hparams["handle"])
    if not hasattr(module, "word_ids") or not hasattr(module, "embeddings"):
        raise TextclfError(f"{hparams['handle']} is not a word-vector module of the pretrain stage (no word_ids and embeddings)")
    embedding = model.get_layer("embedding")
    vectors = module.embeddings.numpy()
    if vectors.shape[1] != embedding.output_dim:
        raise TextclfError(f"embedding_dim is {embedding.output_dim}, but {hparams['handle']} has {vectors.shape[1]}-d vectors")
    found = vectors[module.word_ids(tf.constant(list(vocabulary), tf.string)).numpy()] if vocabulary else vectors[:0]
    # Words the module lacks land in its out-of-vocabulary buckets, which it exports as zeros.
    known = np.any(found != 0, axis=1)
    weights = embedding.embeddings.numpy()
    reserved = len(weights) - len(vocabulary)
    scale = float(np.std(weights)) / max(float(np.std(found[known])) if known.any() else 1.0, 1e-12)
    weights[reserved:][known] = found[known] * scale
    embedding.embeddings.assign(weights)


def _spec(architecture: str, **parts) -> ModelSpec:
    return ModelSpec(features=architectures.ARCHITECTURES[architecture].features, **parts)


# The builders of textclf.models.architectures' trained architectures (an ensemble is built by textclf.models.ensembles).
MODELS: dict[str, ModelSpec] = {
    "bow_mean": _spec("bow_mean", build=build_bow_mean),
    "bilstm": _spec("bilstm", build=build_bilstm),
    "ngram": _spec("ngram", build=build_ngram, prime=prime_ngram_weights),
    "cnn": _spec("cnn", build=build_cnn, initialize=initialize_from_module),
    "hub_dnn": _spec("hub_dnn", build=build_hub_dnn, frozen_split=split_frozen_module),
}


def model_spec(architecture: str) -> ModelSpec:
    if architecture not in MODELS:
        raise TextclfError(f"unknown model '{architecture}' (known: {', '.join(sorted(MODELS))})")
    return MODELS[architecture]
