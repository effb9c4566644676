"""Checks for the exercises of chapter 1 (concepts)."""

from __future__ import annotations

import numpy as np

from medlab.teach import as_number, exercise_check


@exercise_check("ch01-f1")
def _f1(answer):
    f1 = as_number(answer, "F1")
    if not 0 <= f1 <= 1:
        return "F1 lies between 0 and 1; check that you divided by the right counts."
    if abs(f1 - 0.6) < 5e-3:
        return None
    if abs(f1 - 0.9) < 5e-3 or abs(f1 - 0.925) < 5e-3:
        return "that is closer to the accuracy; F1 ignores the true negatives."
    if abs(f1 - 0.625) < 5e-3:
        return "that is the arithmetic mean; F1 is the harmonic mean of precision and recall."
    return "not quite: count TP, FP and FN first, then take the harmonic mean of precision and recall."


def _validation_scores():
    """Validation probabilities of the chapter's model, refitted the same way.

    The split follows the chapter's ``SEED`` (:func:`medlab.config.seed`, which
    ``MEDLAB_SEED`` sets), so the check agrees with the chapter under any seed.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from medlab.config import seed
    from medlab.data import load_wdbc

    data = load_wdbc()
    idx = np.arange(len(data.y))
    trainval, _ = train_test_split(idx, test_size=0.2, stratify=data.y, random_state=seed())
    train, val = train_test_split(trainval, test_size=0.25, stratify=data.y[trainval],
                                  random_state=seed())
    scaler = StandardScaler().fit(data.X[train])
    model = LogisticRegression(C=1.0, max_iter=5000, tol=1e-10).fit(
        scaler.transform(data.X[train]), data.y[train])
    return model.predict_proba(scaler.transform(data.X[val]))[:, 1], data.y[val]


@exercise_check("ch01-threshold")
def _threshold(answer):
    t = as_number(answer, "the threshold")
    if not 0 < t < 1:
        return "a threshold on a probability lies strictly between 0 and 1."
    p_val, y_val = _validation_scores()
    # a small tolerance: the chapter's weights and this refit agree to about 1e-6
    sens = np.mean(p_val[y_val == 1] >= t - 1e-5)
    if sens < 0.95 - 1e-9:
        return (f"at that threshold the validation sensitivity is {sens:.3f}, below 0.95: "
                f"lower the threshold.")
    higher = np.sort(np.unique(p_val[p_val > t + 1e-3]))
    if any(np.mean(p_val[y_val == 1] >= c) >= 0.95 for c in higher):
        return "sensitivity is met, but a higher threshold also meets it (and clears more healthy cases)."
    return None
