"""Our exported text-embedding modules behave as TF Hub modules."""

import numpy as np
import pytest
import tensorflow_hub as hub

from textclf import hub_modules
from textclf.errors import TextclfError
from textclf.tf_runtime import keras, seed_everything, tf

TEXTS = ["Great movie, great cast!<br />Loved it.", "Awful, boring movie.", "great fun and great acting", "boring plot, awful acting"] * 10


@pytest.fixture(scope="module")
def trained():
    seed_everything(0)
    vocabulary, counts = hub_modules.fit_vocabulary(TEXTS, size=50, min_count=1)
    documents = hub_modules.encode_corpus(TEXTS, vocabulary)
    targets, contexts = hub_modules.skipgram_pairs(documents, counts, 2, 1e-2, np.random.default_rng(0))
    vectors, losses = hub_modules.train_skipgram(targets, contexts, counts, 8, 3, 32, 3, 0.05, 0)
    return vocabulary, counts, vectors, losses


@pytest.fixture(scope="module")
def module_path(trained, tmp_path_factory):
    vocabulary, _, vectors, _ = trained
    path = tmp_path_factory.mktemp("hub") / "module"
    hub_modules.export_module(path, vocabulary, hub_modules.centred(vectors), oov_buckets=4)
    return str(path)


def test_vocabulary_is_ordered_by_frequency_then_word(trained):
    vocabulary, counts, _, _ = trained
    assert vocabulary[0] == "great" and counts[0] == 40
    assert list(counts) == sorted(counts, reverse=True)
    assert "br" not in vocabulary and "movie," not in vocabulary  # HTML breaks and punctuation are gone
    with pytest.raises(TextclfError, match="no word occurs 1000 times"):
        hub_modules.fit_vocabulary(TEXTS, size=10, min_count=1000)


def test_skipgram_pairs_stay_inside_a_text():
    documents = [np.array([0, 1, 2]), np.array([3, 4])]
    targets, contexts = hub_modules.skipgram_pairs(documents, np.ones(5), window=2, subsample=10.0, rng=np.random.default_rng(0))
    pairs = set(zip(targets.tolist(), contexts.tolist()))
    assert pairs == {(0, 1), (1, 0), (1, 2), (2, 1), (0, 2), (2, 0), (3, 4), (4, 3)}


def test_training_lowers_the_loss(trained):
    assert trained[3][-1] < trained[3][0]


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
