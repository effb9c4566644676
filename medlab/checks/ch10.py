"""Checks for chapter 10's exercises (distributed training and compression)."""

from __future__ import annotations

from medlab.teach import exercise_check


@exercise_check("ch10-bubble")
def bubble(answer):
    value = float(answer)
    if not 0 <= value <= 1:
        return "a fraction of the schedule lies between 0 and 1"
    if abs(value - 3 / 11) > 0.005:
        return "not quite: count the idle slots of each stage, (p - 1) of them, among all slots"
    return None


@exercise_check("ch10-global-batch")
def global_batch(answer):
    images, steps = answer
    if int(images) != 128:
        return "images per step: count every process on every node, times the batch of each"
    if int(steps) == 7:
        return ("7 is what DataLoader(..., drop_last=True) would give; the sampler's drop_last "
                "only trims the data so that it splits evenly across the processes, and the "
                "DataLoader here keeps its short last batch")
    if int(steps) != 8:
        return ("steps per epoch: each process gets its own share of the 1000 images, cut into "
                "batches of 16, the last one shorter")
    return None


@exercise_check("ch10-int8-ratio")
def int8_ratio(answer):
    value = float(answer)
    expected = (784 * 512 + 512) * 4 / (784 * 512 + 512 * 4 + 512 * 4)
    if abs(value - expected) > 0.01:
        if abs(value - 4.0) < 0.01:
            return "4 is the ratio of the weights alone; add the scales and the biases"
        return "not quite: count the bytes of the weights, the scales and the biases in each case"
    return None
