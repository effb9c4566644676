"""The exercise checks of chapters 5 and 6 (medlab/checks/ch05.py, ch06.py): the answers the
solutions compute pass, the usual wrong ones fail with a reason."""

import itertools
import math

import numpy as np
import pytest

from medlab.checks.ch05 import FUSION_MARGIN, cases_to_show_sensitivity, fusion_verdict
from medlab.checks.ch06 import hanley_mcneil_se
from medlab.metrics import delong_test, proportion_interval
from medlab.teach import check, feedback


def test_threshold_answer_is_what_the_solution_computes():
    # the solution's loop: the first n whose n-of-n Wilson interval starts at 0.98 or above
    n = next(n for n in itertools.count(1) if proportion_interval(n, n)[1] >= 0.98)
    assert n == cases_to_show_sensitivity() == 189
    assert proportion_interval(n - 1, n - 1)[1] < 0.98
    assert check("ch05-threshold", n)
    # this test set (53 malignant) cannot show the target even when every case is found
    assert proportion_interval(53, 53)[1] < 0.95


def test_threshold_check_names_the_usual_mistakes():
    cp = next(n for n in itertools.count(1)
              if proportion_interval(n, n, method="clopper-pearson")[1] >= 0.98)
    assert cp == 183 and "Clopper" in feedback("ch05-threshold", cp)
    assert "rule of three" in feedback("ch05-threshold", 3 / 0.02)
    assert "this test set" in feedback("ch05-threshold", 53)
    assert "smallest" in feedback("ch05-threshold", 250)
    assert "whole number" in feedback("ch05-threshold", 188.5)


def test_nested_check_explains_both_wrong_choices():
    assert check("ch05-nested", "smaller")
    assert "strong signal" in feedback("ch05-nested", "larger")
    assert "no signal" in feedback("ch05-nested", "same")


@pytest.mark.parametrize("low, high, verdict", [
    (-0.0018, 0.0005, "equivalent"),   # the solution's interval at seed 0 (weight 0.55)
    (0.0, 0.0, "equivalent"),          # a chosen weight of 0.5: the same scores
    (0.02, 0.05, "better"), (-0.05, -0.02, "worse"),
    (-0.02, 0.005, "inconclusive"), (0.005, 0.03, "inconclusive")])
def test_fusion_verdict_follows_the_interval_and_the_margin(low, high, verdict):
    assert fusion_verdict(low, high) == verdict
    assert check("ch05-fusion", verdict) is (verdict == "equivalent")


def test_fusion_solution_on_nearly_identical_scores_is_within_the_margin():
    # the solution's recipe on a fixture: two fusions whose weights differ by 0.05
    rng = np.random.default_rng(5)
    y = np.r_[np.ones(53, int), np.zeros(90, int)]
    a, b = rng.normal(1.5 * y, 1.0), rng.normal(1.5 * y, 1.0)
    d = delong_test(y, 0.55 * a + 0.45 * b, 0.5 * a + 0.5 * b)
    low, high = d["delta"] - 1.96 * d["se"], d["delta"] + 1.96 * d["se"]
    assert -FUSION_MARGIN < low < high < FUSION_MARGIN
    assert check("ch05-fusion", fusion_verdict(low, high))


def test_ablation_check():
    assert check("ch06-ablation", "all but")
    assert "left out" in feedback("ch06-ablation", "only")


def _hanley_mcneil_by_hand(a, n1, n0):
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    return math.sqrt((a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0))


def test_flip_answer_matches_the_formula_and_a_simulation():
    se = hanley_mcneil_se(0.85, 21, 57)
    assert math.isclose(se, _hanley_mcneil_by_hand(0.85, 21, 57))
    assert check("ch06-flip", se) and check("ch06-flip", round(se, 3))
    # the formula is exact for exponential scores: AUC = 1 / (1 + rate) with rate 1/0.85 - 1
    rng = np.random.default_rng(0)
    pos = rng.exponential(1 / (1 / 0.85 - 1), (4000, 21))  # 21 malignant, scored higher
    neg = rng.exponential(1.0, (4000, 57))
    aucs = (pos[:, :, None] > neg[:, None, :]).mean(axis=(1, 2))
    assert abs(aucs.mean() - 0.85) < 0.005
    assert abs(aucs.std() - se) < 0.1 * se


def test_flip_check_names_the_usual_mistakes():
    se = hanley_mcneil_se(0.85, 21, 57)
    assert "swapped" in feedback("ch06-flip", hanley_mcneil_se(0.85, 57, 21))
    assert "variance" in feedback("ch06-flip", se ** 2)
    assert "half-width" in feedback("ch06-flip", 1.96 * se)
    assert "test split" in feedback("ch06-flip", hanley_mcneil_se(0.85, 42, 114))
    assert feedback("ch06-flip", 0.08) == "the standard error is too high."
    assert not check("ch06-flip", -0.05)


def test_the_older_checks_still_hold():
    assert check("ch05-ppv", 18 / 67) and not check("ch05-ppv", 0.9)
    assert check("ch06-majority", 114 / 156) and check("ch06-hog-length", 1296)
