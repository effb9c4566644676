"""Checks for the exercises of chapter 4 (feature extraction)."""

from __future__ import annotations

from medlab.teach import as_number, exercise_check


@exercise_check("ch04-contrast")
def _contrast(answer):
    value = as_number(answer, "the contrast")
    if value < 0:
        return "contrast is a weighted sum of squares; it cannot be negative."
    if abs(value - 14 / 24) < 1e-3:
        return None
    if abs(value - 14 / 12) < 1e-3:
        return "you counted each pair twice but divided by 12: with symmetry there are 24 pairs."
    if abs(value - 5 / 12) < 1e-3:
        return "weigh each pair by the *square* of its difference: (0, 2) counts 4."
    return "not quite: list the 12 horizontal pairs, count each twice, then sum P(i,j)(i-j)^2."


@exercise_check("ch04-hog-length")
def _hog_length(answer):
    value = as_number(answer, "the length")
    if value == 5940:
        return None
    if value == 16 * 12 * 9:
        return "that counts each cell once; HOG repeats each cell in every block that holds it."
    if value == 16 * 12 * 36:
        return "a block of 2x2 cells fits in one fewer position than there are cells per side."
    return "count the block positions along each side first (cells per side minus 1)."


def _choice(answer, options, what):
    """``answer`` as one of ``options`` (case and surrounding spaces ignored)."""
    if not isinstance(answer, str):
        raise ValueError(f"{what} should be one of the words the exercise lists, "
                         f"got {type(answer).__name__}")
    word = answer.strip().lower()
    if word not in options:
        raise ValueError(f"{what} should be one of the words the exercise lists, got {answer!r}")
    return word


@exercise_check("ch04-levels", right=["blocked", " Blocked "], wrong=["test", "random", 16, "x"])
def _levels(answer):
    where = _choice(answer, ("test", "random", "blocked"), "where to choose the levels")
    if where == "test":
        return ("the best of five test accuracies is the maximum of five noisy estimates, so it "
                "is optimistic; the test set is for the one final measurement.")
    if where == "random":
        return ("random folds put patches that share pixels with a validation patch into the "
                "training folds, so the validation score is optimistic.")
    return None


@exercise_check("ch04-rotation", right=["LBP", "lbp"], wrong=["HOG", "both", "neither", 1])
def _rotation(answer):
    family = _choice(answer, ("lbp", "hog", "both", "neither"), "the family")
    if family in ("hog", "both"):
        return ("HOG bins the gradient orientation, which turns with the image, and keeps each "
                "cell's position, so its features move to other columns.")
    if family == "neither":
        return ("a 90 degree rotation maps the 8 sampling points of one family's neighbourhood "
                "onto each other and leaves its histogram unchanged.")
    return None
