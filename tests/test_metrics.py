import numpy as np
import pytest

from textclf.tasks import metrics


def brute_force_auc(labels, scores):
    positives, negatives = scores[labels == 1], scores[labels == 0]
    wins = (positives[:, None] > negatives[None, :]).sum() + 0.5 * (positives[:, None] == negatives[None, :]).sum()
    return wins / (len(positives) * len(negatives))


def test_roc_auc_matches_the_pairwise_definition_with_ties():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300) + labels * 0.3, 1)  # rounding creates many ties
    assert metrics.roc_auc(labels, scores) == pytest.approx(brute_force_auc(labels, scores))


def test_roc_curve_runs_from_origin_to_corner():
    fpr, tpr, thresholds = metrics.roc_curve(np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.6, 0.4]))
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert np.isinf(thresholds[0])


def test_precision_recall_curve():
    precision, recall, _ = metrics.precision_recall_curve(np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.7, 0.1]))
    np.testing.assert_allclose(precision, [1, 0.5, 2 / 3, 0.5])
    np.testing.assert_allclose(recall, [0.5, 0.5, 1, 1])


def test_binary_report_on_known_counts():
    labels = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    logits = np.array([3.0, 2.0, -1.0, 1.0, -2.0, -3.0, -4.0, -5.0])
    report = metrics.binary_report(labels, logits)
    assert report["accuracy"] == 0.75
    assert report["precision"] == pytest.approx(2 / 3, abs=1e-6)
    assert report["recall"] == pytest.approx(2 / 3, abs=1e-6)
    assert report["f1"] == pytest.approx(2 / 3, abs=1e-6)
    expected_loss = -np.mean(labels * np.log(metrics.sigmoid(logits)) + (1 - labels) * np.log(1 - metrics.sigmoid(logits)))
    assert report["loss"] == pytest.approx(expected_loss, abs=1e-6)


def test_log_loss_is_stable_for_huge_logits():
    assert metrics.log_loss_from_logits(np.array([1, 0]), np.array([1000.0, -1000.0])) == pytest.approx(0.0)
    assert np.isfinite(metrics.log_loss_from_logits(np.array([0]), np.array([1000.0])))


def test_thin_keeps_ends():
    kept = metrics.thin(10_000, 200)
    assert kept[0] == 0 and kept[-1] == 9_999 and len(kept) == 200
    assert list(metrics.thin(5, 200)) == [0, 1, 2, 3, 4]


def test_softmax_rows_sum_to_one_and_survive_huge_logits():
    probabilities = metrics.softmax(np.array([[0.0, np.log(3.0)], [1000.0, -1000.0], [5.0, 5.0]]))
    np.testing.assert_allclose(probabilities, [[0.25, 0.75], [1.0, 0.0], [0.5, 0.5]])
    assert np.isfinite(probabilities).all()


def test_softmax_cross_entropy_is_the_mean_negative_log_probability_of_the_true_class():
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0], [-3.0, 1.0, 4.0]])
    labels = np.array([0, 1, 1])
    expected = -np.mean(np.log(metrics.softmax(logits)[np.arange(3), labels]))
    assert metrics.softmax_cross_entropy(labels, logits) == pytest.approx(expected)
    assert metrics.softmax_cross_entropy(np.array([1]), np.array([[0.0, 1000.0]])) == pytest.approx(0.0)
    assert metrics.softmax_cross_entropy(np.array([0]), np.array([[0.0, 1000.0]])) == pytest.approx(1000.0)  # no overflow


def test_confusion_matrix_rows_are_actual_classes_and_columns_predicted_ones():
    matrix = metrics.confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), classes=4)
    assert matrix.tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]]  # class 3 never seen: a zero row
    assert metrics.confusion_matrix(np.array([], np.int64), np.array([], np.int64), classes=2).tolist() == [[0, 0], [0, 0]]
