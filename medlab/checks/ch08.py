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
