"""Checks for the exercises of chapter 11 (interpretability and confidence)."""

from __future__ import annotations

import numpy as np

from medlab.teach import exercise_check


def exercise_data():
    """The calibration data of exercises ch11-ex-conformal and ch11-ex-ece."""
    rng = np.random.default_rng(11)
    probs = rng.dirichlet([2, 2, 2], size=200)
    truth = probs ** 1.5 / (probs ** 1.5).sum(axis=1, keepdims=True)  # a timid model
    labels = (rng.random(200)[:, None] > np.cumsum(truth, axis=1)).sum(axis=1)
    return probs, labels


def _number(answer) -> float:
    value = float(np.asarray(answer).reshape(-1)[0]) if np.ndim(answer) else float(answer)
    if not np.isfinite(value):
        raise ValueError("the answer is not a finite number")
    return value


@exercise_check("ch11-conformal")
def conformal(answer):
    """The split-conformal threshold for alpha = 0.1 on :func:`exercise_data`."""
    from medlab.conformal import conformal_threshold

    q = _number(answer)
    probs, labels = exercise_data()
    n = len(labels)
    scores = 1.0 - probs[np.arange(n), labels]
    exact = conformal_threshold(probs, labels, 0.1)
    higher = np.quantile(scores, np.ceil((n + 1) * 0.9) / n, method="higher")
    if min(abs(q - exact), abs(q - higher)) < 1e-9:
        return None
    if abs(q - np.quantile(scores, 0.9)) < 1e-9 or abs(q - np.sort(scores)[int(0.9 * n) - 1]) < 1e-9:
        return ("that is the plain 90 % quantile of the scores: use the finite-sample level "
                "ceil((n + 1)(1 - alpha)) / n")
    if 0 <= q <= 1 and abs(q - np.quantile(probs[np.arange(n), labels], 0.1)) < 0.02:
        return "the score is 1 - p(true class), not p(true class)"
    return "not the threshold: score each case by 1 - p(true class), then take the quantile"


@exercise_check("ch11-ece")
def ece(answer):
    """ECE with 10 equal-width bins of the top probability on :func:`exercise_data`."""
    from medlab.metrics import expected_calibration_error

    value = _number(answer)
    probs, labels = exercise_data()
    expected = expected_calibration_error(labels, probs, n_bins=10)
    if abs(value - expected) < 1e-6:
        return None
    if abs(value - expected_calibration_error(labels, probs, n_bins=15)) < 1e-6:
        return "that is the ECE with 15 bins; the exercise asks for 10"
    if not 0 <= value <= 1:
        return "an ECE lies between 0 and 1"
    return ("not the ECE: bin cases by their top probability, then weight each bin's "
            "|accuracy - mean confidence| by its share of the cases")


@exercise_check("ch11-aps")
def aps(answer):
    """The (non-randomised) APS threshold for alpha = 0.1 on :func:`exercise_data`."""
    from medlab.conformal import aps_scores, aps_threshold, conformal_threshold

    q = _number(answer)
    probs, labels = exercise_data()
    if abs(q - aps_threshold(probs, labels, 0.1)) < 1e-9:
        return None
    if abs(q - conformal_threshold(probs, labels, 0.1)) < 1e-9:
        return ("that is the threshold of the score 1 - p; the APS score is the mass of the "
                "classes ranked above the true one plus its own probability")
    scores = aps_scores(probs, labels)
    if abs(q - np.quantile(scores, 0.9)) < 1e-9:
        return ("that is the plain 90 % quantile of the scores: use the finite-sample level "
                "ceil((n + 1)(1 - alpha)) / n")
    if abs(q - np.sort(scores - probs[np.arange(len(labels)), labels])[180]) < 1e-9:
        return "the score includes the true class's own probability, not only the mass above it"
    return ("not the APS threshold: sort each case's probabilities, add up the mass down to and "
            "including the true class, then take the 181st smallest of the 200 scores")
