"""Metrics the chapters share: a clinician's classification summary, bootstrap intervals,
segmentation overlap (Dice, HD95) and calibration error.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np


def _check_same_length(y_true, y_other, name="y_pred"):
    y_true, y_other = np.asarray(y_true), np.asarray(y_other)
    if len(y_true) != len(y_other):
        raise ValueError(f"y_true has {len(y_true)} entries but {name} has {len(y_other)}")
    if len(y_true) == 0:
        raise ValueError("y_true is empty")
    return y_true, y_other


def classification_summary(y_true, y_pred, y_score=None) -> dict[str, float]:
    """Accuracy, sensitivity (recall), specificity, precision, F1 and, given scores, ROC AUC
    and PR AUC, for a binary problem whose positive class is 1 (chapter 1 defines each)."""
    from sklearn import metrics as skm

    y_true, y_pred = _check_same_length(y_true, y_pred)
    tn, fp, fn, tp = skm.confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel()
    out = {
        "accuracy": (tp + tn) / len(y_true),
        "sensitivity": tp / (tp + fn) if tp + fn else float("nan"),
        "specificity": tn / (tn + fp) if tn + fp else float("nan"),
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "F1": skm.f1_score(y_true, y_pred, zero_division=0),
    }
    if y_score is not None:
        _, y_score = _check_same_length(y_true, y_score, "y_score")
        out["ROC AUC"] = skm.roc_auc_score(y_true, y_score)
        out["PR AUC"] = skm.average_precision_score(y_true, y_score)
    return {k: float(v) for k, v in out.items()}


def bootstrap_ci(y_true, y_other, metric: Callable, *, n_boot: int = 1000,
                 alpha: float = 0.05, seed: int = 0) -> tuple[float, float, float]:
    """Point estimate and percentile bootstrap interval ``(value, low, high)`` of
    ``metric(y_true, y_other)``, resampling cases with replacement (chapter 5)."""
    y_true, y_other = _check_same_length(y_true, y_other, "the second argument")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    rng = np.random.default_rng(seed)
    n = len(y_true)
    values = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        if len(np.unique(y_true[idx])) < 2:  # AUC and friends need both classes
            continue
        values.append(metric(y_true[idx], y_other[idx]))
    if not values:
        raise ValueError("bootstrap_ci: every resample held a single class")
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(metric(y_true, y_other)), float(low), float(high)


def format_ci(value: float, low: float, high: float, digits: int = 3) -> str:
    """``0.912 [0.880, 0.940]``."""
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def dice_per_class(pred, target, num_classes: int, *, include_background: bool = False):
    """Dice overlap of each class between two integer label maps of the same shape.

    A class absent from both maps gives NaN. Chapter 7 defines Dice = 2|A∩B| / (|A|+|B|).
    """
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"dice_per_class: pred shape {pred.shape} != target shape {target.shape}")
    first = 0 if include_background else 1
    out = []
    for c in range(first, num_classes):
        a, b = pred == c, target == c
        denom = a.sum() + b.sum()
        out.append(float(2.0 * np.logical_and(a, b).sum() / denom) if denom else float("nan"))
    return np.array(out)


def hd95_per_class(pred, target, num_classes: int, *, spacing=None):
    """95th-percentile Hausdorff distance per foreground class (MONAI), in mm when
    ``spacing`` is given, else in voxels. Inputs: integer label maps (2-D or 3-D)."""
    import torch
    from monai.metrics import compute_hausdorff_distance
    from monai.networks.utils import one_hot

    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"hd95_per_class: pred shape {pred.shape} != target shape {target.shape}")
    p = one_hot(torch.as_tensor(pred)[None, None].long(), num_classes)
    t = one_hot(torch.as_tensor(target)[None, None].long(), num_classes)
    with warnings.catch_warnings():
        # MONAI 1.5+ warns about an argument it passes to itself (always_return_as_numpy)
        warnings.filterwarnings("ignore", message=".*always_return_as_numpy.*",
                                category=FutureWarning)
        hd = compute_hausdorff_distance(p, t, include_background=False, percentile=95,
                                        spacing=spacing)
    return hd.numpy().reshape(-1)


ECE_MODES = ("top-label", "positive")


def expected_calibration_error(y_true, probs, n_bins: int = 15, *,
                               mode: str = "top-label") -> float:
    """Expected calibration error of predicted probabilities (chapters 5 and 11).

    ECE is the bin-weighted mean of |observed frequency - mean predicted probability| over
    ``n_bins`` equal-width bins of a predicted probability (bins closed on the right, the
    first one also holding 0). ``mode`` says *which* probability is binned:

    * ``"top-label"`` (the default; Guo et al. 2017): the confidence of the predicted class,
      ``max_k p_k``, against how often the predicted class is right. ``probs`` is ``(n,)``
      (P(class 1) of a binary problem) or ``(n, k)``. For a binary problem the confidence lies
      in [0.5, 1], so only the bins above 0.5 are used, and a case with P(1) = 0.2 shares a bin
      with one at 0.8: it measures whether the model's *confidence in its decision* is right,
      and errors of opposite sign on the two sides of 0.5 can cancel;
    * ``"positive"``: P(positive class), over all of [0, 1], against the observed fraction of
      positives (1) in each bin: the gap a reliability diagram of P(1) shows (scikit-learn's
      ``calibration_curve``). Binary problems only: ``probs`` is ``(n,)`` or ``(n, 2)``, and
      ``y_true`` holds 0/1.
    """
    if mode not in ECE_MODES:
        raise ValueError(f"mode must be one of {ECE_MODES}, got {mode!r}")
    if int(n_bins) < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins}")
    y_true = np.asarray(y_true)
    probs = np.asarray(probs, dtype=float)
    if probs.ndim == 1:
        probs = np.stack([1 - probs, probs], axis=1)
    _check_same_length(y_true, probs, "probs")
    if mode == "top-label":
        conf = probs.max(1)
        observed = (probs.argmax(1) == y_true).astype(float)
    else:
        if probs.shape[1] != 2:
            raise ValueError(f"mode='positive' needs a binary problem: probs has "
                             f"{probs.shape[1]} columns")
        if not set(np.unique(y_true).tolist()) <= {0, 1}:
            raise ValueError("mode='positive' needs y_true with labels 0/1")
        conf = probs[:, 1]
        observed = y_true.astype(float)
    # bin b holds (b/n, (b+1)/n]; 0 goes to the first bin
    bins = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, int(n_bins) - 1)
    ece = 0.0
    for b in np.unique(bins):
        in_bin = bins == b
        ece += in_bin.mean() * abs(observed[in_bin].mean() - conf[in_bin].mean())
    return float(ece)


# ---------------------------------------------------------------------------------------
# Paired comparisons of two classifiers scored on the same cases (chapters 5, 6 and 9)
# ---------------------------------------------------------------------------------------

def _check_binary_labels(y_true, name="y_true"):
    y_true = np.asarray(y_true)
    if y_true.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {y_true.shape}")
    values = set(np.unique(y_true).tolist())
    if not values <= {0, 1}:
        raise ValueError(f"{name} must hold binary labels 0/1, got values {sorted(values)[:5]}")
    if len(values) < 2:
        raise ValueError(f"{name} holds a single class ({sorted(values)}); "
                         "both classes 0 and 1 are needed")
    return y_true.astype(int)


def _check_paired(y_true, a, b, name_a, name_b):
    y_true = np.asarray(y_true)
    a, b = np.asarray(a), np.asarray(b)
    for name, arr in ((name_a, a), (name_b, b)):
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
        if len(arr) != len(y_true):
            raise ValueError(f"y_true has {len(y_true)} entries but {name} has {len(arr)}")
    if len(y_true) == 0:
        raise ValueError("y_true is empty")
    return _check_binary_labels(y_true), a, b


def _midrank(x):
    """Midranks (ties share their average rank, 1-based) along the last axis."""
    from scipy.stats import rankdata
    return rankdata(x, method="average", axis=-1)


def _auc_rank(y_true, score):
    """ROC AUC by the Mann-Whitney rank formula (equals sklearn's roc_auc_score)."""
    y_true = np.asarray(y_true).astype(bool)
    n1 = y_true.sum()
    n0 = len(y_true) - n1
    ranks = _midrank(np.asarray(score, dtype=float))
    return float((ranks[y_true].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def delong_test(y_true, score_a, score_b) -> dict[str, float]:
    """DeLong's test (DeLong et al. 1988) that two ROC AUCs measured on the same cases are
    equal, with the fast midrank algorithm of Sun & Xu (2014): O(n log n).

    Returns ``auc_a, auc_b, delta = auc_a - auc_b, se`` (of delta), ``z = delta / se`` and the
    two-sided ``p_value``. Higher scores mean "more likely positive (1)". Chapter 5.
    """
    from scipy.stats import norm

    y_true, score_a, score_b = _check_paired(y_true, score_a, score_b, "score_a", "score_b")
    pos = y_true == 1
    m, n = int(pos.sum()), int((~pos).sum())
    if m < 2 or n < 2:
        raise ValueError(f"y_true needs at least 2 cases of each class, got {m} positive "
                         f"and {n} negative")
    scores = np.stack([score_a, score_b]).astype(float)           # (2, m + n)
    x, y = scores[:, pos], scores[:, ~pos]                         # positives, negatives
    tx, ty = _midrank(x), _midrank(y)
    tz = _midrank(np.concatenate([x, y], axis=1))
    aucs = (tz[:, :m].sum(axis=1) / m - (m + 1) / 2) / n
    v10 = (tz[:, :m] - tx) / n                                     # structural components
    v01 = 1.0 - (tz[:, m:] - ty) / m
    cov = np.cov(v10) / m + np.cov(v01) / n
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    delta = float(aucs[0] - aucs[1])
    se = float(np.sqrt(max(var, 0.0)))
    if se > 0:
        z = delta / se
        p = float(2 * norm.sf(abs(z)))
    else:  # identical rankings: no evidence of a difference (or an exact one)
        z = 0.0 if delta == 0 else float(np.sign(delta) * np.inf)
        p = 1.0 if delta == 0 else 0.0
    return {"auc_a": float(aucs[0]), "auc_b": float(aucs[1]), "delta": delta, "se": se,
            "z": float(z), "p_value": p}


def paired_bootstrap(y_true, a, b, metric: Callable, *, n_boot: int = 2000,
                     seed: int = 0) -> dict[str, float]:
    """Paired bootstrap of ``metric(y_true, a) - metric(y_true, b)`` for two models scored on
    the same cases: every resample draws cases (with replacement) and keeps each case's label
    and both models' outputs together, so the interval reflects the *difference*, not two
    separate uncertainties. Resamples holding a single class are skipped (as in
    :func:`bootstrap_ci`).

    Returns ``delta`` (on the full data), the 95 % percentile interval ``low, high`` and a
    two-sided ``p_value`` = 2 min(P*(Δ ≤ 0), P*(Δ ≥ 0)) with the +1 correction. Chapter 5.
    """
    y_true, a, b = _check_paired(y_true, a, b, "a", "b")
    if not callable(metric):
        raise TypeError(f"metric must be callable metric(y_true, output), got {type(metric)}")
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot}")
    fast = metric is _sklearn_roc_auc()   # vectorised path, the same numbers
    a_f, b_f = (np.asarray(a, float), np.asarray(b, float)) if fast else (a, b)
    deltas = []
    for idx in _resample_blocks(len(y_true), n_boot, seed):
        yt = y_true[idx]
        n_pos = yt.sum(1)
        keep = (n_pos > 0) & (n_pos < yt.shape[1])
        idx, yt = idx[keep], yt[keep]
        if fast:
            deltas.extend(_auc_rows(yt, a_f[idx]) - _auc_rows(yt, b_f[idx]))
        else:
            deltas.extend(metric(t, a[i]) - metric(t, b[i]) for t, i in zip(yt, idx))
    if not deltas:
        raise ValueError("paired_bootstrap: every resample held a single class")
    deltas = np.asarray(deltas, dtype=float)
    deltas[np.abs(deltas) < 1e-12] = 0.0   # ties, whatever the rounding of each path
    low, high = np.quantile(deltas, [0.025, 0.975])
    k = len(deltas)
    p = 2 * min((1 + np.sum(deltas <= 0)) / (k + 1), (1 + np.sum(deltas >= 0)) / (k + 1))
    return {"delta": float(metric(y_true, a) - metric(y_true, b)), "low": float(low),
            "high": float(high), "p_value": float(min(1.0, p))}


def _auc_rows(y_rows, score_rows):
    """Rank-formula ROC AUC of each row (resample) of ``score_rows``; every row holds both
    classes."""
    ranks = _midrank(score_rows)
    pos = y_rows.astype(bool)
    n1 = pos.sum(1)
    n0 = pos.shape[1] - n1
    return (np.where(pos, ranks, 0).sum(1) - n1 * (n1 + 1) / 2) / (n1 * n0)


def _sklearn_roc_auc():
    from sklearn.metrics import roc_auc_score
    return roc_auc_score


def mcnemar_test(y_true, pred_a, pred_b) -> dict[str, float]:
    """McNemar's test that two classifiers' error rates on the same cases are equal, at fixed
    thresholds (statsmodels). ``b`` counts cases A gets right and B wrong, ``c`` the reverse;
    only these discordant cases carry information. Exact binomial test when b + c < 25, else
    the chi-square test with continuity correction. Chapter 5.
    """
    from statsmodels.stats.contingency_tables import mcnemar

    y_true = np.asarray(y_true)
    pred_a, pred_b = np.asarray(pred_a), np.asarray(pred_b)
    for name, arr in (("pred_a", pred_a), ("pred_b", pred_b)):
        if arr.ndim != 1 or len(arr) != len(y_true):
            raise ValueError(f"y_true has {len(y_true)} entries but {name} has shape {arr.shape}")
    if len(y_true) == 0:
        raise ValueError("y_true is empty")
    right_a, right_b = pred_a == y_true, pred_b == y_true
    b = int(np.sum(right_a & ~right_b))
    c = int(np.sum(~right_a & right_b))
    table = [[int(np.sum(right_a & right_b)), b], [c, int(np.sum(~right_a & ~right_b))]]
    exact = b + c < 25
    res = mcnemar(table, exact=exact, correction=True)
    p = 1.0 if b + c == 0 else float(res.pvalue)
    return {"b": b, "c": c, "statistic": float(res.statistic), "p_value": p}


def corrected_resampled_ttest(scores_a, scores_b, n_train: int, n_test: int) -> dict[str, float]:
    """Nadeau & Bengio's (2003) corrected resampled t-test for two models' scores on the same
    J train/test splits (e.g. the folds of a repeated K-fold CV). The splits share training
    cases, so the plain paired t-test's variance is too small; the correction multiplies it
    by (1/J + n_test/n_train). Two-sided p from Student's t with J - 1 degrees of freedom.
    Chapter 5.
    """
    from scipy.stats import t as student_t

    a = np.asarray(scores_a, dtype=float)
    b = np.asarray(scores_b, dtype=float)
    if a.ndim != 1 or b.ndim != 1 or len(a) != len(b):
        raise ValueError(f"scores_a {a.shape} and scores_b {b.shape} must be 1-D and of the "
                         "same length (one score per split)")
    if len(a) < 2:
        raise ValueError(f"scores_a needs at least 2 splits, got {len(a)}")
    if not (n_train > 0 and n_test > 0):
        raise ValueError(f"n_train and n_test must be positive, got {n_train}, {n_test}")
    d = a - b
    j = len(d)
    mean = float(d.mean())
    var = float(d.var(ddof=1))
    denom = np.sqrt((1 / j + n_test / n_train) * var)
    if denom > 0:
        t = mean / denom
        p = float(2 * student_t.sf(abs(t), df=j - 1))
    else:
        t = 0.0 if mean == 0 else float(np.sign(mean) * np.inf)
        p = 1.0 if mean == 0 else 0.0
    return {"mean_diff": mean, "t": float(t), "p_value": p}


def _sensitivity(y_true, y_pred):
    pos = y_true == 1
    return float(np.mean(y_pred[pos] == 1)) if pos.any() else float("nan")


def _specificity(y_true, y_pred):
    neg = y_true == 0
    return float(np.mean(y_pred[neg] == 0)) if neg.any() else float("nan")


def _f1(y_true, y_pred):
    tp = np.sum((y_pred == 1) & (y_true == 1))
    denom = np.sum(y_pred == 1) + np.sum(y_true == 1)
    return float(2 * tp / denom) if denom else 0.0


def _resample_blocks(n, n_boot, seed, max_cells=2_000_000):
    """The resamples :func:`bootstrap_ci` draws (same generator, same order), as arrays of
    rows, a block at a time so that memory stays bounded for large test sets."""
    rng = np.random.default_rng(seed)
    rows = max(1, max_cells // max(n, 1))
    done = 0
    while done < int(n_boot):
        k = min(rows, int(n_boot) - done)
        yield rng.integers(0, n, (k, n))
        done += k


PROPORTION_INTERVALS = ("wilson", "clopper-pearson", "bootstrap")


def proportion_interval(k: int, n: int, *, method: str = "wilson",
                        alpha: float = 0.05) -> tuple[float, float, float]:
    """``(k / n, low, high)``: a confidence interval for a proportion of ``k`` successes in
    ``n`` trials (sensitivity is true positives out of positives). ``method``: ``"wilson"``
    (the score interval of Wilson 1927; close to its nominal coverage even for small ``n``) or
    ``"clopper-pearson"`` (exact binomial tails; at least nominal coverage, wider). Both stay
    inside [0, 1] and keep a width at k = 0 and k = n, where a percentile bootstrap collapses
    to a single point (chapter 5). The same numbers as statsmodels' ``proportion_confint``
    with ``method="wilson"`` and ``"beta"``.
    """
    from scipy.stats import beta, norm

    if method not in ("wilson", "clopper-pearson"):
        raise ValueError(f"method must be 'wilson' or 'clopper-pearson', got {method!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if int(n) != n or int(k) != k:
        raise ValueError(f"k and n must be whole numbers, got k={k}, n={n}")
    k, n = int(k), int(n)
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    if method == "wilson":
        z = float(norm.isf(alpha / 2))
        centre = (k + z * z / 2) / (n + z * z)
        half = z / (n + z * z) * np.sqrt(k * (n - k) / n + z * z / 4)
        low, high = centre - half, centre + half
    else:
        low = float(beta.ppf(alpha / 2, k, n - k + 1)) if k > 0 else 0.0
        high = float(beta.isf(alpha / 2, k + 1, n - k)) if k < n else 1.0
    low = 0.0 if k == 0 else max(0.0, float(low))
    high = 1.0 if k == n else min(1.0, float(high))
    return k / n, low, high


def metric_intervals(y_true, y_pred, y_score=None, *, n_boot: int = 1000, seed: int = 0,
                     proportions: str = "wilson") -> dict[str, tuple[float, float, float]]:
    """``{name: (value, low, high)}``, 95 % intervals for sensitivity, specificity, F1 and,
    given scores, ROC AUC (chapter 5).

    Sensitivity and specificity are proportions (true positives of the positives, true
    negatives of the negatives); by default (``proportions="wilson"``) their intervals are
    Wilson score intervals, or Clopper-Pearson with ``"clopper-pearson"``
    (:func:`proportion_interval`). A percentile bootstrap of a proportion collapses when it is
    0 or 1: 12 of 12 malignant cases found gives 12 of 12 in every resample, hence the
    interval [1, 1], although 12 cases cannot exclude a sensitivity of 0.8; Wilson's interval
    is about [0.76, 1]. ``proportions="bootstrap"`` keeps the percentile bootstrap for them too.

    F1 and ROC AUC get 95 % percentile bootstrap intervals over the resamples that
    :func:`bootstrap_ci` draws with this ``seed`` (same numbers, vectorised: one call costs
    milliseconds). Use 1,000 resamples at least: the 2.5th and 97.5th percentiles of 200
    rest on five resamples each.
    """
    if proportions not in PROPORTION_INTERVALS:
        raise ValueError(f"proportions must be one of {PROPORTION_INTERVALS}, "
                         f"got {proportions!r}")
    y_true = _check_binary_labels(np.asarray(y_true))
    _, y_pred = _check_same_length(y_true, y_pred, "y_pred")
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot}")
    y_pred = np.asarray(y_pred)
    if y_pred.ndim != 1 or not set(np.unique(y_pred).tolist()) <= {0, 1}:
        raise ValueError("y_pred must hold binary predictions 0/1 (threshold the scores first)")
    y_pred = y_pred.astype(int)
    score = None if y_score is None else np.asarray(
        _check_same_length(y_true, y_score, "y_score")[1], dtype=float)
    rows = {"sensitivity": [], "specificity": [], "F1": [], "ROC AUC": []}
    for idx in _resample_blocks(len(y_true), n_boot, seed):
        yt, yp = y_true[idx], y_pred[idx]
        n_pos = yt.sum(1)
        keep = (n_pos > 0) & (n_pos < yt.shape[1])       # both classes, as bootstrap_ci
        yt, yp, idx, n_pos = yt[keep], yp[keep], idx[keep], n_pos[keep]
        tp = np.sum(yt * yp, 1)
        tn = np.sum((1 - yt) * (1 - yp), 1)
        denom = yp.sum(1) + n_pos
        rows["sensitivity"].extend(tp / n_pos)
        rows["specificity"].extend(tn / (yt.shape[1] - n_pos))
        rows["F1"].extend(2 * tp / denom)                   # denom ≥ n_pos > 0
        if score is not None:
            rows["ROC AUC"].extend(_auc_rows(yt, score[idx]))
    points = {"sensitivity": _sensitivity(y_true, y_pred),
              "specificity": _specificity(y_true, y_pred), "F1": _f1(y_true, y_pred)}
    if score is not None:
        points["ROC AUC"] = _auc_rank(y_true, score)
    counts = {"sensitivity": (int(np.sum((y_pred == 1) & (y_true == 1))), int(y_true.sum())),
              "specificity": (int(np.sum((y_pred == 0) & (y_true == 0))),
                              int(np.sum(y_true == 0)))}
    out = {}
    for name, point in points.items():
        if name in counts and proportions != "bootstrap":
            out[name] = proportion_interval(*counts[name], method=proportions)
            continue
        values = np.asarray(rows[name], dtype=float)
        if len(values) == 0:
            raise ValueError("metric_intervals: every resample held a single class")
        low, high = np.quantile(values, [0.025, 0.975])
        out[name] = (float(point), float(low), float(high))
    return out


# ---------------------------------------------------------------------------------------
# Calibration and clinical usefulness of predicted probabilities (chapters 5 and 6)
# ---------------------------------------------------------------------------------------
def _logit(probs, eps):
    p = np.clip(np.asarray(probs, dtype=float), eps, 1 - eps)
    return np.log(p) - np.log1p(-p)


def calibration_slope_intercept(y_true, probs, *, eps: float = 1e-6) -> dict[str, float]:
    """Logistic recalibration of predicted probabilities of the positive class (chapters 5, 6).

    Fits ``logit P(y = 1) = a + b * logit(p)`` by maximum likelihood on the cases given and
    returns ``{"slope": b, "intercept": a0, "recal_intercept": a}``:

    * ``slope`` ``b``: 1 for calibrated probabilities; below 1 when they are too extreme
      (over-confident, typical of an over-fitted model), above 1 when too moderate;
    * ``intercept`` ``a0``, *calibration-in-the-large*: the intercept fitted with the slope
      fixed at 1 (``logit(p)`` as an offset), 0 when the mean predicted probability matches
      the observed frequency on the logit scale; negative when the predictions are too high
      (as after class weights, chapter 5), positive when too low;
    * ``recal_intercept`` ``a``: the intercept of the two-parameter fit, which with ``slope``
      maps ``p`` to recalibrated probabilities (:func:`recalibrate`).

    This is Cox's (1958) logistic calibration, the "weak calibration" of Van Calster et al.
    (2019). Probabilities are clipped to ``[eps, 1 - eps]`` so that 0 and 1 have finite logits.
    """
    from scipy.optimize import brentq

    y = _check_binary_labels(np.asarray(y_true))
    _, probs = _check_same_length(y, probs, "probs")
    if not 0 < eps < 0.5:
        raise ValueError(f"eps must be in (0, 0.5), got {eps}")
    lp = _logit(probs, eps)

    def mean_gap(a):  # score equation of the intercept with the slope fixed at 1
        return float(np.mean(1 / (1 + np.exp(-(a + lp)))) - y.mean())

    bound = 50.0 + np.abs(lp).max()
    a0 = brentq(mean_gap, -bound, bound, xtol=1e-12)

    def nll(theta):
        z = theta[0] + theta[1] * lp
        return float(np.sum(np.logaddexp(0, z) - y * z))

    # Newton-Raphson on the two-parameter log-likelihood, halving a step that does not lower it
    X = np.column_stack([np.ones_like(lp), lp])
    theta = np.array([0.0, 1.0])
    for _ in range(100):
        q = 1 / (1 + np.exp(-(X @ theta)))
        grad = X.T @ (q - y)
        hess = (X * (q * (1 - q))[:, None]).T @ X
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        t, current = 1.0, nll(theta)
        while nll(theta - t * step) > current and t > 1e-8:
            t /= 2
        theta = theta - t * step
        if np.max(np.abs(t * step)) < 1e-10:
            break
    return {"slope": float(theta[1]), "intercept": float(a0), "recal_intercept": float(theta[0])}


def recalibrate(probs, slope: float, intercept: float, *, eps: float = 1e-6):
    """``sigmoid(intercept + slope * logit(probs))``: apply a logistic recalibration
    (``slope`` and ``recal_intercept`` of :func:`calibration_slope_intercept`, fitted on other
    cases than the ones it is applied to; chapters 5 and 6)."""
    return 1 / (1 + np.exp(-(intercept + slope * _logit(probs, eps))))


def net_benefit(y_true, probs, thresholds) -> dict[str, np.ndarray]:
    """Net benefit of a model, of treating everyone and of treating no one, at each threshold
    probability ``p_t`` (decision curve analysis, Vickers & Elkin 2006; chapters 5 and 6).

    Treating a case when its predicted probability is at least ``p_t`` has net benefit
    ``TP/n - FP/n * p_t / (1 - p_t)``: true positives, minus false positives weighted by the
    odds of the threshold, the exchange rate a clinician states by choosing ``p_t`` (at
    ``p_t = 0.1`` a missed cancer weighs as much as 9 needless biopsies). "Treat all" has
    ``prevalence - (1 - prevalence) * p_t / (1 - p_t)``, "treat none" 0. ``probs`` must be
    probabilities (calibrated ones: the threshold is read as a risk). Returns
    ``{"threshold", "model", "treat all", "treat none"}``, arrays in threshold order.
    """
    y = _check_binary_labels(np.asarray(y_true))
    _, probs = _check_same_length(y, probs, "probs")
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 1 or np.any((probs < 0) | (probs > 1)):
        raise ValueError("probs must be one probability per case, in [0, 1]")
    t = np.atleast_1d(np.asarray(thresholds, dtype=float))
    if np.any((t <= 0) | (t >= 1)):
        raise ValueError(f"thresholds must lie strictly between 0 and 1, got {thresholds}")
    n, prevalence = len(y), y.mean()
    odds = t / (1 - t)
    treat = probs[None, :] >= t[:, None]
    tp = np.sum(treat & (y[None, :] == 1), 1) / n
    fp = np.sum(treat & (y[None, :] == 0), 1) / n
    return {"threshold": t, "model": tp - fp * odds,
            "treat all": prevalence - (1 - prevalence) * odds, "treat none": np.zeros_like(t)}
