"""medlab.metrics' paired comparisons (chapter 5): DeLong, paired bootstrap, McNemar, the
corrected resampled t-test, and bootstrap intervals for several metrics at once."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from medlab import metrics


def _two_models(n=300, seed=0, gap=0.6):
    """Labels and two correlated scores: model A sees the signal more clearly than B."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    shared = rng.normal(size=n)
    a = 1.2 * y + shared + 0.5 * rng.normal(size=n)
    b = (1.2 - gap) * y + shared + 0.5 * rng.normal(size=n)
    return y, a, b


def test_delong_aucs_match_sklearn_with_ties():
    y, a, b = _two_models()
    a = np.round(a, 1)  # ties, handled by midranks
    r = metrics.delong_test(y, a, b)
    assert r["auc_a"] == pytest.approx(skm.roc_auc_score(y, a), abs=1e-12)
    assert r["auc_b"] == pytest.approx(skm.roc_auc_score(y, b), abs=1e-12)
    assert r["delta"] == pytest.approx(r["auc_a"] - r["auc_b"])
    assert r["z"] == pytest.approx(r["delta"] / r["se"])
    assert r["p_value"] == pytest.approx(2 * stats.norm.sf(abs(r["z"])))


def test_delong_se_agrees_with_paired_bootstrap():
    y, a, b = _two_models(n=400, seed=1)
    r = metrics.delong_test(y, a, b)
    rng = np.random.default_rng(0)
    deltas = []
    for _ in range(600):
        i = rng.integers(0, len(y), len(y))
        deltas.append(skm.roc_auc_score(y[i], a[i]) - skm.roc_auc_score(y[i], b[i]))
    assert r["se"] == pytest.approx(np.std(deltas), rel=0.15)
    boot = metrics.paired_bootstrap(y, a, b, skm.roc_auc_score, n_boot=2000, seed=0)
    assert boot["delta"] == pytest.approx(r["delta"])
    assert boot["low"] < r["delta"] < boot["high"]
    assert (boot["high"] - boot["low"]) == pytest.approx(2 * 1.96 * r["se"], rel=0.2)
    # both see the clear gap, both agree on its sign
    assert r["p_value"] < 0.01 and boot["p_value"] < 0.01 and boot["low"] > 0


def test_delong_same_model_and_symmetry():
    y, a, b = _two_models(seed=2)
    same = metrics.delong_test(y, a, a)
    assert same["delta"] == 0 and same["p_value"] == 1.0
    ab, ba = metrics.delong_test(y, a, b), metrics.delong_test(y, b, a)
    assert ab["delta"] == pytest.approx(-ba["delta"]) and ab["p_value"] == pytest.approx(ba["p_value"])


def test_delong_paired_is_sharper_than_unpaired():
    """Correlated models: the paired SE of ΔAUC is smaller than sqrt(se_a² + se_b²)."""
    y, a, b = _two_models(n=400, seed=3, gap=0.2)
    r = metrics.delong_test(y, a, b)
    noise = np.random.default_rng(9).normal(size=len(y)) * 1e-9   # break exact ties only
    se_a = metrics.delong_test(y, a, noise)["se"]  # var(a) + var(noise ~ 0.5-AUC) ≥ var(a)
    assert r["se"] < se_a


def test_delong_bad_input():
    y, a, b = _two_models(n=50)
    with pytest.raises(ValueError, match="score_b"):
        metrics.delong_test(y, a, b[:-1])
    with pytest.raises(ValueError, match="single class"):
        metrics.delong_test(np.ones(50, int), a, b)
    with pytest.raises(ValueError, match="y_true"):
        metrics.delong_test(y * 2, a, b)


def test_paired_bootstrap_null_and_errors():
    y, a, _ = _two_models(n=200, seed=4)
    rng = np.random.default_rng(5)
    c = a + rng.normal(scale=1e-3, size=len(y))  # practically the same model
    r = metrics.paired_bootstrap(y, a, c, skm.roc_auc_score, n_boot=1000, seed=1)
    assert r["low"] <= 0 <= r["high"] and r["p_value"] > 0.05
    # sklearn's AUC takes a vectorised path: it gives what the generic path gives
    generic = metrics.paired_bootstrap(y, a, c, lambda t, s: skm.roc_auc_score(t, s),
                                       n_boot=300, seed=2)
    assert generic == pytest.approx(
        metrics.paired_bootstrap(y, a, c, skm.roc_auc_score, n_boot=300, seed=2))
    # a non-AUC metric goes through the generic path
    acc = metrics.paired_bootstrap(y, (a > 0.6).astype(int), (c > 0.6).astype(int),
                                   skm.accuracy_score, n_boot=200, seed=1)
    assert set(acc) == {"delta", "low", "high", "p_value"}
    # the same seed gives the same interval
    assert r == metrics.paired_bootstrap(y, a, c, skm.roc_auc_score, n_boot=1000, seed=1)
    with pytest.raises(ValueError, match="n_boot"):
        metrics.paired_bootstrap(y, a, c, skm.roc_auc_score, n_boot=0)
    with pytest.raises(ValueError, match="entries but a has"):
        metrics.paired_bootstrap(y, a[:-1], c, skm.roc_auc_score)
    with pytest.raises(TypeError, match="metric"):
        metrics.paired_bootstrap(y, a, c, "auc")


def test_mcnemar_counts_and_exactness():
    y = np.array([1] * 40 + [0] * 40)
    pa = y.copy()
    pb = y.copy()
    pb[:10] = 0      # B misses 10 cases A gets right  -> b = 10
    pa[40:42] = 1    # A errs on 2 cases B gets right  -> c = 2
    r = metrics.mcnemar_test(y, pa, pb)
    assert (r["b"], r["c"]) == (10, 2)
    assert r["p_value"] == pytest.approx(stats.binomtest(2, 12, 0.5).pvalue)  # exact
    pb2 = y.copy()
    pb2[:30] = 0
    r2 = metrics.mcnemar_test(y, pa, pb2)  # b + c = 32: chi-square with correction
    assert r2["statistic"] == pytest.approx((abs(30 - 2) - 1) ** 2 / 32)
    assert metrics.mcnemar_test(y, pa, pa)["p_value"] == 1.0
    with pytest.raises(ValueError, match="pred_b"):
        metrics.mcnemar_test(y, pa, pb[:-1])


def test_corrected_resampled_ttest():
    rng = np.random.default_rng(0)
    a = 0.80 + 0.02 * rng.normal(size=10)
    b = a - 0.01 + 0.005 * rng.normal(size=10)
    r = metrics.corrected_resampled_ttest(a, b, n_train=900, n_test=100)
    d = a - b
    expect = d.mean() / np.sqrt((1 / 10 + 100 / 900) * d.var(ddof=1))
    assert r["t"] == pytest.approx(expect) and r["mean_diff"] == pytest.approx(d.mean())
    assert r["p_value"] == pytest.approx(2 * stats.t.sf(abs(expect), 9))
    plain = stats.ttest_rel(a, b)  # the uncorrected test is over-confident
    assert r["p_value"] > plain.pvalue
    with pytest.raises(ValueError, match="same length"):
        metrics.corrected_resampled_ttest(a, b[:-1], 900, 100)
    with pytest.raises(ValueError, match="n_train"):
        metrics.corrected_resampled_ttest(a, b, 0, 100)
    with pytest.raises(ValueError, match="at least 2"):
        metrics.corrected_resampled_ttest(a[:1], b[:1], 900, 100)


def test_metric_intervals():
    y, a, _ = _two_models(n=300, seed=6)
    pred = (a > 0.6).astype(int)
    out = metrics.metric_intervals(y, pred, a, n_boot=1000, seed=0)
    assert set(out) == {"sensitivity", "specificity", "F1", "ROC AUC"}
    s = metrics.classification_summary(y, pred, a)
    for name, (v, lo, hi) in out.items():
        assert v == pytest.approx(s[name]) and lo <= v <= hi and hi - lo > 0
    # the same resamples and numbers as bootstrap_ci with sklearn's metrics
    spec = lambda t, p: skm.recall_score(t, p, pos_label=0)  # noqa: E731
    for name, fn, other in (("sensitivity", skm.recall_score, pred),
                            ("specificity", spec, pred), ("F1", skm.f1_score, pred),
                            ("ROC AUC", skm.roc_auc_score, a)):
        ref = metrics.bootstrap_ci(y, other, fn, n_boot=400, seed=3)
        got = metrics.metric_intervals(y, pred, a, n_boot=400, seed=3, proportions="bootstrap")
        assert got[name] == pytest.approx(ref)
    # by default sensitivity and specificity get Wilson intervals of their counts
    tp, n_pos = int(np.sum((pred == 1) & (y == 1))), int(y.sum())
    assert out["sensitivity"] == pytest.approx(metrics.proportion_interval(tp, n_pos))
    # resamples drawn in blocks (large test sets) are the same resamples
    small = metrics._resample_blocks(len(y), 50, 7, max_cells=len(y) * 3)
    assert np.array_equal(np.concatenate(list(small)),
                          np.concatenate(list(metrics._resample_blocks(len(y), 50, 7))))
    assert set(metrics.metric_intervals(y, pred)) == {"sensitivity", "specificity", "F1"}
    with pytest.raises(ValueError, match="y_pred"):
        metrics.metric_intervals(y, a)  # scores, not predictions
    with pytest.raises(ValueError, match="y_score"):
        metrics.metric_intervals(y, pred, a[:-1])
    with pytest.raises(ValueError, match="single class"):
        metrics.metric_intervals(np.zeros(10, int), np.zeros(10, int))
    with pytest.raises(ValueError, match="proportions"):
        metrics.metric_intervals(y, pred, proportions="percentile")


@pytest.mark.parametrize("k,n", [(12, 12), (0, 12), (5, 12), (107, 107), (40, 53), (1, 2)])
def test_proportion_interval_matches_statsmodels(k, n):
    from statsmodels.stats.proportion import proportion_confint

    for ours, theirs in (("wilson", "wilson"), ("clopper-pearson", "beta")):
        value, low, high = metrics.proportion_interval(k, n, method=ours)
        assert value == k / n and 0 <= low <= value <= high <= 1
        assert (low, high) == pytest.approx(proportion_confint(k, n, method=theirs), abs=1e-12)


def test_proportion_interval_errors():
    with pytest.raises(ValueError, match="k=13"):
        metrics.proportion_interval(13, 12)
    with pytest.raises(ValueError, match="method"):
        metrics.proportion_interval(3, 12, method="wald")
    with pytest.raises(ValueError, match="whole"):
        metrics.proportion_interval(2.5, 12)


def test_metric_intervals_do_not_collapse_at_one():
    """12 of 12 positives found: the percentile bootstrap gives [1, 1], Wilson about [0.76, 1]."""
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(12, int), np.zeros(107, int)]
    pred = y.copy()
    score = y + rng.normal(0, 0.3, len(y))
    boot = metrics.metric_intervals(y, pred, score, proportions="bootstrap")
    assert boot["sensitivity"] == (1.0, 1.0, 1.0) and boot["specificity"] == (1.0, 1.0, 1.0)
    wilson = metrics.metric_intervals(y, pred, score)
    assert wilson["sensitivity"] == pytest.approx((1.0, 0.7575, 1.0), abs=1e-4)
    assert wilson["specificity"][1] == pytest.approx(0.9653, abs=1e-4)
    exact = metrics.metric_intervals(y, pred, score, proportions="clopper-pearson")
    assert exact["sensitivity"][1] == pytest.approx(0.7354, abs=1e-4)
    assert wilson["ROC AUC"] == boot["ROC AUC"] and wilson["F1"] == boot["F1"]  # still bootstrap


def _top_label_ece_reference(y, p, n_bins):
    """The top-label ECE as first written (bins (lo, hi] of the confidence)."""
    probs = np.stack([1 - p, p], axis=1)
    conf, correct = probs.max(1), (probs.argmax(1) == y).astype(float)
    edges = np.linspace(0, 1, n_bins + 1)
    out = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            out += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return out


def test_ece_modes():
    rng = np.random.default_rng(4)
    p = rng.random(500)
    y = (rng.random(500) < p ** 1.5).astype(int)
    for n_bins in (10, 15):
        assert metrics.expected_calibration_error(y, p, n_bins) == pytest.approx(
            _top_label_ece_reference(y, p, n_bins))          # the default is unchanged
    # positive mode: the gap of scikit-learn's reliability curve (uniform bins), weighted
    from sklearn.calibration import calibration_curve

    frac, mean_p = calibration_curve(y, p, n_bins=10, strategy="uniform")
    counts = np.histogram(p, bins=np.linspace(0, 1, 11))[0]
    counts = counts[counts > 0] / len(p)
    assert metrics.expected_calibration_error(y, p, 10, mode="positive") == pytest.approx(
        np.sum(counts * np.abs(frac - mean_p)))
    # errors of opposite sign on the two sides of 0.5 cancel in the top-label ECE only:
    # P(1) = 0.2 where 10 % are positive, P(1) = 0.8 where 60 % are
    y2 = np.r_[np.ones(10), np.zeros(90), np.ones(60), np.zeros(40)].astype(int)
    p2 = np.r_[np.full(100, 0.2), np.full(100, 0.8)]
    assert metrics.expected_calibration_error(y2, p2, 10) == pytest.approx(0.05)
    assert metrics.expected_calibration_error(y2, p2, 10, mode="positive") == pytest.approx(0.15)
    # probabilities of exactly 0 and 1 are binned, not dropped
    y3, p3 = np.array([0, 1, 1, 0]), np.array([0.0, 1.0, 0.0, 1.0])
    assert metrics.expected_calibration_error(y3, p3, 10, mode="positive") == pytest.approx(0.5)
    with pytest.raises(ValueError, match="mode"):
        metrics.expected_calibration_error(y, p, mode="classwise")
    with pytest.raises(ValueError, match="binary"):
        metrics.expected_calibration_error([0, 1, 2], np.eye(3), mode="positive")
