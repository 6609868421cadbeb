import dataclasses
import json

import numpy as np
import pytest
from test_models import (
    BINARY,
    HPARAMS,
    THREE_CLASSES,
    THREE_LABELS,
    WIDTH,
    as_features,
    multi_label_data,
    separable_data,
)

from textclf.core.errors import TextclfError
from textclf.core.tf_runtime import seed_everything, tf
from textclf.features import vectorizing
from textclf.models import zoo
from textclf.training import fitting


def test_dvclive_logs_every_epoch_as_it_ends_and_reads_back(tmp_path):
    tokens, labels = separable_data()
    seed_everything(0)
    hparams = HPARAMS["bow_mean"] | {"seed": 0, "batch_size": 32, "epochs": 3, "learning_rate": 0.05, "patience": 5, "class_weight": "balanced"}
    logged_before_the_end = []

    class Watcher(fitting.keras.callbacks.Callback):  # what `dvc plots show` would see during the run
        def on_epoch_end(self, epoch, logs=None):
            logged_before_the_end.append((tmp_path / "live/plots/metrics/eval/loss.tsv").read_text().count("\n"))

    live_dir = tmp_path / "live"
    _, rows, best_epoch = fitting.train_model(
        zoo.model_spec("bow_mean"), hparams, WIDTH, ({"tokens": tokens}, labels), ({"tokens": tokens}, labels), BINARY,
        callbacks=(fitting.live_logger(live_dir), Watcher()),
    )
    assert logged_before_the_end == [2, 3, 4]  # the header and every epoch so far, as each epoch ends
    assert (live_dir / "plots/metrics/train/accuracy.tsv").read_text().splitlines()[:2] == [
        "step\taccuracy", f"1\t{rows[0]['accuracy']}"]
    assert fitting.read_live_history(live_dir) == rows
    assert best_epoch == fitting.best_epoch_of(rows)
    assert json.loads((live_dir / "metrics.json").read_text())["eval"]["loss"] == rows[-1]["val_loss"]
    assert sorted(path.name for path in live_dir.iterdir()) == ["metrics.json", "plots"]  # no dvc.yaml, no report
    # The main metric at the threshold chosen each epoch, logged beside Keras's own metrics.
    assert {"val_score", "val_threshold"} <= set(rows[0])
    assert (live_dir / "plots/metrics/eval/score.tsv").read_text().splitlines()[1] == f"1\t{rows[0]['val_score']}"


def test_the_one_validation_pass_logs_what_keras_would_have_measured():
    tokens, labels = separable_data(n=64)
    seed_everything(0)
    hparams = HPARAMS["bow_mean"] | {"seed": 0, "batch_size": 16, "epochs": 3, "learning_rate": 0.05, "patience": 5,
                                     "class_weight": "none"}
    data = ({"tokens": tokens}, labels)
    model, rows, best_epoch = fitting.train_model(zoo.model_spec("bow_mean"), hparams, WIDTH, data, data, BINARY)
    # The kept weights are the best epoch's: Keras's own evaluation of them gives that epoch's logged figures.
    model.compile(loss=BINARY.loss(), metrics=[BINARY.accuracy()])
    loss, accuracy = model.evaluate(fitting.make_dataset(*data, 64, WIDTH), verbose=0)
    assert rows[best_epoch - 1]["val_loss"] == pytest.approx(loss, abs=1e-5)
    assert rows[best_epoch - 1]["val_accuracy"] == pytest.approx(accuracy, abs=1e-6)


def test_balanced_class_weights_are_scikit_learns_and_ride_with_each_training_batch():
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.array([0] * 30 + [1] * 6 + [2] * 12)
    split = vectorizing.as_split(({"tokens": np.ones((48, 3), np.int32)}, labels))
    weights = fitting.class_weights(THREE_CLASSES, split, "balanced")
    np.testing.assert_allclose(weights, compute_class_weight("balanced", classes=np.arange(3), y=labels), rtol=1e-6)
    assert fitting.class_weights(THREE_CLASSES, split, "none") is None
    assert fitting.class_weights(THREE_LABELS, vectorizing.as_split(({"tokens": np.ones((2, 3), np.int32)},
                                                                     np.array([[1, 0, 1], [0, 1, 0]]))), "balanced") is None
    batches = fitting.split_dataset(split, 16, WIDTH, label_dtype="int32", class_weights=weights)
    for _, batch_labels, batch_weights in batches:
        np.testing.assert_allclose(batch_weights.numpy(), weights[batch_labels.numpy()])


def test_the_output_bias_starts_at_the_class_shares_the_loss_sees():
    tokens, labels = separable_data(n=40)
    labels[:] = 0
    labels[:8] = 1  # 1:4
    split = vectorizing.as_split(({"tokens": tokens}, labels))
    model = zoo.build_bow_mean(HPARAMS["bow_mean"], WIDTH, 1)
    fitting.start_at_prior(model, BINARY, split)
    assert float(tf.sigmoid(model.get_layer("logit").bias[0])) == pytest.approx(9 / 42, rel=1e-5)
    fitting.start_at_prior(model, BINARY, split, fitting.class_weights(BINARY, split, "balanced"))
    assert float(model.get_layer("logit").bias[0]) == pytest.approx(0.0, abs=1e-6)  # balanced: even odds


NGRAM = HPARAMS["ngram"] | {"seed": 0, "batch_size": 32, "epochs": 2, "learning_rate": 0.05, "patience": 2, "class_weight": "balanced"}


def test_a_multi_class_model_gives_k_logits_and_its_tasks_report():
    tokens, labels = separable_data(n=96, classes=3)
    arrays = as_features("ngrams", tokens)
    model, rows, _ = fitting.train_model(zoo.model_spec("ngram"), NGRAM, WIDTH, (arrays, labels), (arrays, labels),
                                          THREE_CLASSES)
    logits = fitting.predict_logits(model, arrays, labels, WIDTH)
    assert logits.shape == (96, 3)
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(rows[0])
    report = fitting.evaluate(model, arrays, labels, WIDTH, THREE_CLASSES)
    assert report == THREE_CLASSES.report(labels, logits)
    assert report["accuracy"] > 0.9 and set(report["per_class"]) == {"a", "b", "c"}


def test_a_multi_label_model_trains_on_multi_hot_targets():
    tokens, hot = multi_label_data(n=96)
    arrays = as_features("ngrams", tokens)
    train_data = fitting.make_dataset(arrays, THREE_LABELS.training_labels(hot), 32, WIDTH)
    _, batch_labels = next(iter(train_data))
    assert batch_labels.shape == (32, 3) and batch_labels.dtype.name == "float32"
    model, rows, _ = fitting.train_model(zoo.model_spec("ngram"), NGRAM, WIDTH, (arrays, hot), (arrays, hot),
                                          THREE_LABELS)
    assert 0 <= rows[-1]["accuracy"] <= 1  # per-label accuracy at logit 0
    report = fitting.evaluate(model, arrays, hot, WIDTH, THREE_LABELS)
    assert report["roc_auc_micro"] > 0.95 and set(report["per_label"]) == {"a", "b", "c"}


def test_a_binary_model_has_one_logit_and_the_binary_report():
    tokens, labels = separable_data(n=64)
    arrays = as_features("ngrams", tokens)
    model, _, _ = fitting.train_model(zoo.model_spec("ngram"), NGRAM, WIDTH, (arrays, labels), (arrays, labels), BINARY)
    logits = fitting.predict_logits(model, arrays, labels, WIDTH)
    assert logits.shape == (64, 1)
    assert fitting.evaluate(model, arrays, labels, WIDTH, BINARY) == BINARY.report(labels, logits)
    assert model.get_layer("logit").ratios.numpy()[3, 0] > 0  # primed: token 3 marks positives


@pytest.mark.parametrize(("task", "loss"), [(BINARY, "BinaryCrossentropy"), (THREE_CLASSES, "SparseCategoricalCrossentropy"),
                                            (THREE_LABELS, "BinaryCrossentropy")], ids=lambda value: getattr(value, "name", ""))
def test_compile_uses_the_tasks_loss_on_logits(task, loss):
    model = zoo.build_bow_mean(HPARAMS["bow_mean"], WIDTH, task.units)
    fitting.compile_model(model, 0.01, task)
    assert type(model.loss).__name__ == loss and model.loss.get_config()["from_logits"]


def test_best_epoch_is_the_highest_validation_score_and_the_first_on_a_tie():
    rows = [{"val_score": score, "val_loss": loss} for score, loss in ((0.5, 0.1), (0.7, 0.3), (0.6, 0.2), (0.7, 0.3))]
    assert fitting.best_epoch_of(rows) == 2


def test_a_missing_training_log_says_what_to_run(tmp_path):
    with pytest.raises(TextclfError, match=r"eval/loss.tsv|train/loss.tsv"):
        fitting.read_live_history(tmp_path)


def test_missing_model_says_what_to_run(tmp_path):
    with pytest.raises(TextclfError, match="run `dvc repro` to train it"):
        fitting.load_model(tmp_path / "model.keras")


def test_a_git_repository_without_commits_is_one_clear_error(tmp_path, monkeypatch):
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TextclfError, match=r"DVCLive cannot start .*commit once \(`git commit`\)"):
        fitting.live_logger(tmp_path / "live")


def test_sequences_are_predicted_shortest_first_and_returned_in_their_own_order():
    tokens, labels = separable_data(n=40, length=12)
    tokens[::3, 4:] = 0  # three lengths, interleaved: 4, 9 and 12 ids
    tokens[1::3, 9:] = 0
    lengths = np.count_nonzero(tokens, axis=1)
    order = vectorizing.prediction_order({"tokens": tokens}, len(labels))
    assert np.all(np.diff(lengths[order]) >= 0) and sorted(order) == list(range(40))
    seed_everything(0)
    model = zoo.build_bilstm(HPARAMS["bilstm"], WIDTH, BINARY.units)
    logits = fitting.predict_logits(model, {"tokens": tokens}, labels, WIDTH)
    # Each text among texts of its own length only, cut to that length: what a batch of longer peers may not change.
    alone = np.zeros_like(logits)
    for length in np.unique(lengths):
        rows = np.flatnonzero(lengths == length)
        alone[rows] = model(tokens[rows, :length], training=False).numpy()
    np.testing.assert_allclose(logits, alone, atol=1e-5)


def test_bags_and_texts_are_predicted_in_their_own_order():
    tokens, labels = separable_data(n=10)
    for kind in ("ngrams", "text"):
        assert list(vectorizing.prediction_order(as_features(kind, tokens), len(labels))) == list(range(10))


@pytest.mark.parametrize("task", [BINARY, THREE_LABELS], ids=lambda task: task.name)
def test_a_frozen_module_encodes_each_text_once_and_trains_as_the_whole_model_would(task, tiny_module):
    tokens, labels = separable_data() if task.units == 1 else multi_label_data()
    arrays = as_features("text", tokens)
    hparams = HPARAMS["hub_dnn"] | {"handle": tiny_module, "trainable": False, "seed": 0, "batch_size": 32, "epochs": 3,
                                    "learning_rate": 0.05, "patience": 3, "class_weight": "balanced"}
    spec = zoo.model_spec("hub_dnn")
    runs = {}
    for name, chosen in [("encoded once", spec), ("encoded every epoch", dataclasses.replace(spec, frozen_split=None))]:
        seed_everything(0)
        runs[name] = fitting.train_model(chosen, hparams, WIDTH, (arrays, labels), (arrays, labels), task)
    (encoded, encoded_rows, _), (whole, whole_rows, _) = runs["encoded once"], runs["encoded every epoch"]
    assert len(encoded_rows) == len(whole_rows) == 3
    for once, every in zip(encoded_rows, whole_rows):
        assert once == pytest.approx(every, rel=1e-4, abs=1e-5)
    module = fitting.keras.Sequential([fitting.keras.Input(shape=(), dtype="string"), encoded.layers[0]])
    untouched = zoo.build_hub_dnn(hparams, WIDTH, task.units).layers[0]
    texts = arrays["texts"][:8].tolist()
    np.testing.assert_array_equal(module(fitting.tf.constant(texts)).numpy(), untouched(fitting.tf.constant(texts)).numpy())
    np.testing.assert_allclose(fitting.predict_logits(encoded, arrays, labels, WIDTH),
                               fitting.predict_logits(whole, arrays, labels, WIDTH), atol=1e-4)


def test_only_a_frozen_module_is_split_from_its_head(tiny_module):
    spec = zoo.model_spec("hub_dnn")
    hparams = HPARAMS["hub_dnn"] | {"handle": tiny_module}
    assert spec.frozen_split(spec.build(hparams | {"trainable": True}, WIDTH, 1), hparams | {"trainable": True}) is None
    encoder, head = spec.frozen_split(spec.build(hparams | {"trainable": False}, WIDTH, 1), hparams | {"trainable": False})
    assert encoder.name == "embedding" and [layer.name for layer in head.layers][-1] == "logit"
    assert all(zoo.model_spec(name).frozen_split is None for name in zoo.MODELS if name != "hub_dnn")
