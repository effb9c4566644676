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


def show_three_views(img, *, title: str = "", in_mm: bool = True,
                     convention: str = "neurological", size: float = 3.0):
    """Central axial, coronal and sagittal planes of a 3-D NIfTI image (chapter 2).

    The image is first brought to the closest canonical orientation with
    :func:`nibabel.as_closest_canonical`, so the planes are right whatever the order and
    direction of the file's array axes (a LAS and a RAS file of one head look the same).
    ``convention="neurological"`` draws the patient's right on the right of the screen (the
    RAS axes as they grow); ``"radiological"`` draws it on the left, as if facing the
    patient (the habit of radiology viewers); axial and coronal planes are labelled R/L.
    ``in_mm=True`` spaces the pixels by the voxel size, so the planes have the proportions
    of the anatomy; ``False`` draws one square per voxel (the usual mistake). Returns the
    figure.
    """
    import matplotlib.pyplot as plt
    import nibabel as nib

    if convention not in ("neurological", "radiological"):
        raise ValueError(f"show_three_views: `convention` must be 'neurological' or "
                         f"'radiological', got {convention!r}")
    if not hasattr(img, "affine") or len(img.shape) != 3:
        raise ValueError("show_three_views: `img` must be a 3-D nibabel image (array plus "
                         f"affine), got {type(img).__name__} with shape "
                         f"{getattr(img, 'shape', None)}")
    ras = nib.as_closest_canonical(img)
    volume = np.asarray(ras.dataobj, dtype=np.float32)
    zooms = [float(z) for z in ras.header.get_zooms()[:3]] if in_mm else [1.0, 1.0, 1.0]
    origin = ras.affine[:3, 3] if in_mm else np.zeros(3)
    unit = "mm" if in_mm else "voxels"
    i, j, k = np.array(volume.shape) // 2

    def extent(a, b):  # voxel centres along world axes a (horizontal) and b (vertical)
        n_a, n_b = volume.shape[a], volume.shape[b]
        return [origin[a] - zooms[a] / 2, origin[a] + (n_a - 0.5) * zooms[a],
                origin[b] - zooms[b] / 2, origin[b] + (n_b - 0.5) * zooms[b]]

    planes = [("axial", volume[:, :, k].T, extent(0, 1), "x: towards patient's right",
               "y: anterior"),
              ("coronal", volume[:, j, :].T, extent(0, 2), "x: towards patient's right",
               "z: superior"),
              ("sagittal", volume[i, :, :].T, extent(1, 2), "y: anterior", "z: superior")]
    fig, axes = plt.subplots(1, 3, figsize=(3 * size, size + 0.4))
    for ax, (name, plane, ext, xlabel, ylabel) in zip(axes, planes):
        ax.imshow(plane, cmap="gray", origin="lower", extent=ext, aspect="equal")
        ax.set(title=name, xlabel=f"{xlabel} ({unit})", ylabel=f"{ylabel} ({unit})")
        ax.grid(False)
        if name != "sagittal":
            if convention == "radiological":
                ax.invert_xaxis()
            left, right = ("R", "L") if convention == "radiological" else ("L", "R")
            for x, letter in ((0.03, left), (0.97, right)):
                ax.text(x, 0.5, letter, transform=ax.transAxes, color="yellow",
                        ha="center", va="center", fontsize=11, fontweight="bold")
    fig.suptitle(f"{title} ({convention} convention: patient's right on the "
                 f"{'left' if convention == 'radiological' else 'right'})" if title
                 else f"{convention} convention")
    return fig
