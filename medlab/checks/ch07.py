"""Checks for the exercises of chapter 7 (brain tissue segmentation)."""

from __future__ import annotations

import numpy as np

from medlab.teach import exercise_check


@exercise_check("ch07-dice")
def dice(answer):
    """Dice of classes 1 and 2 for the exercise's 1-D truth and prediction."""
    values = np.asarray(answer, dtype=float).ravel()
    if values.size != 2:
        return f"expected two numbers (Dice of class 1, Dice of class 2), got {values.size}"
    if not np.all((values >= 0) & (values <= 1)):
        return "a Dice coefficient lies between 0 and 1"
    if not np.allclose(values, [0.8, 0.8], atol=1e-6):
        return ("not quite: Dice = 2 |A and B| / (|A| + |B|), with A and B the pixels of one "
                "class in the prediction and in the truth")
    return None


@exercise_check("ch07-split")
def split(fn):
    """``fn(n_slices) -> (train, test)``: whole blocks of 5, ~a quarter, disjoint, covering."""
    if not callable(fn):
        return "pass the function itself, e.g. check('ch07-split', my_split)"
    for n in (78, 40, 101):
        train, test = (np.asarray(a, dtype=int).ravel() for a in fn(n))
        if np.intersect1d(train, test).size:
            return f"for {n} slices, training and test share slices"
        if not np.array_equal(np.union1d(train, test), np.arange(n)):
            return f"for {n} slices, training and test together do not cover 0..{n - 1} once"
        if not 0.15 <= test.size / n <= 0.35:
            return f"for {n} slices the test set holds {test.size / n:.0%}; aim for about 25 %"
        blocks = set(test // 5)
        whole = [b for b in blocks if b * 5 + 4 < n]
        if any(not set(range(b * 5, b * 5 + 5)) <= set(test) for b in whole):
            return "the test set should consist of whole blocks of 5 consecutive slices"
    return None


@exercise_check("ch07-order")
def order(fn):
    """``fn(means) -> tissue label per component`` on T1 (darkest CSF=1, GM=2, WM=3)."""
    if not callable(fn):
        return "pass the function itself, e.g. check('ch07-order', components_to_tissues)"
    cases = {(0.6, 1.0, 1.25): [1, 2, 3], (1.25, 0.6, 1.0): [3, 1, 2], (1.0, 1.3, 0.5): [2, 3, 1]}
    for means, expected in cases.items():
        got = np.asarray(fn(np.array(means)), dtype=int).ravel()
        if not np.array_equal(got, expected):
            return (f"for means {means} you gave {got.tolist()}: on T1 the darkest component "
                    f"is CSF (1) and the brightest WM (3)")
    return None
