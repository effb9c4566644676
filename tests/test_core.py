"""config, results, progress, train, metrics, viz: the package's shared core."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

import medlab
from medlab import config, metrics, results, train


def test_scale_switch(monkeypatch):
    monkeypatch.setenv("MEDLAB_SCALE", "gpu")
    assert config.scale() == "gpu" and config.by_scale(cpu=1, gpu=2) == 2
    monkeypatch.setenv("MEDLAB_SCALE", "cpu")
    assert config.by_scale(cpu=1, gpu=2) == 1
    monkeypatch.setenv("MEDLAB_SCALE", "tpu")
    with pytest.raises(ValueError, match="MEDLAB_SCALE"):
        config.scale()


def test_seed_everything_repeats():
    config.seed_everything(3)
    a = (np.random.rand(3), torch.rand(3))  # noqa: NPY002
    config.seed_everything(3)
    b = (np.random.rand(3), torch.rand(3))  # noqa: NPY002
    np.testing.assert_array_equal(a[0], b[0])
    assert torch.equal(a[1], b[1])


def test_setup_reports_device(capsys):
    dev = medlab.setup(seed=1)
    assert isinstance(dev, torch.device)
    assert "device:" in capsys.readouterr().out


def test_medlab_seed_overrides_the_setup_cell(monkeypatch, capsys):
    monkeypatch.delenv("MEDLAB_SEED", raising=False)
    medlab.setup(seed=0)
    assert medlab.seed() == 0
    a = torch.rand(3)
    monkeypatch.setenv("MEDLAB_SEED", "2")
    medlab.setup(seed=0)  # the set-up cell of every chapter
    assert medlab.seed() == 2 and "seed: 2 (from MEDLAB_SEED)" in capsys.readouterr().out
    b = torch.rand(3)
    config.seed_everything(2)
    assert torch.equal(b, torch.rand(3)) and not torch.equal(a, b)
    for bad in ("-1", "one", "1.5"):
        monkeypatch.setenv("MEDLAB_SEED", bad)
        with pytest.raises(ValueError, match="MEDLAB_SEED"):
            medlab.setup()
    monkeypatch.delenv("MEDLAB_SEED")
    with pytest.raises(ValueError, match="seed"):
        medlab.setup(seed=-3)
    medlab.setup(seed=0, quiet=True)


def test_record_writes_json(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDLAB_RESULTS_DIR", str(tmp_path))
    results.record("chXX", "F1", np.float64(0.5), unit="", note="test")
    results.record("chXX", "time", 3)
    saved = json.loads((tmp_path / "chXX.json").read_text())
    assert saved["F1"]["value"] == 0.5 and saved["time"]["value"] == 3
    assert list(results.table("chXX")["figure"]) == ["F1", "time"]
    with pytest.raises(ValueError):
        results.record("chXX", "bad", float("nan"))
    with pytest.raises(TypeError):
        results.record("chXX", "bad", [1, 2])


def test_progress_text_mode(monkeypatch, capsys):
    from medlab.progress import progress

    monkeypatch.setenv("MEDLAB_PROGRESS", "text")
    assert sum(progress(range(5), desc="count")) == 10
    assert "count" in capsys.readouterr().out  # on stdout, not stderr


def _toy_loaders(n=64):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, 4, generator=g)
    y = (X[:, 0] > 0).long()
    ds = torch.utils.data.TensorDataset(X, y)
    return (torch.utils.data.DataLoader(ds, batch_size=16, shuffle=False),
            torch.utils.data.DataLoader(ds, batch_size=32))


def test_fit_learns_and_early_stops():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    train_loader, val_loader = _toy_loaders()
    acc = lambda logits, t: (logits.argmax(1) == t).float().mean().item()  # noqa: E731
    hist = train.fit(model, train_loader, loss_fn=torch.nn.functional.cross_entropy,
                     optimizer=torch.optim.SGD(model.parameters(), lr=0.5), epochs=30,
                     val_loader=val_loader, metric=acc, patience=5)
    assert hist.train_loss[-1] < hist.train_loss[0]
    assert max(hist.val_metric) >= 0.9 and len(hist.train_loss) <= 30
    logits = train.predict(model, val_loader)
    assert logits.shape == (64, 2)
    assert train.count_parameters(model) == 10


def test_fit_rejects_bad_arguments():
    model = torch.nn.Linear(4, 2)
    loader, _ = _toy_loaders()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="epochs"):
        train.fit(model, loader, loss_fn=torch.nn.functional.cross_entropy, optimizer=opt,
                  epochs=0)
    with pytest.raises(ValueError, match="val_loader"):
        train.fit(model, loader, loss_fn=torch.nn.functional.cross_entropy, optimizer=opt,
                  epochs=1, patience=2)


def test_classification_summary_matches_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    score = np.clip(y * 0.3 + rng.random(200) * 0.7, 0, 1)
    pred = (score > 0.5).astype(int)
    s = metrics.classification_summary(y, pred, score)
    assert np.isclose(s["accuracy"], skm.accuracy_score(y, pred))
    assert np.isclose(s["sensitivity"], skm.recall_score(y, pred))
    assert np.isclose(s["specificity"], skm.recall_score(y, pred, pos_label=0))
    assert np.isclose(s["F1"], skm.f1_score(y, pred))
    assert np.isclose(s["ROC AUC"], skm.roc_auc_score(y, score))
    with pytest.raises(ValueError, match="entries"):
        metrics.classification_summary(y, pred[:-1])


def test_bootstrap_ci_brackets_value():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    pred = np.where(rng.random(300) < 0.8, y, 1 - y)
    value, low, high = metrics.bootstrap_ci(y, pred, skm.accuracy_score, n_boot=300)
    assert low < value < high and high - low < 0.15
    assert metrics.format_ci(value, low, high).count("[") == 1
    with pytest.raises(ValueError, match="alpha"):
        metrics.bootstrap_ci(y, pred, skm.accuracy_score, alpha=1.5)


def test_dice_and_hd95():
    a = np.zeros((20, 20), int)
    a[5:15, 5:15] = 1
    b = np.zeros_like(a)
    b[5:15, 7:17] = 1
    dice = metrics.dice_per_class(b, a, num_classes=2)
    assert np.isclose(dice[0], 2 * 80 / 200)
    assert metrics.dice_per_class(a, a, 2)[0] == 1.0
    hd = metrics.hd95_per_class(b, a, num_classes=2)
    assert 1.5 <= hd[0] <= 2.5  # boundaries two pixels apart
    with pytest.raises(ValueError, match="shape"):
        metrics.dice_per_class(a, a[:10], 2)


def test_ece_perfect_and_overconfident():
    y = np.array([0, 1] * 50)
    assert metrics.expected_calibration_error(y, y.astype(float)) == 0.0
    overconfident = np.where(np.arange(100) % 4 == 0, 1 - y, y) * 0.98 + 0.01
    assert metrics.expected_calibration_error(y, overconfident) > 0.2


def test_viz_helpers_draw_titles():
    import matplotlib

    matplotlib.use("Agg")
    from medlab import viz

    fig = viz.show_images([np.zeros((4, 4)), np.ones((4, 4))], ["a", "b"], suptitle="two")
    assert fig._suptitle.get_text() == "two"
    ax = viz.confusion_matrix([0, 1, 1], [0, 1, 0])
    assert ax.get_xlabel() == "predicted class"
    with pytest.raises(ValueError, match="empty"):
        viz.show_images([])
    with pytest.raises(ValueError, match="shape"):
        viz.overlay(np.zeros((4, 4)), np.zeros((5, 5), int))


def test_show_three_views_honours_the_affine():
    import matplotlib

    matplotlib.use("Agg")
    import nibabel as nib

    from medlab import viz

    rng = np.random.default_rng(0)
    ras = nib.Nifti1Image(rng.random((6, 5, 4)).astype(np.float32), np.diag([2, 3, 4, 1.0]))
    las_affine = np.diag([-2, 3, 4, 1.0])
    las_affine[0, 3] = 10.0  # voxel 0 at x = 10 mm, stepping left: the same grid, flipped
    las = nib.Nifti1Image(np.asarray(ras.dataobj)[::-1].copy(), las_affine)
    a, b = viz.show_three_views(ras), viz.show_three_views(las, title="LAS file")
    for ax_a, ax_b in zip(a.axes, b.axes):  # canonicalised: the same planes
        np.testing.assert_array_equal(ax_a.images[0].get_array(), ax_b.images[0].get_array())
    assert "neurological" in b._suptitle.get_text() and "patient's right" in a.axes[0].get_xlabel()
    assert a.axes[0].get_xlim()[0] < a.axes[0].get_xlim()[1]  # right grows to the right
    r = viz.show_three_views(ras, convention="radiological")
    assert r.axes[0].get_xlim()[0] > r.axes[0].get_xlim()[1]  # patient's right on screen left
    assert viz.show_three_views(ras, in_mm=False).axes[0].get_xlabel().endswith("(voxels)")
    with pytest.raises(ValueError, match="convention"):
        viz.show_three_views(ras, convention="left")
    with pytest.raises(ValueError, match="3-D nibabel image"):
        viz.show_three_views(np.zeros((4, 4, 4)))


def test_small_cnn_shapes_and_errors():
    from medlab.models import small_cnn

    assert small_cnn()(torch.zeros(3, 1, 28, 28)).shape == (3, 2)
    with pytest.raises(ValueError):
        small_cnn(num_classes=1)


def test_unknown_attribute():
    with pytest.raises(AttributeError):
        medlab.does_not_exist  # noqa: B018
