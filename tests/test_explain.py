"""Tests for medlab.explain (chapter 11) and the chapter's exercise checks."""

import numpy as np
import pytest

from medlab import explain


# --- pointing game ----------------------------------------------------------------------------
def test_top_point_breaks_ties_at_the_centre_of_the_plateau():
    s = np.zeros((9, 9))
    s[2:5, 4:7] = 1.0
    assert explain.top_point(s) == (3, 5)


def test_top_point_rejects_bad_maps():
    with pytest.raises(ValueError, match="2-D"):
        explain.top_point(np.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        explain.top_point(np.full((3, 3), np.nan))


def test_pointing_game_hits_misses_and_tolerance():
    masks = np.zeros((2, 10, 10), dtype=bool)
    masks[:, 4:6, 4:6] = True
    sal = np.zeros((2, 10, 10))
    sal[0, 5, 5] = 1.0          # on the lesion
    sal[1, 5, 7] = 1.0          # two pixels off
    assert explain.pointing_game(sal, masks, tolerance=0).tolist() == [True, False]
    assert explain.pointing_game(sal, masks, tolerance=1).tolist() == [True, False]
    assert explain.pointing_game(sal, masks, tolerance=2).tolist() == [True, True]


def test_pointing_game_errors():
    with pytest.raises(ValueError, match="must both be"):
        explain.pointing_game(np.zeros((2, 5, 5)), np.ones((2, 4, 4), bool))
    with pytest.raises(ValueError, match="empty"):
        explain.pointing_game(np.zeros((1, 5, 5)), np.zeros((1, 5, 5), bool))
    with pytest.raises(ValueError, match="tolerance"):
        explain.pointing_game(np.zeros((1, 5, 5)), np.ones((1, 5, 5), bool), tolerance=-1)


def test_energy_in_mask():
    masks = np.zeros((2, 4, 4), dtype=bool)
    masks[:, :2, :2] = True
    sal = np.zeros((2, 4, 4))
    sal[0, 0, 0], sal[0, 3, 3] = 3.0, 1.0
    sal[1] = -1.0                     # no positive mass: scored as the area fraction
    assert np.allclose(explain.energy_in_mask(sal, masks), [0.75, 0.25])
    with pytest.raises(ValueError):
        explain.energy_in_mask(sal, masks[:, :3])


# --- deletion and insertion, randomised copies ------------------------------------------------
def _mean_pixel_model(images):
    p1 = np.clip(np.asarray(images).mean(axis=(1, 2)), 0, 1)   # P(class 1) = mean pixel value
    return np.stack([1 - p1, p1], axis=1)


def test_deletion_insertion_exact_curves():
    image = np.array([[[1.0, 1.0], [0.0, 0.0]]])
    f, d, ins = explain.deletion_insertion(_mean_pixel_model, image, image, [1], n_steps=4, fill=0.0)
    assert np.allclose(f, [0, 0.25, 0.5, 0.75, 1])
    assert np.allclose(d, [[0.5, 0.25, 0, 0, 0]])             # the bright pixels go first
    assert np.allclose(ins, [[0, 0.25, 0.5, 0.5, 0.5]])
    _, d_rev, ins_rev = explain.deletion_insertion(_mean_pixel_model, image, -image, [1],
                                                   n_steps=4, fill=0.0)
    assert np.allclose(d_rev, [[0.5, 0.5, 0.5, 0.25, 0]])     # the worst ordering
    assert np.trapezoid(d, f) < np.trapezoid(d_rev, f)
    assert np.trapezoid(ins, f) > np.trapezoid(ins_rev, f)
    # default fill: each image's mean, so the fully deleted image is flat at that mean
    _, d_mean, _ = explain.deletion_insertion(_mean_pixel_model, image, image, [1], n_steps=2)
    assert np.isclose(d_mean[0, -1], 0.5)


def test_deletion_insertion_ties_are_random_but_seeded():
    rng = np.random.default_rng(0)
    images = rng.random((3, 4, 4))
    flat = np.zeros((3, 4, 4))
    a = explain.deletion_insertion(_mean_pixel_model, images, flat, [1, 0, 1], seed=3)
    b = explain.deletion_insertion(_mean_pixel_model, images, flat, [1, 0, 1], seed=3)
    c = explain.deletion_insertion(_mean_pixel_model, images, flat, [1, 0, 1], seed=4)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.allclose(a[1], c[1])


def test_deletion_insertion_errors():
    x = np.zeros((2, 3, 3))
    with pytest.raises(ValueError, match="both be"):
        explain.deletion_insertion(_mean_pixel_model, x, x[:, :2], [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        explain.deletion_insertion(_mean_pixel_model, x, np.full_like(x, np.nan), [0, 1])
    with pytest.raises(ValueError, match="classes"):
        explain.deletion_insertion(_mean_pixel_model, x, x, [0])
    with pytest.raises(ValueError, match="n_steps"):
        explain.deletion_insertion(_mean_pixel_model, x, x, [0, 1], n_steps=0)
    with pytest.raises(ValueError, match="predict"):
        explain.deletion_insertion(lambda im: np.zeros(len(im)), x, x, [0, 1])


def test_randomised_copy_resets_only_the_named_layers():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    before = [p.detach().clone() for p in model.parameters()]
    copy_ = explain.randomised_copy(model, ["2"], seed=1)
    assert all(torch.equal(p, q) for p, q in zip(before, model.parameters()))  # original kept
    assert torch.equal(copy_[0].weight, model[0].weight)
    assert not torch.equal(copy_[2].weight, model[2].weight)
    again = explain.randomised_copy(model, ["2"], seed=1)
    assert torch.equal(again[2].weight, copy_[2].weight)                        # seeded
    assert not copy_.training
    with pytest.raises(ValueError, match="no submodule"):
        explain.randomised_copy(model, ["7"])
    with pytest.raises(ValueError, match="no parameters"):
        explain.randomised_copy(model, ["1"])


# --- calibration ------------------------------------------------------------------------------
def test_softmax_rows_sum_to_one_and_temperature_softens():
    z = np.array([[2.0, 0.0], [0.0, 5.0]])
    p1, p3 = explain.softmax(z), explain.softmax(z, 3.0)
    assert np.allclose(p1.sum(1), 1)
    assert (p3.max(1) < p1.max(1)).all()
    with pytest.raises(ValueError, match="temperature"):
        explain.softmax(z, 0.0)
    with pytest.raises(ValueError, match=r"\(n, k\)"):
        explain.softmax(np.zeros(3))


def test_fit_temperature_recovers_the_temperature_that_generated_labels():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, size=(20000, 3))
    p_true = explain.softmax(z, 2.5)      # the logits are 2.5 times too large
    y = (rng.random(len(z))[:, None] > np.cumsum(p_true, axis=1)).sum(1)
    assert explain.fit_temperature(z, y) == pytest.approx(2.5, rel=0.05)


def test_fit_temperature_is_above_one_exactly_when_the_nll_slope_at_one_is_negative():
    # chapter 11's argument: the NLL is convex in 1/T, so the sign of d NLL / dT at T = 1
    # decides the side; for two classes that slope is mean((1 - p_true) * margin)
    rng = np.random.default_rng(3)
    for trial in range(40):
        z = rng.normal(0, rng.uniform(0.5, 8), size=(60, 2))
        y = (rng.random(60) < explain.softmax(z, rng.uniform(0.3, 3))[:, 1]).astype(int)
        rows = np.arange(60)
        margin = z[rows, y] - z[rows, 1 - y]
        slope = np.mean((1 - explain.softmax(z)[rows, y]) * margin)
        if abs(slope) > 1e-3:
            assert (explain.fit_temperature(z, y) > 1) == (slope < 0), (trial, slope)
    # a confident model with a few confident errors: T > 1, however many cases it gets right
    z = np.column_stack([np.zeros(80), np.r_[np.full(75, 8.0), np.full(5, -8.0)]])
    y = np.ones(80, dtype=int)
    assert explain.fit_temperature(z, y) > 1.5


def test_fit_temperature_errors():
    with pytest.raises(ValueError, match="logits"):
        explain.fit_temperature(np.zeros(4), np.zeros(4, int))
    with pytest.raises(ValueError, match="labels"):
        explain.fit_temperature(np.zeros((4, 2)), np.array([0, 1, 2, 0]))
    with pytest.raises(ValueError, match="bounds"):
        explain.fit_temperature(np.zeros((4, 2)), np.array([0, 1, 1, 0]), bounds=(2, 1))


def test_calibration_bins_and_reliability_diagram():
    import matplotlib

    matplotlib.use("Agg")
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    y = np.array([0, 1, 1, 1])
    conf, acc, count = explain.calibration_bins(y, probs, n_bins=5)
    assert count.sum() == 4
    assert acc[4] == 1.0 and conf[4] == pytest.approx(0.9)
    assert acc[3] == 0.5 and conf[3] == pytest.approx(0.75)
    ax = explain.reliability_diagram(y, probs, n_bins=5)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    # a second model on the same axes adds its curve but not a second diagonal
    explain.reliability_diagram(y, probs[:, ::-1], n_bins=5, ax=ax, label="other")
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels.count("perfect calibration") == 1 and "other" in labels
    with pytest.raises(ValueError, match="sum to 1"):
        explain.calibration_bins(y, probs * 2)
    with pytest.raises(ValueError, match="n_bins"):
        explain.calibration_bins(y, probs, n_bins=0)


# --- uncertainty ------------------------------------------------------------------------------
def test_predictive_entropy():
    h = explain.predictive_entropy(np.array([[1.0, 0.0], [0.5, 0.5]]))
    assert h == pytest.approx([0.0, np.log(2)], abs=1e-9)
    # the mean of confident, disagreeing samples is uncertain
    samples = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    assert explain.predictive_entropy(samples)[0] == pytest.approx(np.log(2))


def test_coverage_accuracy():
    correct = np.array([1, 1, 1, 0, 0], dtype=bool)
    unc = np.array([0.1, 0.2, 0.3, 0.9, 0.8])
    cov, acc = explain.coverage_accuracy(correct, unc, [0.6, 1.0])
    assert acc.tolist() == [1.0, 0.6]
    with pytest.raises(ValueError, match="coverages"):
        explain.coverage_accuracy(correct, unc, [0.0])
    with pytest.raises(ValueError, match="equal"):
        explain.coverage_accuracy(correct, unc[:3])


def test_mc_dropout_predict_samples_vary_and_batchnorm_stays_frozen():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.BatchNorm1d(16),
                                torch.nn.Dropout(0.5), torch.nn.Linear(16, 2))
    x = torch.randn(8, 4)
    before = model[1].running_mean.clone()
    s = explain.mc_dropout_predict(model, x, n_samples=5, seed=1)
    assert s.shape == (5, 8, 2) and np.allclose(s.sum(-1), 1, atol=1e-5)
    assert s.std(0).max() > 0                      # dropout was on
    assert torch.equal(before, model[1].running_mean)  # batch norm did not update
    assert not model.training
    again = explain.mc_dropout_predict(model, x, n_samples=5, seed=1)
    assert np.allclose(s, again)                   # seeded
    with pytest.raises(ValueError, match="no dropout"):
        explain.mc_dropout_predict(torch.nn.Linear(4, 2), x)


# --- test-time augmentation -------------------------------------------------------------------
def test_tta_segment_of_an_equivariant_model_is_certain_where_it_is_clear():
    torch = pytest.importorskip("torch")

    class Threshold(torch.nn.Module):        # class 1 where the image is bright
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.tensor(20.0))

        def forward(self, x):
            z = self.w * (x[:, :1] - 0.5)
            return torch.cat([-z, z], dim=1)

    img = np.zeros((16, 16), dtype=np.float32)
    img[4:12, 4:12] = 1.0
    mean, ent = explain.tta_segment(Threshold(), img, n_augment=6, noise=0.0, seed=0)
    assert mean.shape == (2, 16, 16) and ent.shape == (16, 16)
    assert (mean.argmax(0) == (img > 0.5)).all()
    assert ent.max() < 0.01                  # an equivariant model never disagrees with itself
    with pytest.raises(ValueError, match="flip_axis"):
        explain.tta_segment(Threshold(), img, flip_axis=0)
    with pytest.raises(ValueError, match="n_augment"):
        explain.tta_segment(Threshold(), img, n_augment=0)


# --- LIME helpers -----------------------------------------------------------------------------
def test_lime_weight_map_and_quiet_lime():
    pytest.importorskip("lime")
    import lime.lime_image as li

    class Fake:
        segments = np.array([[0, 0], [1, 2]])
        local_exp = {1: [(0, 0.5), (2, -0.25)]}

    assert explain.lime_weight_map(Fake(), 1).tolist() == [[0.5, 0.5], [0.0, -0.25]]
    with pytest.raises(ValueError, match="no class 0"):
        explain.lime_weight_map(Fake(), 0)
    original = li.tqdm
    with explain.quiet_lime():
        assert li.tqdm([1, 2]) == [1, 2]
    assert li.tqdm is original


# --- exercise checks --------------------------------------------------------------------------
def test_chapter11_checks_accept_right_and_reject_wrong_answers(capsys):
    from medlab import teach
    from medlab.checks.ch11 import exercise_data
    from medlab.metrics import expected_calibration_error

    probs, labels = exercise_data()
    scores = 1 - probs[np.arange(len(labels)), labels]
    k = int(np.ceil(201 * 0.9))
    assert teach.check("ch11-conformal", np.sort(scores)[k - 1])
    assert not teach.check("ch11-conformal", np.quantile(scores, 0.9))
    assert "finite-sample" in capsys.readouterr().out
    assert not teach.check("ch11-conformal", "abc")
    assert teach.check("ch11-ece", expected_calibration_error(labels, probs, n_bins=10))
    assert not teach.check("ch11-ece", expected_calibration_error(labels, probs, n_bins=15))
    assert not teach.check("ch11-ece", 0.5)


# --- additions for issue 19 -------------------------------------------------------------------
def test_mutual_information_is_zero_when_samples_agree_and_positive_when_they_disagree():
    same = np.tile(np.array([[0.5, 0.5], [0.9, 0.1]]), (4, 1, 1))
    assert np.allclose(explain.mutual_information(same), 0.0)
    split = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    assert np.isclose(explain.mutual_information(split)[0], np.log(2))
    rng = np.random.default_rng(0)
    p = rng.dirichlet([1, 1, 1], size=(5, 20))
    assert np.all(explain.mutual_information(p) <= explain.predictive_entropy(p) + 1e-12)
    with pytest.raises(ValueError, match="samples"):
        explain.mutual_information(np.ones((3, 2)) / 2)

