"""Paired significance tests of a metric's change between two revisions, on cases with known answers.

scipy's exact binomial test and scikit-learn's ROC-AUC are the independent references.
"""

import math
import time

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.metrics import roc_auc_score

from textclf.reporting.significance import (
    MCNEMAR,
    PAIRED_BOOTSTRAP,
    Difference,
    mcnemar,
    paired_bootstrap,
)


def accuracy(labels, scores):
    """Binary accuracy of probabilities of the positive class."""
    return float(np.mean((scores > 0.5) == labels))


def scores_right_on(labels, correct):
    """Probabilities whose decision is right exactly where ``correct`` says so."""
    return np.where(correct, labels, 1 - labels).astype(np.float32)


def correctness_with(base_only, head_only, both, neither):
    """Whether base and head get each text right, with these exact counts of texts in each cell."""
    counts = [base_only, head_only, both, neither]
    cells = np.repeat(np.arange(4), counts)
    return (cells == 0) | (cells == 2), (cells == 1) | (cells == 2)


def simulated_correctness(rng, texts, base_only, head_only, both):
    """Whether base and head get each text right, drawn with these probabilities of each cell."""
    cells = rng.choice(4, size=texts, p=[base_only, head_only, both, 1 - base_only - head_only - both])
    return (cells == 0) | (cells == 2), (cells == 1) | (cells == 2)


def accuracy_bootstrap(base_correct, head_correct, **options):
    labels = np.arange(len(base_correct)) % 2
    base, head = scores_right_on(labels, base_correct), scores_right_on(labels, head_correct)
    return paired_bootstrap(labels, base, head, accuracy, **options)


def test_identical_predictions_show_no_change_in_the_bootstrap():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 500)
    base = rng.random(500)
    calls = []

    def counted_auc(labels, scores):
        calls.append(len(scores))
        return roc_auc_score(labels, scores)

    difference = paired_bootstrap(labels, base, base.copy(), counted_auc)

    assert calls == [500], "identical scores leave nothing to resample"
    assert difference == Difference(
        base=roc_auc_score(labels, base),
        head=roc_auc_score(labels, base),
        change=0.0,
        low=0.0,
        high=0.0,
        level=0.95,
        p_value=1.0,
        test=PAIRED_BOOTSTRAP,
    )
    assert not difference.significant


def test_identical_correctness_shows_no_change_in_mcnemar():
    correct = np.random.default_rng(2).random(300) < 0.8
    difference = mcnemar(correct, correct.copy())
    assert (difference.change, difference.low, difference.high, difference.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert difference.base == difference.head == correct.mean()
    assert not difference.significant


def test_a_head_that_moves_scores_but_not_the_statistic_is_not_significant():
    # Every resampled change is exactly 0, on the general path rather than the identical-arrays one.
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 400)
    base = rng.random(400)
    head = 0.5 + (base - 0.5) / 2  # the same decisions, less confident

    difference = paired_bootstrap(labels, base, head, accuracy, draws=200)

    assert (difference.change, difference.low, difference.high, difference.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert not difference.significant


@pytest.mark.parametrize(
    ("base_only", "head_only"),
    [(3, 15), (15, 3), (0, 5), (8, 12), (500, 500), (500, 501), (450, 520), (480, 530), (4000, 4300)],
)
def test_mcnemar_p_value_is_the_exact_binomial_test_of_the_discordant_texts(base_only, head_only):
    texts, both = 20_000, 7000
    neither = texts - both - base_only - head_only
    base_correct, head_correct = correctness_with(base_only, head_only, both, neither)

    difference = mcnemar(base_correct, head_correct)

    expected = binomtest(base_only, base_only + head_only, 0.5).pvalue
    assert difference.p_value == pytest.approx(expected, rel=1e-9)
    assert difference.base == (both + base_only) / texts
    assert difference.head == (both + head_only) / texts
    assert difference.change == pytest.approx((head_only - base_only) / texts)
    assert difference.test == MCNEMAR


@pytest.mark.parametrize(("level", "z"), [(0.95, 1.959963984540054), (0.90, 1.6448536269514722)])
def test_mcnemar_interval_is_the_wald_interval_of_a_paired_difference_of_proportions(level, z):
    base_correct, head_correct = correctness_with(base_only=40, head_only=70, both=800, neither=90)
    texts, base_share, head_share = 1000, 40 / 1000, 70 / 1000
    change = head_share - base_share
    standard_error = math.sqrt((base_share + head_share - change**2) / texts)

    difference = mcnemar(base_correct, head_correct, level=level)

    assert difference.low == pytest.approx(change - z * standard_error, rel=1e-12)
    assert difference.high == pytest.approx(change + z * standard_error, rel=1e-12)
    assert difference.level == level


@pytest.mark.parametrize(
    ("base_only", "head_only", "significant"),
    # 0 against 5: the Wald interval excludes 0, but the exact p is 0.0625.
    [(3, 15, True), (15, 3, True), (8, 12, False), (0, 5, False)],
)
def test_mcnemar_significance_is_the_exact_tests_verdict(base_only, head_only, significant):
    base_correct, head_correct = correctness_with(base_only, head_only, both=900, neither=100 - base_only - head_only)
    assert mcnemar(base_correct, head_correct).significant is significant


@pytest.mark.parametrize("direction", [1, -1])
def test_a_clearly_different_head_is_significant_in_its_direction(direction):
    # 75% against 85% accuracy on 2,000 texts.
    worse, better = simulated_correctness(np.random.default_rng(4), 2000, base_only=0.05, head_only=0.15, both=0.70)
    base_correct, head_correct = (worse, better) if direction == 1 else (better, worse)

    difference = accuracy_bootstrap(base_correct, head_correct)

    assert difference.significant
    assert difference.p_value < 0.01
    assert difference.change == pytest.approx(head_correct.mean() - base_correct.mean())
    assert direction * difference.change > 0.05
    assert direction * difference.low > 0 and direction * difference.high > 0


def test_bootstrap_interval_covers_the_true_change_at_its_nominal_rate():
    # Base is right on 78% of texts, head on 84%: a true change of 0.06, with the two models
    # agreeing on 90% of texts, so an unpaired interval would be far too wide.
    rng = np.random.default_rng(5)
    true_change = 0.06
    covered = 0
    for dataset in range(200):
        base_correct, head_correct = simulated_correctness(rng, 400, base_only=0.02, head_only=0.08, both=0.76)
        difference = accuracy_bootstrap(base_correct, head_correct, draws=300, seed=dataset)
        covered += difference.low <= true_change <= difference.high
    assert 0.88 <= covered / 200 <= 0.99


def test_bootstrap_p_value_agrees_with_mcnemar_on_accuracy():
    base_correct, head_correct = correctness_with(base_only=90, head_only=115, both=1500, neither=295)

    bootstrap = accuracy_bootstrap(base_correct, head_correct, draws=2000)
    exact = mcnemar(base_correct, head_correct)

    assert exact.p_value == pytest.approx(0.0935, abs=1e-4)
    assert bootstrap.p_value == pytest.approx(exact.p_value, rel=0.2)
    assert bootstrap.low == pytest.approx(exact.low, abs=0.002)
    assert bootstrap.high == pytest.approx(exact.high, abs=0.002)


def test_base_and_head_are_resampled_on_the_same_rows():
    # Head adds 1 to every score: on any resample of paired rows the mean moves by exactly 1.
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 2, 300)
    base = rng.normal(size=300)

    difference = paired_bootstrap(labels, base, base + 1, lambda labels, scores: scores.mean(), draws=200)

    assert difference.low == pytest.approx(1, abs=1e-9)
    assert difference.high == pytest.approx(1, abs=1e-9)
    assert difference.p_value == pytest.approx(2 / 201)


def test_the_statistic_is_honoured_on_the_full_split():
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 2, 1000)
    base = (labels + rng.normal(scale=1.5, size=1000)).astype(np.float16)
    head = labels + rng.normal(scale=1.0, size=1000)

    difference = paired_bootstrap(labels, base, head, roc_auc_score, draws=200)

    assert difference.base == roc_auc_score(labels, base)
    assert difference.head == roc_auc_score(labels, head)
    assert difference.change == difference.head - difference.base
    assert difference.low < difference.change < difference.high


def test_multi_label_rows_are_resampled_whole_with_their_labels():
    rng = np.random.default_rng(8)
    labels = rng.integers(0, 2, (200, 3))
    row_ids = np.arange(200)[:, None]
    # A score's integer part names its row, so the statistic can see which rows a resample paired.
    base = row_ids + 0.5 * labels + 0.1 * rng.random((200, 3))
    head = row_ids + 0.5 * labels + 0.2 * rng.random((200, 3))
    seen_shapes = set()

    def micro_auc_of_whole_rows(resampled_labels, scores):
        seen_shapes.add(scores.shape)
        np.testing.assert_array_equal(resampled_labels, labels[scores[:, 0].astype(int)])
        assert (scores.astype(int) == scores[:, :1].astype(int)).all()
        return roc_auc_score(resampled_labels, scores - scores.astype(int), average="micro")

    difference = paired_bootstrap(labels, base, head, micro_auc_of_whole_rows, draws=50)

    assert seen_shapes == {(200, 3)}
    assert difference.base == roc_auc_score(labels, base - row_ids, average="micro")
    assert difference.head == roc_auc_score(labels, head - row_ids, average="micro")


def test_the_same_seed_gives_the_same_difference():
    base_correct, head_correct = simulated_correctness(np.random.default_rng(9), 500, 0.05, 0.07, 0.7)

    first = accuracy_bootstrap(base_correct, head_correct, draws=300, seed=11)

    assert accuracy_bootstrap(base_correct, head_correct, draws=300, seed=11) == first
    assert accuracy_bootstrap(base_correct, head_correct, draws=300, seed=12) != first


def auc_or_nan(labels, scores):
    return roc_auc_score(labels, scores) if 0 < labels.sum() < len(labels) else math.nan


def auc_or_error(labels, scores):
    if not 0 < labels.sum() < len(labels):
        raise ValueError("Only one class present in y_true. ROC AUC score is not defined in that case.")
    return roc_auc_score(labels, scores)


def test_undefined_resamples_are_skipped_whether_the_statistic_raises_or_returns_nan():
    # One positive in 12 rows: about a third of resamples lack it, and ROC-AUC is undefined there.
    labels = np.array([1] + [0] * 11)
    base = np.linspace(0.9, 0.0, 12)
    head = np.linspace(0.0, 0.9, 12)

    returning_nan = paired_bootstrap(labels, base, head, auc_or_nan, draws=300)

    assert paired_bootstrap(labels, base, head, auc_or_error, draws=300) == returning_nan
    assert (returning_nan.base, returning_nan.head) == (1.0, 0.0)
    assert np.isfinite([returning_nan.low, returning_nan.high, returning_nan.p_value]).all()
    assert returning_nan.significant


def test_a_statistic_undefined_on_every_resample_is_an_error():
    labels = np.arange(10) % 2
    base, head = np.linspace(0, 1, 10), np.linspace(1, 0, 10)

    def defined_on_the_full_split_only(resampled_labels, scores):
        return 0.5 if np.array_equal(scores, base) or np.array_equal(scores, head) else math.nan

    with pytest.raises(ValueError, match="undefined on all 20 resamples"):
        paired_bootstrap(labels, base, head, defined_on_the_full_split_only, draws=20)


@pytest.mark.parametrize(
    "call",
    [
        lambda: paired_bootstrap(np.zeros(5), np.zeros(5), np.zeros(4), accuracy),
        lambda: paired_bootstrap(np.zeros(4), np.zeros(5), np.zeros(5), accuracy),
        lambda: paired_bootstrap(np.zeros(0), np.zeros(0), np.zeros(0), accuracy),
        lambda: paired_bootstrap(np.zeros(5), np.zeros(5), np.ones(5), accuracy, draws=0),
        lambda: paired_bootstrap(np.zeros(5), np.zeros(5), np.ones(5), accuracy, level=95),
        lambda: mcnemar(np.array([1, 0, 1]), np.array([1, 1, 1])),
        lambda: mcnemar(np.ones(3, bool), np.ones(4, bool)),
        lambda: mcnemar(np.ones(0, bool), np.ones(0, bool)),
    ],
)
def test_inputs_that_cannot_be_compared_are_rejected(call):
    with pytest.raises(ValueError):
        call()


def test_a_full_imdb_test_split_costs_little_beyond_the_statistic():
    base_correct, head_correct = simulated_correctness(np.random.default_rng(10), 25_000, 0.05, 0.06, 0.8)
    started = time.perf_counter()

    difference = accuracy_bootstrap(base_correct, head_correct, draws=1000)

    # About 0.3 s on two CPU cores; a per-row Python loop would take minutes.
    assert time.perf_counter() - started < 5
    assert difference.low < difference.change < difference.high
