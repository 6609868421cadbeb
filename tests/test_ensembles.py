"""Ensembles: real member exports on every task type, a combiner fitted on their logits, an export that predicts the same."""

import numpy as np
import pytest
from test_serving import (
    BINARY,
    GENRE_LABELS,
    GENRE_NEW,
    GENRE_TRAIN,
    GENRES,
    LABELS,
    NEW,
    TRAIN,
    exported,
)

from textclf import tasks
from textclf.core.errors import TextclfError
from textclf.core.tf_runtime import seed_everything, tf
from textclf.models import ensembles
from textclf.serving import exports

pytestmark = pytest.mark.slow

THREE = tasks.MultiClass(["comedy", "horror", "romance"])
THREE_TRAIN = ["a funny laugh", "ghost and scream", "love and a kiss", "laugh, funny", "scream, ghost", "a kiss of love"] * 5
THREE_LABELS = np.array([0, 1, 2] * 10, dtype=np.int32)
THREE_NEW = ["Funny!", "a GHOST", "love", "nothing known"]

CASES = {
    "binary": (BINARY, TRAIN, LABELS, NEW),
    "multi_class": (THREE, THREE_TRAIN, THREE_LABELS, THREE_NEW),
    "multi_label": (GENRES, GENRE_TRAIN, GENRE_LABELS, GENRE_NEW),
}
HPARAMS = {"seed": 0, "epochs": 200, "learning_rate": 0.05, "l2": 1e-4}
MEMBERS = ("ngram", "bow_mean")


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request, tmp_path_factory):
    """(task, texts, labels, new texts, member export paths, directory) for one task type."""
    task, texts, labels, new = CASES[request.param]
    directory = tmp_path_factory.mktemp(request.param)
    paths = []
    for member in MEMBERS:
        exported(member, task, texts, labels, directory / member)
        paths.append(directory / member)
    return task, texts, labels, new, paths, directory


def test_member_logits_give_back_each_members_probabilities(case):
    task, texts, _, _, paths, _ = case
    logits = ensembles.member_logits(ensembles.Ensemble(paths, task), texts)
    assert logits.shape == (len(texts), len(paths) * task.units) and np.isfinite(logits).all()
    for i, path in enumerate(paths):
        own = logits[:, i * task.units : (i + 1) * task.units]
        np.testing.assert_allclose(task.tf_probabilities(tf.constant(own)).numpy(), exports.Predictor(path)(texts), atol=1e-5)


def test_fitted_ensemble_exports_and_reloads_with_identical_predictions(case):
    task, texts, labels, new, paths, directory = case
    seed_everything(0)
    ensemble = ensembles.Ensemble(paths, task)
    combiner, losses = ensembles.fit_combiner(ensembles.member_logits(ensemble, texts), labels, task, HPARAMS)
    assert losses[-1] < losses[0]
    ensemble.combiner = combiner
    ensembles.export(ensemble, directory / "ensemble")

    predictor = exports.Predictor(directory / "ensemble")  # plain tf.saved_model.load underneath
    assert predictor.task.name == task.name and predictor.task.classes == task.classes
    expected = task.probabilities(combiner.predict(ensembles.member_logits(ensemble, new), verbose=0))
    np.testing.assert_allclose(predictor(new), expected, atol=1e-5)
    # The members learnt the training texts; so does their weighted sum.
    assert np.array_equal(task.predicted(predictor(texts)), task.predicted(task.probabilities(
        combiner.predict(ensembles.member_logits(ensemble, texts), verbose=0))))
    assert np.mean(task.predicted(predictor(texts)) == labels) > 0.9
    weights = ensembles.member_weights(combiner, list(MEMBERS), task)
    assert set(weights) == set(MEMBERS) and all(np.isfinite(list(weights.values())))

    # An ensemble decides at a threshold of its own, chosen as a model's is; its export carries it.
    if task.uses_threshold:
        ensemble.decide_at(task.with_threshold(0.3))
        ensembles.export(ensemble, directory / "ensemble_at_0.3")
        assert exports.Predictor(directory / "ensemble_at_0.3").task.threshold == pytest.approx(0.3)


@pytest.mark.parametrize("task", [BINARY, THREE, GENRES], ids=lambda task: task.name)
def test_logits_from_probabilities_round_trip(task):
    logits = tf.constant(np.random.default_rng(0).normal(0, 3, (6, task.units)).astype(np.float32))
    probabilities = task.tf_probabilities(logits)
    np.testing.assert_allclose(task.tf_probabilities(task.tf_logits(probabilities)).numpy(), probabilities.numpy(), atol=1e-5)


def test_a_missing_member_export_is_named(tmp_path):
    with pytest.raises(TextclfError, match=f"no exported model in {tmp_path / 'gone'}"):
        ensembles.Ensemble([tmp_path / "gone"], BINARY)
