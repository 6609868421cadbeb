"""End-to-end exports: raw strings in, the trained model's own probabilities out."""

import numpy as np
import pytest
import tensorflow as tf

from textclf import metrics, models, serving, training, vectorizing
from textclf.errors import TextclfError
from textclf.tf_runtime import seed_everything

from test_models import HPARAMS

pytestmark = pytest.mark.slow

TRAIN = ["great fun, great cast", "dull plot and dull cast", "a great film", "dull, dull, dull"] * 8
LABELS = np.array([1, 0, 1, 0] * 8, dtype=np.int32)
NEW = ["Great!", "so DULL", "unknown words only", "great " * 2000]
SETTINGS = {
    "sequence": {"kind": "sequence", "max_tokens": 50, "sequence_length": 16, "standardize": "lower_and_strip_punctuation"},
    "ngrams": {"kind": "ngrams", "max_tokens": 100, "ngrams": 2, "standardize": "lower_and_strip_punctuation"},
}


def trained(architecture):
    """A real model of ``architecture`` trained on TRAIN, with its vocabulary."""
    seed_everything(0)
    spec = models.model_spec(architecture)
    settings = SETTINGS[spec.features]
    vocabulary = vectorizing.fit_vocabulary(TRAIN, settings)
    arrays = vectorizing.encode(vectorizing.make_vectorizer(settings, vocabulary), TRAIN, spec.features)
    width = vectorizing.vocabulary_size(vocabulary, spec.features)
    model, _, _ = training.train_model(spec, HPARAMS[architecture] | {"seed": 0, "batch_size": 8, "epochs": 3,
                                       "learning_rate": 0.05, "patience": 3}, width, (arrays, LABELS), (arrays, LABELS))
    return model, settings, vocabulary, width


@pytest.mark.parametrize("architecture", ["bow_mean", "ngram"])
def test_export_predicts_what_the_trained_model_predicts(architecture, tmp_path):
    model, settings, vocabulary, width = trained(architecture)
    kind = models.model_spec(architecture).features
    serving.export(serving.end_to_end(model, kind, settings, vocabulary), tmp_path / "serving")

    predictor = serving.Predictor(tmp_path / "serving")  # plain tf.saved_model.load underneath
    got = predictor(NEW)
    arrays = vectorizing.encode(vectorizing.make_vectorizer(settings, vocabulary), NEW, kind)
    expected = metrics.sigmoid(training.predict_logits(model, arrays, np.zeros(len(NEW), np.int32), width))
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert got.dtype == np.float32 and got.shape == (len(NEW),)
    assert got[0] > 0.5 > got[1]  # it learnt the cue words
    assert predictor([]).shape == (0,)
    assert [serving.label_of(p) for p in (0.2, 0.5, 0.9)] == ["negative", "positive", "positive"]


def test_loading_something_that_is_not_an_export_fails_clearly(tmp_path):
    with pytest.raises(TextclfError, match="no exported model"):
        serving.Predictor(tmp_path)
    (tmp_path / "saved_model.pb").write_bytes(b"not a protobuf")
    with pytest.raises(TextclfError, match="cannot load the exported model"):
        serving.Predictor(tmp_path)


def test_export_needs_no_textclf_to_load(tmp_path):
    model, settings, vocabulary, _ = trained("bow_mean")
    serving.export(serving.end_to_end(model, "sequence", settings, vocabulary), tmp_path / "serving")
    signature = tf.saved_model.load(str(tmp_path / "serving")).signatures["serving_default"]
    assert signature(texts=tf.constant(["great"]))["probability"].shape == (1,)
