"""Checks for the exercises of chapter 9 (case study: cancer diagnosis)."""

from __future__ import annotations

import math

from medlab.teach import exercise_check, expect_number

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
