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


def _training_data():
    """The chapter's standardised training set (the split of ``SEED``, as in section 1.1)."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from medlab.config import seed
    from medlab.data import load_wdbc

    data = load_wdbc()
    idx = np.arange(len(data.y))
    trainval, _ = train_test_split(idx, test_size=0.2, stratify=data.y, random_state=seed())
    train, _ = train_test_split(trainval, test_size=0.25, stratify=data.y[trainval],
                                random_state=seed())
    return StandardScaler().fit(data.X[train]).transform(data.X[train]), data.y[train]


def _final_training_loss(X, y, lr, num_steps):
    """Section 1.3's gradient descent (zeros start, L2 with lambda = 1/n): the last step's loss."""
    lam = 1.0 / len(y)
    w, b, loss = np.zeros(X.shape[1]), 0.0, np.nan
    for _ in range(num_steps):
        p = 1.0 / (1.0 + np.exp(-(X @ w + b)))         # the gradient uses p as it is,
        q = np.clip(p, 1e-12, 1 - 1e-12)                # the loss clips it (log 0)
        loss = -np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)) + 0.5 * lam * w @ w
        w, b = w - lr * (X.T @ (p - y) / len(y) + lam * w), b - lr * np.mean(p - y)
    return loss


def settled_rates() -> dict[int, bool]:
    """For each rate 5, 10, ..., 30: does 300 steps' training loss lie within 1e-6 of the minimum?

    The minimum is the loss after 3000 steps at rate 2, as in chapter 1's exercise.
    """
    with np.errstate(over="ignore"):
        X, y = _training_data()
        minimum = _final_training_loss(X, y, 2.0, 3000)
        return {lr: bool(_final_training_loss(X, y, float(lr), 300) - minimum < 1e-6)
                for lr in range(5, 31, 5)}


@exercise_check("ch01-lr")
def _largest_stable_rate(answer):
    rate = as_number(answer, "the learning rate")
    settled = settled_rates()
    if not any(abs(rate - lr) < 1e-9 for lr in settled):
        return "answer one of the rates the exercise tries: 5, 10, 15, 20, 25 or 30."
    lr = int(round(rate))
    if not settled[lr]:
        return ("at that rate the final training loss is not within 1e-6 of the minimum: "
                "compare each run's last loss with the minimum.")
    if any(ok and other > lr for other, ok in settled.items()):
        return "that rate settles, but a larger one settles too."
    return None


def group_cv_accuracies() -> tuple[float, float]:
    """Mean 5-fold accuracies of 1-NN on chapter 1's repeated measurements: (KFold, GroupKFold).

    ``X_rep`` is rebuilt as in section 1.1: ``default_rng(SEED)``'s first draws.
    """
    from sklearn.model_selection import GroupKFold, KFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from medlab.config import seed
    from medlab.data import load_wdbc

    data = load_wdbc()
    rng = np.random.default_rng(seed())
    patient = np.repeat(np.arange(len(data.y)), 4)
    X_rep = data.X[patient] + rng.normal(0, 0.05, (len(patient), data.X.shape[1])) * data.X.std(0)
    y_rep = data.y[patient]
    knn = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=1))
    leaky = cross_val_score(knn, X_rep, y_rep, cv=KFold(5, shuffle=True, random_state=seed()))
    honest = cross_val_score(knn, X_rep, y_rep, cv=GroupKFold(5), groups=patient)
    return float(leaky.mean()), float(honest.mean())


@exercise_check("ch01-cv")
def _grouped_cv(answer):
    value = as_number(answer, "the mean accuracy")
    if not 0 <= value <= 1:
        return "an accuracy lies between 0 and 1 (give a fraction, not per cent)."
    leaky, honest = group_cv_accuracies()
    if abs(value - honest) < 1e-3:
        return None
    if abs(value - leaky) < 1e-3:
        return ("that is the row-wise KFold estimate, whose folds put a patient's repeats on "
                "both sides; give the estimate whose folds keep each patient together.")
    return ("not the mean accuracy of 1-NN (scaler inside the pipeline) over GroupKFold(5) "
            "with groups=patient on X_rep, y_rep.")
