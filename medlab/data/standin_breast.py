"""Offline stand-in for BreastMNIST: synthetic breast-ultrasound patches, 28×28, labelled.

When the real BreastMNIST file cannot be downloaded, :func:`medlab.data.load_medmnist`
returns this generator's images instead, marked ``synthetic=True``. Chapter 6 explains it;
chapter 11 uses the true lesion masks it keeps to check where explanations point.

What it imitates (and what it does not):

- the size and split of BreastMNIST: 28×28 uint8 grayscale, train/val/test 546/78/156,
  label 0 = malignant (about 27 %), 1 = benign/normal, exactly the real counts per split;
- ultrasound physics, crudely: fully developed speckle (the magnitude of a smoothed complex
  Gaussian field), log compression, depth-dependent gain, a bright skin line and horizontal
  tissue layers; a hypoechoic (dark) lesion; posterior acoustic shadowing or enhancement;
- the BI-RADS cues a radiologist reads: benign lesions round or oval, circumscribed, smooth,
  homogeneous and often wider than tall; malignant ones irregular, spiculated, heterogeneous,
  taller than wide and shadowing. Each image draws a hidden "suspicion" score from
  overlapping class distributions and derives every cue from it plus noise, so some benign
  lesions look suspicious and some cancers look benign (as in real practice): the classes are
  not trivially separable.

It does not imitate BUSI's normal images (no lesion): every stand-in image has one lesion, so
every mask is non-empty. Images are rendered at 56×56 and averaged down to 28×28.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from medlab.data.standins import split_labels, standin_set

SPLIT_SIZES = {"train": (147, 399), "val": (21, 57), "test": (42, 114)}  # (malignant, benign)
SIZE = 28
RENDER = 56  # render at 2× and average down, as the real data were downsampled
_PX = RENDER / 112  # pixel lengths below are written for a 112-pixel render
SOURCE = "synthetic stand-in for BreastMNIST (medlab, offline)"


def _radius_profile(rng, suspicion: float, n_theta: int = 360):
    """Lesion boundary radius (relative to 1) as a function of angle, and the shape params."""
    theta = np.linspace(-np.pi, np.pi, n_theta, endpoint=False)
    # aspect: benign tends to be wider than tall, malignant taller than wide (overlapping)
    log_aspect = rng.normal(0.45 - 0.75 * suspicion, 0.22)  # log(width / height)
    aspect = float(np.exp(log_aspect))
    a, b = np.sqrt(aspect), 1.0 / np.sqrt(aspect)  # semi-axes, horizontal and vertical
    tilt = rng.normal(0.0, 0.25)
    t = theta - tilt
    r = a * b / np.sqrt((b * np.cos(t)) ** 2 + (a * np.sin(t)) ** 2)
    # lobulation and irregularity: low harmonics for everyone, higher ones with suspicion
    for k in range(2, 9):
        amp = (0.03 + 0.09 * suspicion * rng.uniform(0.3, 1.3)) / (1 + 0.25 * (k - 2))
        if k > 4:
            amp *= suspicion * 1.4
        r = r * (1 + amp * np.cos(k * theta + rng.uniform(0, 2 * np.pi)))
    # spicules: narrow radial spikes, mostly in suspicious lesions
    n_spic = rng.poisson(max(0.0, 7.0 * suspicion ** 2 - 0.4))
    for _ in range(n_spic):
        centre = rng.uniform(-np.pi, np.pi)
        width = rng.uniform(0.03, 0.08)
        d = np.angle(np.exp(1j * (theta - centre)))
        r = r + rng.uniform(0.25, 0.7) * np.exp(-0.5 * (d / width) ** 2)
    return theta, np.maximum(r, 0.3), aspect, n_spic


def _render_one(rng, suspicion: float, grid_y, grid_x, speckle, layers, texture):
    """One echo image at the render size and its lesion mask."""
    n = RENDER
    depth = grid_y / n  # 0 at the skin, 1 at the bottom
    # background tissue: depth-dependent gain, skin line, horizontal layers
    attenuation = rng.uniform(0.6, 1.8)
    tgc = rng.uniform(0.0, 1.2)
    gain = np.exp(-attenuation * depth) * (1 + tgc * depth)
    skin = 1.0 + 2.0 * np.exp(-((depth - rng.uniform(0.02, 0.06)) / 0.025) ** 2)
    layers = np.exp(rng.uniform(0.15, 0.45) * layers / (layers.std() + 1e-9))
    tissue = gain * skin * layers

    # lesion geometry
    theta, profile, aspect, n_spic = _radius_profile(rng, suspicion)
    radius = rng.uniform(13, 28) * _PX * (1 + 0.15 * suspicion)
    radius = min(radius, (0.5 * n - 7 * _PX) / profile.max())  # the whole lesion stays in view
    extent = radius * profile.max()
    margin = extent + 6 * _PX  # keeps a pixel of tissue between lesion and border at 28×28
    lo_y, lo_x = max(margin, 0.25 * n), max(margin, 0.2 * n)
    cy = rng.uniform(lo_y, max(lo_y, min(n - margin, 0.75 * n)))
    cx = rng.uniform(lo_x, max(lo_x, min(n - margin, 0.8 * n)))
    dy, dx = grid_y - cy, grid_x - cx
    angle = np.arctan2(dy, dx)
    idx = ((angle + np.pi) / (2 * np.pi) * len(theta)).astype(int) % len(theta)
    boundary = radius * profile[idx]
    dist = np.hypot(dy, dx)
    # margin sharpness: circumscribed (sharp) in benign, indistinct in suspicious lesions
    edge = (0.6 + 2.5 * suspicion * rng.uniform(0.4, 1.2)) * _PX
    inside = 1.0 / (1.0 + np.exp((dist - boundary) / edge))
    mask = dist <= boundary

    # lesion echo: hypoechoic; heterogeneous in suspicious lesions
    level = rng.uniform(0.06, 0.4) * (1.3 - 0.6 * suspicion)
    hetero = suspicion * rng.uniform(0.6, 1.4)
    texture = texture / (texture.std() + 1e-9)
    lesion_echo = level * np.exp(hetero * texture) * tissue
    if rng.random() < 0.35 * suspicion:  # microcalcifications: bright specks
        for _ in range(rng.integers(2, 7)):
            r0 = rng.uniform(0, 0.7) * radius
            a0 = rng.uniform(-np.pi, np.pi)
            py, px = int(cy + r0 * np.sin(a0)), int(cx + r0 * np.cos(a0))
            lesion_echo[py, px] += 2.5
    echo = tissue * (1 - inside) + lesion_echo * inside
    # echogenic halo around indistinct margins (suspicious), thin capsule (benign)
    ring = np.exp(-0.5 * ((dist - boundary) / ((1.0 + 2.5 * suspicion) * _PX)) ** 2)
    echo = echo * (1 + rng.uniform(0.2, 1.2) * suspicion * ring)

    # posterior features: shadowing (suspicious) or enhancement (cyst-like benign)
    cols = np.abs(dx[0]) < radius * profile.max() * 0.8
    col_w = np.exp(-0.5 * (dx[0] / (0.6 * radius * np.sqrt(aspect))) ** 2)
    below = np.clip((dy - boundary * 0.5) / (0.5 * radius), 0, 1)
    shadow_strength = np.clip(rng.normal(1.5 * suspicion - 0.5, 0.2), -0.6, 0.92)
    echo = echo * np.exp(-2.5 * shadow_strength * below * (col_w * cols)[None, :])

    img = echo * speckle
    return img, mask, {"suspicion": suspicion, "aspect_w_over_h": aspect,
                       "spicules": int(n_spic), "shadow": float(shadow_strength)}


def load_standin(split: str = "train", seed: int = 0, reason: str = ""):
    """The synthetic BreastMNIST stand-in for one split (28×28 uint8, masks included).

    Deterministic in ``(split, seed)``; the three splits are drawn from separate random
    streams, so they share no image. ``reason`` (why the real data were not used) is kept in
    ``info``. Chapter 6 explains the stand-in; chapter 11 uses its masks.
    """
    rng, labels = split_labels(split, SPLIT_SIZES, seed, 20231106)
    n = len(labels)

    # speckle for every image at once: |smoothed complex Gaussian|, mean 1
    field = rng.normal(size=(2, n, RENDER, RENDER))
    field = ndimage.gaussian_filter(field, sigma=(0, 0, 0.6, 0.8))
    speckle = np.hypot(field[0], field[1])
    speckle /= speckle.mean(axis=(1, 2), keepdims=True)
    # smooth random fields, also for all images at once: horizontal tissue layers, lesion texture
    layers = ndimage.gaussian_filter(rng.normal(size=(n, RENDER, RENDER)),
                                     sigma=(0, 3.5 * _PX, 18 * _PX), mode="wrap")
    texture = ndimage.gaussian_filter(rng.normal(size=(n, RENDER, RENDER)),
                                      sigma=(0, 4.5 * _PX, 4.5 * _PX))

    grid_y, grid_x = np.mgrid[0:RENDER, 0:RENDER].astype(np.float64)
    images = np.empty((n, SIZE, SIZE), dtype=np.uint8)
    masks = np.empty((n, SIZE, SIZE), dtype=bool)
    attributes = []
    f = RENDER // SIZE
    for i, label in enumerate(labels):
        malignant = label == 0
        # hidden suspicion score: overlapping Beta distributions per class
        suspicion = rng.beta(6.0, 2.0) if malignant else rng.beta(2.0, 6.0)
        img, mask, attrs = _render_one(rng, suspicion, grid_y, grid_x, speckle[i],
                                         layers[i], texture[i])
        # log compression, then average 4×4 blocks (the downsampling of the real data)
        disp = np.log1p(rng.uniform(4, 12) * img)
        small = disp.reshape(SIZE, f, SIZE, f).mean(axis=(1, 3))
        small = small + rng.normal(0, 0.03, small.shape)
        lo, hi = np.percentile(small, [rng.uniform(0, 2), rng.uniform(98, 100)])
        small = (small - lo) / (hi - lo + 1e-9) * rng.uniform(0.75, 1.0)
        images[i] = np.clip(np.round(small * 255), 0, 255).astype(np.uint8)
        m = mask.reshape(SIZE, f, SIZE, f).mean(axis=(1, 3))
        small_mask = m >= 0.5
        if not small_mask.any():
            small_mask = m == m.max()
        masks[i] = small_mask
        attributes.append(attrs)

    return standin_set("breastmnist", split, images, labels, masks, source=SOURCE, seed=seed,
                       reason=reason, imitates="BreastMNIST (MedMNIST v2)", render_size=RENDER,
                       attributes=attributes,
                       label_meaning="0 = malignant, 1 = benign/normal (as in MedMNIST)")
