"""Every model of the zoo builds with one head or K, trains a step, saves and reloads with identical predictions."""

import numpy as np
import pytest
from conftest import WIDTH

from textclf import tasks
from textclf.core.errors import TextclfError
from textclf.core.tf_runtime import keras, seed_everything
from textclf.features import vectorizing
from textclf.models import zoo
from textclf.training import fitting

HPARAMS = {
    "bow_mean": {"embedding_dim": 8, "hidden_units": 8, "mask_padding": True},
    "bilstm": {"embedding_dim": 8, "lstm_units": [4, 4], "hidden_units": 8, "dropout": 0.5, "bucket_by_length": True},
    "ngram": {"weighting": "naive_bayes", "l2": 1e-6},
    "hub_dnn": {"trainable": True, "hidden_units": [8]},
    "cnn": {"handle": None, "embedding_dim": 8, "filters": 8, "kernel_size": 3, "dropout": 0.1, "bucket_by_length": True},
}
VOCABULARY = [f"w{i}" for i in range(2, WIDTH)]  # ids 0 and 1 are padding and OOV; the tiny module knows w0..w49
BINARY = tasks.Binary(["negative", "positive"])
THREE_CLASSES = tasks.MultiClass(["a", "b", "c"])
THREE_LABELS = tasks.MultiLabel(["a", "b", "c"], threshold=0.5)


def separable_data(n=128, length=12, seed=0, classes=2):
    """Token 2 + k marks class k (for two classes: token 3 positives, token 2 negatives); the rest is noise and padding."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n).astype(np.int32)
    tokens = rng.integers(2 + classes, WIDTH, (n, length)).astype(np.int32)
    tokens[:, 0] = 2 + labels
    tokens[: n // 2, -3:] = 0
    return tokens, labels


def multi_label_data(n=128, length=12, seed=0, labels=3):
    """Token 2 + k marks label k; each example has one label or two."""
    tokens, first = separable_data(n, length, seed, labels)
    hot = np.zeros((n, labels), np.int32)
    hot[np.arange(n), first] = 1
    second = (first + 1) % labels
    both = np.arange(n) % 3 == 0
    hot[both, second[both]] = 1
    tokens[both, 1] = 2 + second[both]
    return tokens, hot


def as_features(kind, tokens):
    if kind == "sequence":
        return {"tokens": tokens}
    if kind == "text":  # the same signal as words: "w2" marks the first class, "w3" the second
        return {"texts": np.array([" ".join(f"w{t}" for t in row if t) for row in tokens], dtype=object)}
    rows = [np.unique(row[row > 0]) for row in tokens]  # a bag of the same ids
    return {"indptr": np.r_[0, np.cumsum([len(r) for r in rows])], "indices": np.concatenate(rows).astype(np.int32)}


QUICK = {"bilstm": {"lstm_units": [4], "bucket_by_length": False}}  # each LSTM layer takes seconds to trace


def hparams_of(architecture, tiny_module, **overrides):
    return HPARAMS[architecture] | ({"handle": tiny_module} if architecture in ("hub_dnn", "cnn") else {}) | overrides


@pytest.mark.parametrize("units", [1, 4])
@pytest.mark.parametrize("architecture", sorted(zoo.MODELS))
def test_every_architecture_emits_one_logit_per_head(architecture, units, tiny_module):
    spec = zoo.model_spec(architecture)
    model = spec.build(hparams_of(architecture, tiny_module, **QUICK.get(architecture, {})), WIDTH, units)
    arrays = as_features(spec.features, separable_data(n=5)[0])
    inputs, _ = next(iter(fitting.make_dataset(arrays, np.zeros(5, np.int32), 8, WIDTH)))
    logits = model(inputs, training=False)
    assert logits.shape == (5, units) and model.output_shape == (None, units)
    assert model.get_layer("logit").output_shape == (None, units)


# The recurrent model is by far the slowest to trace and train (tens of seconds): one small layer, one task with K heads.
TRAINED = [pytest.param(architecture, task, id=f"{architecture}-{task.name}",
                        marks=[pytest.mark.slow] if architecture == "bilstm" else [])
           for architecture in sorted(zoo.MODELS) for task in (BINARY, THREE_LABELS)
           if architecture != "bilstm" or task.units > 1]


@pytest.mark.parametrize(("architecture", "task"), TRAINED)
def test_model_trains_saves_and_reloads(architecture, task, tmp_path, tiny_module):
    seed_everything(3)
    spec = zoo.model_spec(architecture)
    tokens, labels = separable_data() if task.units == 1 else multi_label_data()
    arrays = as_features(spec.features, tokens)
    hparams = hparams_of(architecture, tiny_module, **QUICK.get(architecture, {}))
    model = spec.build(hparams, WIDTH, task.units)
    if spec.initialize:
        spec.initialize(model, hparams, VOCABULARY)
    if spec.prime:
        spec.prime(model, [(arrays, task.head_targets(labels))])
    fitting.compile_model(model, learning_rate=0.01, task=task)
    targets = task.training_labels(labels)
    data = fitting.make_dataset(arrays, targets, 32, WIDTH, shuffle_seed=3, bucket_by_length=hparams.get("bucket_by_length", True))
    before = [w.copy() for w in model.get_weights()]
    rows, best_epoch = fitting.fit(model, data, fitting.make_dataset(arrays, targets, 64, WIDTH), epochs=2, patience=1,
                                   task=task)
    assert len(rows) == 2 and best_epoch in (1, 2)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))

    model.save(tmp_path / "model.keras")
    reloaded = fitting.load_model(tmp_path / "model.keras")
    test_arrays = as_features(spec.features, separable_data(n=20, seed=1)[0])
    test_data = fitting.make_dataset(test_arrays, np.zeros(20, np.int32), 8, WIDTH)
    predicted = model.predict(test_data, verbose=0)
    assert predicted.shape == (20, task.units)
    np.testing.assert_array_equal(predicted, reloaded.predict(test_data, verbose=0))


@pytest.mark.parametrize("architecture", ["bow_mean", "bilstm", "cnn"])
def test_a_sequence_model_predicts_a_text_the_same_alone_as_padded_beside_a_longer_one(architecture, tiny_module):
    # Batches are padded to their longest text: a review's prediction must not depend on its batch.
    seed_everything(5)
    spec = zoo.model_spec(architecture)
    model = spec.build(hparams_of(architecture, tiny_module, **QUICK.get(architecture, {})), WIDTH, 1)
    short = np.array([[5, 9, 3]], np.int32)
    padded = np.zeros((2, 40), np.int32)
    padded[0, :3], padded[1] = short[0], np.arange(40) % (WIDTH - 2) + 2
    alone = model(short, training=False).numpy()[0]
    np.testing.assert_allclose(model(padded, training=False).numpy()[0], alone, rtol=1e-5, atol=1e-6)


def test_cnn_starts_from_the_modules_vectors_of_the_words_it_knows(tiny_module):
    import tensorflow_hub as hub

    hparams = hparams_of("cnn", tiny_module)
    model = zoo.build_cnn(hparams, WIDTH + 1, 1)
    random_start = model.get_layer("embedding").embeddings.numpy().copy()
    zoo.initialize_from_module(model, hparams, VOCABULARY + ["unknown"])
    weights = model.get_layer("embedding").embeddings.numpy()
    vectors = hub.load(tiny_module).embeddings.numpy()
    scale = weights[2] / vectors[2]
    np.testing.assert_allclose(weights[2:WIDTH], vectors[2:WIDTH] * scale.mean(), rtol=1e-4)  # same directions, rescaled
    np.testing.assert_array_equal(weights[:2], random_start[:2])  # padding and OOV ids are not words
    np.testing.assert_array_equal(weights[WIDTH], random_start[WIDTH])  # a word the module lacks keeps its random start
    with pytest.raises(TextclfError, match="embedding_dim is 4, but .* has 8-d vectors"):
        zoo.initialize_from_module(zoo.build_cnn(hparams | {"embedding_dim": 4}, WIDTH, 1), hparams, VOCABULARY)


def test_naive_bayes_ngram_is_one_layer_of_ratios_kernel_and_bias():
    model = zoo.build_ngram(HPARAMS["ngram"], WIDTH, 1)
    assert [layer.name for layer in model.layers] == ["ngram_bag", "logit"]
    assert [weight.name for weight in model.weights] == ["logit/kernel:0", "logit/bias:0", "logit/ratios:0"]
    assert model.get_layer("logit").kernel.shape == (WIDTH, 1) and not model.get_layer("logit").ratios.trainable


def test_naive_bayes_heads_are_the_bags_scaled_by_each_class_ratios_under_its_own_weights():
    tokens, labels = separable_data(n=30, classes=3)
    arrays = as_features("ngrams", tokens)
    model = zoo.build_ngram(HPARAMS["ngram"], WIDTH, 3)
    zoo.prime_ngram_weights(model, [(arrays, THREE_CLASSES.head_targets(labels))])
    layer = model.get_layer("logit")
    layer.bias.assign([0.1, -0.2, 0.3])
    bags = np.zeros((len(labels), WIDTH), np.float32)
    bags[np.repeat(np.arange(len(labels)), np.diff(arrays["indptr"])), arrays["indices"]] = 1
    expected = np.stack([(bags * layer.ratios.numpy()[:, k]) @ layer.kernel.numpy()[:, k] for k in range(3)], axis=1)
    logits = model.predict(fitting.make_dataset(arrays, labels, 8, WIDTH), verbose=0)
    np.testing.assert_allclose(logits, expected + [0.1, -0.2, 0.3], rtol=1e-5, atol=1e-6)


def test_multi_class_ngram_has_a_naive_bayes_head_per_class_primed_one_vs_rest():
    tokens, labels = separable_data(n=90, classes=3)
    arrays = as_features("ngrams", tokens)
    model = zoo.build_ngram(HPARAMS["ngram"], WIDTH, 3)
    zoo.prime_ngram_weights(model, [(arrays, THREE_CLASSES.head_targets(labels))])
    ratios = model.get_layer("logit").ratios.numpy()
    assert ratios.shape == (WIDTH, 3) and model.get_layer("logit").kernel.shape == (WIDTH, 3)
    for k in range(3):
        expected = zoo.naive_bayes_ratios(arrays["indptr"], arrays["indices"], labels == k, WIDTH, alpha=1.0)
        np.testing.assert_array_equal(ratios[:, k], expected)
        # Class k's cue token (2 + k) is favoured by its own head only.
        assert ratios[2 + k, k] > 0 > max(r for head, r in enumerate(ratios[2 + k]) if head != k)
    # Primed a shard at a time, as a streamed split is, the ratios are the same to the bit.
    chunked = zoo.build_ngram(HPARAMS["ngram"], WIDTH, 3)
    targets = THREE_CLASSES.head_targets(labels)
    halves = (np.arange(0, 40), np.arange(40, 90))
    zoo.prime_ngram_weights(chunked, [(vectorizing.take(arrays, rows), targets[rows]) for rows in halves])
    np.testing.assert_array_equal(chunked.get_layer("logit").ratios.numpy(), ratios)


def test_multi_label_ngram_heads_are_primed_from_their_own_label(tmp_path):
    tokens, hot = multi_label_data(n=60)
    arrays = as_features("ngrams", tokens)
    spec = zoo.model_spec("ngram")
    model = spec.build(HPARAMS["ngram"] | {"l2": 0.01}, WIDTH, 3)
    spec.prime(model, [(arrays, THREE_LABELS.head_targets(hot))])
    for k in range(3):
        expected = zoo.naive_bayes_ratios(arrays["indptr"], arrays["indices"], hot[:, k] == 1, WIDTH, alpha=1.0)
        np.testing.assert_array_equal(model.get_layer("logit").ratios.numpy()[:, k], expected)
    model.save(tmp_path / "model.keras")
    reloaded = fitting.load_model(tmp_path / "model.keras")
    np.testing.assert_array_equal(reloaded.get_layer("logit").ratios.numpy(), model.get_layer("logit").ratios.numpy())
    assert reloaded.get_layer("logit").kernel_regularizer.get_config() == model.get_layer("logit").kernel_regularizer.get_config()


def test_plain_weighted_ngram_has_one_dense_head_and_nothing_to_prime():
    tokens, labels = separable_data(n=30, classes=3)
    model = zoo.build_ngram({"weighting": "none", "l2": 0.0}, WIDTH, 3)
    assert [layer.name for layer in model.layers] == ["ngram_bag", "logit"]
    zoo.prime_ngram_weights(model, [(as_features("ngrams", tokens), THREE_CLASSES.head_targets(labels))])  # a no-op
    assert model.get_layer("logit").kernel.shape == (WIDTH, 3)


def test_tfidf_head_is_a_linear_model_on_the_idf_weighted_bags_of_unit_length():
    tokens, labels = separable_data(n=30, classes=3)
    arrays = as_features("ngrams", tokens)
    model = zoo.build_ngram({"weighting": "tfidf", "l2": 0.0}, WIDTH, 3)
    zoo.prime_ngram_weights(model, [(arrays, THREE_CLASSES.head_targets(labels))])
    bags = np.zeros((len(labels), WIDTH), np.float32)
    bags[np.repeat(np.arange(len(labels)), np.diff(arrays["indptr"])), arrays["indices"]] = 1
    # scikit-learn's TF-IDF of the same multi-hot bags (smoothed idf, l2 rows) is the independent reference.
    from sklearn.feature_extraction.text import TfidfTransformer

    reference = TfidfTransformer(smooth_idf=True, norm="l2").fit(bags)
    layer = model.get_layer("logit")
    np.testing.assert_allclose(layer.idf.numpy()[:, 0], reference.idf_, rtol=1e-6)
    layer.bias.assign([0.1, -0.2, 0.3])
    expected = reference.transform(bags).toarray() @ layer.kernel.numpy() + [0.1, -0.2, 0.3]
    logits = model.predict(fitting.make_dataset(arrays, labels, 8, WIDTH), verbose=0)
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)


def test_tfidf_idf_primed_a_shard_at_a_time_is_the_same_and_survives_saving(tmp_path):
    tokens, labels = separable_data(n=40, classes=3)
    arrays, targets = as_features("ngrams", tokens), THREE_CLASSES.head_targets(labels)
    whole, chunked = (zoo.build_ngram({"weighting": "tfidf", "l2": 0.0}, WIDTH, 3) for _ in range(2))
    zoo.prime_ngram_weights(whole, [(arrays, targets)])
    halves = (np.arange(0, 15), np.arange(15, 40))
    zoo.prime_ngram_weights(chunked, [(vectorizing.take(arrays, rows), targets[rows]) for rows in halves])
    np.testing.assert_array_equal(chunked.get_layer("logit").idf.numpy(), whole.get_layer("logit").idf.numpy())
    whole.save(tmp_path / "model.keras")
    reloaded = fitting.load_model(tmp_path / "model.keras")
    np.testing.assert_array_equal(reloaded.get_layer("logit").idf.numpy(), whole.get_layer("logit").idf.numpy())


def test_bow_mean_learns():
    seed_everything(7)
    tokens, labels = separable_data(n=256)
    model = zoo.build_bow_mean(HPARAMS["bow_mean"], WIDTH, 1)
    fitting.compile_model(model, learning_rate=0.05, task=BINARY)
    targets = BINARY.training_labels(labels)
    rows, _ = fitting.fit(model, fitting.make_dataset({"tokens": tokens}, targets, 32, WIDTH, 7),
                           fitting.make_dataset({"tokens": tokens}, targets, 64, WIDTH), epochs=5, patience=2, task=BINARY)
    assert rows[-1]["accuracy"] > 0.9


def test_naive_bayes_ratios_favour_the_class_a_feature_appears_in():
    indptr, indices = np.array([0, 2, 4, 5]), np.array([0, 1, 0, 2, 2])
    ratios = zoo.naive_bayes_ratios(indptr, indices, np.array([True, True, False]), width=3, alpha=1.0)
    assert ratios[1] > 0 > ratios[2]  # feature 1 only in positives, feature 2 mostly in negatives
    # Counts plus alpha 1: positives (3, 2, 2) of 7, negatives (1, 1, 2) of 4.
    np.testing.assert_allclose(ratios, np.log(np.array([3, 2, 2]) / 7 / (np.array([1, 1, 2]) / 4)), rtol=1e-6)


def test_bucketed_batches_are_cut_to_their_longest_review():
    tokens = np.zeros((6, 10), np.int32)
    for row, length in enumerate([1, 2, 9, 1, 2, 9]):
        tokens[row, :length] = 5
    data = fitting.make_dataset({"tokens": tokens}, np.zeros(6), 2, 10, shuffle_seed=0, bucket_by_length=True)
    widths = sorted(batch.shape[1] for batch, _ in data)
    assert widths[0] <= 2 and widths[-1] == 9


def test_training_is_deterministic():
    def run():
        seed_everything(5)
        tokens, labels = separable_data()
        model = zoo.build_bow_mean(HPARAMS["bow_mean"], WIDTH, 1)
        fitting.compile_model(model, 0.01, BINARY)
        targets = BINARY.training_labels(labels)
        return fitting.fit(model, fitting.make_dataset({"tokens": tokens}, targets, 32, WIDTH, 5),
                            fitting.make_dataset({"tokens": tokens}, targets, 64, WIDTH), epochs=2, patience=1,
                            task=BINARY)

    assert run() == run()


def test_keras_2_is_the_keras_in_use():
    import tensorflow as tf

    assert tf.keras.layers.Dense is keras.layers.Dense
    assert keras.__name__.startswith("tf_keras")
