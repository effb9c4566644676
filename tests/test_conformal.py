"""Tests of medlab.conformal: APS/RAPS sets against a brute-force construction, coverage by
set size, false-negative-rate curves and conformal risk control."""

import numpy as np
import pytest

from medlab import conformal


def _dirichlet(n, k, seed):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(k, 0.7), size=n)
    y = np.array([rng.choice(k, p=row) for row in p])   # labels drawn from p: calibrated
    return p, y


def _brute_force_sets(p, q, u=None, lam=0.0, k_reg=0):
    # label by label: rank by decreasing probability (ties by class index), mass above it
    n, k = p.shape
    out = np.zeros((n, k), dtype=bool)
    for i in range(n):
        order = sorted(range(k), key=lambda c: (-p[i, c], c))
        for rank, c in enumerate(order, start=1):
            above = sum(p[i, d] for d in order[:rank - 1])
            penalty = lam * max(0, rank - k_reg)
            if u is None:
                out[i, c] = above + penalty < q
            else:
                out[i, c] = above + u[i] * p[i, c] + penalty <= q
    return out


@pytest.mark.parametrize("randomize", [False, True])
@pytest.mark.parametrize("lam,k_reg", [(0.0, 0), (0.05, 1)])
def test_aps_sets_match_brute_force(randomize, lam, k_reg):
    p, y = _dirichlet(300, 5, seed=1)
    q = conformal.aps_threshold(p[:150], y[:150], 0.1, randomize=randomize, seed=3,
                                lam=lam, k_reg=k_reg)
    sets = conformal.aps_sets(p[150:], q, randomize=randomize, seed=4, lam=lam, k_reg=k_reg)
    u = np.random.default_rng(4).random(150) if randomize else None
    assert np.array_equal(sets, _brute_force_sets(p[150:], q, u, lam, k_reg))


def test_aps_scores_by_hand_and_ties():
    p = np.array([[0.5, 0.3, 0.2], [0.25, 0.25, 0.5]])
    assert np.allclose(conformal.aps_scores(p, [1, 1]), [0.8, 1.0])   # tie: class 0 ranks first
    assert np.allclose(conformal.aps_scores(p, [0, 0]), [0.5, 0.75])
    u = np.random.default_rng(7).random(2)
    assert np.allclose(conformal.aps_scores(p, [1, 2], randomize=True, seed=7),
                       [0.5 + u[0] * 0.3, u[1] * 0.5])
    assert np.allclose(conformal.aps_scores(p, [2, 1], lam=0.1, k_reg=1), [1.0 + 0.2, 1.0 + 0.2])


def test_deterministic_sets_are_never_empty_and_nest():
    p, y = _dirichlet(400, 4, seed=2)
    small = conformal.aps_sets(p, 0.5)
    large = conformal.aps_sets(p, 0.9)
    assert small.any(1).all()
    assert (large | ~small).all()        # a larger threshold never removes a label
    assert (small[np.arange(400), p.argmax(1)]).all()


@pytest.mark.parametrize("randomize", [False, True])
def test_aps_coverage_on_exchangeable_data(randomize):
    covs = []
    for rep in range(40):
        p, y = _dirichlet(400, 4, seed=100 + rep)
        q = conformal.aps_threshold(p[:200], y[:200], 0.1, randomize=randomize, seed=rep)
        sets = conformal.aps_sets(p[200:], q, randomize=randomize, seed=1000 + rep)
        covs.append(sets[np.arange(200), y[200:]].mean())
    # mean over 40 x 200 cases: sd about 0.3 points (+ the calibration scatter)
    assert np.mean(covs) >= 0.9 - 0.015
    if randomize:
        assert np.mean(covs) <= 0.9 + 0.03   # randomised APS is close to exact


def test_coverage_by_set_size():
    sets = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [1, 0, 0]], dtype=bool)
    out = conformal.coverage_by_set_size(sets, [0, 2, 2, 1])
    assert out == {1: (2, 0.5), 2: (2, 0.5)}
    with pytest.raises(ValueError, match="sets must be"):
        conformal.coverage_by_set_size(np.ones(3, dtype=bool), [0, 1, 2])


def test_aps_errors():
    p, y = _dirichlet(10, 3, seed=0)
    with pytest.raises(ValueError, match="too few"):
        conformal.aps_threshold(p[:5], y[:5], 0.05)
    with pytest.raises(ValueError, match="alpha"):
        conformal.aps_threshold(p, y, 1.5)
    with pytest.raises(ValueError, match="probs must be"):
        conformal.aps_scores(p[:, 0], y)
    with pytest.raises(ValueError, match="labels must"):
        conformal.aps_scores(p, y + 3)
    with pytest.raises(ValueError, match="lam must"):
        conformal.aps_sets(p, 0.5, lam=-1.0)
    with pytest.raises(ValueError, match="finite"):
        conformal.aps_sets(p, np.inf)


def test_false_negative_rate_curves_by_hand():
    probs = np.array([[[0.9, 0.6], [0.2, 0.05]]])
    truth = np.array([[[True, True], [True, False]]])
    lambdas = np.array([0.0, 0.1, 0.4, 0.8, 1.0])
    # lambda 0: p >= 1 finds none; 0.1: p >= 0.9 finds one of three; 0.4: two; 0.8: all three
    assert np.allclose(conformal.false_negative_rate_curves(probs, truth, lambdas),
                       [[1.0, 2 / 3, 1 / 3, 0.0, 0.0]])
    with pytest.raises(ValueError, match="no true pixel"):
        conformal.false_negative_rate_curves(probs, np.zeros_like(truth), lambdas)
    with pytest.raises(ValueError, match="increasing"):
        conformal.false_negative_rate_curves(probs, truth, lambdas[::-1])
    with pytest.raises(ValueError, match="one shape"):
        conformal.false_negative_rate_curves(probs, truth[0], lambdas)


def test_crc_threshold_formula_and_guarantee():
    lambdas = np.linspace(0, 1, 11)
    loss = np.tile(np.linspace(1, 0, 11), (9, 1))          # every image: loss 1 - lambda
    # n = 9: 0.9 (1 - lambda) + 0.1 <= 0.3  <=>  lambda >= 7/9, first grid point 0.8
    assert conformal.crc_threshold(loss, lambdas, 0.3) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="no lambda"):
        conformal.crc_threshold(loss, lambdas, 0.05)        # B / (n + 1) = 0.1 > 0.05
    with pytest.raises(ValueError, match="not increase"):
        conformal.crc_threshold(loss[:, ::-1], lambdas, 0.3)
    with pytest.raises(ValueError, match="must be"):
        conformal.crc_threshold(loss[:, :5], lambdas, 0.3)
    # the guarantee: the expected FNR of a new image, over calibration draws, is <= alpha
    rng = np.random.default_rng(0)
    lambdas = np.linspace(0, 1, 201)
    fnr = []
    for _ in range(200):
        truth = rng.random((40, 8, 8)) < 0.3
        probs = np.clip(truth * 0.6 + rng.normal(0.2, 0.2, truth.shape), 0, 1)
        truth[:, 0, 0] = True                               # every image holds a true pixel
        curves = conformal.false_negative_rate_curves(probs, truth, lambdas)
        lam = conformal.crc_threshold(curves[:30], lambdas, 0.1)
        fnr.append(curves[30:, np.searchsorted(lambdas, lam)].mean())
    assert np.mean(fnr) <= 0.1 + 0.005
    assert np.mean(fnr) >= 0.1 - 0.03                       # and not far below it


def test_check_ch11_aps():
    from medlab import teach
    from medlab.checks.ch11 import exercise_data
    from medlab.conformal import conformal_threshold

    probs, labels = exercise_data()
    n = len(labels)
    order = np.argsort(-probs, axis=1)
    cum = np.cumsum(np.take_along_axis(probs, order, axis=1), axis=1)
    rank = np.argmax(order == labels[:, None], axis=1)
    scores = cum[np.arange(n), rank]                        # by hand: mass down to the true class
    q = np.sort(scores)[int(np.ceil((n + 1) * 0.9)) - 1]
    assert teach.check("ch11-aps", q)
    assert not teach.check("ch11-aps", conformal_threshold(probs, labels, 0.1))
    assert not teach.check("ch11-aps", np.quantile(scores, 0.9))
    assert not teach.check("ch11-aps", 0.123)
    assert not teach.check("ch11-aps", "abc")


# --- conformal --------------------------------------------------------------------------------
def test_conformal_threshold_is_the_kth_smallest_score():
    probs = np.column_stack([np.linspace(0.05, 0.95, 19), 1 - np.linspace(0.05, 0.95, 19)])
    labels = np.zeros(19, dtype=int)
    scores = np.sort(1 - probs[:, 0])
    q = conformal.conformal_threshold(probs, labels, 0.1)
    assert q == scores[int(np.ceil(20 * 0.9)) - 1]     # the 18th of 19


def test_conformal_coverage_holds_on_exchangeable_data():
    rng = np.random.default_rng(0)
    p = rng.dirichlet([1, 1, 1], size=4000)
    y = (rng.random(4000)[:, None] > np.cumsum(p, axis=1)).sum(1)
    q = conformal.conformal_threshold(p[:2000], y[:2000], 0.1)
    sets = conformal.conformal_sets(p[2000:], q)
    coverage = sets[np.arange(2000), y[2000:]].mean()
    assert 0.88 <= coverage <= 0.93


def test_conformal_errors():
    p = np.array([[0.5, 0.5]] * 5)
    with pytest.raises(ValueError, match="too few"):
        conformal.conformal_threshold(p, np.zeros(5, int), 0.01)
    with pytest.raises(ValueError, match="alpha"):
        conformal.conformal_threshold(p, np.zeros(5, int), 1.5)
    with pytest.raises(ValueError, match="sum to 1"):
        conformal.conformal_sets(np.ones((2, 2)), 0.5)



def test_mondrian_thresholds_cover_each_class():
    rng = np.random.default_rng(1)
    n = 6000
    y = (rng.random(n) < 0.25).astype(int)          # class 1 is rare and harder
    p1 = np.clip(np.where(y == 1, rng.beta(2, 2, n), rng.beta(1, 6, n)), 1e-6, 1 - 1e-6)
    p = np.stack([1 - p1, p1], axis=1)
    q = conformal.conformal_threshold(p[:3000], y[:3000], 0.1, by_class=True)
    assert q.shape == (2,)
    sets = conformal.conformal_sets(p[3000:], q)
    hit = sets[np.arange(3000), y[3000:]]
    for c in (0, 1):
        assert hit[y[3000:] == c].mean() >= 0.87
    marginal = conformal.conformal_sets(p[3000:], conformal.conformal_threshold(p[:3000], y[:3000], 0.1))
    assert marginal[np.arange(3000), y[3000:]][y[3000:] == 1].mean() < 0.85
    few = conformal.conformal_threshold(p[:12], np.r_[np.zeros(11, int), 1], 0.1, by_class=True)
    assert np.isinf(few[1])                          # one case of class 1: always in the set
    with pytest.raises(ValueError, match="threshold"):
        conformal.conformal_sets(p[:5], [0.1, 0.2, 0.3])


def test_conformal_coverage_law_matches_simulation():
    law = conformal.conformal_coverage_law(78, 0.05)
    assert law["k"] == 76 and np.isclose(law["mean"], 76 / 79)
    assert law["q5"] < law["mean"] < law["q95"]
    rng = np.random.default_rng(2)
    cover = []
    for _ in range(2000):                             # coverage given one calibration set
        s = np.sort(rng.random(78))
        cover.append(s[law["k"] - 1])                 # P(new uniform score <= q) = q
    assert abs(np.mean(cover) - law["mean"]) < 0.003
    assert abs(np.std(cover) - law["sd"]) < 0.003
    with pytest.raises(ValueError, match="too small"):
        conformal.conformal_coverage_law(10, 0.05)
    with pytest.raises(ValueError, match="alpha"):
        conformal.conformal_coverage_law(100, 1.5)


def test_conformal_cases_needed():
    n = conformal.conformal_cases_needed(0.1, half_width=0.02)
    law = conformal.conformal_coverage_law(n, 0.1)
    assert (law["q97.5"] - law["q2.5"]) / 2 <= 0.02
    assert conformal.conformal_cases_needed(0.1, half_width=0.01) > 3 * n
    with pytest.raises(ValueError, match="half_width"):
        conformal.conformal_cases_needed(0.1, half_width=0.0)
