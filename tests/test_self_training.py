"""Self-training on every task type: a real exported teacher labels unlabelled texts, a real student learns from them."""

import numpy as np
import pandas as pd
import pytest
from test_ensembles import CASES
from test_models import HPARAMS
from test_serving import SETTINGS, exported

from textclf.core.errors import TextclfError
from textclf.core.tf_runtime import seed_everything
from textclf.data import tables
from textclf.features import vectorizing
from textclf.models import zoo
from textclf.serving import exports
from textclf.training import fitting, self_training

pytestmark = pytest.mark.slow

KIND = vectorizing.KINDS["ngrams"]
STUDENT = HPARAMS["ngram"] | {"seed": 0, "batch_size": 8, "epochs": 4, "learning_rate": 0.05, "patience": 4, "class_weight": "balanced"}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request, tmp_path_factory):
    """A teacher exported from every text, a student's train split of the first third, the rest as a table of
    unlabelled texts: (task, texts, labels, new texts, vectorizer, width, directory)."""
    task, texts, labels, new = CASES[request.param]
    directory = tmp_path_factory.mktemp(request.param)
    exported("ngram", task, texts, labels, directory / "teacher")
    vocabulary = KIND.fit(SETTINGS["ngrams"], texts)
    vectorizer = KIND.vectorizer(SETTINGS["ngrams"], vocabulary)
    third = len(texts) // 3
    (directory / "features").mkdir()
    vectorizing.save_split(directory / "features", "train", [(KIND.encode(vectorizer, texts[:third]), labels[:third])])
    pd.DataFrame({"text": texts[third:], "label": -1}).to_parquet(directory / "unsup.parquet")
    return task, texts, labels, new, vectorizer, vectorizing.vocabulary_size(vocabulary, "ngrams"), directory


def test_the_unlabelled_texts_get_the_teachers_decisions_encoded_as_the_students_features(case):
    task, texts, _, _, vectorizer, _, directory = case
    third = len(texts) // 3
    labelled = self_training.pseudo_labelled_split(directory / "teacher", directory / "unsup.parquet", KIND, vectorizer,
                                                   task, directory / "labelled", shard_size=7)
    arrays, labels = vectorizing.load_split(directory / "labelled", "pseudo_labelled")
    assert labelled.count == len(texts) - third and len(labelled.shards) == -(-labelled.count // 7)
    teacher = exports.Predictor(directory / "teacher")
    np.testing.assert_array_equal(labels, task.pseudo_labels(teacher(texts[third:])))
    expected = KIND.encode(vectorizer, texts[third:])
    assert all(np.array_equal(arrays[key], expected[key]) for key in expected)


def test_a_student_trained_on_train_and_pseudo_labels_learns_the_task_and_exports(case, tmp_path):
    task, texts, labels, new, vectorizer, width, directory = case
    labelled = self_training.pseudo_labelled_split(directory / "teacher", directory / "unsup.parquet", KIND, vectorizer,
                                                   task, tmp_path, shard_size=5)
    combined = self_training.interleaved(vectorizing.open_split(directory / "features", "train"), labelled)
    assert combined.count == len(texts)
    seed_everything(0)
    student, rows, _ = fitting.train_model(zoo.model_spec("ngram"), STUDENT, width, combined,
                                            (KIND.encode(vectorizer, texts), labels), task)
    assert rows[-1]["loss"] < rows[0]["loss"]
    logits = fitting.predict_logits(student, KIND.encode(vectorizer, texts), labels, width)
    report = task.report(labels, logits)
    assert report[task.main_metric] > 0.9  # the teacher learnt these texts, so the pseudo-labels are right
    wrapped = exports.EndToEndModel(student, KIND, vectorizer, task)
    exports.export(wrapped, tmp_path / "student")
    np.testing.assert_allclose(exports.Predictor(tmp_path / "student")(new),
                               task.probabilities(fitting.predict_logits(student, KIND.encode(vectorizer, new),
                                                                          np.zeros(len(new), np.int32), width)), atol=1e-5)


def test_interleaving_spreads_each_splits_shards_in_proportion():
    split = vectorizing.StoredSplit(KIND, ("t0", "t1"), 10, (), None)
    unlabelled = vectorizing.StoredSplit(KIND, ("u0", "u1", "u2", "u3", "u4", "u5"), 30, (), None)
    both = self_training.interleaved(split, unlabelled)
    assert both.shards == ("u0", "t0", "u1", "u2", "u3", "t1", "u4", "u5") and both.count == 40
    with pytest.raises(TextclfError, match="not encoded as the train split is"):
        self_training.interleaved(split, vectorizing.StoredSplit(vectorizing.KINDS["sequence"], ("s0",), 5, (), 16))


def test_a_teacher_of_another_task_is_refused(case, tmp_path):
    task, _, _, _, vectorizer, _, directory = case
    other = next(other for other, *_ in CASES.values() if other.name != task.name)
    with pytest.raises(TextclfError, match=f"teacher .* predicts {task.name} .*, not the student's {other.name}"):
        self_training.pseudo_labelled_split(directory / "teacher", directory / "unsup.parquet", KIND, vectorizer, other,
                                            tmp_path, shard_size=5)


def test_a_dataset_without_unlabelled_texts_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TextclfError, match="data/prepared/movie_genres/unsup.parquet not found: dataset 'movie_genres' has no "
                                           "unlabelled texts"):
        tables.unlabelled_table("movie_genres")
