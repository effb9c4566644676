"""The exercise checks of chapter 9 (medlab/checks/ch09.py): right answers pass, wrong ones fail."""

import itertools
import math

import numpy as np
import pytest

from medlab.checks.ch09 import exercise_scores, exercise_segmentation
from medlab.teach import check, feedback


def _iou(a, b):
    return np.logical_and(a, b).sum() / np.logical_or(a, b).sum()


def _detection_f1_by_brute_force(truth, pred, threshold=0.5):
    """Every one-to-one pairing of true and predicted objects; the most pairs with IoU >= 0.5."""
    t_ids, p_ids = np.unique(truth)[1:], np.unique(pred)[1:]
    iou = np.array([[_iou(truth == t, pred == p) for p in p_ids] for t in t_ids])
    best = 0
    for perm in itertools.permutations(range(len(p_ids) + len(t_ids)), len(t_ids)):
        best = max(best, sum(j < len(p_ids) and iou[i, j] >= threshold
                             for i, j in enumerate(perm)))
    return 2 * best / (len(t_ids) + len(p_ids))


def test_segmentation_exercise_answer_is_what_a_brute_force_matching_gives():
    truth, pred = exercise_segmentation()
    assert truth.max() == 4 and pred.max() == 6
    f1 = _detection_f1_by_brute_force(truth, pred)
    assert math.isclose(f1, 0.4)
    assert check("ch09-f1", f1)
    # the split halves match at a lower threshold, which is the first wrong answer the check names
    assert math.isclose(_detection_f1_by_brute_force(truth, pred, threshold=0.4), 0.6)
    assert "split half" in feedback("ch09-f1", 0.6)


def test_f1_check_names_the_usual_mistakes():
    assert "harmonic" in feedback("ch09-f1", (1 / 3 + 1 / 2) / 2)
    assert "Dice" in feedback("ch09-f1", 260 / 348)
    assert feedback("ch09-f1", 0.3) == "the detection F1 is too low."
    assert not check("ch09-f1", "0.4 or so")
    assert not check("ch09-f1", float("nan"))


def test_threshold_check_accepts_every_threshold_that_gives_the_same_decisions():
    cancer, benign = exercise_scores()
    assert len(cancer) == 40 and len(benign) == 60
    s = np.sort(cancer)
    assert check("ch09-threshold", s[2])
    assert check("ch09-threshold", np.nextafter(s[1], np.inf))
    assert np.mean(cancer >= s[2]) >= 0.95 > np.mean(cancer >= s[3])


@pytest.mark.parametrize("index, words", [(3, "below the 95 % target"),
                                          (1, "not the highest"), (0, "not the highest")])
def test_threshold_check_says_which_way_to_move(index, words):
    s = np.sort(exercise_scores()[0])
    assert words in feedback("ch09-threshold", s[index])


def test_threshold_check_catches_the_wrong_quantile_and_bad_input():
    cancer = exercise_scores()[0]
    assert "95 % quantile" in feedback("ch09-threshold", np.quantile(cancer, 0.95))
    assert not check("ch09-threshold", "low")
    assert not check("ch09-threshold", float("inf"))


def test_the_older_checks_still_hold():
    assert check("ch09-worst", 572)
    assert not check("ch09-worst", 611)
    assert check("ch09-square", 4 / math.pi - 1)
    assert not check("ch09-square", 15.0)
