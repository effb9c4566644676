"""Offline stand-in for PneumoniaMNIST: synthetic frontal chest radiographs, 28×28, labelled.

When the real PneumoniaMNIST file cannot be downloaded, :func:`medlab.data.load_medmnist`
returns this generator's images instead, marked ``synthetic=True``. Chapter 8 explains it.

What it imitates (and what it does not):

- the size and split of PneumoniaMNIST: 28×28 uint8 grayscale, train/val/test 4708/524/624,
  label 0 = normal, 1 = pneumonia, with exactly the real counts per split (train 1214/3494,
  val 135/389, test 234/390);
- the anatomy of a paediatric frontal chest film, crudely: soft tissue of the chest wall, two
  dark lung fields, the bright mediastinum and spine between them, the heart shadow bulging
  into the left lung (the right of the image), domed hemidiaphragms, clavicles, posterior
  ribs and vascular markings;
- pneumonia as what a radiologist looks for: patchy (bronchopneumonia) or lobar consolidation,
  or a diffuse bilateral haze, brighter than aerated lung and confined to the lung fields;
- variation that has nothing to do with the label: exposure and contrast, gamma, patient
  position (shift, tilt, size), depth of inspiration, a prominent thymus, quantum noise and
  blur. Severity of the opacities is drawn from a wide distribution, and some normal films
  have crowded, hazy bases from a poor inspiration, so the two classes overlap.

It does not imitate the real images' texture, devices (tubes, electrodes), text markers or
the cropping of the real data set; a model trained on it says nothing about real films.
Every image of a split is rendered at once with NumPy broadcasting (about a second on a CPU).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from medlab.data.standins import split_labels, standin_set

SPLIT_SIZES = {"train": (1214, 3494), "val": (135, 389), "test": (234, 390)}  # (normal, pneumonia)
SIZE = 28
RENDER = 28  # rendered at the final size: cheap, and blurred like a downsampled film
SOURCE = "synthetic stand-in for PneumoniaMNIST (medlab, offline)"


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def _smooth_field(rng, n, coarse, sigma):
    """Smooth random fields at the render size: coarse Gaussian noise, upsampled and blurred."""
    field = rng.standard_normal((n, coarse, coarse)).astype(np.float32)
    field = ndimage.zoom(field, (1, RENDER / coarse, RENDER / coarse), order=1, grid_mode=True,
                         mode="nearest")
    if sigma:
        field = ndimage.gaussian_filter(field, sigma=(0, sigma, sigma))
    return field / (field.std(axis=(1, 2), keepdims=True) + 1e-6)


def _col(rng_draw):
    return np.asarray(rng_draw, dtype=np.float32)[:, None, None]


def _render(rng, labels):
    """Render every image of a split at once; returns (images in [0, 1], opacity maps)."""
    n = len(labels)
    sick = labels[:, None, None] == 1
    g = np.linspace(-1, 1, RENDER, dtype=np.float32)
    y0, x0 = np.meshgrid(g, g, indexing="ij")
    y0, x0 = y0[None], x0[None]
    # patient position: shift, tilt, size
    theta = _col(rng.normal(0, 0.06, n))
    dx, dy = _col(rng.normal(0, 0.05, n)), _col(rng.normal(0.02, 0.05, n))
    s = _col(rng.uniform(0.88, 1.08, n))
    u = (np.cos(theta) * (x0 - dx) + np.sin(theta) * (y0 - dy)) / s
    v = (-np.sin(theta) * (x0 - dx) + np.cos(theta) * (y0 - dy)) / s

    # chest wall and the air outside it
    body_w = _col(rng.uniform(0.88, 1.0, n))
    img = 0.62 * _sigmoid((body_w - np.abs(u)) / 0.06) + 0.12
    img = img + 0.06 * (v + 1)  # more tissue towards the abdomen
    # lungs: two ellipses, their lower edge the diaphragm domes; inspiration sets their height
    insp = _col(rng.uniform(0.8, 1.1, n))
    poor = _col(rng.random(n) < 0.25)  # a poorly inspired film: small, hazy bases
    insp = np.where(poor, insp * 0.85, insp)
    lung = np.zeros_like(u)
    for side, cx in ((-1, -0.45), (1, 0.45)):
        a = _col(rng.uniform(0.31, 0.37, n))
        b = 0.68 * insp
        cy = -0.08 - 0.02 * side  # the right hemidiaphragm (image left) sits higher
        d = np.sqrt(((u - cx) / a) ** 2 + ((v - cy) / b) ** 2)
        lung = np.maximum(lung, _sigmoid((1 - d) / 0.08))
    # heart: an ellipse left of the midline (right of the image), and the mediastinum/spine
    heart = _sigmoid((1 - np.sqrt(((u - _col(rng.uniform(0.05, 0.14, n))) / 0.28) ** 2
                                  + ((v - 0.32 * insp) / 0.24) ** 2)) / 0.1)
    thymus = _col(rng.uniform(0.0, 1.0, n) ** 3) * _sigmoid(
        (1 - np.sqrt((u / 0.28) ** 2 + ((v + 0.35) / 0.22) ** 2)) / 0.1)
    mediastinum = np.maximum(_sigmoid((0.11 - np.abs(u)) / 0.03), np.maximum(heart, thymus))
    lung = lung * (1 - mediastinum)
    depth = _col(rng.uniform(0.35, 0.5, n))
    img = img - depth * lung + 0.1 * mediastinum
    # ribs (curved bands across the lungs) and clavicles
    period = _col(rng.uniform(0.19, 0.24, n))
    rib_v = v + 0.35 * (np.abs(u) - 0.45) ** 2 * 2 + _col(rng.uniform(0, 1, n))
    ribs = np.clip(np.cos(2 * np.pi * rib_v / period), 0, 1) ** 2
    img = img + _col(rng.uniform(0.03, 0.08, n)) * ribs * lung
    clav = np.exp(-0.5 * ((v + 0.62 - 0.15 * np.abs(u)) / 0.035) ** 2) * (np.abs(u) < 0.7)
    img = img + 0.12 * clav
    # vascular markings, denser towards the hila; poor inspiration crowds the bases
    vessels = _smooth_field(rng, n, 14, 0) * _col(rng.uniform(0.02, 0.05, n))
    img = img + vessels * lung * (1.2 - 0.6 * np.abs(u))
    bases = _sigmoid((v - 0.25) / 0.08) * lung
    img = img + np.where(poor, _col(rng.uniform(0.03, 0.12, n)), 0.0) * bases

    # pneumonia: patchy, lobar or diffuse opacities inside the lungs
    severity = _col(rng.gamma(2.2, 0.08, n)) + 0.02
    kind = rng.choice(3, size=n, p=[0.45, 0.3, 0.25])[:, None, None]  # patchy, lobar, diffuse
    patchy = np.zeros_like(u)
    for _ in range(4):
        cx = _col(rng.choice([-1, 1], n) * rng.uniform(0.2, 0.6, n))
        cy = _col(rng.uniform(-0.3, 0.45, n))
        r = _col(rng.uniform(0.08, 0.2, n))
        on = _col(rng.random(n) < 0.7)
        patchy = patchy + on * np.exp(-0.5 * ((u - cx) ** 2 + (v - cy) ** 2) / r ** 2)
    mottle = _sigmoid(2 * _smooth_field(rng, n, 7, 0))
    patchy = np.clip(patchy, 0, 1.2) * (0.5 + mottle)
    lobe_side = _col(rng.choice([-1, 1], n))
    fissure = _col(rng.uniform(-0.15, 0.25, n))
    lobar = _sigmoid((v - fissure - 0.1 * u) / 0.05) * _sigmoid(lobe_side * u / 0.05)
    diffuse = 0.6 + 0.4 * mottle
    opacity = np.where(kind == 0, patchy, np.where(kind == 1, lobar, diffuse))
    opacity = np.where(sick, severity * opacity * lung, 0.0)
    img = img + opacity

    # exposure, gamma, blur and quantum noise
    img = ndimage.gaussian_filter(img, sigma=(0, 0.5, 0.5))
    lo, hi = np.percentile(img, [0.5, 99.5], axis=(1, 2), keepdims=True)
    img = (img - lo) / (hi - lo)  # the real films were contrast-stretched, then vary
    img = np.clip(img, 0.01, None) ** _col(rng.uniform(0.75, 1.3, n))
    img = img * _col(rng.uniform(0.75, 1.0, n)) + _col(rng.uniform(0.0, 0.15, n))
    img = img + _col(rng.uniform(0.015, 0.05, n)) * rng.standard_normal(img.shape).astype(np.float32)
    return img, opacity


def load_standin(split: str = "train", seed: int = 0, reason: str = ""):
    """The synthetic PneumoniaMNIST stand-in for one split (28×28 uint8, opacity masks kept).

    Deterministic in ``(split, seed)``; the three splits come from separate random streams,
    so they share no image. ``reason`` (why the real data were not used) is kept in ``info``.
    ``masks`` marks where a pneumonia image's opacity is visible (empty for normal films).
    Chapter 8 explains the stand-in.
    """
    rng, labels = split_labels(split, SPLIT_SIZES, seed, 20240808)
    n = len(labels)
    images = np.empty((n, SIZE, SIZE), dtype=np.uint8)
    masks = np.empty((n, SIZE, SIZE), dtype=bool)
    for lo in range(0, n, 2048):  # chunks keep memory small
        hi = min(n, lo + 2048)
        img, opacity = _render(rng, labels[lo:hi])
        images[lo:hi] = np.clip(np.round(img * 255), 0, 255).astype(np.uint8)
        masks[lo:hi] = opacity > 0.05
    return standin_set("pneumoniamnist", split, images, labels, masks, source=SOURCE, seed=seed,
                       reason=reason, imitates="PneumoniaMNIST (MedMNIST v2)", render_size=RENDER,
                       label_meaning="0 = normal, 1 = pneumonia")
