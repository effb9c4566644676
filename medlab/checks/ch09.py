"""Checks for the exercises of chapter 9 (case study: cancer diagnosis)."""

from __future__ import annotations

import math

import numpy as np

from medlab.teach import as_number, exercise_check, expect_number

_AREAS = [310, 402, 288, 515, 350, 611, 298, 377, 455, 590]


@exercise_check("ch09-worst", right=[572.0, 572], wrong=[419.6, 611, 600.5, "big"])
def _worst(answer):
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return "the worst area should be a single number."
    if abs(value - sum(_AREAS) / len(_AREAS)) < 0.5:
        return "that is the mean area; 'worst' is the mean of the three largest values."
    if abs(value - max(_AREAS)) < 0.5:
        return "that is the single largest value; 'worst' averages the three largest."
    return expect_number(value, 572.0, what="the worst area", rtol=0, atol=0.5)


@exercise_check("ch09-square", right=[4 / math.pi - 1], wrong=[16 - 1, 4 * math.pi - 1, 0.0, "s"])
def _square(answer):
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return "the compactness should be a single number."
    if abs(value - 15.0) < 1e-3:
        return "you left out the 4π: divide perimeter² by 4π·area before subtracting 1."
    return expect_number(value, 4 / math.pi - 1, what="the compactness of a square", rtol=0,
                         atol=1e-3)


def exercise_segmentation():
    """The toy label images of exercise ch09-ex-score: ``(truth, predicted)``, 20 x 30 pixels.

    Four true nuclei (labels 1-4) and six predicted objects (labels 1-6): one nucleus found
    well, one split in two, one found by a slightly larger outline, one missed, and two specks.
    """
    truth = np.zeros((20, 30), dtype=int)
    truth[2:8, 2:8] = 1        # found, shifted by one column
    truth[2:10, 12:21] = 2     # split in two halves with a gap
    truth[12:18, 2:8] = 3      # found by a larger outline
    truth[12:17, 12:17] = 4    # missed
    pred = np.zeros_like(truth)
    pred[2:8, 3:9] = 1
    pred[2:10, 12:16] = 2
    pred[2:10, 17:21] = 3
    pred[11:19, 1:9] = 4
    pred[12:15, 22:25] = 5     # a speck of stain
    pred[17:19, 25:28] = 6     # another
    return truth, pred


def exercise_scores():
    """The inner out-of-fold scores of exercise ch09-ex-threshold: ``(cancer, benign)``."""
    rng = np.random.default_rng(9)
    return rng.normal(1.5, 1.0, 40), rng.normal(-1.5, 1.0, 60)


@exercise_check("ch09-f1", right=[0.4, 2 / 5], wrong=[0.6, 5 / 12, 260 / 348, 1 / 3, "f"])
def _f1(answer):
    value = as_number(answer, "the F1 score")
    if abs(value - 0.6) < 5e-3:
        return ("that counts a split half (IoU below 0.5) as a detection: match only pairs "
                "with IoU of at least 0.5.")
    if abs(value - 5 / 12) < 5e-3:
        return "that is the mean of precision and recall; F1 is their harmonic mean."
    if abs(value - 260 / 348) < 5e-3:
        return ("that is the pixel-level Dice of the two foregrounds; the exercise asks for the "
                "F1 of the detections (nuclei matched one to one).")
    return expect_number(value, 0.4, what="the detection F1", rtol=0, atol=5e-3)


_CANCER = np.sort(exercise_scores()[0])


@exercise_check("ch09-threshold", right=[_CANCER[2], (_CANCER[1] + _CANCER[2]) / 2],
                wrong=[_CANCER[3], _CANCER[1], float(np.quantile(_CANCER, 0.95)), "t"])
def _threshold(answer):
    k = int(np.floor(0.05 * len(_CANCER)))  # the highest threshold keeping >= 95 % of them
    t = as_number(answer, "the threshold")
    sensitivity = float(np.mean(_CANCER >= t))
    if sensitivity < 0.5:
        return ("that leaves most cancers below the threshold (the 95 % quantile?): the "
                "threshold must keep at least 95 % of the cancers' scores at or above it.")
    if sensitivity < 0.95:
        return (f"at that threshold the inner folds find {100 * sensitivity:.1f} % of the cancers, "
                "below the 95 % target: lower it.")
    if t <= _CANCER[k - 1]:
        return ("that threshold reaches the target but is not the highest that does: a higher "
                "one finds as many cancers and clears more benign lumps.")
    return None
