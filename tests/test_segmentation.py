"""Tests of medlab.segmentation (chapter 7) and the chapter's exercise checks."""

from types import SimpleNamespace

import numpy as np
import pytest

from medlab import segmentation as seg


def fake_volume(shape=(48, 52, 30)):
    """A small ball of 'WM' in 'GM' with a 'CSF' rim, zero outside: a stand-in for MNI152."""
    x, y, z = np.indices(shape)
    r = np.sqrt(((x - shape[0] / 2) / 14) ** 2 + ((y - shape[1] / 2) / 17) ** 2
                + ((z - shape[2] / 2) / 12) ** 2)
    labels = np.select([r < 0.5, r < 0.8, r < 1.0], [3, 2, 1], 0)
    image = np.choose(labels, [0.0, 0.4, 0.65, 0.85]).astype(np.float32)
    return SimpleNamespace(image=image, labels=labels, spacing=(2.0, 2.0, 2.0))


@pytest.fixture(scope="module")
def tiny():
    return seg.brain_slices(context=1, volume=fake_volume())


def test_position_split_disjoint_and_covering():
    train, test = seg.position_split(78)
    assert np.intersect1d(train, test).size == 0
    assert np.array_equal(np.union1d(train, test), np.arange(78))
    assert set(test) == set(range(15, 20)) | set(range(35, 40)) | set(range(55, 60)) | {75, 76, 77}


@pytest.mark.parametrize("kwargs", [dict(n_slices=0), dict(n_slices=10, block=0),
                                    dict(n_slices=10, every=1), dict(n_slices=10, offset=4)])
def test_position_split_rejects_bad_input(kwargs):
    with pytest.raises(ValueError, match="position_split"):
        seg.position_split(**kwargs)


def test_brain_slices_shapes_and_split(tiny):
    n_ch = 3
    assert tiny["train_images"].shape[1] == n_ch
    assert tiny["train_images"].shape[2:] == tiny["train_labels"].shape[1:]
    assert all(s % 16 == 0 for s in tiny["train_images"].shape[2:])
    assert len(tiny["test_images"]) == len(tiny["test_z"]) > 0
    assert set(tiny["train_z"]).isdisjoint(tiny["test_z"])
    # the middle channel is the slice itself
    box = tiny["box"]
    z = tiny["test_z"][0]
    assert np.allclose(tiny["test_images"][0, 1], tiny["volume"][box][:, :, z])


def test_brain_slices_rejects_negative_context():
    with pytest.raises(ValueError, match="context"):
        seg.brain_slices(context=-1, volume=fake_volume())


def test_normalise_in_mask():
    img = np.array([[0.0, 2.0], [4.0, 6.0]])
    out = seg.normalise_in_mask(img, img > 1)
    assert out[0, 0] == 0 and np.isclose(np.median(out[img > 1]), 1.0)
    with pytest.raises(ValueError, match="empty"):
        seg.normalise_in_mask(img, np.zeros_like(img, bool))
    with pytest.raises(ValueError, match="shape"):
        seg.normalise_in_mask(img, np.ones((3, 3), bool))


def test_networks_give_logits_of_the_input_size():
    import torch

    x = torch.rand(2, 3, 32, 48)
    for net in (seg.make_unet(3, channels=(4, 8, 16)), seg.make_segnet(3, width=4, levels=2)):
        assert net(x).shape == (2, 4, 32, 48)
    assert seg.make_vnet(1)(torch.rand(1, 1, 32, 32)).shape == (1, 4, 32, 32)
    with pytest.raises(ValueError, match="in_channels"):
        seg.make_vnet(3)
    with pytest.raises(ValueError, match="spatial_dims"):
        seg.make_unet(1, spatial_dims=4)
    with pytest.raises(ValueError, match="norm"):
        seg.make_unet(1, norm="layer")


def test_unet_normalisation_choice():
    from torch import nn

    def norm_types(net):
        return {type(m) for m in net.modules() if isinstance(m, nn.BatchNorm2d | nn.InstanceNorm2d)}

    assert norm_types(seg.make_unet(1, channels=(4, 8))) == {nn.BatchNorm2d}
    assert norm_types(seg.make_unet(1, channels=(4, 8), norm="instance")) == {nn.InstanceNorm2d}


def test_flip_tta_is_the_mean_of_both_mirror_images():
    import torch

    class LeftBright(torch.nn.Module):  # class 1 where the pixel lies in the left half
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            left = torch.full_like(x[:, :1], -10.0)
            left[:, :, : x.shape[2] // 2] = 10.0
            return torch.cat([-left, left], 1) + 0 * self.w

    images = np.random.default_rng(0).random((2, 1, 8, 6)).astype(np.float32)
    plain = seg.predict_slices(LeftBright(), images, probabilities=True)
    tta = seg.predict_slices(LeftBright(), images, probabilities=True, flip_tta=True)
    assert plain[0, 1, 0, 0] > 0.99 and plain[0, 1, -1, 0] < 0.01  # not symmetric
    assert np.allclose(tta, 0.5, atol=1e-6)  # a flip-symmetric average of the two


def test_augmentation_keeps_labels_integer(tiny):
    data = seg.SliceDataset(tiny["train_images"], tiny["train_labels"],
                            seg.augmentation(flip=1.0, rotate_prob=1.0, bias_prob=1.0))
    image, label = data[0]
    assert image.shape == tiny["train_images"].shape[1:]
    assert label.shape == (1,) + tiny["train_labels"].shape[1:]
    assert set(np.unique(label.numpy())) <= {0, 1, 2, 3}
    with pytest.raises(ValueError, match="SliceDataset"):
        seg.SliceDataset(tiny["train_images"], tiny["train_labels"][:1])


def test_augmentation_defaults_are_flips_only():
    # the chapter's recipe: flips only; rotations, intensity jitter and bias field are options
    default = seg.augmentation()
    assert [type(t).__name__ for t in default.transforms] == ["RandFlipd"]
    full = seg.augmentation(rotate_prob=0.2, intensity=0.05, bias_prob=0.2)
    assert len(full.transforms) == 5
    assert seg.TrainConfig().lr == 1e-2 and seg.TrainConfig().augment is True


def test_train_unet_accepts_augmentation_settings(tiny):
    net = seg.make_unet(3, channels=(4, 8))
    _, history = seg.train_unet(tiny, model=net, epochs=1, batch_size=8,
                                augment={"rotate_prob": 1.0, "intensity": 0.05})
    assert np.isfinite(history.train_loss[0])


def test_one_epoch_smoke_train_and_predict(tiny):
    net = seg.make_unet(3, channels=(4, 8, 16))
    model, history = seg.train_unet(tiny, model=net, epochs=1, batch_size=8, val=True)
    assert len(history.train_loss) == 1 and np.isfinite(history.train_loss[0])
    pred = seg.predict_slices(model, tiny["test_images"])
    assert pred.shape == tiny["test_labels"].shape and pred.max() < 4
    probs = seg.predict_slices(model, tiny["test_images"], probabilities=True)
    assert np.allclose(probs.sum(1), 1, atol=1e-5)
    vol = seg.predict_volume(model, tiny)
    assert vol.shape == tiny["volume"].shape
    with pytest.raises(TypeError, match="unknown setting"):
        seg.train_unet(tiny, model=net, epochs=1, colour="red")
    with pytest.raises(KeyError, match="train_images"):
        seg.train_unet({}, epochs=1)
    with pytest.raises(ValueError, match="predict_slices"):
        seg.predict_slices(model, tiny["test_images"][0])


def test_hd95_slices():
    a = np.zeros((2, 20, 20), int)
    a[:, 4:16, 4:16] = 2
    a[:, 8:12, 8:12] = 3
    assert np.allclose(seg.hd95_slices(a, a, spacing=(2, 2))[1:], 0)
    assert np.isnan(seg.hd95_slices(a, a)[0])  # no CSF anywhere
    b = a.copy()
    b[:, 4:17, 4:16] = 2
    b[:, 8:12, 8:12] = 3
    assert np.isclose(seg.hd95_slices(b, a, spacing=(2, 2))[1], 2.0)
    with pytest.raises(ValueError, match="hd95_slices"):
        seg.hd95_slices(a, a[0])


def test_checks_accept_right_and_reject_wrong_answers():
    from medlab.teach import check

    assert check("ch07-dice", (0.8, 0.8))
    assert not check("ch07-dice", (0.75, 0.8))
    assert not check("ch07-dice", 0.8)

    def good_split(n):
        z = np.arange(n)
        t = (z // 5) % 4 == 3
        return z[~t], z[t]

    def random_split(n):
        z = np.random.default_rng(0).permutation(n)
        return z[n // 4:], z[: n // 4]

    assert check("ch07-split", good_split)
    assert not check("ch07-split", random_split)
    assert not check("ch07-split", lambda n: (np.arange(n), np.arange(n // 4)))
    assert check("ch07-order", lambda m: np.argsort(np.argsort(m)) + 1)
    assert not check("ch07-order", lambda m: np.array([1, 2, 3]))


# --------------------------------------------------------------------------------------------
# pseudo-subjects, thresholds, 3-D scores
# --------------------------------------------------------------------------------------------
SMALL = (48, 64, 32)


@pytest.fixture(scope="module")
def subjects():
    vol = fake_volume()
    return [seg.pseudo_subject(vol.image, vol.labels, s, size=SMALL) for s in (1, 2)]


def test_pseudo_subject_is_a_plausible_labelled_brain(subjects):
    s = subjects[0]
    assert s["image"].shape == s["labels"].shape == SMALL
    assert set(np.unique(s["labels"])) == {0, 1, 2, 3}
    mask = s["labels"] > 0
    assert np.all(s["image"][~mask] == 0) and np.isclose(np.median(s["image"][mask]), 1.0)
    # tissues keep their order of brightness despite bias, gamma and noise
    medians = [np.median(s["image"][s["labels"] == k]) for k in (1, 2, 3)]
    assert medians[0] < medians[1] < medians[2]
    # the deformation moved the labels: not the template's, not the other subject's
    vol = fake_volume()
    template = seg._crop_pad(vol.labels, seg._template_box(vol.labels, SMALL))
    assert 0.01 < (s["labels"] != template).mean() < 0.3
    assert (s["labels"] != subjects[1]["labels"]).any()


def test_pseudo_subject_is_reproducible_and_rejects_bad_input():
    vol = fake_volume()
    a = seg.pseudo_subject(vol.image, vol.labels, 7, size=SMALL)
    b = seg.pseudo_subject(vol.image, vol.labels, 7, size=SMALL)
    assert np.array_equal(a["labels"], b["labels"]) and np.allclose(a["image"], b["image"])
    with pytest.raises(ValueError, match="pseudo_subject"):
        seg.pseudo_subject(vol.image[0], vol.labels[0], 0)
    with pytest.raises(ValueError, match="no brain"):
        seg.pseudo_subject(vol.image, np.zeros_like(vol.labels), 0)
    with pytest.raises(ValueError, match="n must be"):
        seg.pseudo_subjects(0, volume=vol)


def test_pseudo_subjects_have_their_own_seeds():
    subs = seg.pseudo_subjects(2, 3, volume=fake_volume(), size=SMALL)
    assert subs[0]["seed"] != subs[1]["seed"]
    again = seg.pseudo_subjects(2, 3, volume=fake_volume(), size=SMALL)
    assert np.array_equal(subs[1]["labels"], again[1]["labels"])


def test_subject_slices(subjects):
    images, labels = seg.subject_slices(subjects, 1)
    n_brain = sum(int((s["labels"] > 0).any(axis=(0, 1)).sum()) for s in subjects)
    assert images.shape == (n_brain, 3) + SMALL[:2] and labels.shape == (n_brain,) + SMALL[:2]
    half, _ = seg.subject_slices(subjects, 0, every=2)
    assert half.shape[1] == 1 and len(half) < n_brain
    with pytest.raises(ValueError, match="empty"):
        seg.subject_slices([], 1)
    with pytest.raises(ValueError, match="every"):
        seg.subject_slices(subjects, 1, every=0)


def test_thresholds_recover_separable_intensities():
    vol = fake_volume()  # intensities 0.4 (CSF), 0.65 (GM), 0.85 (WM): separable
    grid = np.linspace(0.005, 0.995, 100)  # no cut point on a tissue intensity
    t1, t2, score = seg.choose_thresholds([vol.image], [vol.labels], grid=grid)
    assert 0.4 < t1 < 0.65 < t2 < 0.85 and np.isclose(score, 1.0)
    pred = seg.apply_thresholds(vol.image, vol.labels > 0, t1, t2)
    assert np.array_equal(pred, vol.labels)
    with pytest.raises(ValueError, match="t1 < t2"):
        seg.apply_thresholds(vol.image, vol.labels > 0, 0.8, 0.5)
    with pytest.raises(ValueError, match="no brain"):
        seg.choose_thresholds([vol.image], [np.zeros_like(vol.labels)])
    with pytest.raises(ValueError, match="grid"):
        seg.choose_thresholds([vol.image], [vol.labels], grid=[0.5])


def test_hausdorff_max_sees_a_stray_voxel_that_hd95_ignores():
    def hd(pred, target, name, spacing=(1, 1, 1), num_classes=4):
        return seg.boundary_scores(pred, target, spacing=spacing, num_classes=num_classes)[name]

    a = np.zeros((40, 40, 40), int)
    a[5:25, 5:25, 5:25] = 2
    b = a.copy()
    b[6:26, 5:25, 5:25] = 2  # shifted by one voxel
    assert np.isclose(hd(b, a, "HD max (mm)", spacing=(2, 2, 2))[1], 2.0)
    c = a.copy()
    c[36, 36, 36] = 2  # one stray voxel far away
    assert hd(c, a, "HD95 (mm)")[1] < 1 and hd(c, a, "HD max (mm)")[1] > 15
    assert np.isnan(hd(a, a, "HD95 (mm)")[0])  # no CSF anywhere
    # HD95 is the larger of the two directed 95th percentiles, not that of the pooled distances
    d = np.zeros((40, 40, 40), int)
    d[5:25, 5:25, 5:25] = 2
    e = d.copy()
    e[31:37, 31:37, 31:37] = 2  # a far blob: > 5 % of the prediction's boundary, < 5 % of both
    from scipy import ndimage

    def edge(m):
        return m & ~ndimage.binary_erosion(m)

    ed, ee = edge(d == 2), edge(e == 2)
    one_way = ndimage.distance_transform_edt(~ed)[ee]  # prediction's boundary to the truth's
    other_way = ndimage.distance_transform_edt(~ee)[ed]
    directed = max(np.percentile(one_way, 95), np.percentile(other_way, 95))
    pooled = np.percentile(np.concatenate([one_way, other_way]), 95)
    hd95 = hd(e, d, "HD95 (mm)", num_classes=3)[1]
    assert np.isclose(hd95, directed) and not np.isclose(hd95, pooled), (hd95, directed, pooled)


def test_boundary_scores_match_monai_metric_functions():
    """One pass over the boundary distances gives what four MONAI metric calls give."""
    import torch
    from monai.metrics import (
        compute_average_surface_distance,
        compute_hausdorff_distance,
        compute_surface_dice,
    )
    from monai.networks.utils import one_hot
    from scipy import ndimage

    a = np.zeros((40, 44, 36), int)
    a[8:32, 8:36, 6:30] = 2
    a[14:26, 14:30, 12:24] = 3
    a[12:14, 10:30, 8:28] = 1
    b = ndimage.shift(a, (1.3, -0.7, 0.4), order=0)
    b[np.random.default_rng(0).random(a.shape) < 0.01] = 1  # stray CSF voxels
    spacing = (2.0, 1.5, 2.0)
    got = seg.boundary_scores(b, a, spacing=spacing)
    p, t = (one_hot(torch.as_tensor(x)[None, None], 4) for x in (b, a))
    want = {
        "HD95 (mm)": compute_hausdorff_distance(p, t, percentile=95, spacing=spacing),
        "HD max (mm)": compute_hausdorff_distance(p, t, spacing=spacing),
        "ASD (mm)": compute_average_surface_distance(p, t, symmetric=True, spacing=spacing),
        "surface Dice": compute_surface_dice(p, t, [2.0] * 3, spacing=spacing),
    }
    for name, value in want.items():
        np.testing.assert_allclose(got[name], value.numpy().ravel(), rtol=1e-5, err_msg=name)
    assert got["surface Dice"][0] < 0.9 < got["surface Dice"][1]  # the strays cost the CSF
    # a class missing from one map has no boundary scores; a wider tolerance counts more
    none = seg.boundary_scores(np.where(a == 1, 2, a), a)
    assert np.isnan(none["ASD (mm)"][0]) and not np.isnan(none["ASD (mm)"][1])
    assert (seg.boundary_scores(b, a, spacing=spacing, tolerance=4.0)["surface Dice"]
            >= got["surface Dice"]).all()
    with pytest.raises(ValueError, match="tolerance"):
        seg.boundary_scores(b, a, tolerance=0)
    with pytest.raises(ValueError, match="shape"):
        seg.boundary_scores(a, a[0])


def test_subject_scores(subjects):
    s = subjects[0]
    perfect = seg.subject_scores(s["labels"], s["labels"])
    assert np.allclose(perfect["Dice"], 1) and np.allclose(perfect["volume error (%)"], 0)
    assert np.allclose(perfect["volume true (mL)"], [(s["labels"] == k).sum() * 8e-3
                                                      for k in (1, 2, 3)])
    assert not perfect["missing"].any()
    wrong = np.where(s["labels"] == 1, 2, s["labels"])  # all CSF called GM
    with pytest.raises(ValueError, match="CSF \\(prediction\\)"):  # NaN scores are not silent
        seg.subject_scores(wrong, s["labels"])
    scores = seg.subject_scores(wrong, s["labels"], allow_missing=True)
    assert scores.loc["CSF", "volume error (%)"] == -100 and scores.loc["GM", "Dice"] < 1
    assert scores["missing"].tolist() == [True, False, False]
    assert np.isnan(scores.loc["CSF", "HD95 (mm)"]) and np.isfinite(scores.loc["GM", "HD95 (mm)"])
    with pytest.raises(ValueError, match="subject_scores"):
        seg.subject_scores(s["labels"][0], s["labels"][0])


def test_predict_subject_uses_the_mask(subjects):
    net = seg.make_unet(3, channels=(4, 8, 16))
    pred = seg.predict_subject(net, subjects[0], 1)
    mask = subjects[0]["labels"] > 0
    assert pred.shape == SMALL and np.all(pred[~mask] == 0)
    assert set(np.unique(pred[mask])) <= {1, 2, 3}


def test_hd95_slices_counts_the_slices_it_uses():
    a = np.zeros((3, 20, 20), int)
    a[:, 4:16, 4:16] = 2
    a[:2, 8:12, 8:12] = 1  # CSF only on the first two slices
    _, counts = seg.hd95_slices(a, a, return_counts=True)
    assert counts.tolist() == [2, 3, 0]


@pytest.fixture(scope="module")
def biased_volume():
    """fake_volume times a smooth field exp(+-0.15) along x, with a little noise."""
    v = fake_volume((64, 64, 48))
    mask = v.labels > 0
    x = np.indices(v.image.shape)[0] / v.image.shape[0]
    true_log = 0.3 * (x - 0.5)
    noise = np.random.default_rng(0).normal(0, 0.01, v.image.shape)
    image = np.where(mask, v.image * np.exp(true_log) + noise, 0).astype(np.float32)
    return image, mask, true_log - true_log[mask].mean()


def test_n4_correct_removes_a_smooth_field_and_shrinking_changes_little(biased_volume):
    image, mask, true_log = biased_volume
    shrunk, log_shrunk = seg.n4_correct(image, mask, return_log_field=True)  # shrink 3
    full, log_full = seg.n4_correct(image, mask, shrink=1, return_log_field=True)
    for corrected, log_field in ((shrunk, log_shrunk), (full, log_full)):
        assert corrected.shape == image.shape and (corrected[~mask] == 0).all()
        assert np.median(corrected[mask]) == pytest.approx(1.0, abs=1e-3)  # normalised again
        assert abs(log_field[mask].mean()) < 1e-4
        assert np.corrcoef(log_field[mask], true_log[mask])[0, 1] > 0.7  # finds the field
        assert (log_field[mask] - true_log[mask]).std() < 0.8 * true_log[mask].std()
    # the field estimated at 1/3 resolution corrects nearly as the full-resolution one does
    assert np.abs(shrunk[mask] - full[mask]).mean() < 0.02
    assert np.corrcoef(log_shrunk[mask], log_full[mask])[0, 1] > 0.8
    assert np.allclose(seg.n4_correct(image, mask), shrunk, atol=1e-5)  # repeatable


def test_n4_correct_errors(biased_volume):
    image, mask, _ = biased_volume
    with pytest.raises(ValueError, match="one shape"):
        seg.n4_correct(image, mask[:-1])
    with pytest.raises(ValueError, match="empty"):
        seg.n4_correct(image, np.zeros_like(mask))
    with pytest.raises(ValueError, match="shrink"):
        seg.n4_correct(image, mask, shrink=0)
    with pytest.raises(ValueError, match="iterations"):
        seg.n4_correct(image, mask, iterations=[])
    with pytest.raises(ValueError, match="> 0"):
        seg.n4_correct(np.where(mask, image - 2, 0), mask)
