"""Model files carry no save time or random id: the same weights give the same bytes."""

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from textclf.core.tf_runtime import seed_everything, tf
from textclf.models import artifacts, zoo

pytestmark = pytest.mark.slow

# Tiny hyper-parameters per architecture (a stacked BiLSTM: its layers share initializers).
HPARAMS = {
    "bow_mean": {"embedding_dim": 8, "hidden_units": 8, "mask_padding": True},
    "bilstm": {"embedding_dim": 8, "lstm_units": [4, 4], "hidden_units": 8, "dropout": 0.5, "bucket_by_length": True},
    "ngram": {"weighting": "naive_bayes", "l2": 1e-6},
}
WIDTH = 50


def built(architecture, units=1, seed=0):
    """A model of ``architecture`` with ``units`` output logits (1: binary; more: one per class or label)."""
    seed_everything(seed)
    spec = zoo.model_spec(architecture)
    model = spec.build(HPARAMS[architecture], WIDTH, units)
    if spec.features == "sequence":
        model(np.ones((2, 6), np.int32))  # create the weights (functional n-gram models have them already)
    return model


# A stacked Bidirectional LSTM shares initializers, which Keras records by memory address, and a
# multi-label n-gram model has one naive-Bayes head per label.
SAVED_MODELS = [("bow_mean", 1), ("bilstm", 1), ("bow_mean", 8), ("ngram", 9)]

SAVE_KERAS_MODELS = """
import sys
import textclf
from textclf.models import artifacts
sys.path.insert(0, sys.argv[2])
from test_artifacts import SAVED_MODELS, built
for architecture, units in SAVED_MODELS:
    artifacts.save_keras_model(built(architecture, units), f"{sys.argv[1]}/{architecture}-{units}.keras")
"""


def test_the_same_models_saved_by_two_processes_give_the_same_bytes(tmp_path):
    """As a forced rerun does: each process saves every model of SAVED_MODELS."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        subprocess.run([sys.executable, "-c", SAVE_KERAS_MODELS, str(tmp_path / name), str(Path(__file__).parent)],
                       check=True)
    for architecture, units in SAVED_MODELS:
        saved = f"{architecture}-{units}.keras"
        assert (tmp_path / "a" / saved).read_bytes() == (tmp_path / "b" / saved).read_bytes(), saved
        with zipfile.ZipFile(tmp_path / "a" / saved) as archive:
            assert {entry.date_time for entry in archive.infolist()} == {artifacts.ZIP_EPOCH}
            assert b"date_saved" not in archive.read("metadata.json")


def test_weights_digest_tells_models_apart_and_survives_a_reload(tmp_path):
    model = built("bow_mean")
    artifacts.save_keras_model(model, tmp_path / "m.keras")
    reloaded = tf.keras.models.load_model(tmp_path / "m.keras")
    assert artifacts.weights_digest(reloaded) == artifacts.weights_digest(model)
    assert artifacts.weights_digest(built("bow_mean", seed=1)) != artifacts.weights_digest(model)
    assert artifacts.weights_digest(built("bow_mean", units=3)) != artifacts.weights_digest(model)  # a wider head


SAVE_MODULES = """
import sys
import numpy as np
import textclf
from textclf.models import artifacts
from textclf.core.tf_runtime import keras, seed_everything, tf
for path, weight, units in zip(sys.argv[1::3], sys.argv[2::3], sys.argv[3::3]):
    keras.backend.clear_session()  # the same layer names for each module, as in a fresh process
    seed_everything(0)
    module = tf.Module()
    module.weight = tf.Variable([float(weight), 2.0])
    # An LSTM: Keras names its function lstm_<random uuid4>
    module.lstm = keras.Sequential([keras.layers.Embedding(10, 4, mask_zero=True), keras.layers.LSTM(int(units))])
    module.run = tf.function(lambda x: module.lstm(x) * module.weight[0],
                             input_signature=[tf.TensorSpec([None, None], tf.int32)])
    np.save(path + ".npy", module.run(tf.constant([[1, 2, 0]])).numpy())
    artifacts.save_saved_model(module, path)
"""


def test_saved_model_bytes_depend_only_on_the_content(tmp_path):
    """Saved by separate processes, as a forced rerun does: no random uuid (fingerprint, LSTM function names) may
    differ. The first process also saves other weights, which must change the fingerprint."""
    for saves in ((tmp_path / "a", "1.0", "3", tmp_path / "c", "3.0", "3"), (tmp_path / "b", "1.0", "3")):
        subprocess.run([sys.executable, "-c", SAVE_MODULES, *map(str, saves)], check=True)
    files = sorted(path.relative_to(tmp_path / "a") for path in (tmp_path / "a").rglob("*") if path.is_file())
    assert Path("fingerprint.pb") in files
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "c/fingerprint.pb").read_bytes() != (tmp_path / "a/fingerprint.pb").read_bytes()
    loaded = tf.saved_model.load(str(tmp_path / "a"))
    assert loaded.run(tf.constant([[1, 2, 0]])).shape == (1, 3)  # the renamed functions still load and run


def test_two_saved_lstms_of_different_shapes_run_side_by_side(tmp_path):
    """Grappler swaps functions that share an LSTM's ``api_implements`` name: two exports loaded in one process
    (predict, an ensemble) must not share one unless their graphs are the same."""
    narrow, wide = tmp_path / "narrow", tmp_path / "wide"
    subprocess.run([sys.executable, "-c", SAVE_MODULES, str(narrow), "1.0", "3", str(wide), "1.0", "5"], check=True)
    loaded = [tf.saved_model.load(str(path)) for path in (narrow, wide)]
    for path, module in zip((narrow, wide), loaded):
        np.testing.assert_allclose(module.run(tf.constant([[1, 2, 0]])).numpy(), np.load(f"{path}.npy"), atol=1e-6)
