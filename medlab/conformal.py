"""Conformal prediction (chapter 11): sets with a coverage guarantee, and risk control.

* Split conformal prediction on the score 1 - p (Vovk et al. 2005; Angelopoulos and Bates
  2023), marginal or per class ("Mondrian"): :func:`conformal_threshold`,
  :func:`conformal_sets`; the law of its coverage given one calibration set and the
  calibration size it needs: :func:`conformal_coverage_law`, :func:`conformal_cases_needed`.
* Adaptive prediction sets (APS; Romano, Sesia and Candès 2020) and their regularised form
  (RAPS; Angelopoulos, Bates, Malik and Jordan 2021): the score of a label is the probability
  mass of the labels the model ranks above it, plus (a random share of) its own;
  :func:`aps_scores`, :func:`aps_threshold`, :func:`aps_sets`.
* :func:`coverage_by_set_size`: the coverage within each set size, the check that tells an
  adaptive method from one that only covers on average.
* Conformal risk control (Angelopoulos, Bates, Fisch, Lei and Schuster 2024): a threshold that
  bounds the expected value of a bounded, monotone loss, here the false-negative rate of a
  segmentation (:func:`false_negative_rate_curves`, :func:`crc_threshold`).
"""

from __future__ import annotations

import numpy as np

from medlab.inputs import class_labels, class_probabilities

__all__ = ["conformal_threshold", "conformal_sets", "conformal_coverage_law",
           "conformal_cases_needed", "aps_scores", "aps_threshold", "aps_sets", "coverage_by_set_size",
           "false_negative_rate_curves", "crc_threshold"]


# --- split conformal prediction on 1 - p ------------------------------------------------------

def _conformal_rank(n: int, alpha: float) -> int:
    """k = ceil((n + 1)(1 - alpha)): the rank of the calibration score that split conformal
    prediction takes as its threshold (the small tolerance keeps 0.9 * 20 = 18 at 18)."""
    return int(np.ceil((n + 1) * (1 - alpha) - 1e-9))


def _kth_score(scores, alpha: float, caller: str) -> float:
    """The :func:`_conformal_rank`-th smallest of ``scores``, or a ValueError naming ``caller``
    when there are too few of them for ``alpha``."""
    scores = np.sort(scores)
    n = len(scores)
    k = _conformal_rank(n, alpha)
    if k > n:
        raise ValueError(f"{caller}: {n} calibration cases are too few for alpha={alpha}; "
                         f"need at least {int(np.ceil(1 / alpha)) - 1}")
    return float(scores[k - 1])


def conformal_threshold(cal_probs, cal_labels, alpha: float, *, by_class: bool = False):
    """Split conformal prediction (Vovk et al. 2005; Angelopoulos and Bates 2023): the
    threshold q on the score 1 - p(true class) from a calibration set.

    q is the k-th smallest calibration score, k = ceil((n+1)(1-alpha)) (the ceil((n+1)(1-alpha))/n
    empirical quantile); a new case's set then holds every class with 1 - p <= q and contains
    the true class with probability at least 1 - alpha, averaged over calibration sets, if the
    cases are exchangeable. Chapter 11.

    ``by_class=True`` gives class-conditional ("Mondrian") conformal prediction: one threshold
    per class, each from the calibration cases of that class only, returned as an array of
    length k; the coverage then holds within every class. A class with fewer than
    ``ceil(1/alpha) - 1`` calibration cases gets the threshold ``inf`` (always in the set).
    """
    probs = class_probabilities(cal_probs, "cal_probs")
    labels = class_labels(cal_labels, len(probs), probs.shape[1], "cal_labels")
    if not 0 < alpha < 1:
        raise ValueError(f"conformal_threshold: alpha must be in (0, 1), got {alpha}")
    if by_class:
        out = np.full(probs.shape[1], np.inf)
        for c in range(probs.shape[1]):
            scores = np.sort(1.0 - probs[labels == c, c])
            k = _conformal_rank(len(scores), alpha)
            if k <= len(scores):
                out[c] = scores[k - 1]
        return out
    return _kth_score(1.0 - probs[np.arange(len(labels)), labels], alpha, "conformal_threshold")


def conformal_sets(probs, threshold) -> np.ndarray:
    """Prediction sets: an (n, k) boolean array, True where 1 - p <= ``threshold`` (a number,
    or one threshold per class from ``conformal_threshold(..., by_class=True)``)."""
    probs = class_probabilities(probs)
    q = np.asarray(threshold, dtype=float)
    if q.ndim > 1 or (q.ndim == 1 and len(q) != probs.shape[1]):
        raise ValueError(f"conformal_sets: threshold must be a number or one per class "
                         f"({probs.shape[1]}), got shape {q.shape}")
    return (1.0 - probs) <= q + 1e-12


def conformal_coverage_law(n: int, alpha: float) -> dict:
    """The distribution of split-conformal coverage over calibration sets (chapter 11).

    Given a calibration set of ``n`` exchangeable cases with continuous scores, the coverage
    of the next case is Beta(k, n + 1 - k) with k = ceil((n + 1)(1 - alpha)) (Vovk 2012;
    Angelopoulos and Bates 2023, section 3.2). Returns k, its mean k / (n + 1), standard
    deviation, and its 2.5, 5, 95 and 97.5 % quantiles.
    """
    from scipy.stats import beta

    if int(n) != n or n < 1:
        raise ValueError(f"conformal_coverage_law: n must be a positive whole number, got {n}")
    if not 0 < alpha < 1:
        raise ValueError(f"conformal_coverage_law: alpha must be in (0, 1), got {alpha}")
    n = int(n)
    k = _conformal_rank(n, alpha)
    if k > n:
        raise ValueError(f"conformal_coverage_law: n={n} is too small for alpha={alpha}")
    law = beta(k, n + 1 - k)
    q = law.ppf([0.025, 0.05, 0.95, 0.975])
    return {"k": k, "mean": k / (n + 1), "sd": float(law.std()), "q2.5": float(q[0]),
            "q5": float(q[1]), "q95": float(q[2]), "q97.5": float(q[3])}


def conformal_cases_needed(alpha: float, half_width: float = 0.01, level: float = 0.95) -> int:
    """The smallest calibration set whose coverage lies within ``half_width`` of its mean
    with probability ``level`` (central interval of the Beta law; chapter 11)."""
    if not 0 < half_width < 0.5 or not 0 < level < 1:
        raise ValueError(f"conformal_cases_needed: need 0 < half_width < 0.5 and "
                         f"0 < level < 1, got {half_width} and {level}")
    tail = (1 - level) / 2
    from scipy.stats import beta

    def wide(n):
        k = _conformal_rank(n, alpha)
        if k > n:
            return True
        lo, hi = beta(k, n + 1 - k).ppf([tail, 1 - tail])
        return (hi - lo) / 2 > half_width

    hi = 16
    while wide(hi):
        hi *= 2
    lo = hi // 2
    while hi - lo > 1:           # the half-width shrinks (nearly) monotonically with n
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if wide(mid) else (lo, mid)
    return hi


# --- adaptive prediction sets -----------------------------------------------------------------

def _uniforms(n, randomize, seed):
    if not randomize:
        return None
    return np.random.default_rng(seed).random(n)


def _rank_terms(p, lam, k_reg):
    """Per case and class: the mass of the classes ranked strictly above it, its own
    probability and its RAPS penalty lam * max(0, rank - k_reg) (rank 1 = most probable;
    ties broken by class index, as np.argsort(-p, kind='stable'))."""
    if lam < 0 or int(k_reg) != k_reg or k_reg < 0:
        raise ValueError(f"lam must be >= 0 and k_reg a whole number >= 0, got {lam}, {k_reg}")
    order = np.argsort(-p, axis=1, kind="stable")
    sorted_p = np.take_along_axis(p, order, axis=1)
    above_sorted = np.cumsum(sorted_p, axis=1) - sorted_p
    rank_sorted = np.broadcast_to(np.arange(1, p.shape[1] + 1), p.shape)
    above = np.empty_like(p)
    rank = np.empty(p.shape, dtype=int)
    np.put_along_axis(above, order, above_sorted, axis=1)
    np.put_along_axis(rank, order, rank_sorted, axis=1)
    return above, lam * np.maximum(rank - int(k_reg), 0)


def aps_scores(probs, labels, *, randomize: bool = False, seed: int = 0, lam: float = 0.0,
               k_reg: int = 0) -> np.ndarray:
    """The APS (``lam = 0``) or RAPS conformity score of each case's ``labels`` (chapter 11).

    Rank the classes by probability; the score of label y is the mass of the classes ranked
    above y, plus y's own probability (``randomize=False``) or a uniform random share u of it
    (``randomize=True``, u drawn from ``seed``, one per case), plus the RAPS penalty
    ``lam * max(0, rank(y) - k_reg)``. A low score means the label is among the model's first
    choices.
    """
    p = class_probabilities(probs, sum_to_one=False)
    y = class_labels(labels, len(p), p.shape[1])
    above, penalty = _rank_terms(p, lam, k_reg)
    rows = np.arange(len(p))
    u = _uniforms(len(p), randomize, seed)
    own = p[rows, y] if u is None else u * p[rows, y]
    return above[rows, y] + own + penalty[rows, y]


def aps_threshold(cal_probs, cal_labels, alpha: float, *, randomize: bool = False,
                  seed: int = 0, lam: float = 0.0, k_reg: int = 0) -> float:
    """The APS/RAPS threshold: the k-th smallest calibration score (:func:`aps_scores`),
    k = ceil((n + 1)(1 - alpha)), as in split conformal prediction (chapter 11)."""
    if not 0 < alpha < 1:
        raise ValueError(f"aps_threshold: alpha must be in (0, 1), got {alpha}")
    scores = aps_scores(cal_probs, cal_labels, randomize=randomize, seed=seed, lam=lam,
                        k_reg=k_reg)
    return _kth_score(scores, alpha, "aps_threshold")


def aps_sets(probs, threshold: float, *, randomize: bool = False, seed: int = 0,
             lam: float = 0.0, k_reg: int = 0) -> np.ndarray:
    """APS/RAPS prediction sets, an (n, k) boolean array in class order (chapter 11).

    ``randomize=True``: every label whose randomised score (one uniform u per case, drawn from
    ``seed``) is at most ``threshold``; the coverage is then close to 1 - alpha, not above it,
    and a set may be empty. ``randomize=False``: the classes in rank order up to and including
    the first whose cumulative mass (plus penalty) reaches ``threshold``, i.e. every label whose
    mass *above* it (plus penalty) is below ``threshold`` (Angelopoulos and Bates 2023, section
    2.1): never empty, and it holds every label whose score is at most ``threshold``, so the
    coverage is at least 1 - alpha.
    """
    p = class_probabilities(probs, sum_to_one=False)
    q = float(threshold)
    if not np.isfinite(q):
        raise ValueError(f"aps_sets: threshold must be finite, got {threshold}")
    above, penalty = _rank_terms(p, lam, k_reg)
    u = _uniforms(len(p), randomize, seed)
    if u is None:
        return above + penalty < q
    return above + u[:, None] * p + penalty <= q


def coverage_by_set_size(sets, labels) -> dict:
    """Coverage within each set size: ``{size: (number of cases, coverage)}`` for every size
    that occurs (chapter 11). An adaptive method covers about 1 - alpha at every size; a
    method that is only marginally valid may over-cover the large sets and under-cover the
    small ones."""
    s = np.asarray(sets, dtype=bool)
    if s.ndim != 2:
        raise ValueError(f"coverage_by_set_size: sets must be (n, k) booleans, got shape {s.shape}")
    y = class_labels(labels, len(s), s.shape[1])
    size = s.sum(1)
    hit = s[np.arange(len(s)), y]
    return {int(k): (int((size == k).sum()), float(hit[size == k].mean()))
            for k in np.unique(size)}


def false_negative_rate_curves(probs, truth, lambdas) -> np.ndarray:
    """Per-image false-negative rate of the set {pixels with p >= 1 - lambda} (chapter 11).

    ``probs``: (n, H, W) probability of one class per pixel; ``truth``: (n, H, W) booleans,
    every image holding at least one true pixel; ``lambdas``: increasing values in [0, 1].
    Returns (n, len(lambdas)): the share of each image's true pixels left out, non-increasing
    in lambda, 0 at lambda = 1.
    """
    p = np.asarray(probs, dtype=float)
    t = np.asarray(truth, dtype=bool)
    lam = np.asarray(lambdas, dtype=float)
    if p.shape != t.shape or p.ndim < 2:
        raise ValueError(f"false_negative_rate_curves: probs and truth must be (n, ...) of one "
                         f"shape, got {p.shape} and {t.shape}")
    if lam.ndim != 1 or len(lam) == 0 or np.any(np.diff(lam) <= 0) or lam[0] < 0 or lam[-1] > 1:
        raise ValueError("false_negative_rate_curves: lambdas must be increasing values in [0, 1]")
    p, t = p.reshape(len(p), -1), t.reshape(len(t), -1)
    n_true = t.sum(1)
    if np.any(n_true == 0):
        raise ValueError(f"false_negative_rate_curves: {int((n_true == 0).sum())} images hold no "
                         f"true pixel (their FNR is undefined); leave them out")
    out = np.empty((len(p), len(lam)))
    for i in range(len(p)):
        # a true pixel is found at lambda iff p >= 1 - lambda, i.e. lambda >= 1 - p
        need = np.sort(1.0 - p[i, t[i]])
        out[i] = 1.0 - np.searchsorted(need, lam + 1e-12, side="right") / n_true[i]
    return out


def crc_threshold(loss_curves, lambdas, alpha: float, *, bound: float = 1.0) -> float:
    """Conformal risk control (Angelopoulos et al. 2024): the smallest lambda with
    n / (n + 1) * mean loss(lambda) + bound / (n + 1) <= alpha (chapter 11).

    ``loss_curves``: (n, len(lambdas)) losses of the n calibration cases, each non-increasing
    in lambda and in [0, ``bound``]; then the expected loss of a new exchangeable case at the
    returned lambda is at most alpha.
    """
    loss = np.asarray(loss_curves, dtype=float)
    lam = np.asarray(lambdas, dtype=float)
    if loss.ndim != 2 or loss.shape[1] != len(lam):
        raise ValueError(f"crc_threshold: loss_curves must be (n, {len(lam)}), got {loss.shape}")
    if not 0 < alpha < 1 or not bound > 0:
        raise ValueError(f"crc_threshold: need 0 < alpha < 1 and bound > 0, got {alpha}, {bound}")
    if loss.min() < 0 or loss.max() > bound + 1e-12 or np.any(np.diff(loss, axis=1) > 1e-12):
        raise ValueError("crc_threshold: every loss curve must lie in [0, bound] and not "
                         "increase with lambda")
    n = len(loss)
    risk = n / (n + 1) * loss.mean(0) + bound / (n + 1)
    ok = np.flatnonzero(risk <= alpha)
    if len(ok) == 0:
        raise ValueError(f"crc_threshold: no lambda reaches alpha={alpha} with {n} calibration "
                         f"cases (need n >= bound / alpha - 1 and a loss of 0 at the largest lambda)")
    return float(lam[ok[0]])
