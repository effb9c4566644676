"""Exercise checks of chapter 8 (respiratory disease detection)."""

from __future__ import annotations

import numpy as np

from medlab.teach import exercise_check


@exercise_check("ch08-time-below")
def _time_below(answer):
    """``answer(spo2, threshold=90.0, fs=1.0)`` returns the seconds spent below threshold."""
    if not callable(answer):
        return "expected a function time_below(spo2, threshold=90.0, fs=1.0)"
    cases = [
        (([95, 89, 88, 90, 91], 90.0, 1.0), 2.0, "a 1 Hz series"),
        (([95, 89, 88, 90, 91], 90.0, 0.5), 4.0, "a series sampled every 2 s (fs=0.5 Hz)"),
        (([95, 89, 88, 90, 91], 88.0, 1.0), 0.0, "values equal to the threshold"),
        (([97] * 30, 90.0, 1.0), 0.0, "a normal series"),
    ]
    for (spo2, thr, fs), want, what in cases:
        got = answer(np.array(spo2, dtype=float), threshold=thr, fs=fs)
        if not np.isclose(float(got), want):
            return f"wrong result for {what}: count samples strictly below the threshold, in seconds"
    return None


@exercise_check("ch08-class-weights")
def _class_weights(answer):
    """Balanced class weights n / (k n_c) of PneumoniaMNIST's training split (1214 / 3494)."""
    w = np.asarray(answer, dtype=float).reshape(-1)
    if w.shape != (2,):
        return f"expected two weights (normal, pneumonia), got {w.size}"
    counts = np.array([1214, 3494])
    want = counts.sum() / (2 * counts)
    if np.allclose(w, want, rtol=1e-3):
        return None
    if np.allclose(w / w.sum(), want / want.sum(), rtol=1e-3):
        return "right ratio, but scale the weights as n / (k · n_c) so that they average to 1 per case"
    if w[0] < w[1]:
        return "the rarer class (normal) should get the larger weight"
    return "use n / (k · n_c) with the training split's class counts"


@exercise_check("ch08-score-rule")
def _score_rule(answer):
    """``answer(ratio, desaturation, effort)`` classifies one candidate event by the AASM rules
    of chapter 8: "obstructive apnea", "central apnea", "hypopnea" or "none"."""
    if not callable(answer):
        return "expected a function score_rule(ratio, desaturation, effort)"
    low, half, normal = 0.05, 0.5, 0.95
    cases = [
        ([low] * 12, 0.0, True, "obstructive apnea", "12 s at 5 % of baseline, effort going on"),
        ([low] * 12, 0.0, False, "central apnea", "12 s at 5 % of baseline, no effort"),
        ([low] * 12, 5.0, True, "obstructive apnea",
         "an apnoea with a desaturation (an apnoea takes precedence over a hypopnoea)"),
        ([low] * 9 + [half] * 3, 4.0, True, "hypopnea",
         "9 s below 10 % then 3 s at 50 %: too short for an apnoea, long enough for a hypopnoea"),
        ([low] * 9 + [half] * 3, 2.0, True, "none",
         "a 12-s drop with a 2-point desaturation (a hypopnoea needs 3 points)"),
        ([half] * 15, 3.0, True, "hypopnea", "15 s at 50 % with a fall of exactly 3 points"),
        ([half] * 15, 2.9, True, "none", "15 s at 50 % with a fall of 2.9 points"),
        ([0.8] * 20, 6.0, True, "none", "20 s at 80 % of baseline (a 20 % drop is too small)"),
        ([half] * 8 + [normal] + [half] * 8, 5.0, True, "none",
         "two 8-s drops split by a normal breath (the 10 s must be consecutive)"),
        ([low] * 6 + [normal] + [low] * 6, 0.0, False, "none",
         "two 6-s pauses split by a normal breath, no desaturation"),
        ([normal] * 30, 0.0, True, "none", "normal breathing"),
    ]
    for ratio, desat, effort, want, what in cases:
        got = answer(np.array(ratio, dtype=float), desat, effort)
        if got != want:
            return f"wrong answer for {what}: expected {want!r}, got {got!r}"
    return None
