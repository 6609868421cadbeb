"""Our exported text-embedding modules behave as TF Hub modules."""

import subprocess
import sys

import numpy as np
import pytest
import tensorflow_hub as hub

from textclf.core.errors import TextclfError
from textclf.core.tf_runtime import keras, seed_everything, tf
from textclf.models import hub_modules

TEXTS = ["Great movie, great cast!<br />Loved it.", "Awful, boring movie.", "great fun and great acting", "boring plot, awful acting"] * 10


@pytest.fixture(scope="module")
def trained():
    seed_everything(0)
    return train(TEXTS * 5)


def train(texts, min_count=1):
    return hub_modules.train_word2vec(texts, vocab_size=50, min_count=min_count, dim=8, window=2, subsample=1e-2,
                                      negatives=3, epochs=20, learning_rate=0.025, seed=0)


@pytest.fixture(scope="module")
def module_path(trained, tmp_path_factory):
    vocabulary, _, vectors = trained
    path = tmp_path_factory.mktemp("hub") / "module"
    hub_modules.export_module(path, vocabulary, hub_modules.centred(vectors), oov_buckets=4)
    return str(path)


def test_vocabulary_is_ordered_by_frequency_then_word(trained):
    vocabulary, counts, _ = trained
    assert vocabulary[0] == "great" and counts[0] == 200
    assert list(counts) == sorted(counts, reverse=True)
    assert "br" not in vocabulary and "movie," not in vocabulary  # HTML breaks and punctuation are gone
    with pytest.raises(TextclfError, match="no word occurs 1000 times"):
        train(TEXTS, min_count=1000)


def test_training_pulls_words_of_one_context_together_and_gives_the_same_vectors_every_time(trained):
    vocabulary, _, vectors = trained
    assert vectors.shape == (len(vocabulary), 8)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    similarity = {word: unit[vocabulary.index(word)] for word in ("awful", "boring", "fun")}
    # "awful" and "boring" share their contexts in TEXTS; "fun" never meets them.
    assert similarity["awful"] @ similarity["boring"] > similarity["awful"] @ similarity["fun"]
    again = train(TEXTS * 5)  # gensim seeds each word from a hash that, unlike Python's, is not salted per process
    assert again[0] == vocabulary and np.array_equal(again[2], vectors)


def test_module_loads_and_embeds_any_string(module_path):
    module = hub.load(module_path)
    embeddings = module(tf.constant(["great movie", "", "zzzz qqqq", "GREAT movie!!!"])).numpy()
    assert embeddings.shape == (4, 8) and embeddings.dtype == np.float32
    assert not embeddings[1].any()  # empty text: zero vector, not NaN
    assert np.isfinite(embeddings).all() and not embeddings[2].any()  # unknown words: zero until fine-tuned
    np.testing.assert_allclose(embeddings[0], embeddings[3], rtol=1e-6)  # case and punctuation ignored
    assert len(module.trainable_variables) == 1 and len(module.variables) == 1


@pytest.mark.parametrize("trainable", [True, False])
def test_keras_layer_fine_tunes_only_when_trainable(module_path, trainable):
    layer = hub.KerasLayer(module_path, input_shape=[], dtype=tf.string, trainable=trainable)
    model = keras.Sequential([layer, keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    before = layer.weights[0].numpy().copy()
    model.fit(tf.constant(TEXTS[:8]), np.ones(8), epochs=2, verbose=0)
    changed = not np.allclose(before, layer.weights[0].numpy())
    assert changed is trainable
    assert len(layer.trainable_weights) == (1 if trainable else 0)


def test_fine_tuning_learns_the_unknown_word_buckets(module_path):
    layer = hub.KerasLayer(module_path, input_shape=[], dtype=tf.string, trainable=True)
    model = keras.Sequential([layer, keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    model.fit(tf.constant(["zzzz great", "qqqq awful"]), np.array([1.0, 0.0]), epochs=2, verbose=0)
    assert layer(tf.constant(["zzzz qqqq"])).numpy().any()


def test_tokenized_texts_are_the_words_tokenize_splits_across_batches():
    texts = ["A <br />great, GREAT film!", "", "   ", "!!!", "naïve\u00a0word\ttab  end", "x" * 3]
    expected = [[word.decode("utf-8") for word in words] for words in hub_modules.tokenize(tf.constant(texts)).to_list()]
    assert list(hub_modules.tokenized(texts, batch_size=4)) == expected
    assert expected[1:4] == [[], [], []] and expected[4] == ["naïve\u00a0word", "tab", "end"]


def test_centring_removes_the_component_every_word_shares():
    rng = np.random.default_rng(0)
    shared = np.full(16, 10.0)
    vectors = shared + rng.normal(0.0, 0.5, (100, 16))
    cosine = lambda a, b: a @ b / np.linalg.norm(a) / np.linalg.norm(b)  # noqa: E731
    # Two "texts" of 30 different words each.
    assert cosine(vectors[:30].sum(axis=0), vectors[30:60].sum(axis=0)) > 0.99  # raw: every text points the same way
    centred = hub_modules.centred(vectors)
    np.testing.assert_allclose(centred.mean(axis=0), 0.0, atol=1e-5)
    assert abs(cosine(centred[:30].sum(axis=0), centred[30:60].sum(axis=0))) < 0.5
    assert centred.dtype == np.float32


def test_random_twin_keeps_shape_and_scale(trained):
    vectors = trained[2]
    twin = hub_modules.random_twin(vectors, seed=1)
    assert twin.shape == vectors.shape
    assert np.std(twin) == pytest.approx(np.std(vectors), rel=0.3)
    assert not np.allclose(twin, vectors)


def test_nearest_neighbours_report():
    vocabulary = ["good", "great", "bad"]
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [-1.0, 0.0]])
    report = hub_modules.nearest_neighbours(vocabulary, vectors, ["good", "unseen"], k=2)
    assert [n["word"] for n in report["good"]] == ["great", "bad"]
    assert report["unseen"] == []
    table = hub_modules.neighbours_markdown(report, report)
    assert "| good | great, bad | great, bad |" in table and "(not in vocabulary)" in table


def test_loading_a_module_does_not_import_keras_3(tiny_module):
    # TF Hub's KerasLayer probes standalone Keras 2 first; with Keras 3 installed that probe alone costs seconds.
    probe = ("import sys; from textclf.models import zoo; "
             f"zoo.build_hub_dnn({{'handle': {tiny_module!r}, 'trainable': False, 'hidden_units': [2]}}, 0, 1); "
             "print('keras' in sys.modules, 'tf_keras' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]
