"""Plotting helpers: the book's style, image grids, overlays, confusion matrices.

Every figure has a title and labelled axes; images use a gray colormap, maps a perceptual one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

STYLE = Path(__file__).with_name("medlab.mplstyle")


def use_style() -> None:
    """Apply the book's matplotlib style (called by :func:`medlab.setup`)."""
    import matplotlib.pyplot as plt

    plt.style.use(STYLE)


def show_images(images, titles=None, *, ncols=None, cmap="gray", suptitle=None,
                size=2.2, vmin=None, vmax=None, colorbar_label=None):
    """Show a list of 2-D images in a grid, without axis ticks; returns the figure.

    ``colorbar_label`` adds one shared colour bar with that label (for example ``"HU"``).
    """
    import matplotlib.pyplot as plt

    images = list(images)
    if not images:
        raise ValueError("show_images: `images` is empty; expected at least one 2-D array")
    n = len(images)
    ncols = ncols or min(n, 6)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.4),
                             squeeze=False)
    mappable = None
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = np.asarray(images[i])
        mappable = ax.imshow(img, cmap=None if img.ndim == 3 else cmap, vmin=vmin, vmax=vmax)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    if colorbar_label and mappable is not None:
        fig.colorbar(mappable, ax=axes, shrink=0.8, label=colorbar_label)
    return fig


def overlay(image, labels, *, ax=None, alpha=0.45, title=None, cmap="tab10"):
    """Draw a label map over a gray image (label 0 is transparent); returns the axes."""
    import matplotlib.pyplot as plt

    image = np.asarray(image)
    labels = np.asarray(labels)
    if image.shape[:2] != labels.shape[:2]:
        raise ValueError(f"overlay: image shape {image.shape} and labels shape "
                         f"{labels.shape} differ")
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(image, cmap="gray")
    masked = np.ma.masked_where(labels == 0, labels)
    ax.imshow(masked, cmap=cmap, alpha=alpha, vmin=0, vmax=9, interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def confusion_matrix(y_true, y_pred, *, labels=None, display_labels=None, ax=None,
                     title="Confusion matrix", normalize=None):
    """Plot a confusion matrix with scikit-learn's display; returns the axes."""
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    if ax is None:
        _, ax = plt.subplots(figsize=(3.8, 3.4))
    ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, labels=labels, display_labels=display_labels, ax=ax,
        cmap="Blues", colorbar=False, normalize=normalize)
    ax.set_title(title)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.grid(False)
    return ax


def learning_curve(history, *, ax=None, title="Learning curve", metric_label=None):
    """Plot training (and validation) loss per epoch from a :class:`medlab.train.History`."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    epochs = np.arange(1, len(history.train_loss) + 1)
    ax.plot(epochs, history.train_loss, label="training loss")
    if history.val_loss:
        ax.plot(epochs, history.val_loss, label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    if history.val_metric:
        ax2 = ax.twinx()
        ax2.plot(epochs, history.val_metric, color="C2", ls="--",
                 label=metric_label or "validation metric")
        ax2.set_ylabel(metric_label or "validation metric")
        ax2.grid(False)
        lines = ax.get_lines() + ax2.get_lines()
        ax.legend(lines, [ln.get_label() for ln in lines], loc="center right")
    else:
        ax.legend()
    return ax
