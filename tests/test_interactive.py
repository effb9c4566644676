"""Tests of medlab.interactive: the static grid, the live widgets, bad parameters."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from medlab import interactive  # noqa: E402
from medlab.teach import check  # noqa: E402


def render(a, b, c=0):
    return np.full((4, 4), a * 10 + b + c, dtype=float)


def test_static_mode_from_environment(monkeypatch):
    monkeypatch.setenv("MEDLAB_STATIC_WIDGETS", "1")
    assert interactive.static_mode()
    monkeypatch.setenv("MEDLAB_STATIC_WIDGETS", "0")
    assert not interactive.static_mode()


def test_static_mode_without_ipywidgets(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "ipywidgets":
            raise ImportError("no ipywidgets")
        return real_import(name, *args, **kwargs)

    monkeypatch.delenv("MEDLAB_STATIC_WIDGETS", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    assert interactive.static_mode()


def test_static_settings_grid():
    settings, ncols = interactive.static_settings({"a": [1, 2, 3], "b": [5, 6], "c": [0, 7, 9]})
    assert ncols == 3 and len(settings) == 6
    assert settings[0] == {"a": 1, "b": 5, "c": 7}  # c held at its middle value
    assert [s["a"] for s in settings[:3]] == [1, 2, 3]  # first parameter along a row
    assert [s["b"] for s in settings[::3]] == [5, 6]
    settings, ncols = interactive.static_settings({"a": list(range(10))}, per_axis=4)
    assert [s["a"] for s in settings] == [0, 3, 6, 9] and ncols == 4


def test_static_settings_errors():
    with pytest.raises(ValueError, match="empty"):
        interactive.static_settings({})
    with pytest.raises(ValueError, match="'a' has no values"):
        interactive.static_settings({"a": []})
    with pytest.raises(ValueError, match="unknown parameters"):
        interactive.static_settings({"a": [1]}, defaults={"z": 1})


def test_explore_static_figure():
    fig = interactive.explore(render, {"a": [1, 2], "b": [3, 4, 5]}, static=True,
                              measure=lambda img, **s: f"mean {img.mean():.0f}",
                              suptitle="test grid")
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 6
    assert shown[0].get_title() == "a=1, b=3\nmean 13"
    assert shown[-1].images[0].get_array()[0, 0] == 25
    assert fig._suptitle.get_text() == "test grid"


def test_explore_static_rejects_bad_render():
    with pytest.raises(ValueError, match="expected a 2-D image"):
        interactive.explore(lambda a: np.zeros(3), {"a": [1]}, static=True)


def test_explore_live_widgets(monkeypatch):
    pytest.importorskip("ipywidgets")
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    ui = interactive.explore(render, {"a": [1, 2, 3], "b": [4, 5]}, defaults={"b": 4},
                             static=False)
    sliders = {w.description: w for w in ui.children if hasattr(w, "options")}
    assert set(sliders) == {"a", "b"}
    assert sliders["a"].value == 2 and sliders["b"].value == 4
    assert shown == [ui]


def test_ch03_checks_right_and_wrong():
    assert check("ch03-otsu", 93)
    assert not check("ch03-otsu", 93 / 255)
    assert not check("ch03-otsu", 128)
    assert check("ch03-gamma", 0.5)
    assert not check("ch03-gamma", 2.0)
    assert check("ch03-psnr", 30.0)
    assert not check("ch03-psnr", 60.0)
