"""medlab.metrics' calibration slope/intercept, recalibration and net benefit (chapters 5, 6)."""

from __future__ import annotations

import numpy as np
import pytest

from medlab import metrics


def _risks(n=20000, seed=0):
    rng = np.random.default_rng(seed)
    lp = rng.normal(-1.0, 1.5, n)
    p = 1 / (1 + np.exp(-lp))
    return (rng.random(n) < p).astype(int), p, lp


def test_calibrated_probabilities_have_slope_one_and_intercept_zero():
    y, p, _ = _risks()
    c = metrics.calibration_slope_intercept(y, p)
    assert c["slope"] == pytest.approx(1.0, abs=0.05)
    assert c["intercept"] == pytest.approx(0.0, abs=0.05)


def test_overconfident_and_shifted_probabilities():
    y, _, lp = _risks()
    over = 1 / (1 + np.exp(-2 * lp))           # logits doubled: too extreme
    assert metrics.calibration_slope_intercept(y, over)["slope"] == pytest.approx(0.5, abs=0.03)
    high = 1 / (1 + np.exp(-(lp + 1.0)))       # every logit 1 too high
    c = metrics.calibration_slope_intercept(y, high)
    assert c["intercept"] == pytest.approx(-1.0, abs=0.06)
    assert c["slope"] == pytest.approx(1.0, abs=0.05)


def test_slope_intercept_match_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    y, _, lp = _risks(n=500, seed=3)
    p = 1 / (1 + np.exp(-(0.7 * lp + 0.4)))
    c = metrics.calibration_slope_intercept(y, p)
    logit = np.log(p / (1 - p))
    two = sm.GLM(y, sm.add_constant(logit), family=sm.families.Binomial()).fit()
    one = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=logit).fit()
    assert c["recal_intercept"] == pytest.approx(two.params[0], abs=1e-5)
    assert c["slope"] == pytest.approx(two.params[1], abs=1e-5)
    assert c["intercept"] == pytest.approx(one.params[0], abs=1e-6)


def test_recalibrated_on_the_same_cases_is_calibrated():
    y, _, lp = _risks(n=800, seed=1)
    p = 1 / (1 + np.exp(-(2.5 * lp - 1.0)))
    c = metrics.calibration_slope_intercept(y, p)
    again = metrics.calibration_slope_intercept(
        y, metrics.recalibrate(p, c["slope"], c["recal_intercept"]))
    assert again["slope"] == pytest.approx(1.0, abs=1e-8)
    assert again["intercept"] == pytest.approx(0.0, abs=1e-8)


def test_calibration_rejects_bad_input():
    with pytest.raises(ValueError, match="y_true"):
        metrics.calibration_slope_intercept([1, 1, 1], [0.2, 0.5, 0.9])
    with pytest.raises(ValueError, match="probs"):
        metrics.calibration_slope_intercept([0, 1, 1], [0.2, 0.5])
    with pytest.raises(ValueError, match="eps"):
        metrics.calibration_slope_intercept([0, 1], [0.2, 0.5], eps=0.7)


def test_net_benefit_by_hand():
    # 10 cases, 4 positive. At p_t = 0.25 (odds 1/3) the model treats the 5 cases with
    # p >= 0.25: 3 true and 2 false positives -> 3/10 - 2/10 * 1/3 = 0.2333...
    y = np.array([1, 1, 1, 0, 0, 1, 0, 0, 0, 0])
    p = np.array([0.9, 0.6, 0.3, 0.25, 0.3, 0.1, 0.2, 0.05, 0.1, 0.0])
    nb = metrics.net_benefit(y, p, [0.25, 0.5])
    assert nb["model"][0] == pytest.approx(0.3 - 0.2 / 3)
    assert nb["model"][1] == pytest.approx(0.2)         # 2 TP, 0 FP
    assert nb["treat all"][0] == pytest.approx(0.4 - 0.6 / 3)
    assert nb["treat all"][1] == pytest.approx(0.4 - 0.6)
    assert np.all(nb["treat none"] == 0)


def test_net_benefit_of_a_perfect_model_is_the_prevalence():
    y, _, _ = _risks(n=300)
    nb = metrics.net_benefit(y, y.astype(float), np.linspace(0.05, 0.95, 7))
    assert np.allclose(nb["model"], y.mean())


def test_net_benefit_rejects_bad_thresholds_and_probs():
    with pytest.raises(ValueError, match="thresholds"):
        metrics.net_benefit([0, 1], [0.2, 0.8], [0.0, 0.5])
    with pytest.raises(ValueError, match="probs"):
        metrics.net_benefit([0, 1], [0.2, 1.3], [0.5])
