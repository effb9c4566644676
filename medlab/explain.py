"""Explanations and confidence: the helpers chapter 11 introduces and other chapters reuse.

- where an explanation points: :func:`pointing_game`, :func:`top_point`, :func:`energy_in_mask`;
- LIME on images: :func:`lime_weight_map`, :func:`quiet_lime`;
- faithfulness and sanity checks: :func:`deletion_insertion`, :func:`randomised_copy`;
- calibration: :func:`softmax`, :func:`fit_temperature`, :func:`reliability_diagram`;
- uncertainty: :func:`mc_dropout_predict`, :func:`predictive_entropy`,
  :func:`mutual_information`, :func:`coverage_accuracy`, :func:`tta_segment`;
- conformal prediction is in :mod:`medlab.conformal`.

NumPy arrays and torch models in, NumPy arrays out. Chapter 11 explains every function.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from medlab.inputs import class_labels, class_probabilities

# --- where does an explanation point? -------------------------------------------------------

def top_point(saliency) -> tuple[int, int]:
    """The (row, column) a 2-D saliency map points at: its maximum.

    When several pixels tie for the maximum (a LIME superpixel, a flat Grad-CAM plateau), the
    tied pixel nearest to their centroid is taken, so that a tie is not broken by scan order.
    """
    s = np.asarray(saliency, dtype=float)
    if s.ndim != 2:
        raise ValueError(f"top_point: saliency must be 2-D, got shape {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError("top_point: saliency holds NaN or infinite values")
    rows, cols = np.nonzero(s >= s.max() - 1e-12 * max(1.0, abs(s.max())))
    cy, cx = rows.mean(), cols.mean()
    i = int(np.argmin((rows - cy) ** 2 + (cols - cx) ** 2))
    return int(rows[i]), int(cols[i])


def _maps_and_masks(saliency, masks, caller):
    """Saliency maps as float (n, H, W) and masks as bool (n, H, W); one 2-D pair becomes n=1."""
    saliency = np.asarray(saliency, dtype=float)
    masks = np.asarray(masks).astype(bool)
    if saliency.ndim == 2:
        saliency, masks = saliency[None], masks[None]
    if saliency.ndim != 3 or saliency.shape != masks.shape:
        raise ValueError(f"{caller}: saliency {saliency.shape} and masks {masks.shape} "
                         f"must both be (n, H, W)")
    return saliency, masks


def pointing_game(saliency, masks, *, tolerance: int = 1) -> np.ndarray:
    """Pointing game (Zhang et al. 2018): does each map's maximum fall on the true region?

    ``saliency``: (n, H, W) maps, larger = more important; ``masks``: (n, H, W) boolean true
    regions. A hit is a maximum within ``tolerance`` pixels (chessboard distance) of the
    mask. Returns a boolean array of hits, one per image; its mean is the pointing-game score.
    Images with an empty mask cannot be scored and raise. Chapter 11.
    """
    from scipy import ndimage

    saliency, masks = _maps_and_masks(saliency, masks, "pointing_game")
    if tolerance < 0:
        raise ValueError(f"pointing_game: tolerance must be >= 0, got {tolerance}")
    empty = ~masks.any(axis=(1, 2))
    if empty.any():
        raise ValueError(f"pointing_game: masks {np.flatnonzero(empty)[:5].tolist()} are empty; "
                         "score only images with a true region")
    hits = np.zeros(len(masks), dtype=bool)
    structure = np.ones((3, 3), dtype=bool)
    for i, (s, m) in enumerate(zip(saliency, masks)):
        if tolerance:
            m = ndimage.binary_dilation(m, structure, iterations=tolerance)
        hits[i] = m[top_point(s)]
    return hits


def energy_in_mask(saliency, masks) -> np.ndarray:
    """Share of each map's positive saliency that falls inside the true region (the
    "energy-based pointing game" of Wang et al. 2020). A map that ignores the lesion scores
    the lesion's area fraction on average; a perfect one scores 1. Returns (n,). Chapter 11.
    """
    saliency, masks = _maps_and_masks(saliency, masks, "energy_in_mask")
    pos = np.clip(saliency, 0, None)
    total = pos.sum(axis=(1, 2))
    inside = (pos * masks).sum(axis=(1, 2))
    # a map with no positive value points nowhere: score it by the area (a uniform guess)
    area = masks.mean(axis=(1, 2))
    return np.where(total > 0, inside / np.where(total > 0, total, 1.0), area)


@contextmanager
def quiet_lime():
    """Run ``lime``'s image explainer without its progress bar.

    ``lime`` 0.2 wraps every ``LimeImageExplainer.explain_instance`` in a ``tqdm`` bar that
    writes to stderr (or draws a widget); inside this context the bar is switched off.
    Chapter 11.
    """
    import lime.lime_image as lime_image

    original = lime_image.tqdm
    lime_image.tqdm = lambda iterable, *args, **kwargs: iterable
    try:
        yield
    finally:
        lime_image.tqdm = original


def lime_weight_map(explanation, label: int) -> np.ndarray:
    """Per-pixel LIME weights: each superpixel of a ``lime`` image explanation painted with
    its weight for class ``label`` (0 for superpixels LIME left out). Chapter 11."""
    if label not in explanation.local_exp:
        raise ValueError(f"lime_weight_map: the explanation has no class {label}; it explains "
                         f"{sorted(explanation.local_exp)} (pass labels=({label},))")
    segments = np.asarray(explanation.segments)
    weights = np.zeros(segments.max() + 1)
    for segment, weight in explanation.local_exp[label]:
        weights[segment] = weight
    return weights[segments]


# --- is an explanation faithful, does it depend on the model? --------------------------------

def deletion_insertion(predict, images, saliency, classes, *, n_steps: int = 16, fill=None,
                       seed: int = 0, batch_size: int = 2048):
    """Deletion and insertion curves (Petsiuk et al. 2018, "RISE") of saliency maps.

    Pixels are ranked by ``saliency`` (largest first; ties in random order, drawn from
    ``seed``, so a constant map is a random ordering). *Deletion* replaces the top fraction
    ``f`` of the pixels by ``fill``; *insertion* starts from an image filled with ``fill``
    and puts the top fraction back. ``predict`` maps an (m, H, W) float array to (m, k)
    class probabilities; the curves are the probability of ``classes[i]`` at the fractions
    ``f = 0, 1/n_steps, …, 1``. ``fill``: one number, one per image, or ``None`` for each
    image's mean. Returns ``(fractions, deletion, insertion)``, the curves as (n, n_steps + 1)
    arrays; the area under a curve is ``np.trapezoid(curve, fractions, axis=1)`` (deletion:
    lower is better, insertion: higher is better). Chapter 11.
    """
    images = np.asarray(images, dtype=float)
    saliency = np.asarray(saliency, dtype=float)
    if images.ndim != 3 or saliency.shape != images.shape:
        raise ValueError(f"deletion_insertion: images {images.shape} and saliency "
                         f"{saliency.shape} must both be (n, H, W)")
    if not np.isfinite(saliency).all():
        raise ValueError("deletion_insertion: saliency holds NaN or infinite values")
    n, h, w = images.shape
    classes = np.asarray(classes)
    if classes.shape != (n,) or not np.issubdtype(classes.dtype, np.integer):
        raise ValueError(f"deletion_insertion: classes must be ({n},) integers, "
                         f"got {classes.shape} {classes.dtype}")
    if n_steps < 1:
        raise ValueError(f"deletion_insertion: n_steps must be >= 1, got {n_steps}")
    fill = images.mean(axis=(1, 2)) if fill is None else np.broadcast_to(
        np.asarray(fill, dtype=float), (n,))
    rng = np.random.default_rng(seed)
    fractions = np.linspace(0.0, 1.0, n_steps + 1)
    counts = np.round(fractions * h * w).astype(int)
    variants = np.empty((n, 2, n_steps + 1, h * w))
    for i in range(n):
        flat = saliency[i].ravel()
        order = np.lexsort((rng.random(h * w), -flat))      # largest first, ties at random
        rank = np.empty(h * w, dtype=int)
        rank[order] = np.arange(h * w)
        top = rank[None, :] < counts[:, None]               # (steps, HW): pixel among the top f
        x = images[i].ravel()[None, :]
        variants[i, 0] = np.where(top, fill[i], x)           # deletion
        variants[i, 1] = np.where(top, x, fill[i])           # insertion
    flat_variants = variants.reshape(-1, h, w)
    probs = np.concatenate([np.asarray(predict(flat_variants[s:s + batch_size]), dtype=float)
                            for s in range(0, len(flat_variants), batch_size)])
    if probs.ndim != 2 or len(probs) != len(flat_variants):
        raise ValueError(f"deletion_insertion: predict must return (m, k) probabilities for "
                         f"m images, got shape {probs.shape}")
    probs = probs.reshape(n, 2, n_steps + 1, -1)
    p = probs[np.arange(n), :, :, classes]                   # (n, 2, steps)
    return fractions, p[:, 0], p[:, 1]


def randomised_copy(model, layers, *, seed: int = 0):
    """A copy of a torch ``model`` whose named submodules ``layers`` (names as in
    ``model.named_modules()``, e.g. ``"14"`` or ``"8"``) are re-initialised, with their
    children, by ``reset_parameters`` under ``torch.manual_seed(seed)``; the original is left
    as it was. Re-initialising from the output layer down, one layer more each time, is the
    *cascading* randomisation of Adebayo et al. (2018). Returns the copy in eval mode.
    Chapter 11.
    """
    import copy

    import torch

    named = dict(model.named_modules())
    unknown = [name for name in layers if name not in named]
    if unknown:
        raise ValueError(f"randomised_copy: no submodule named {unknown}; the model has "
                         f"{[k for k in named if k][:20]}")
    torch.manual_seed(seed)
    copy_ = copy.deepcopy(model)
    copied = dict(copy_.named_modules())
    reset = 0
    for name in layers:
        for module in copied[name].modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
                reset += 1
    if layers and not reset:
        raise ValueError(f"randomised_copy: the layers {list(layers)} have no parameters to "
                         "re-initialise")
    return copy_.eval()


# --- calibration ------------------------------------------------------------------------------

def softmax(logits, temperature: float = 1.0) -> np.ndarray:
    """Class probabilities from (n, k) logits divided by ``temperature`` (chapter 11)."""
    if not temperature > 0:
        raise ValueError(f"softmax: temperature must be > 0, got {temperature}")
    z = np.asarray(logits, dtype=float) / temperature
    if z.ndim != 2:
        raise ValueError(f"softmax: logits must be (n, k), got shape {z.shape}")
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits, labels, *, bounds=(0.05, 20.0)) -> float:
    """Temperature scaling (Guo et al. 2017): the T > 0 that minimises the negative
    log-likelihood of ``labels`` under ``softmax(logits / T)``.

    Fit it on validation data, never on the test set. One number, so it cannot change which
    class is predicted, only how confident the prediction is. Chapter 11.
    """
    from scipy.optimize import minimize_scalar

    logits = np.asarray(logits, dtype=float)
    if logits.ndim != 2 or logits.shape[1] < 2:
        raise ValueError(f"fit_temperature: logits must be (n, k) with k >= 2, got {logits.shape}")
    labels = class_labels(labels, len(logits), logits.shape[1])
    lo, hi = bounds
    if not 0 < lo < hi:
        raise ValueError(f"fit_temperature: bounds must satisfy 0 < low < high, got {bounds}")

    def nll(log_t):
        z = logits / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -log_p[np.arange(len(labels)), labels].mean()

    res = minimize_scalar(nll, bounds=(np.log(lo), np.log(hi)), method="bounded",
                          options={"xatol": 1e-6})
    return float(np.exp(res.x))


def calibration_bins(y_true, probs, n_bins: int = 10):
    """Per confidence bin: mean confidence, accuracy and count (bins of the top probability).

    Returns three arrays of length ``n_bins`` (NaN for empty bins). The bins are those of
    :func:`medlab.metrics.expected_calibration_error`.
    """
    probs = class_probabilities(probs)
    y_true = class_labels(y_true, len(probs), probs.shape[1], "y_true")
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    conf = probs.max(1)
    correct = (probs.argmax(1) == y_true).astype(float)
    edges = np.linspace(0, 1, n_bins + 1)
    mean_conf = np.full(n_bins, np.nan)
    acc = np.full(n_bins, np.nan)
    count = np.zeros(n_bins, dtype=int)
    for b, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        in_bin = (conf > lo) & (conf <= hi)
        count[b] = in_bin.sum()
        if count[b]:
            mean_conf[b], acc[b] = conf[in_bin].mean(), correct[in_bin].mean()
    return mean_conf, acc, count


def reliability_diagram(y_true, probs, *, n_bins: int = 10, ax=None, label=None,
                        title="Reliability diagram", color=None):
    """Plot accuracy against confidence per bin, with the diagonal of perfect calibration.

    Marker area grows with the number of cases in the bin. Returns the axes. Chapter 11.
    """
    import matplotlib.pyplot as plt

    mean_conf, acc, count = calibration_bins(y_true, probs, n_bins)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4))
    ok = count > 0
    if not any(line.get_label() == "perfect calibration" for line in ax.get_lines()):
        ax.plot([0, 1], [0, 1], ls=":", color="gray", label="perfect calibration")
    line, = ax.plot(mean_conf[ok], acc[ok], "-", color=color, label=label)
    ax.scatter(mean_conf[ok], acc[ok], s=12 + 120 * count[ok] / count.sum(),
               color=line.get_color(), zorder=3)
    k = np.asarray(probs).shape[1]
    ax.set_xlim(1 / k - 0.02, 1.01)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("confidence (top predicted probability)")
    ax.set_ylabel("accuracy in bin")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return ax


# --- uncertainty ------------------------------------------------------------------------------

def predictive_entropy(probs) -> np.ndarray:
    """Entropy (in nats) of each row of (n, k) probabilities; for (s, n, k) samples the
    entropy of their mean. 0 = certain, log k = a uniform guess. Chapter 11."""
    p = np.asarray(probs, dtype=float)
    if p.ndim == 3:
        p = p.mean(axis=0)
    p = class_probabilities(p)
    return -(p * np.log(np.clip(p, 1e-12, None))).sum(axis=1)


def mutual_information(samples) -> np.ndarray:
    """The epistemic part of the predictive entropy (chapter 11): for (s, n, k) samples of
    class probabilities (MC-dropout passes or ensemble members), the entropy of their mean
    minus the mean of their entropies, ``H[mean_s p_s] - mean_s H[p_s]`` (the "BALD" score).

    It is zero when every sample says the same, however unsure that answer is (aleatoric
    uncertainty), and large when the samples disagree (epistemic uncertainty). In nats.
    """
    p = np.asarray(samples, dtype=float)
    if p.ndim != 3:
        raise ValueError(f"mutual_information: samples must be (s, n, k) probabilities, got "
                         f"shape {p.shape}")
    for i in range(len(p)):
        class_probabilities(p[i], "samples")
    each = -(p * np.log(np.clip(p, 1e-12, None))).sum(axis=2).mean(axis=0)
    return np.maximum(predictive_entropy(p) - each, 0.0)


def mc_dropout_predict(model, x, *, n_samples: int = 30, batch_size: int = 512,
                       seed: int = 0) -> np.ndarray:
    """Monte Carlo dropout (Gal and Ghahramani 2016): class probabilities from
    ``n_samples`` forward passes with dropout left on and batch norm in evaluation mode.

    ``x``: a tensor of inputs. Returns an (n_samples, n, k) array. The model is left in
    evaluation mode. Chapter 11.
    """
    import torch

    if n_samples < 1:
        raise ValueError(f"mc_dropout_predict: n_samples must be >= 1, got {n_samples}")
    dropouts = [m for m in model.modules() if isinstance(m, torch.nn.modules.dropout._DropoutNd)]
    if not dropouts:
        raise ValueError("mc_dropout_predict: the model has no dropout layer to keep on")
    device = next(model.parameters()).device
    model.eval()
    for m in dropouts:
        m.train()
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    out = []
    try:
        with torch.no_grad():
            for _ in range(n_samples):
                chunks = [torch.softmax(model(x[i:i + batch_size].to(device)), dim=1).cpu()
                          for i in range(0, len(x), batch_size)]
                out.append(torch.cat(chunks).numpy())
    finally:
        model.eval()
        torch.random.set_rng_state(gen_state)
    return np.stack(out)


def coverage_accuracy(correct, uncertainty, coverages=None):
    """Accuracy on the cases a model keeps when the most uncertain are referred to a human.

    ``correct``: (n,) booleans; ``uncertainty``: (n,) scores (larger = less sure). For each
    coverage c in ``coverages`` (default 0.1, 0.11, …, 1.0) the ``ceil(c n)`` least uncertain
    cases are kept. Returns ``(coverages, accuracies)``. Chapter 11.
    """
    correct = np.asarray(correct, dtype=float)
    uncertainty = np.asarray(uncertainty, dtype=float)
    if correct.ndim != 1 or correct.shape != uncertainty.shape or len(correct) == 0:
        raise ValueError(f"coverage_accuracy: correct {correct.shape} and uncertainty "
                         f"{uncertainty.shape} must be equal, non-empty 1-D arrays")
    coverages = np.linspace(0.1, 1.0, 91) if coverages is None else np.asarray(coverages, float)
    if np.any(coverages <= 0) or np.any(coverages > 1):
        raise ValueError("coverage_accuracy: coverages must lie in (0, 1]")
    order = np.argsort(uncertainty, kind="stable")
    running = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    keep = np.ceil(coverages * len(order) - 1e-9).astype(int)
    return coverages, running[keep - 1]


# --- segmentation uncertainty by test-time augmentation --------------------------------------

def tta_segment(model, image, *, n_augment: int = 8, max_shift: int = 3,
                intensity: float = 0.1, noise: float = 0.03, flip_axis: int | None = -1,
                seed: int = 0):
    """Test-time augmentation for a 2-D segmentation network (Wang et al. 2019).

    ``image``: (H, W) array (or (C, H, W)). Each augmentation may flip along ``flip_axis``
    (-1: columns, -2: rows, ``None``: never; pick the axis of the anatomy's symmetry), shifts by up to
    ``max_shift`` pixels, scales intensity by 1 ± ``intensity`` and adds Gaussian noise of std
    ``noise`` × the image's std; the prediction is mapped back (un-flipped, un-shifted). The
    first pass is the plain image. Returns ``(mean_probs, entropy)``: the (k, H, W) average
    class probabilities and the per-pixel entropy of that average, in nats. Chapter 11.
    """
    import torch

    if n_augment < 1:
        raise ValueError(f"tta_segment: n_augment must be >= 1, got {n_augment}")
    if flip_axis not in (None, -1, -2):
        raise ValueError(f"tta_segment: flip_axis must be -1, -2 or None, got {flip_axis!r}")
    x = torch.as_tensor(np.asarray(image, dtype=np.float32))
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"tta_segment: image must be (H, W) or (C, H, W), got {tuple(x.shape)}")
    rng = np.random.default_rng(seed)
    device = next(model.parameters()).device
    scale = float(x.std()) or 1.0
    model.eval()
    total = None
    with torch.no_grad():
        for i in range(n_augment):
            flip = i > 0 and flip_axis is not None and bool(rng.integers(2))
            dy, dx = (0, 0) if i == 0 else tuple(int(v) for v in rng.integers(-max_shift,
                                                                             max_shift + 1, 2))
            gain = 1.0 if i == 0 else 1.0 + rng.uniform(-intensity, intensity)
            a = x * gain
            if i > 0 and noise > 0:
                a = a + torch.as_tensor(rng.normal(0, noise * scale, a.shape), dtype=a.dtype)
            if flip:
                a = torch.flip(a, dims=(flip_axis,))
            a = torch.roll(a, shifts=(dy, dx), dims=(-2, -1))
            p = torch.softmax(model(a[None].to(device)), dim=1)[0].cpu()
            p = torch.roll(p, shifts=(-dy, -dx), dims=(-2, -1))
            if flip:
                p = torch.flip(p, dims=(flip_axis,))
            total = p if total is None else total + p
    mean = (total / n_augment).numpy()
    entropy = -(mean * np.log(np.clip(mean, 1e-12, None))).sum(axis=0)
    return mean, entropy
