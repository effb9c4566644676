"""The offline stand-in for BreastMNIST (medlab/data/standin_breast.py, chapter 6)."""

from __future__ import annotations

import numpy as np
import pytest

from medlab.data import ImageSet
from medlab.data.standin_breast import SPLIT_SIZES, load_standin
from medlab.data.standins import STANDINS

EXPECTED = {"train": 546, "val": 78, "test": 156}  # BreastMNIST's splits


@pytest.fixture(scope="module")
def splits():
    return {s: load_standin(s, seed=0, reason="offline in the test") for s in EXPECTED}


def test_shapes_dtypes_and_metadata(splits):
    for split, n in EXPECTED.items():
        s = splits[split]
        assert isinstance(s, ImageSet) and len(s) == n and s.split == split
        assert s.images.shape == (n, 28, 28) and s.images.dtype == np.uint8
        assert s.labels.shape == (n,) and s.labels.dtype == np.int64
        assert set(np.unique(s.labels)) == {0, 1}
        assert s.masks.shape == (n, 28, 28) and s.masks.dtype == bool
        assert s.synthetic is True
        assert "synthetic stand-in for BreastMNIST" in s.source
        assert "SYNTHETIC" in s.tag
        assert s.info["reason"] == "offline in the test"
        assert s.class_names == ["malignant", "benign/normal"]
        # the images use the gray range, not a constant
        assert s.images.std() > 20 and s.images.max() > 200


def test_class_balance_matches_breastmnist(splits):
    for split, (n_mal, n_ben) in SPLIT_SIZES.items():
        labels = splits[split].labels
        assert (labels == 0).sum() == n_mal and (labels == 1).sum() == n_ben
    everything = np.concatenate([splits[s].labels for s in EXPECTED])
    assert 0.25 < (everything == 0).mean() < 0.29  # about 27 % malignant


def test_deterministic_per_split_and_seed(splits):
    again = load_standin("val", seed=0)
    np.testing.assert_array_equal(again.images, splits["val"].images)
    np.testing.assert_array_equal(again.labels, splits["val"].labels)
    np.testing.assert_array_equal(again.masks, splits["val"].masks)
    other = load_standin("val", seed=1)
    assert not np.array_equal(other.images, splits["val"].images)


def test_masks_non_empty_and_inside_the_image(splits):
    for s in splits.values():
        area = s.masks.sum(axis=(1, 2))
        assert (area > 0).all()
        assert (area < 0.5 * 28 * 28).all()
        border = np.zeros((28, 28), bool)
        border[0, :] = border[-1, :] = border[:, 0] = border[:, -1] = True
        assert not (s.masks & border).any(), "a lesion touches the image border"
        # the lesion is darker (hypoechoic) than its surroundings on average
        inside = (s.images * s.masks).sum((1, 2)) / area
        outside = (s.images * ~s.masks).sum((1, 2)) / (~s.masks).sum((1, 2))
        assert (inside < outside).mean() > 0.9


def test_splits_share_no_image(splits):
    seen = {}
    for split, s in splits.items():
        for img in s.images:
            key = img.tobytes()
            assert key not in seen, f"an image of {split} is also in {seen.get(key)}"
            seen[key] = split


def test_not_trivially_separable_but_learnable(splits):
    # a linear model on the pixels learns something but is far from perfect
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    tr, te = splits["train"], splits["test"]
    model = LogisticRegression(C=1e-4, max_iter=2000)
    model.fit(tr.images.reshape(len(tr), -1) / 255.0, tr.labels)
    auc = roc_auc_score(te.labels, model.predict_proba(te.images.reshape(len(te), -1) / 255.0)[:, 1])
    assert 0.65 < auc < 0.97


def test_bad_split_name_raises():
    with pytest.raises(ValueError, match="split must be one of"):
        load_standin("training")


def test_registered_as_the_breastmnist_standin():
    assert "breastmnist" in STANDINS
    assert STANDINS["breastmnist"] is load_standin
