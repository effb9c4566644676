"""Checks for the exercises of chapter 6 (case study: tumor classification)."""

from __future__ import annotations

import math

from medlab.teach import as_number, exercise_check, expect_number

# BreastMNIST's test split (and the stand-in's) holds 42 malignant and 114 benign/normal images
_ALWAYS_BENIGN_ACCURACY = 114 / 156


@exercise_check("ch06-majority", right=[114 / 156, 0.731], wrong=[42 / 156, 0.5, 1.0, "x"])
def _majority(answer):
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return "the accuracy should be a single number between 0 and 1."
    if abs(value - 42 / 156) < 2e-3:
        return "that is the share of malignant images; the model calls every image benign/normal."
    return expect_number(value, _ALWAYS_BENIGN_ACCURACY, what="the accuracy", rtol=0,
                         atol=1.5e-3)


@exercise_check("ch06-hog-length", right=[1296], wrong=[324, 1764, 441, 1296.5, "many"])
def _hog_length(answer):
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return "the length should be a whole number."
    if value != int(value):
        return "the length should be a whole number."
    if int(value) == 324:
        return "that is the length with 7×7-pixel cells; the exercise uses 4×4."
    if int(value) == 7 * 7 * 36:
        return "blocks overlap: count the block positions per side (cells - 2 + 1), not cells."
    return expect_number(value, 1296, what="the number of HOG features", rtol=0, atol=0.5)


@exercise_check("ch06-ablation", right=["all but", "All  but "], wrong=["only", "both", 0.9])
def _ablation(answer):
    if not isinstance(answer, str) or " ".join(answer.strip().lower().split()) not in (
            "only", "all but", "both"):
        raise ValueError("the comparison should be one of the words the exercise lists")
    word = " ".join(answer.strip().lower().split())
    if word == "only":
        return ("a family alone scores everything it carries, including what the other families "
                "carry too; what it adds is what is lost when it is left out.")
    if word == "both":
        return ("one of the two columns also counts what the other families already carry; "
                "ask which one changes only through the family's own contribution.")
    return None


# the validation split of BreastMNIST (and of the stand-in): 21 malignant, 57 benign/normal
_VAL_MALIGNANT, _VAL_BENIGN = 21, 57


def hanley_mcneil_se(auc: float, n_pos: int, n_neg: int) -> float:
    """Hanley and McNeil's (1982) standard error of an ROC AUC from ``n_pos`` positive and
    ``n_neg`` negative cases (exercise ch06-ex-flip)."""
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc ** 2) + (n_neg - 1) * (q2 - auc ** 2)) / (
        n_pos * n_neg)
    return math.sqrt(var)


_FLIP_SE = hanley_mcneil_se(0.85, _VAL_MALIGNANT, _VAL_BENIGN)


@exercise_check("ch06-flip", right=[_FLIP_SE, round(_FLIP_SE, 3)],
                wrong=[hanley_mcneil_se(0.85, _VAL_BENIGN, _VAL_MALIGNANT), _FLIP_SE ** 2,
                       1.96 * _FLIP_SE, math.sqrt(0.85 * 0.15 / 78), hanley_mcneil_se(0.85, 42, 114),
                       "wide"])
def _flip(answer):
    value = as_number(answer, "the standard error")
    if value <= 0:
        return "a standard error is positive."
    if math.isclose(value, hanley_mcneil_se(0.85, _VAL_BENIGN, _VAL_MALIGNANT), abs_tol=5e-4):
        return "you swapped the two counts: Q1 goes with the malignant (positive) images, Q2 with the benign."
    if math.isclose(value, _FLIP_SE ** 2, abs_tol=5e-4):
        return "that is the variance; the standard error is its square root."
    if math.isclose(value, 1.96 * _FLIP_SE, abs_tol=1e-3):
        return "that is the half-width of the 95 % interval; the exercise asks for the standard error."
    if math.isclose(value, math.sqrt(0.85 * 0.15 / 78), abs_tol=5e-4):
        return ("that treats the AUC as a proportion of 78 images; an AUC is a proportion of "
                "malignant-benign pairs, and Hanley and McNeil's formula accounts for that.")
    if math.isclose(value, hanley_mcneil_se(0.85, 42, 114), abs_tol=5e-4):
        return "those are the test split's counts; the runs are compared on the validation split."
    return expect_number(value, _FLIP_SE, what="the standard error", rtol=0, atol=2e-3)
