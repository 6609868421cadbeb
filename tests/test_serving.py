"""End-to-end exports: raw strings in, the trained model's own class probabilities out, the task saved beside them."""

import numpy as np
import pytest
import tensorflow as tf
from test_models import HPARAMS

from textclf import tasks
from textclf.core.errors import TextclfError
from textclf.core.tf_runtime import seed_everything
from textclf.features import vectorizing
from textclf.models import zoo
from textclf.serving import exports
from textclf.training import fitting

pytestmark = pytest.mark.slow

BINARY = tasks.Binary(["negative", "positive"])
TRAIN = ["great fun, great cast", "dull plot and dull cast", "a great film", "dull, dull, dull"] * 8
LABELS = np.array([1, 0, 1, 0] * 8, dtype=np.int32)
NEW = ["Great!", "so DULL", "unknown words only", "great " * 2000]

GENRES = tasks.MultiLabel(["comedy", "horror", "romance"], threshold=0.35)
GENRE_TRAIN = ["a funny laugh", "ghost and scream", "love and a kiss", "funny ghost laugh scream", "a kiss, a laugh, funny love",
               "scream at the ghost"] * 6
GENRE_LABELS = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 0]] * 6, dtype=np.int32)
GENRE_NEW = ["Funny!", "a GHOST", "love", "nothing known", "laugh " * 1000]

SETTINGS = {
    "sequence": {"kind": "sequence", "dataset": "reviews", "max_tokens": 50, "sequence_length": 16,
                 "standardize": "lower_and_strip_punctuation"},
    "ngrams": {"kind": "ngrams", "dataset": "reviews", "max_tokens": 100, "ngrams": 2,
               "standardize": "lower_and_strip_punctuation"},
}


def trained(architecture, task=BINARY, texts=TRAIN, labels=LABELS):
    """A real model of ``architecture`` trained on ``texts`` for ``task``: (model, feature settings, vocabulary, width)."""
    seed_everything(0)
    spec = zoo.model_spec(architecture)
    kind, settings = vectorizing.KINDS[spec.features], SETTINGS[spec.features]
    vocabulary = kind.fit(settings, texts)
    arrays = kind.encode(kind.vectorizer(settings, vocabulary), texts)
    width = vectorizing.vocabulary_size(vocabulary, spec.features)
    hparams = HPARAMS[architecture] | {"seed": 0, "batch_size": 8, "epochs": 3, "learning_rate": 0.05, "patience": 3, "class_weight": "balanced"}
    model, _, _ = fitting.train_model(spec, hparams, width, (arrays, labels), (arrays, labels), task, vocabulary=vocabulary)
    return model, settings, vocabulary, width


def exported(architecture, task, texts, labels, path):
    """Train, wrap and export; the model, its wrapper, its width and the loaded Predictor."""
    model, settings, vocabulary, width = trained(architecture, task, texts, labels)
    kind = vectorizing.KINDS[settings["kind"]]
    wrapped = exports.EndToEndModel(model, kind, kind.vectorizer(settings, vocabulary), task)
    exports.export(wrapped, path)
    return model, wrapped, width, exports.Predictor(path)  # plain tf.saved_model.load underneath


CASES = {
    "bow_mean-binary": ("bow_mean", BINARY, TRAIN, LABELS, NEW),
    "ngram-binary": ("ngram", BINARY, TRAIN, LABELS, NEW),
    "ngram-multi_label": ("ngram", GENRES, GENRE_TRAIN, GENRE_LABELS, GENRE_NEW),
    "bow_mean-multi_label": ("bow_mean", GENRES, GENRE_TRAIN, GENRE_LABELS, GENRE_NEW),
    "cnn-binary": ("cnn", BINARY, TRAIN, LABELS, NEW),
    "cnn-multi_label": ("cnn", GENRES, GENRE_TRAIN, GENRE_LABELS, GENRE_NEW),
}


@pytest.fixture(scope="module")
def export_of(tmp_path_factory):
    """Each case trained and exported once for the whole module: case -> (model, wrapper, width, Predictor, path)."""
    made = {}

    def get(case):
        if case not in made:
            path = tmp_path_factory.mktemp(case) / "serving"
            made[case] = (*exported(*CASES[case][:4], path), path)
        return made[case]

    return get


@pytest.mark.parametrize("case", list(CASES))
def test_export_predicts_what_the_trained_model_predicts(case, export_of):
    _, task, _, _, new = CASES[case]
    model, wrapped, width, predictor, _ = export_of(case)

    assert (predictor.task.name, predictor.task.classes, predictor.task.threshold) == (task.name, task.classes, task.threshold)
    assert type(predictor.task) is type(task)
    got = predictor(new)
    assert got.dtype == np.float32 and got.shape == (len(new), len(task.classes))
    arrays = wrapped.kind.encode(wrapped.vectorizer, new)
    expected = task.probabilities(fitting.predict_logits(model, arrays, np.zeros(len(new), np.int32), width))
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert predictor([]).shape == (0, len(task.classes))


def test_a_binary_export_learnt_the_cue_words(export_of):
    predictor = export_of("bow_mean-binary")[3]
    got = predictor(NEW)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-6)  # negative and positive
    assert got[0, 1] > 0.5 > got[1, 1]
    assert [predictor.task.prediction(p, top_k=1)["label"] for p in got[:2]] == ["positive", "negative"]


def test_a_multi_label_export_ranks_each_texts_own_label_first(export_of):
    predictor = export_of("ngram-multi_label")[3]
    got = predictor(GENRE_NEW[:3])
    assert [predictor.task.prediction(p, top_k=1)["top"][0][0] for p in got] == ["comedy", "horror", "romance"]
    assert predictor.task.threshold == 0.35 and predictor.task.uses_threshold


def test_export_needs_no_textclf_to_load_and_returns_the_class_names(export_of):
    loaded = tf.saved_model.load(str(export_of("ngram-multi_label")[4]))
    result = loaded.signatures["serving_default"](texts=tf.constant(["funny", "ghost"]))
    assert set(result) == {"probabilities", "labels"}
    assert result["probabilities"].shape == (2, 3)
    assert result["labels"].numpy().tolist() == [[b"comedy", b"horror", b"romance"]] * 2
    assert loaded.task_name.numpy() == b"multi_label"

    signature = tf.saved_model.load(str(export_of("bow_mean-binary")[4])).signatures["serving_default"]
    result = signature(texts=tf.constant(["great"]))
    assert result["probabilities"].shape == (1, 2)
    assert result["labels"].numpy().tolist() == [[b"negative", b"positive"]]


def test_an_export_holds_its_signature_not_the_keras_layers_own_traces(export_of):
    """Those traces only serve reviving the layers as Keras objects; tracing them was most of an LSTM export's time."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel.FromString((export_of("cnn-binary")[4] / "saved_model.pb").read_bytes())
    names = [function.signature.name for function in saved.meta_graphs[0].graph_def.library.function]
    assert any("probabilities" in name for name in names)
    assert not [name for name in names if "call_and_return_conditional_losses" in name]


def test_loading_something_that_is_not_an_export_fails_clearly(tmp_path):
    with pytest.raises(TextclfError, match="no exported model"):
        exports.Predictor(tmp_path)
    (tmp_path / "saved_model.pb").write_bytes(b"not a protobuf")
    with pytest.raises(TextclfError, match="cannot load the exported model"):
        exports.Predictor(tmp_path)
