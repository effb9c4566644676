"""Checks for the exercises of chapter 6 (case study: tumor classification)."""

from __future__ import annotations

from medlab.teach import exercise_check, expect_number

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
