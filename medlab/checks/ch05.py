"""Checks for the exercises of chapter 5 (classifiers and honest evaluation)."""

from __future__ import annotations

import numpy as np

from medlab.teach import exercise_check


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
