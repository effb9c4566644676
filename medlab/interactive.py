"""An image explorer: sliders in a live notebook, a static grid on the rendered page.

Chapter 2 explores window/level, chapter 3 a filter's parameters. In Jupyter or Colab
:func:`explore` shows ipywidgets sliders; when ``MEDLAB_STATIC_WIDGETS=1`` (the build and the
tests set it) or ipywidgets is missing, it draws a grid of the same images at a few parameter
settings instead, so the printed book shows what the sliders would.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence

import numpy as np


def static_mode() -> bool:
    """True when widgets should be drawn as static figures (see the module docstring)."""
    if os.environ.get("MEDLAB_STATIC_WIDGETS", "").strip() in {"1", "true", "yes"}:
        return True
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return True
    return False


def _check_params(params: dict[str, Sequence]) -> dict[str, list]:
    if not params:
        raise ValueError("explore: `params` is empty; give at least one name -> list of values")
    checked = {}
    for name, values in params.items():
        values = list(values)
        if not values:
            raise ValueError(f"explore: parameter {name!r} has no values")
        checked[name] = values
    return checked


def _pick(values: list, k: int) -> list:
    """At most ``k`` values spread over the list, ends included."""
    if len(values) <= k:
        return values
    idx = np.unique(np.linspace(0, len(values) - 1, k).round().astype(int))
    return [values[i] for i in idx]


def static_settings(params: dict[str, Sequence], *, defaults: dict | None = None,
                    per_axis: int = 4) -> tuple[list[dict], int]:
    """The parameter settings the static grid shows, and its number of columns.

    The first parameter varies along a row and the second down the columns (at most
    ``per_axis`` values each); any others stay at their default (the middle value unless
    ``defaults`` says otherwise).
    """
    params = _check_params(params)
    defaults = dict(defaults or {})
    unknown = set(defaults) - set(params)
    if unknown:
        raise ValueError(f"explore: defaults for unknown parameters {sorted(unknown)}")
    names = list(params)
    base = {n: defaults.get(n, params[n][len(params[n]) // 2]) for n in names}
    varied = names[:2]
    grids = [_pick(params[n], per_axis) for n in varied]
    settings = []
    for combo in itertools.product(*reversed(grids)):
        setting = dict(base)
        setting.update(dict(zip(reversed(varied), combo)))
        settings.append(setting)
    return settings, len(grids[0])


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _title(setting: dict, measure, image) -> str:
    text = ", ".join(f"{k}={_fmt(v)}" for k, v in setting.items())
    if measure is not None:
        text += f"\n{measure(image, **setting)}"
    return text


def explore(render: Callable[..., np.ndarray], params: dict[str, Sequence], *,
            defaults: dict | None = None, measure: Callable[..., str] | None = None,
            suptitle: str = "", cmap: str = "gray", vmin=None, vmax=None,
            per_axis: int = 4, size: float = 2.3, static: bool | None = None):
    """Explore ``render(**setting) -> 2-D image`` over parameter values (chapters 2 and 3).

    ``params`` maps each keyword of ``render`` to the values a slider may take;
    ``measure(image, **setting) -> str`` adds a line (for example a PSNR) under each title.
    Live: shows sliders and returns the ipywidgets object. Static (see :func:`static_mode`,
    or ``static=True``): returns a matplotlib figure with a grid of settings.
    """
    params = _check_params(params)
    if static is None:
        static = static_mode()
    if static:
        return _static_grid(render, params, defaults, measure, suptitle, cmap, vmin, vmax,
                            per_axis, size)
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    sliders = {}
    for name, values in params.items():
        value = (defaults or {}).get(name, values[len(values) // 2])
        sliders[name] = widgets.SelectionSlider(options=values, value=value, description=name,
                                                continuous_update=False)

    def draw(**setting):
        image = render(**setting)
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(_title(setting, measure, image), fontsize=9)
        ax.axis("off")
        if suptitle:
            fig.suptitle(suptitle)
        plt.show()

    ui = widgets.interactive(draw, **sliders)
    display(ui)
    return ui


def _static_grid(render, params, defaults, measure, suptitle, cmap, vmin, vmax, per_axis, size):
    import matplotlib.pyplot as plt

    settings, ncols = static_settings(params, defaults=defaults, per_axis=per_axis)
    nrows = int(np.ceil(len(settings) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.5),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, setting in zip(axes.flat, settings):
        image = np.asarray(render(**setting))
        if image.ndim != 2 and not (image.ndim == 3 and image.shape[-1] in (3, 4)):
            raise ValueError(f"explore: render{setting} returned shape {image.shape}; "
                             f"expected a 2-D image")
        ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(_title(setting, measure, image), fontsize=8)
    fig.suptitle(suptitle or "Static view of the explorer (run the notebook for sliders)")
    return fig
