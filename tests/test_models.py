"""Every model of the zoo builds, trains a step, saves and reloads with identical predictions."""

import numpy as np
import pytest

from textclf import hub_modules, models, training
from textclf.errors import TextclfError
from textclf.tf_runtime import keras, seed_everything

HPARAMS = {
    "bow_mean": {"embedding_dim": 8, "hidden_units": 8, "mask_padding": True},
    "bilstm": {"embedding_dim": 8, "lstm_units": [4, 4], "hidden_units": 8, "dropout": 0.5, "bucket_by_length": True},
    "ngram": {"weighting": "naive_bayes", "l2": 1e-6},
    "hub_dnn": {"trainable": True, "hidden_units": [8]},
}
WIDTH = 50


def separable_data(n=128, length=12, seed=0):
    """Token 2 marks positives, token 3 negatives; the rest is noise and padding."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n).astype(np.int32)
    tokens = rng.integers(4, WIDTH, (n, length)).astype(np.int32)
    tokens[:, 0] = np.where(labels == 1, 2, 3)
    tokens[: n // 2, -3:] = 0
    return tokens, labels


def as_features(kind, tokens):
    if kind == "sequence":
        return {"tokens": tokens}
    if kind == "text":  # the same signal as words: "w2" marks positives, "w3" negatives
        return {"texts": np.array([" ".join(f"w{t}" for t in row if t) for row in tokens], dtype=object)}
    rows = [np.unique(row[row > 0]) for row in tokens]  # a bag of the same ids
    return {"indptr": np.r_[0, np.cumsum([len(r) for r in rows])], "indices": np.concatenate(rows).astype(np.int32)}


@pytest.fixture(scope="module")
def tiny_module(tmp_path_factory):
    """A real exported text-embedding module over the words w0..w49."""
    path = tmp_path_factory.mktemp("hub") / "module"
    vectors = np.random.default_rng(0).normal(0, 0.1, (WIDTH, 8)).astype(np.float32)
    hub_modules.export_module(path, [f"w{i}" for i in range(WIDTH)], vectors, oov_buckets=2)
    return str(path)


@pytest.mark.parametrize("architecture", sorted(models.MODELS))
def test_model_trains_saves_and_reloads(architecture, tmp_path, tiny_module):
    seed_everything(3)
    spec = models.model_spec(architecture)
    tokens, labels = separable_data()
    arrays = as_features(spec.features, tokens)
    hparams = HPARAMS[architecture] | ({"handle": tiny_module} if architecture == "hub_dnn" else {})
    model = spec.build(hparams, WIDTH)
    if spec.prime:
        spec.prime(model, arrays, labels)
    training.compile_model(model, learning_rate=0.01)
    data = training.make_dataset(arrays, labels, 32, WIDTH, shuffle_seed=3, bucket_by_length=True)
    before = [w.copy() for w in model.get_weights()]
    rows, best_epoch = training.fit(model, data, training.make_dataset(arrays, labels, 64, WIDTH), epochs=2, patience=1)
    assert len(rows) == 2 and best_epoch in (1, 2)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))

    model.save(tmp_path / "model.keras")
    reloaded = training.load_model(tmp_path / "model.keras")
    test_arrays = as_features(spec.features, separable_data(n=20, seed=1)[0])
    test_data = training.make_dataset(test_arrays, np.zeros(20, np.int32), 8, WIDTH)
    np.testing.assert_array_equal(model.predict(test_data, verbose=0), reloaded.predict(test_data, verbose=0))


def test_bow_mean_learns():
    seed_everything(7)
    tokens, labels = separable_data(n=256)
    model = models.build_bow_mean(HPARAMS["bow_mean"], WIDTH)
    training.compile_model(model, learning_rate=0.05)
    rows, _ = training.fit(model, training.make_dataset({"tokens": tokens}, labels, 32, WIDTH, 7),
                           training.make_dataset({"tokens": tokens}, labels, 64, WIDTH), epochs=5, patience=2)
    assert rows[-1]["accuracy"] > 0.9


def test_naive_bayes_ratios_favour_the_class_a_feature_appears_in():
    indptr, indices = np.array([0, 2, 4, 5]), np.array([0, 1, 0, 2, 2])
    ratios = models.naive_bayes_ratios(indptr, indices, np.array([1, 1, 0]), width=3, alpha=1.0)
    assert ratios[1] > 0 > ratios[2]  # feature 1 only in positives, feature 2 mostly in negatives


def test_bucketed_batches_are_cut_to_their_longest_review():
    tokens = np.zeros((6, 10), np.int32)
    for row, length in enumerate([1, 2, 9, 1, 2, 9]):
        tokens[row, :length] = 5
    data = training.make_dataset({"tokens": tokens}, np.zeros(6), 2, 10, shuffle_seed=0, bucket_by_length=True)
    widths = sorted(batch.shape[1] for batch, _ in data)
    assert widths[0] <= 2 and widths[-1] == 9


def test_training_is_deterministic():
    def run():
        seed_everything(5)
        tokens, labels = separable_data()
        model = models.build_bow_mean(HPARAMS["bow_mean"], WIDTH)
        training.compile_model(model, 0.01)
        return training.fit(model, training.make_dataset({"tokens": tokens}, labels, 32, WIDTH, 5),
                            training.make_dataset({"tokens": tokens}, labels, 64, WIDTH), epochs=2, patience=1)

    assert run() == run()


def test_keras_2_is_the_keras_in_use():
    import tensorflow as tf

    assert tf.keras.layers.Dense is keras.layers.Dense
    assert keras.__name__.startswith("tf_keras")


def test_model_params_are_checked():
    params = {"models": {"m": {"architecture": "transformer"}}}
    with pytest.raises(TextclfError, match="unknown model 'transformer' \\(known: bilstm, bow_mean, hub_dnn, ngram\\)"):
        models.checked_model_params(params, "m")
    with pytest.raises(TextclfError, match="missing block 'models.other'"):
        models.checked_model_params(params, "other")
