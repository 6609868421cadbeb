"""Our own TF Hub text-embedding modules: skip-gram vectors learnt from unlabelled reviews.

A module is a TF2 SavedModel that maps a batch of strings to float32
``[batch, dim]``. Tokenization happens inside (so callers pass raw text),
words outside the vocabulary are hashed into extra buckets, and the
``variables`` / ``trainable_variables`` attributes let ``hub.KerasLayer(handle,
trainable=True)`` fine-tune the embeddings. The embedding of a text is the
sum of its word vectors divided by sqrt(number of words), as nnlm-en does.

Raw skip-gram vectors share one large common component (on IMDB its norm is
~27 against ~2.6 for what tells words apart), which would swamp every review's
embedding and leave a frozen module near chance; ``centred`` removes it before
export.
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from textclf import artifacts
from textclf.errors import TextclfError
from textclf.tf_runtime import keras, tf

# Same HTML break and ASCII punctuation rules for the vocabulary and the module.
_BREAK = r"<br\s*/?>"
_PUNCTUATION = r"[[:punct:]]"


def tokenize(texts: tf.Tensor) -> tf.RaggedTensor:
    """Lower-case, drop HTML breaks and punctuation, split on whitespace."""
    texts = tf.strings.lower(texts)
    texts = tf.strings.regex_replace(texts, _BREAK, " ")
    texts = tf.strings.regex_replace(texts, _PUNCTUATION, " ")
    return tf.strings.split(texts)


def tokenized(texts: Sequence[str], batch_size: int = 4096) -> Iterable[list[bytes]]:
    for start in range(0, len(texts), batch_size):
        yield from tokenize(tf.constant(list(texts[start : start + batch_size]))).to_list()


def fit_vocabulary(texts: Sequence[str], size: int, min_count: int) -> tuple[list[str], np.ndarray]:
    """The ``size`` most frequent words seen at least ``min_count`` times, with their counts."""
    counts = collections.Counter()
    for words in tokenized(texts):
        counts.update(words)
    # Ties broken by the word itself, so the vocabulary does not depend on input order.
    frequent = sorted(((-n, w) for w, n in counts.items() if n >= min_count))[:size]
    if not frequent:
        raise TextclfError(f"no word occurs {min_count} times in the pretraining texts")
    return [w.decode("utf-8") for _, w in frequent], np.array([-n for n, _ in frequent], dtype=np.int64)


def encode_corpus(texts: Sequence[str], vocabulary: Sequence[str]) -> list[np.ndarray]:
    """Word ids per text, dropping out-of-vocabulary words (skip-gram trains on known words)."""
    index = {word.encode("utf-8"): i for i, word in enumerate(vocabulary)}
    return [np.array([index[w] for w in words if w in index], dtype=np.int32) for words in tokenized(texts)]


def skipgram_pairs(
    documents: list[np.ndarray], counts: np.ndarray, window: int, subsample: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(target, context) id pairs within ``window`` words, frequent words subsampled as in word2vec."""
    frequency = counts / counts.sum()
    keep_probability = np.minimum(1.0, np.sqrt(subsample / frequency) + subsample / frequency)
    kept = [doc[rng.random(len(doc)) < keep_probability[doc]] for doc in documents]
    # One long stream with a -1 between texts: pairs never cross a text boundary.
    stream = np.concatenate([np.r_[doc, -1] for doc in kept]).astype(np.int32)
    targets, contexts = [], []
    for offset in range(1, window + 1):
        left, right = stream[:-offset], stream[offset:]
        valid = (left >= 0) & (right >= 0)
        for boundary in range(1, offset):  # a -1 strictly between the two words also splits them
            valid &= stream[boundary : len(stream) - offset + boundary] >= 0
        targets += [left[valid], right[valid]]
        contexts += [right[valid], left[valid]]
    order = rng.permutation(sum(len(t) for t in targets))
    return np.concatenate(targets)[order], np.concatenate(contexts)[order]


def train_skipgram(
    targets: np.ndarray,
    contexts: np.ndarray,
    counts: np.ndarray,
    dim: int,
    epochs: int,
    batch_size: int,
    negatives: int,
    learning_rate: float,
    seed: int,
) -> tuple[np.ndarray, list[float]]:
    """Skip-gram with negative sampling (NCE against the unigram^0.75 distribution)."""
    vocab_size = len(counts)
    initializer = keras.initializers.RandomUniform(-0.5 / dim, 0.5 / dim, seed=seed)
    word_vectors = tf.Variable(initializer((vocab_size, dim)), name="word_vectors")
    context_vectors = tf.Variable(tf.zeros((vocab_size, dim)), name="context_vectors")
    biases = tf.Variable(tf.zeros(vocab_size), name="context_biases")
    optimizer = keras.optimizers.Adam(learning_rate)
    variables = [word_vectors, context_vectors, biases]

    @tf.function
    def step(batch_targets, batch_contexts):
        with tf.GradientTape() as tape:
            sampled = tf.random.fixed_unigram_candidate_sampler(
                true_classes=batch_contexts[:, None], num_true=1, num_sampled=negatives, unique=True,
                range_max=vocab_size, distortion=0.75, unigrams=counts.tolist(), seed=seed,
            )
            loss = tf.reduce_mean(tf.nn.nce_loss(
                weights=context_vectors, biases=biases, labels=batch_contexts[:, None],
                inputs=tf.gather(word_vectors, batch_targets), num_sampled=negatives,
                num_classes=vocab_size, sampled_values=sampled,
            ))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    pairs = tf.data.Dataset.from_tensor_slices((targets.astype(np.int64), contexts.astype(np.int64)))
    pairs = pairs.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    losses = []
    for epoch in range(epochs):
        total, batches = 0.0, 0
        for batch_targets, batch_contexts in pairs:
            total += float(step(batch_targets, batch_contexts))
            batches += 1
        losses.append(total / max(batches, 1))
        print(f"pretrain: epoch {epoch + 1}/{epochs}, loss {losses[-1]:.4f}, {len(targets):,} pairs")
    return word_vectors.numpy(), losses


def centred(word_vectors: np.ndarray) -> np.ndarray:
    """Word vectors minus their mean: only what distinguishes words is left."""
    return (word_vectors - word_vectors.mean(axis=0, keepdims=True)).astype(np.float32)


class TextEmbeddingModule(tf.train.Checkpoint):
    """The exported module. A ``tf.train.Checkpoint`` (not ``tf.Module``) so that the
    ``variables`` and ``trainable_variables`` lists are saved as plain attributes,
    which is where ``hub.KerasLayer`` looks for them."""

    def __init__(self, vocabulary: Sequence[str], embeddings: np.ndarray, oov_buckets: int):
        super().__init__()
        ids = tf.range(len(vocabulary), dtype=tf.int64)
        initializer = tf.lookup.KeyValueTensorInitializer(tf.constant(list(vocabulary)), ids)
        self.table = tf.lookup.StaticVocabularyTable(initializer, num_oov_buckets=oov_buckets)
        self.embeddings = tf.Variable(embeddings.astype(np.float32), name="embeddings")
        self.variables = [self.embeddings]
        self.trainable_variables = [self.embeddings]
        self.regularization_losses = []

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, texts):
        words = tokenize(texts)
        ids = tf.ragged.map_flat_values(self.table.lookup, words)
        vectors = tf.ragged.map_flat_values(tf.gather, self.embeddings, ids)
        lengths = tf.cast(words.row_lengths(), tf.float32)
        # Empty texts have no words: their embedding is the zero vector, not NaN.
        return tf.reduce_sum(vectors, axis=1) / tf.maximum(tf.sqrt(lengths), 1.0)[:, None]


def export_module(path: Path, vocabulary: Sequence[str], word_vectors: np.ndarray, oov_buckets: int) -> None:
    """Save a module. Out-of-vocabulary buckets start at zero: an unknown word adds
    nothing to a frozen embedding (random buckets measurably hurt frozen accuracy)
    and fine-tuning still learns them."""
    buckets = np.zeros((oov_buckets, word_vectors.shape[1]), dtype=np.float32)
    module = TextEmbeddingModule(vocabulary, np.concatenate([word_vectors, buckets]), oov_buckets)
    artifacts.save_saved_model(module, path)


def random_twin(word_vectors: np.ndarray, seed: int) -> np.ndarray:
    """Never-trained vectors of the same shape and scale (as random-nnlm is to nnlm)."""
    scale = float(np.std(word_vectors)) or 0.1
    return np.random.default_rng(seed).normal(0.0, scale, word_vectors.shape).astype(np.float32)


def nearest_neighbours(vocabulary: Sequence[str], vectors: np.ndarray, queries: Sequence[str], k: int) -> dict:
    """The ``k`` words with the highest cosine similarity to each query word."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    index = {word: i for i, word in enumerate(vocabulary)}
    report = {}
    for word in queries:
        if word not in index:
            report[word] = []
            continue
        similarity = unit @ unit[index[word]]
        similarity[index[word]] = -np.inf
        best = np.argsort(-similarity, kind="stable")[:k]
        report[word] = [{"word": vocabulary[i], "cosine": round(float(similarity[i]), 4)} for i in best]
    return report


def neighbours_markdown(pretrained: dict, random: dict) -> str:
    """A table a person can read: do the learnt neighbours mean something, unlike the random ones?"""
    lines = ["| word | nearest in the pretrained module | nearest in the random twin |", "|---|---|---|"]
    for word, found in pretrained.items():
        learnt = ", ".join(n["word"] for n in found) or "(not in vocabulary)"
        chance = ", ".join(n["word"] for n in random.get(word, [])) or "(not in vocabulary)"
        lines.append(f"| {word} | {learnt} | {chance} |")
    return "\n".join(lines) + "\n"
