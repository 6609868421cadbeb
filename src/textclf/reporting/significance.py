"""Whether a change of a test metric between two revisions of a model is real or noise.

A pull request that moves test accuracy by 0.05 points on 25,000 reviews leaves its
reviewer guessing: is the new model better, or did it get luckier on this test split?
Both revisions predicted the same test texts, and most texts are easy or hard for both
models alike, so a paired test, which looks only at how the two models' results differ
text by text, is far more sensitive than comparing two confidence intervals computed as
if the revisions had been tested on independent samples.

Two paired tests:

- ``paired_bootstrap`` for any metric (accuracy, F1, ROC-AUC ...): resample the test
  rows, score both revisions on the same resample, and look at the spread of the change.
- ``mcnemar`` for accuracy: an exact binomial test on the texts that exactly one of
  the two revisions gets right, with no resampling at all.

Both return a ``Difference``. The module needs NumPy only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

PAIRED_BOOTSTRAP = "paired bootstrap"
MCNEMAR = "McNemar"

# Up to this many discordant pairs an exact integer sum of binomial coefficients is instant;
# beyond it the coefficients grow to thousands of digits, and a sum in log space stays linear.
EXACT_PAIRS_LIMIT = 1000

Statistic = Callable[[np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class Difference:
    """A metric at two revisions, its change, and how sure we are that the change is not noise."""

    base: float  # the statistic of the base revision on the full test split
    head: float
    change: float  # head - base
    low: float  # confidence interval of the change
    high: float
    level: float  # confidence level of [low, high], e.g. 0.95
    p_value: float  # two-sided, against "the two revisions are equally good"
    test: str  # PAIRED_BOOTSTRAP or MCNEMAR

    @property
    def significant(self) -> bool:
        # With the intervals computed here the p-value decides: a +1-corrected tail share below
        # (1 - level) / 2 puts the percentile interval past 0, and McNemar's exact test is stricter
        # than its Wald interval. Asking for both keeps the verdict in line with the interval a
        # report shows, should either way of computing them change.
        return self.p_value < 1 - self.level and (self.low > 0 or self.high < 0)


def paired_bootstrap(
    labels: np.ndarray,
    base: np.ndarray,
    head: np.ndarray,
    statistic: Statistic,
    *,
    draws: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Difference:
    """The change of ``statistic`` from ``base`` to ``head`` scores, with a paired bootstrap.

    ``labels`` are the test labels ([n] class ids, or [n, k] 0/1 for multi-label);
    ``base`` and ``head`` are the two revisions' scores or logits for the same rows, of one
    shape ([n] or [n, k]); ``statistic(labels, scores)`` is any metric of them.

    Each of ``draws`` resamples picks n rows with replacement, the same rows for both
    revisions, and records statistic(head) - statistic(base) on them. The interval is the
    percentile interval of those changes at ``level``; the two-sided p-value is twice the
    share of changes on the far side of zero (with the usual +1 correction, so it is never 0).

    A resample on which the statistic is undefined (ROC-AUC of a resample with one class
    present, say) is skipped, whether the statistic returns nan there or raises ValueError;
    on small test splits many skipped draws bias the interval towards resamples that keep
    every class. The statistic must be defined on the full split.

    The cost is 2 * ``draws`` calls of the statistic on n rows: the resampling around them
    is cheap, so a lean statistic matters more than anything here.

    The same inputs and ``seed`` give the same ``Difference``.
    """
    labels, base, head = np.asarray(labels), np.asarray(base), np.asarray(head)
    _check_paired_scores(labels, base, head)
    _check_level(level)
    if draws < 1:
        raise ValueError(f"draws must be at least 1, not {draws}")
    base_value = _defined_on_full_split(statistic, labels, base)
    if np.array_equal(base, head):
        # Every resample would give a change of exactly 0: no evidence of any difference.
        return Difference(base_value, base_value, 0.0, 0.0, 0.0, level, 1.0, PAIRED_BOOTSTRAP)
    head_value = _defined_on_full_split(statistic, labels, head)
    changes = _resampled_changes(labels, base, head, statistic, draws, seed)
    low, high = np.quantile(changes, [(1 - level) / 2, (1 + level) / 2])
    return Difference(
        base=base_value,
        head=head_value,
        change=head_value - base_value,
        low=float(low),
        high=float(high),
        level=level,
        p_value=_bootstrap_p_value(changes),
        test=PAIRED_BOOTSTRAP,
    )


def mcnemar(base_correct: np.ndarray, head_correct: np.ndarray, *, level: float = 0.95) -> Difference:
    """The change of accuracy from base to head, with McNemar's exact test.

    ``base_correct`` and ``head_correct`` are boolean [n] arrays: whether each revision got
    each test text right (``predictions == labels``). The labels themselves are not needed.

    Only the discordant texts carry evidence: b that base gets right and head wrong, c the
    reverse. If the revisions are equally good, each discordant text is a fair coin, so the
    p-value is the exact two-sided binomial test of b successes in b + c tosses. The interval
    is the Wald interval of a paired difference of proportions, (c - b) / n plus or minus
    z * sqrt((b + c) - (c - b)^2 / n) / n.
    """
    base_correct, head_correct = np.asarray(base_correct), np.asarray(head_correct)
    _check_correctness(base_correct, head_correct)
    _check_level(level)
    texts = len(base_correct)
    base_only = int(np.count_nonzero(base_correct & ~head_correct))
    head_only = int(np.count_nonzero(head_correct & ~base_correct))
    change = (head_only - base_only) / texts
    z = NormalDist().inv_cdf((1 + level) / 2)
    half_width = z * math.sqrt((base_only + head_only) - (head_only - base_only) ** 2 / texts) / texts
    return Difference(
        base=float(np.mean(base_correct)),
        head=float(np.mean(head_correct)),
        change=change,
        low=change - half_width,
        high=change + half_width,
        level=level,
        p_value=_sign_test_p_value(base_only, head_only),
        test=MCNEMAR,
    )


def _resampled_changes(
    labels: np.ndarray, base: np.ndarray, head: np.ndarray, statistic: Statistic, draws: int, seed: int
) -> np.ndarray:
    """statistic(head) - statistic(base) on each resample where both are defined."""
    rng = np.random.default_rng(seed)
    rows_count = len(labels)
    changes = np.empty(draws)
    for draw in range(draws):
        rows = rng.integers(0, rows_count, size=rows_count)
        changes[draw] = _change_on_rows(rows, labels, base, head, statistic)
    defined = changes[~np.isnan(changes)]
    if defined.size == 0:
        raise ValueError(f"the statistic is undefined on all {draws} resamples")
    return defined


def _change_on_rows(
    rows: np.ndarray, labels: np.ndarray, base: np.ndarray, head: np.ndarray, statistic: Statistic
) -> float:
    resampled_labels = labels[rows]
    head_value = _statistic_or_nan(statistic, resampled_labels, head[rows])
    return head_value - _statistic_or_nan(statistic, resampled_labels, base[rows])


def _bootstrap_p_value(changes: np.ndarray) -> float:
    # Counting ties at 0 on both sides makes a statistic that never moves give p = 1, not 0.
    share_at_or_below = (1 + int(np.count_nonzero(changes <= 0))) / (1 + changes.size)
    share_at_or_above = (1 + int(np.count_nonzero(changes >= 0))) / (1 + changes.size)
    return min(1.0, 2 * min(share_at_or_below, share_at_or_above))


def _sign_test_p_value(base_only: int, head_only: int) -> float:
    """Two-sided exact binomial test of ``base_only`` against ``head_only`` fair coin tosses."""
    tosses = base_only + head_only
    if tosses == 0:
        return 1.0
    return min(1.0, 2 * _fair_coin_cdf(min(base_only, head_only), tosses))


def _fair_coin_cdf(successes: int, tosses: int) -> float:
    """P(X <= successes) for X ~ Binomial(tosses, 1/2), without overflow for any number of tosses."""
    if tosses <= EXACT_PAIRS_LIMIT:
        return sum(math.comb(tosses, k) for k in range(successes + 1)) / 2**tosses
    log_coefficients = [
        math.lgamma(tosses + 1) - math.lgamma(k + 1) - math.lgamma(tosses - k + 1) for k in range(successes + 1)
    ]
    # Factor out the largest term so that exp() neither overflows nor underflows to 0.
    largest = max(log_coefficients)
    log_sum = largest + math.log(math.fsum(math.exp(term - largest) for term in log_coefficients))
    return math.exp(log_sum - tosses * math.log(2))


def _statistic_or_nan(statistic: Statistic, labels: np.ndarray, scores: np.ndarray) -> float:
    try:
        return float(statistic(labels, scores))
    except ValueError:  # how many metrics say a resample leaves them undefined, e.g. ROC-AUC with one class
        return math.nan


def _defined_on_full_split(statistic: Statistic, labels: np.ndarray, scores: np.ndarray) -> float:
    # No try here: a statistic that fails on the full split has a real error to show.
    value = float(statistic(labels, scores))
    if math.isnan(value):
        raise ValueError("the statistic is nan on the full test split")
    return value


def _check_paired_scores(labels: np.ndarray, base: np.ndarray, head: np.ndarray) -> None:
    if base.shape != head.shape:
        raise ValueError(f"base and head scores differ in shape: {base.shape} and {head.shape}")
    if base.ndim == 0 or labels.ndim == 0 or len(labels) != len(base):
        raise ValueError(f"labels of shape {labels.shape} do not match scores of shape {base.shape} row for row")
    if len(labels) == 0:
        raise ValueError("no test rows to compare")


def _check_correctness(base_correct: np.ndarray, head_correct: np.ndarray) -> None:
    if base_correct.dtype != bool or head_correct.dtype != bool:
        raise ValueError("base_correct and head_correct must be boolean: whether each revision got each text right")
    if base_correct.ndim != 1 or base_correct.shape != head_correct.shape:
        raise ValueError(f"expected two [n] arrays, got shapes {base_correct.shape} and {head_correct.shape}")
    if len(base_correct) == 0:
        raise ValueError("no test texts to compare")


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, not {level}")
