"""Tests of the PneumoniaMNIST stand-in (chapter 8)."""

import time

import numpy as np
import pytest

from medlab.data import standins
from medlab.data.standin_chest import SPLIT_SIZES, load_standin


@pytest.fixture(scope="module")
def splits():
    start = time.process_time()
    out = {s: load_standin(s) for s in ("train", "val", "test")}
    out["cpu_seconds"] = time.process_time() - start
    return out


def test_shapes_balance_and_labels(splits):
    for split, (n0, n1) in SPLIT_SIZES.items():
        ds = splits[split]
        assert ds.images.shape == (n0 + n1, 28, 28) and ds.images.dtype == np.uint8
        assert np.bincount(ds.labels).tolist() == [n0, n1]
        assert ds.synthetic and "SYNTHETIC" in ds.tag
        assert ds.class_names == ["normal", "pneumonia"]
        assert ds.masks.shape == ds.images.shape
        assert not ds.masks[ds.labels == 0].any()
    assert len(splits["train"]) == 4708 and len(splits["val"]) == 524
    assert np.bincount(splits["test"].labels).tolist() == [234, 390]


def test_fast(splits):
    assert splits["cpu_seconds"] < 5.0


def test_deterministic_and_seeded():
    a, b = load_standin("val", seed=0), load_standin("val", seed=0)
    c = load_standin("val", seed=1)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.images, c.images)
    assert load_standin("val", reason="offline").info["reason"] == "offline"


def test_splits_differ(splits):
    assert not np.array_equal(splits["val"].images[:100], splits["test"].images[:100])


def test_images_use_the_range_and_look_like_chests(splits):
    imgs = splits["train"].images.astype(float)
    assert 60 < imgs.mean() < 200 and imgs.std() > 30
    mean = imgs.mean(0)
    # lungs (left and right of the centre) darker than the mediastinum between them
    assert mean[10:18, 5:10].mean() < mean[8:16, 13:15].mean()


def test_pneumonia_brighter_in_lungs_but_not_separable(splits):
    tr = splits["train"]
    lung = tr.images[:, 8:20, 4:11].reshape(len(tr), -1).mean(1)
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(tr.labels, lung)
    assert 0.55 < auc < 0.95  # a hint in the right direction, far from a giveaway


def test_bad_split_and_registry_route():
    with pytest.raises(ValueError, match="split"):
        load_standin("holdout")
    assert "pneumoniamnist" in standins.STANDINS
    assert standins.STANDINS["pneumoniamnist"] is load_standin
