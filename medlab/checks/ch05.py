"""Checks for the exercises of chapter 5 (classifiers and honest evaluation)."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from medlab.teach import as_number, exercise_check


@exercise_check("ch05-ppv")
def _ppv(answer):
    try:
        value = float(answer)
    except (TypeError, ValueError):
        raise ValueError(f"the PPV should be a single number, got {type(answer).__name__}") from None
    if not np.isfinite(value) or not 0 <= value <= 1:
        return "a predictive value is a fraction between 0 and 1."
    truth = 0.9 * 0.02 / (0.9 * 0.02 + 0.05 * 0.98)
    if abs(value - truth) < 2e-3:
        return None
    if abs(value - 0.9) < 2e-3 or abs(value - 0.95) < 2e-3:
        return "that is the sensitivity or specificity; PPV also depends on the prevalence."
    return "count, per 1,000 people, the true positives and the false positives separately."


def _choice(answer, options, what):
    """``answer`` as one of ``options`` (case and surrounding spaces ignored)."""
    if not isinstance(answer, str):
        raise ValueError(f"{what} should be one of the words the exercise lists, "
                         f"got {type(answer).__name__}")
    word = " ".join(answer.strip().lower().split())
    if word not in options:
        raise ValueError(f"{what} should be one of the words the exercise lists, got {answer!r}")
    return word


def cases_to_show_sensitivity(target: float = 0.98) -> int:
    """The fewest positives, all of them detected, whose Wilson 95 % interval of sensitivity
    has its lower end at ``target`` or above (exercise ch05-ex-threshold).

    For k = n the Wilson lower end is n / (n + z²), so n >= target · z² / (1 - target).
    """
    z2 = NormalDist().inv_cdf(0.975) ** 2
    return math.ceil(target * z2 / (1 - target))


@exercise_check("ch05-threshold", right=[189, 189.0], wrong=[53, 183, 150, 188, 50, 190, "many"])
def _threshold(answer):
    value = as_number(answer, "the number of malignant cases")
    if value != int(value) or value < 1:
        return "the number of malignant cases should be a positive whole number."
    n = int(value)
    if n == 53:
        return ("that is this test set's count of malignant cases: even with all of them found, "
                "Wilson's interval reaches well below 0.98, so the test set cannot show the target.")
    if n == 183:
        return ("that is the count for Clopper and Pearson's exact interval; the exercise asks "
                "for Wilson's, whose lower end for n of n is n / (n + 1.96²).")
    if n == 150:
        return ("that is the rule of three (3 / n as an upper bound on the miss rate); the "
                "exercise asks for the lower end of Wilson's two-sided 95 % interval.")
    if n == 50:
        return ("catching 50 of 50 gives a point estimate of 1, but the exercise asks for the "
                "lower end of the interval, which lies far below it for so few cases.")
    truth = cases_to_show_sensitivity()
    if n < truth:
        return f"with {n} of {n} malignant cases found, the Wilson lower end is still below 0.98."
    if n > truth:
        return "fewer cases already bring the Wilson lower end to 0.98: look for the smallest n."
    return None


# what the exercise's solutions print differs between runs; these choices do not
@exercise_check("ch05-nested", right=["smaller", " Smaller "], wrong=["larger", "same", 0.01])
def _nested(answer):
    word = _choice(answer, ("smaller", "larger", "same"), "the comparison")
    if word == "larger":
        return ("with a strong signal every candidate scores close to the best, so picking the "
                "maximum adds little optimism; compare the two printed gaps again.")
    if word == "same":
        return ("the optimism of best_score_ grows with the noise of each candidate's estimate, "
                "which is largest when the labels carry no signal at all.")
    return None


FUSION_MARGIN = 0.01


def fusion_verdict(low: float, high: float, margin: float = FUSION_MARGIN) -> str:
    """The verdict of exercise ch05-ex-fusion from the paired 95 % interval ``(low, high)`` of
    the test AUC difference (weighted minus plain mean) and the margin (0.01 AUC)."""
    if low > margin:
        return "better"
    if high < -margin:
        return "worse"
    if -margin < low and high < margin:
        return "equivalent"
    return "inconclusive"


@exercise_check("ch05-fusion", right=["equivalent", "Equivalent"],
                wrong=["better", "worse", "inconclusive", "yes", 0.5])
def _fusion(answer):
    word = _choice(answer, ("better", "worse", "equivalent", "inconclusive"), "the verdict")
    if word in ("better", "worse"):
        return ("that needs the whole paired interval beyond the 0.01 margin; a weight chosen on "
                "training predictions ranks the test cases almost as the plain mean does.")
    if word == "inconclusive":
        return ("that needs an end of the paired interval beyond ±0.01; compare both printed "
                "ends with the margin, not the point estimate with zero.")
    return None
