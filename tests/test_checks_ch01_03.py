"""Tests of the exercise checks of chapters 1 and 3 that compute their answers from the data."""

import math

import pytest

from medlab.checks import ch01, ch03
from medlab.teach import check, feedback


def test_ch01_lr_accepts_the_largest_settled_rate_only(capsys):
    settled = ch01.settled_rates()
    assert list(settled) == [5, 10, 15, 20, 25, 30]
    good = [lr for lr, ok in settled.items() if ok]
    assert good and good == list(range(5, max(good) + 1, 5))  # the small rates settle
    largest = max(good)
    assert check("ch01-lr", largest) and check("ch01-lr", float(largest))
    if len(good) > 1:
        assert "larger one settles" in feedback("ch01-lr", good[0])
    not_settled = [lr for lr, ok in settled.items() if not ok]
    assert not_settled, "the exercise needs a rate that does not settle"
    assert "not within" in feedback("ch01-lr", not_settled[0])
    assert "one of the rates" in feedback("ch01-lr", 12)
    assert not check("ch01-lr", "fast")


def test_ch01_cv_accepts_the_grouped_estimate_only():
    leaky, honest = ch01.group_cv_accuracies()
    assert leaky > honest  # the row-wise folds leak
    assert check("ch01-cv", honest)
    assert "row-wise KFold" in feedback("ch01-cv", leaky)
    assert "between 0 and 1" in feedback("ch01-cv", 100 * honest)
    assert feedback("ch01-cv", honest - 0.05) is not None


@pytest.mark.parametrize("answer", [0.05, 0.0512, 0.0489])
def test_ch03_rician_sigma_right(answer):
    assert check("ch03-rician-sigma", answer)


@pytest.mark.parametrize("answer, says", [
    (0.05 * math.sqrt(math.pi / 2), "mean"),
    (0.05 * math.sqrt(2 - math.pi / 2), "spread"),
    (0.0025, "variance"),
    (5.0, "per cent"),
    (0.039, "background voxels"),
])
def test_ch03_rician_sigma_wrong(answer, says):
    message = feedback("ch03-rician-sigma", answer)
    assert message is not None and says in message


def test_ch03_label_resampling():
    csf, gm, wm = ch03.label_resampling_dice()
    assert 0 < csf < min(gm, wm) < 1  # the thin CSF class suffers most
    assert check("ch03-label-resampling", csf)
    assert "gray matter" in feedback("ch03-label-resampling", gm)
    assert "per cent" in feedback("ch03-label-resampling", 100 * csf)
    assert "order=0" in feedback("ch03-label-resampling", 1.0)
    assert feedback("ch03-label-resampling", csf - 0.05) is not None


def test_ch03_invert():
    dice = ch03.inverted_mask_dice()
    assert 0.5 < dice < 0.99  # the round trip through 3 mm loses detail, but not the brain
    assert check("ch03-invert", dice)
    assert "per cent" in feedback("ch03-invert", 100 * dice)
    assert "round trip" in feedback("ch03-invert", 1.0)
    assert feedback("ch03-invert", dice - 0.05) is not None
