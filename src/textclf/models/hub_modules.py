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
import zlib
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from textclf.core.errors import TextclfError
from textclf.core.tf_runtime import tf
from textclf.models import artifacts

# Same HTML break and ASCII punctuation rules for the vocabulary and the module.
_BREAK = r"<br\s*/?>"
_PUNCTUATION = r"[[:punct:]]"


def tokenize(texts: tf.Tensor) -> tf.RaggedTensor:
    """Lower-case, drop HTML breaks and punctuation, split on whitespace."""
    texts = tf.strings.lower(texts)
    texts = tf.strings.regex_replace(texts, _BREAK, " ")
    texts = tf.strings.regex_replace(texts, _PUNCTUATION, " ")
    return tf.strings.split(texts)


def tokenized(texts: Sequence[str], batch_size: int = 4096) -> Iterable[list[str]]:
    """Each text's words, as ``tokenize`` splits them. A text's words are joined with single spaces in
    TensorFlow, then decoded and split once a text rather than once a word: 16 million words are 6 s of
    Python decoding one at a time. No word holds a space, since the split was on whitespace."""
    for start in range(0, len(texts), batch_size):
        words = tokenize(tf.constant(list(texts[start : start + batch_size])))
        for text in tf.strings.reduce_join(words, axis=1, separator=" ").numpy():
            yield text.decode("utf-8").split(" ") if text else []


def train_word2vec(
    texts: Sequence[str], vocab_size: int, min_count: int, dim: int, window: int, subsample: float, negatives: int,
    epochs: int, learning_rate: float, seed: int,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Skip-gram with negative sampling, by gensim's C implementation: (vocabulary, word counts, vectors).

    The vocabulary is the ``vocab_size`` most frequent words seen at least
    ``min_count`` times, most frequent first. One worker thread: with more,
    the result depends on how the threads are scheduled, and the stage's output
    would not be the same bytes run to run.
    """
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    documents = list(tokenized(texts))
    counts = collections.Counter(word for words in documents for word in words)
    # Ties broken by the word itself, so the vocabulary does not depend on input order.
    frequent = sorted(((-n, w) for w, n in counts.items() if n >= min_count))[:vocab_size]
    if not frequent:
        raise TextclfError(f"no word occurs {min_count} times in the pretraining texts")
    vocabulary = [word for _, word in frequent]

    class Progress(CallbackAny2Vec):
        def __init__(self):
            self.epoch = 0

        def on_epoch_end(self, model):
            self.epoch += 1
            print(f"pretrain: epoch {self.epoch}/{epochs}", flush=True)

    # gensim's loss tally is a float32 running sum that loses its precision within an
    # epoch on a corpus this size, so no loss is reported: the neighbours say more.
    model = Word2Vec(sg=1, vector_size=dim, window=window, sample=subsample, negative=negatives, alpha=learning_rate,
                     min_count=1, workers=1, seed=seed, hashfxn=_stable_hash)
    model.build_vocab_from_freq({word: counts[word] for word in vocabulary})
    model.train(documents, total_examples=len(documents), epochs=epochs, callbacks=[Progress()])
    vectors = np.stack([model.wv[word] for word in vocabulary])
    return vocabulary, np.array([counts[word] for word in vocabulary], dtype=np.int64), vectors


def _stable_hash(text: str) -> int:
    """gensim seeds each word's initial vector from a hash of the word; Python's own hash is salted per process."""
    return zlib.crc32(text.encode("utf-8"))


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
    def word_ids(self, words):
        """The row of each word in ``embeddings`` (words it lacks hash into the out-of-vocabulary rows)."""
        return self.table.lookup(words)

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
