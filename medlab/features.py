"""Hand-crafted image features, for one image or a batch (chapter 4 explains each).

Every function takes one 2-D image ``(H, W)`` or a stack ``(n, H, W)`` and returns
``(X, names)``: a float64 array with one row per image and the list of column names.
The values equal scikit-image's own functions at the same settings (``graycomatrix`` +
``graycoprops``, ``local_binary_pattern``, ``hog``); the tests in ``tests/test_features.py``
compare them. The speed comes from computing over the whole batch at once:

* GLCM properties are computed from the pixel *pairs* rather than from 256 x 256 matrices:
  contrast, dissimilarity and homogeneity from a histogram of the differences ``i - j``,
  correlation/mean/variance from exact integer sums, ASM/energy/entropy from the counts of
  each ``(i, j)`` pair (a radix sort of 16-bit pair codes). No co-occurrence matrix is built.
* HOG and uniform LBP are the same arithmetic as scikit-image's Cython loops, written as
  array operations over the batch (including the float32 accumulation of HOG's cells).

``python -m medlab.features_bench --n 1000`` (:mod:`medlab.features_bench`) times the naive
loop against this module; this module does not import it.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

GLCM_PROPS = ("contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM")
ALL_GLCM_PROPS = GLCM_PROPS + ("mean", "variance", "std", "entropy")
DEFAULT_ANGLES = (0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4)
FIRST_ORDER_NAMES = ("mean", "std", "min", "max", "range", "median", "p10", "p25", "p75",
                     "p90", "iqr", "skewness", "kurtosis", "entropy", "energy")


# ----------------------------------------------------------------------------- input checks
def _as_stack(images, name: str = "images", *, uint8: bool = False) -> tuple[np.ndarray, bool]:
    """Return ``(stack (n, H, W), was_single)``; raise ValueError naming ``name`` if bad."""
    if images is None:
        raise ValueError(f"{name} is None; expected an array of shape (H, W) or (n, H, W)")
    arr = np.asarray(images)
    if arr.dtype == object:
        raise ValueError(f"{name} must be a numeric array, got dtype object "
                         "(images of different sizes? stack same-sized images)")
    if arr.ndim not in (2, 3):
        raise ValueError(f"{name} must have shape (H, W) or (n, H, W), got ndim={arr.ndim} "
                         f"(shape {arr.shape})")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    single = arr.ndim == 2
    if single:
        arr = arr[None]
    if uint8:
        if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{name} must hold integer gray levels 0..255 (uint8), got dtype "
                             f"{arr.dtype}; convert e.g. with skimage.util.img_as_ubyte")
        if arr.dtype != np.uint8:
            lo, hi = int(arr.min()), int(arr.max())
            if lo < 0 or hi > 255:
                raise ValueError(f"{name} must hold gray levels 0..255, got values in "
                                 f"[{lo}, {hi}]")
            arr = arr.astype(np.uint8)
    elif arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number) or \
            np.issubdtype(arr.dtype, np.complexfloating):
        raise ValueError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    return arr, single


def _n_jobs(n_jobs):
    if n_jobs is None:
        return min(2, os.cpu_count() or 1)
    n_jobs = int(n_jobs)
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be >= 1, got {n_jobs}")
    return n_jobs


def _map_chunks(fn, stack, chunk: int, n_jobs: int, bar=None):
    """Apply ``fn`` to consecutive chunks of ``stack`` (threads; numpy releases the GIL)."""
    starts = list(range(0, len(stack), chunk))
    parts = [stack[s:s + chunk] for s in starts]
    if n_jobs == 1 or len(parts) == 1:
        out = []
        for p in parts:
            out.append(fn(p))
            if bar is not None:
                bar.update(len(p))
        return np.concatenate(out)
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        out = []
        for p, res in zip(parts, pool.map(fn, parts)):
            out.append(res)
            if bar is not None:
                bar.update(len(p))
    return np.concatenate(out)


# ----------------------------------------------------------------------------- first order
def first_order_features(images, masks=None) -> tuple[np.ndarray, list[str]]:
    """Intensity statistics per image (chapter 4): mean, std, min, max, range, median,
    10/25/75/90th percentiles, IQR, skewness, excess kurtosis, Shannon entropy (bits, of a
    histogram with 256 equal bins from the region's min to its max; 0 for a constant region;
    skewness 0 and kurtosis -3 for a constant region) and energy
    (mean of squared intensities).

    ``masks`` (bool, same shape as ``images``) restricts each statistic to the masked
    pixels; an empty mask gives a row of NaN. std, skewness and kurtosis are population
    (biased) estimates, as in ``scipy.stats``' defaults.
    """
    stack, _ = _as_stack(images, "images")
    stack = stack.astype(np.float64)
    if masks is not None:
        m = np.asarray(masks)
        if m.ndim == 2:
            m = m[None]
        if m.shape != stack.shape:
            raise ValueError(f"masks must have the shape of images {stack.shape}, got {m.shape}")
        if m.dtype != np.bool_:
            if not np.isin(np.unique(m), (0, 1)).all():
                raise ValueError("masks must be boolean (or 0/1)")
            m = m.astype(bool)
    names = [f"fo_{n}" for n in FIRST_ORDER_NAMES]
    if masks is None:
        return _first_order_rows(stack.reshape(len(stack), -1)), names
    rows = np.full((len(stack), len(FIRST_ORDER_NAMES)), np.nan)
    for k, img in enumerate(stack):
        v = img[m[k]]
        if v.size:
            rows[k] = _first_order_rows(v[None])[0]
    return rows, names


def _first_order_rows(v: np.ndarray) -> np.ndarray:
    """First-order statistics of each row of ``v`` (n, m), vectorised."""
    n, size = v.shape
    mean = v.mean(axis=1)
    d = v - mean[:, None]
    var = np.mean(d * d, axis=1)
    pos = var > 0
    safe = np.where(pos, var, 1.0)
    skew = np.where(pos, np.mean(d ** 3, axis=1) / safe ** 1.5, 0.0)
    kurt = np.where(pos, np.mean(d ** 4, axis=1) / safe ** 2 - 3.0, -3.0)
    p10, p25, p50, p75, p90 = np.percentile(v, [10, 25, 50, 75, 90], axis=1)
    lo, hi = v.min(axis=1), v.max(axis=1)
    width = np.where(hi > lo, hi - lo, 1.0)
    idx = np.clip(np.floor((v - lo[:, None]) / width[:, None] * 256), 0, 255).astype(np.int64)
    counts = np.bincount((idx + 256 * np.arange(n)[:, None]).ravel(),
                         minlength=256 * n).reshape(n, 256)
    prob = counts / size
    logp = np.log2(np.where(prob > 0, prob, 1.0))
    ent = -(prob * logp).sum(axis=1)
    return np.column_stack([mean, np.sqrt(var), lo, hi, hi - lo, p50, p10, p25, p75, p90,
                            p75 - p25, skew, kurt, ent, np.mean(v * v, axis=1)])


# ----------------------------------------------------------------------------- GLCM
def _c_round(x: float) -> int:
    """C's round(): halves away from zero (what scikit-image's Cython loop uses)."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def glcm_offsets(distances, angles, *, chebyshev: bool = False) -> list[tuple[int, int]]:
    """(row, col) pixel offsets of each (distance, angle), in the order distances x angles.

    By default as scikit-image's ``graycomatrix`` rounds them: row = round(sin(a) d),
    col = round(cos(a) d), a Euclidean distance, so that at d = 2 the diagonal offsets round to
    (1, 1), the same as at d = 1. ``chebyshev=True`` measures d as IBSI does, in the Chebyshev
    (chessboard) norm: the direction is scaled so that its larger component is 1, giving
    (2, 2) for the 45° diagonal at d = 2 (chapters 4 and 6).
    """
    out = []
    for d in distances:
        for a in angles:
            s, c = math.sin(a), math.cos(a)
            if chebyshev:
                scale = max(abs(round(s, 12)), abs(round(c, 12)))
                s, c = s / scale, c / scale
            out.append((_c_round(s * d), _c_round(c * d)))
    return out


def quantise(images, levels: int) -> np.ndarray:
    """Map gray levels 0..255 to ``levels`` equal-width bins: ``q = floor(v * levels / 256)``
    (chapter 4). ``levels=256`` returns the images unchanged."""
    stack = np.asarray(images)
    if levels == 256:
        return stack
    return ((stack.astype(np.uint16) * levels) >> 8).astype(np.uint8)


def _glcm_block(stack, offsets, props, levels, symmetric):
    """Properties for a chunk of uint8 images; returns (n, len(props), len(offsets))."""
    n, H, W = stack.shape
    out = np.empty((n, len(props), len(offsets)), dtype=np.float64)
    need_counts = any(p in ("ASM", "energy", "entropy") for p in props)
    need_diff = any(p in ("contrast", "dissimilarity", "homogeneity") for p in props)
    need_moments = any(p in ("correlation", "mean", "variance", "std") for p in props)
    diffs = np.arange(-(levels - 1), levels, dtype=np.float64)
    w_diff = {"contrast": diffs ** 2, "dissimilarity": np.abs(diffs),
              "homogeneity": 1.0 / (1.0 + diffs ** 2)}
    rows_idx = np.arange(n)
    for k, (dr, dc) in enumerate(offsets):
        r0, r1 = max(0, -dr), min(H, H - dr)
        c0, c1 = max(0, -dc), min(W, W - dc)
        npair = max(0, r1 - r0) * max(0, c1 - c0)
        if npair == 0:  # no pair fits: scikit-image's matrix is all zeros
            for p_i, p in enumerate(props):
                out[:, p_i, k] = 1.0 if p == "correlation" else 0.0
            continue
        a = stack[:, r0:r1, c0:c1].reshape(n, -1)
        b = stack[:, r0 + dr:r1 + dr, c0 + dc:c1 + dc].reshape(n, -1)
        total = 2 * npair if symmetric else npair
        res = {}
        if need_diff:
            d = a.astype(np.int32) - b.astype(np.int32) + (levels - 1)
            hist = np.bincount((d + (rows_idx[:, None] * (2 * levels - 1))).ravel(),
                               minlength=n * (2 * levels - 1)).reshape(n, -1)
            for p in ("contrast", "dissimilarity", "homogeneity"):
                res[p] = hist @ w_diff[p] / npair
        if need_moments:
            ai, bi = a.astype(np.int64), b.astype(np.int64)
            si, sj = ai.sum(1), bi.sum(1)
            sii, sjj, sij = (ai * ai).sum(1), (bi * bi).sum(1), (ai * bi).sum(1)
            if symmetric:
                s, ss = si + sj, sii + sjj
                var_num = total * ss - s * s  # = total^2 * variance, exact integers
                cov_num = total * 2 * sij - s * s
                mean = s / total
                var_i = var_j = var_num
            else:
                var_i, var_j = npair * sii - si * si, npair * sjj - sj * sj
                cov_num = npair * sij - si * sj
                mean = si / npair
                var_num = var_i
            zero = (var_i == 0) | (var_j == 0)
            den = np.sqrt(var_i.astype(np.float64)) * np.sqrt(var_j.astype(np.float64))
            res["correlation"] = np.where(zero, 1.0, cov_num / np.where(zero, 1.0, den))
            res["mean"] = mean
            res["variance"] = var_num / float(total) ** 2
            res["std"] = np.sqrt(res["variance"])
        if need_counts:
            codes = a.astype(np.uint16) * levels + b
            if symmetric:
                codes = np.concatenate([codes, b.astype(np.uint16) * levels + a], axis=1)
            codes.sort(axis=1, kind="stable")  # radix sort for 16-bit codes
            m = codes.shape[1]
            start = np.empty(codes.shape, dtype=bool)
            start[:, 0] = True
            np.not_equal(codes[:, 1:], codes[:, :-1], out=start[:, 1:])
            pos = np.flatnonzero(start)
            run = np.diff(np.append(pos, codes.size)).astype(np.float64)
            first = np.zeros(n, dtype=np.int64)  # index in `pos` of each row's first run
            np.cumsum(start.sum(axis=1)[:-1], out=first[1:])
            prob = run / m
            res["ASM"] = np.add.reduceat(prob * prob, first)
            res["energy"] = np.sqrt(res["ASM"])
            if "entropy" in props:
                res["entropy"] = np.add.reduceat(-prob * np.log(prob), first)
        for p_i, p in enumerate(props):
            out[:, p_i, k] = res[p]
    return out


def glcm_features(images, *, distances=(1,), angles=DEFAULT_ANGLES, levels: int = 256,
                  props=GLCM_PROPS, symmetric: bool = True, normed: bool = True,
                  average_angles: bool = False, chebyshev: bool = False, n_jobs=None,
                  chunk: int = 128) -> tuple[np.ndarray, list[str]]:
    """Gray-level co-occurrence (GLCM) texture properties of uint8 images (chapter 4).

    The values equal ``graycoprops(graycomatrix(img, distances, angles, levels, symmetric,
    normed), prop)`` for each image, laid out prop-major: columns are
    ``glcm_{prop}_d{distance}_a{degrees}`` for prop, then distance, then angle.
    ``levels < 256`` first quantises the images with :func:`quantise` (``floor(v*levels/256)``)
    and then uses a ``levels x levels`` GLCM; this changes the values (it is a modelling
    choice, see chapter 4), not the speed. ``normed`` is accepted for symmetry with
    scikit-image but has no effect: ``graycoprops`` normalises every matrix anyway.
    ``average_angles=True`` averages each property over the angles (a rotation-tolerant
    summary) and names the columns ``glcm_{prop}_d{distance}``. ``chebyshev=True`` takes the
    distance in the Chebyshev norm, as IBSI does (see :func:`glcm_offsets`): with scikit-image's
    Euclidean rounding the diagonals at d = 2 repeat those at d = 1.
    Properties: contrast, dissimilarity, homogeneity, energy, correlation, ASM, mean,
    variance, std, entropy.
    """
    stack, _ = _as_stack(images, "images", uint8=True)
    levels = int(levels)
    if not 2 <= levels <= 256:
        raise ValueError(f"levels must be in 2..256, got {levels}")
    props = (props,) if isinstance(props, str) else tuple(props)
    bad = [p for p in props if p not in ALL_GLCM_PROPS]
    if bad or not props:
        raise ValueError(f"props must be among {ALL_GLCM_PROPS}, got {props}")
    distances = np.atleast_1d(np.asarray(distances))
    angles = np.atleast_1d(np.asarray(angles, dtype=np.float64))
    if distances.size == 0 or angles.size == 0:
        raise ValueError("distances and angles must not be empty")
    if (distances < 0).any() or not np.all(np.equal(np.mod(distances, 1), 0)):
        raise ValueError(f"distances must be non-negative integers, got {distances.tolist()}")
    distances = distances.astype(int)
    offsets = glcm_offsets(distances, angles, chebyshev=chebyshev)
    q = quantise(stack, levels)
    vals = _map_chunks(lambda c: _glcm_block(c, offsets, props, levels, symmetric), q,
                       chunk, _n_jobs(n_jobs))
    n = len(q)
    vals = vals.reshape(n, len(props), len(distances), len(angles))
    degs = [f"{np.rad2deg(a):g}" for a in angles]
    if average_angles:
        names = [f"glcm_{p}_d{d}" for p in props for d in distances]
        return vals.mean(axis=3).reshape(n, -1), names
    names = [f"glcm_{p}_d{d}_a{g}" for p in props for d in distances for g in degs]
    return vals.reshape(n, -1), names


# ----------------------------------------------------------------------------- LBP
def _lbp_uniform_codes(img: np.ndarray, P: int, R: float) -> np.ndarray:
    """scikit-image's ``local_binary_pattern(..., method='uniform')`` over a float64 stack."""
    n, H, W = img.shape
    ang = 2 * np.pi * np.arange(P, dtype=np.float64) / P
    rp = np.round(-R * np.sin(ang), 5)
    cp = np.round(R * np.cos(ang), 5)
    pad = int(math.ceil(R)) + 1
    padded = np.zeros((n, H + 2 * pad, W + 2 * pad), dtype=np.float64)
    padded[:, pad:pad + H, pad:pad + W] = img
    rr = np.arange(H, dtype=np.float64)
    cc = np.arange(W, dtype=np.float64)
    signs = np.empty((P, n, H, W), dtype=bool)

    def shifted(fr, fc):  # padded pixels at (row + fr, col + fc), zero outside the image
        return padded[:, pad + fr:pad + fr + H, pad + fc:pad + fc + W]

    for i in range(P):
        # the same double arithmetic as scikit-image's bilinear_interpolation; floor/ceil of
        # (row + rp) are row + floor(rp) / row + ceil(rp) because rp has 5 decimals
        fr, cr_ = int(math.floor(rp[i])), int(math.ceil(rp[i]))
        fc, cc_ = int(math.floor(cp[i])), int(math.ceil(cp[i]))
        if fc == cc_:
            top, bottom = shifted(fr, fc), shifted(cr_, fc)
        else:
            dc = ((cc + cp[i]) - np.floor(cc + cp[i]))[None, :]
            top = (1 - dc) * shifted(fr, fc) + dc * shifted(fr, cc_)
            bottom = (1 - dc) * shifted(cr_, fc) + dc * shifted(cr_, cc_)
        if fr == cr_:
            texture = top
        else:
            dr = ((rr + rp[i]) - np.floor(rr + rp[i]))[:, None]
            texture = (1 - dr) * top + dr * bottom
        np.greater_equal(texture - img, 0, out=signs[i])
    changes = np.zeros((n, H, W), dtype=np.int16)
    for i in range(P - 1):
        changes += signs[i] != signs[i + 1]
    ones = signs.sum(axis=0, dtype=np.int16)
    return np.where(changes <= 2, ones, P + 1)


def lbp_histograms(images, *, P: int = 8, R: float = 1.0, method: str = "uniform",
                   n_jobs=None, chunk: int = 128) -> tuple[np.ndarray, list[str]]:
    """Normalised histograms of local binary patterns (chapter 4).

    Each row is the histogram of ``skimage.feature.local_binary_pattern(img, P, R, method)``
    divided by the number of pixels. Bins: ``P + 2`` for ``'uniform'`` (codes 0..P+1, the last
    bin collects every non-uniform pattern), ``2**P`` for ``'default'`` and ``'ror'``,
    ``P*(P-1)+3`` for ``'nri_uniform'``. ``'uniform'`` runs vectorised over the batch; the
    other methods call scikit-image image by image.
    """
    stack, _ = _as_stack(images, "images", uint8=True)
    P = int(P)
    if P < 1 or R <= 0:
        raise ValueError(f"P must be >= 1 and R > 0, got P={P}, R={R}")
    nbins = {"uniform": P + 2, "default": 2 ** P, "ror": 2 ** P, "nri_uniform": P * (P - 1) + 3}
    if method not in nbins:
        raise ValueError(f"method must be one of {sorted(nbins)}, got {method!r}")
    k = nbins[method]
    npx = stack.shape[1] * stack.shape[2]

    def block(c):
        if method == "uniform":
            codes = _lbp_uniform_codes(c.astype(np.float64), P, R).astype(np.int64)
        else:
            from skimage.feature import local_binary_pattern
            codes = np.stack([local_binary_pattern(im, P, R, method) for im in c]).astype(np.int64)
        flat = (codes.reshape(len(c), -1) + np.arange(len(c))[:, None] * k).ravel()
        return np.bincount(flat, minlength=len(c) * k).reshape(len(c), k) / npx

    X = _map_chunks(block, stack, chunk, _n_jobs(n_jobs))
    return X.astype(np.float64), [f"lbp_{method}_P{P}_R{R:g}_{b}" for b in range(k)]


# ----------------------------------------------------------------------------- HOG
def _hog_block(stack, orientations, ppc, cpb):
    """scikit-image's ``hog(img, ..., block_norm='L2-Hys')`` over a stack, same arithmetic."""
    n, H, W = stack.shape
    fdt = np.float32 if stack.dtype in (np.float16, np.float32) else np.float64
    img = stack.astype(fdt)
    g_row = np.zeros_like(img)
    g_col = np.zeros_like(img)
    g_row[:, 1:-1, :] = img[:, 2:, :] - img[:, :-2, :]
    g_col[:, :, 1:-1] = img[:, :, 2:] - img[:, :, :-2]
    g_row = g_row.astype(np.float64)
    g_col = g_col.astype(np.float64)
    mag = np.hypot(g_col, g_row)
    ori = np.rad2deg(np.arctan2(g_row, g_col)) % 180
    # bin edges as the Cython code has them: float32(180/n) * (i+1), stored in a float32
    step = np.float32(180.0 / orientations)
    edges = (step * np.arange(orientations + 1, dtype=np.float32)).astype(np.float64)
    bins = np.searchsorted(edges, ori, side="right") - 1  # edges[i] <= ori < edges[i+1]
    c_row, c_col = ppc
    n_cr, n_cc = H // c_row, W // c_col
    acc = np.zeros(n * n_cr * n_cc * orientations, dtype=np.float32)
    base = (np.arange(n * n_cr * n_cc) * orientations).reshape(n, n_cr, n_cc)
    for dy in range(c_row):  # the same order as the Cython loop: rows, then columns
        for dx in range(c_col):
            m = mag[:, dy:n_cr * c_row:c_row, dx:n_cc * c_col:c_col]
            b = bins[:, dy:n_cr * c_row:c_row, dx:n_cc * c_col:c_col]
            ok = b < orientations
            idx = (base + b)[ok]
            # C: `float total += double magnitude`, i.e. add in double, round to float32
            acc[idx] = (acc[idx] + m[ok]).astype(np.float32)
    acc = acc.reshape(n, n_cr, n_cc, orientations)
    hist = (acc / np.float32(c_row * c_col)).astype(np.float64)
    b_row, b_col = cpb
    n_br, n_bc = n_cr - b_row + 1, n_cc - b_col + 1
    if n_br <= 0 or n_bc <= 0:
        raise ValueError(f"images of {H}x{W} are too small for pixels_per_cell={ppc} and "
                         f"cells_per_block={cpb}: need at least {b_row * c_row}x{b_col * c_col}")
    blocks = np.empty((n, n_br, n_bc, b_row, b_col, orientations), dtype=np.float64)
    for r in range(b_row):
        for c in range(b_col):
            blocks[:, :, :, r, c, :] = hist[:, r:r + n_br, c:c + n_bc, :]
    eps = 1e-5
    flat = blocks.reshape(n, n_br, n_bc, -1)
    out = flat / np.sqrt(np.sum(flat ** 2, axis=-1, keepdims=True) + eps ** 2)
    out = np.minimum(out, 0.2)
    out = out / np.sqrt(np.sum(out ** 2, axis=-1, keepdims=True) + eps ** 2)
    return out.reshape(n, -1)


def hog_features(images, *, orientations: int = 9, pixels_per_cell=(8, 8),
                 cells_per_block=(2, 2), n_jobs=None, chunk: int = 128,
                 ) -> tuple[np.ndarray, list[str]]:
    """Histogram of oriented gradients (chapter 4): equals
    ``skimage.feature.hog(img, orientations, pixels_per_cell, cells_per_block,
    block_norm='L2-Hys', feature_vector=True)`` per image (to float rounding).
    Column ``hog_b{row}_{col}_c{row}_{col}_o{k}`` is block, cell within block, orientation bin.
    """
    stack, _ = _as_stack(images, "images")
    orientations = int(orientations)
    if orientations < 1:
        raise ValueError(f"orientations must be >= 1, got {orientations}")
    ppc = tuple(int(v) for v in pixels_per_cell)
    cpb = tuple(int(v) for v in cells_per_block)
    if len(ppc) != 2 or len(cpb) != 2 or min(ppc + cpb) < 1:
        raise ValueError("pixels_per_cell and cells_per_block must be pairs of positive ints")
    H, W = stack.shape[1:]
    n_br, n_bc = H // ppc[0] - cpb[0] + 1, W // ppc[1] - cpb[1] + 1
    if n_br <= 0 or n_bc <= 0:
        raise ValueError(f"images of {H}x{W} are too small for pixels_per_cell={ppc} and "
                         f"cells_per_block={cpb}: need at least "
                         f"{cpb[0] * ppc[0]}x{cpb[1] * ppc[1]}")
    X = _map_chunks(lambda c: _hog_block(c, orientations, ppc, cpb), stack, chunk,
                    _n_jobs(n_jobs))
    names = [f"hog_b{br}_{bc}_c{r}_{c}_o{o}" for br in range(n_br) for bc in range(n_bc)
             for r in range(cpb[0]) for c in range(cpb[1]) for o in range(orientations)]
    return X, names


# ----------------------------------------------------------------------------- together
def texture_features(images, *, levels: int = 256, distances=(1,), angles=DEFAULT_ANGLES,
                     props=GLCM_PROPS, P: int = 8, R: float = 1.0,
                     hog: bool = True, orientations: int = 9, pixels_per_cell=(8, 8),
                     cells_per_block=(2, 2), first_order: bool = True, progress: bool = True,
                     n_jobs=None, chunk: int = 128) -> tuple[np.ndarray, list[str]]:
    """GLCM + uniform-LBP histogram + HOG (+ first-order statistics) for a batch of uint8
    images, concatenated in that order, with a progress bar over chunks (chapter 4)."""
    stack, _ = _as_stack(images, "images", uint8=True)
    n_jobs = _n_jobs(n_jobs)
    kw = dict(n_jobs=1, chunk=chunk)

    def block(c):
        parts = [glcm_features(c, distances=distances, angles=angles, levels=levels,
                               props=props, **kw)[0],
                 lbp_histograms(c, P=P, R=R, **kw)[0]]
        if hog:
            parts.append(hog_features(c, orientations=orientations,
                                      pixels_per_cell=pixels_per_cell,
                                      cells_per_block=cells_per_block, **kw)[0])
        if first_order:
            parts.append(first_order_features(c)[0])
        return np.concatenate(parts, axis=1)

    one = stack[:1]
    names = glcm_features(one, distances=distances, angles=angles, levels=levels,
                          props=props)[1] + lbp_histograms(one, P=P, R=R)[1]
    if hog:
        names += hog_features(one, orientations=orientations, pixels_per_cell=pixels_per_cell,
                              cells_per_block=cells_per_block)[1]
    if first_order:
        names += first_order_features(one)[1]
    bar = None
    if progress:
        from medlab.progress import progress as _progress
        bar = _progress(total=len(stack), desc="texture features", unit="img")
    try:
        X = _map_chunks(block, stack, chunk, n_jobs, bar)
    finally:
        if bar is not None:
            bar.close()
    return X, names


# ----------------------------------------------------------------------------- shape
SHAPE_PROPS = ("area", "perimeter", "eccentricity", "solidity", "extent",
               "axis_major_length", "axis_minor_length", "orientation",
               "equivalent_diameter_area", "euler_number")
INTENSITY_PROPS = ("intensity_mean", "intensity_min", "intensity_max")


def shape_features(mask_or_labels, intensity=None, *, as_frame: bool = False):
    """Shape (and, given ``intensity``, intensity) features from
    ``skimage.measure.regionprops`` (chapter 4), plus circularity ``4 pi area / perimeter^2``.

    * a 2-D **integer label image**: one row per label (0 is background);
    * a 2-D **boolean mask**: one row, the whole foreground as one region (label 1);
    * a 3-D **stack of boolean masks** ``(n, H, W)``: one row per mask (NaN for an empty one).

    Returns ``(X, names)``, or a pandas DataFrame with a ``label`` (or ``image``) column when
    ``as_frame=True``.
    """
    from skimage.measure import regionprops

    arr = np.asarray(mask_or_labels) if mask_or_labels is not None else None
    if arr is None or arr.ndim not in (2, 3):
        raise ValueError("mask_or_labels must be a 2-D mask/label image or a 3-D stack of masks, "
                         f"got {None if arr is None else f'ndim={arr.ndim}'}")
    if arr.size == 0:
        raise ValueError(f"mask_or_labels is empty (shape {arr.shape})")
    if not (arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"mask_or_labels must be boolean or integer labels, got {arr.dtype}")
    if intensity is not None:
        intensity = np.asarray(intensity)
        if intensity.shape != arr.shape:
            raise ValueError(f"intensity must have the shape of mask_or_labels {arr.shape}, "
                             f"got {intensity.shape}")
    names = list(SHAPE_PROPS) + ["circularity"] + (list(INTENSITY_PROPS) if intensity is not None
                                                   else [])

    def row(region):
        vals = [float(getattr(region, p)) for p in SHAPE_PROPS]
        per = region.perimeter
        vals.append(4 * np.pi * region.area / per ** 2 if per > 0 else np.nan)
        if intensity is not None:
            vals += [float(np.asarray(getattr(region, p)).mean()) for p in INTENSITY_PROPS]
        return vals

    ids, rows = [], []
    if arr.ndim == 2:
        labels = arr.astype(np.int64) if arr.dtype == np.bool_ else arr
        if (labels < 0).any():
            raise ValueError("mask_or_labels must not hold negative labels")
        for reg in regionprops(labels, intensity_image=intensity):
            ids.append(reg.label)
            rows.append(row(reg))
        key = "label"
    else:
        if arr.dtype != np.bool_ and not np.isin(np.unique(arr), (0, 1)).all():
            raise ValueError("a 3-D mask_or_labels must be a stack of boolean (0/1) masks")
        for k, m in enumerate(arr.astype(np.int64) > 0):
            regs = regionprops(m.astype(np.int64),
                               intensity_image=None if intensity is None else intensity[k])
            ids.append(k)
            rows.append(row(regs[0]) if regs else [np.nan] * len(names))
        key = "image"
    X = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(names))
    if as_frame:
        import pandas as pd

        df = pd.DataFrame(X, columns=names)
        df.insert(0, key, ids)
        return df
    return X, names


def icc(ratings, kind: str = "ICC(2,1)") -> float:
    """Intraclass correlation of an ``(n_subjects, k_measurements)`` table (Shrout & Fleiss
    1979), the agreement statistic radiomics uses to keep features that are stable under
    re-measurement (chapter 4). ``kind``: ``"ICC(1,1)"`` (one-way), ``"ICC(2,1)"`` (two-way
    random effects, absolute agreement, the usual choice) or ``"ICC(3,1)"`` (two-way mixed,
    consistency). 1 means the measurements agree perfectly; Koo & Li (2016) call values
    above 0.75 good and above 0.9 excellent."""
    x = np.asarray(ratings, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise ValueError(f"ratings must be (n_subjects >= 2, k_measurements >= 2), got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("ratings must be finite")
    kinds = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)")
    if kind not in kinds:
        raise ValueError(f"kind must be one of {kinds}, got {kind!r}")
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * ((x.mean(1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(0) - grand) ** 2).sum()
    ss_total = ((x - grand) ** 2).sum()
    ms_r = ss_rows / (n - 1)
    ms_c = ss_cols / (k - 1)
    ms_e = (ss_total - ss_rows - ss_cols) / ((n - 1) * (k - 1))
    ms_w = (ss_total - ss_rows) / (n * (k - 1))
    if kind == "ICC(1,1)":
        num, den = ms_r - ms_w, ms_r + (k - 1) * ms_w
    elif kind == "ICC(2,1)":
        num, den = ms_r - ms_e, ms_r + (k - 1) * ms_e + k * (ms_c - ms_e) / n
    else:
        num, den = ms_r - ms_e, ms_r + (k - 1) * ms_e
    if den == 0:  # every measurement identical: perfect agreement
        return 1.0
    return float(num / den)


def icc_interval(ratings, kind: str = "ICC(2,1)", confidence: float = 0.95
                 ) -> tuple[float, float, float]:
    """``(icc, lower, upper)``: :func:`icc` with its F-based confidence interval (chapter 4).

    The intervals of Shrout & Fleiss (1979) and McGraw & Wong (1996): for ICC(1,1) and
    ICC(3,1) exact, from the F ratio ``MS_rows / MS_within`` (``/ MS_error``) and the F
    distribution's quantiles, ``(F_L - 1) / (F_L + k - 1)``; for ICC(2,1) approximate, with
    Satterthwaite's degrees of freedom ``v`` for the denominator mean square. The same formulas
    as R's ``psych::ICC`` and pingouin's ``intraclass_corr``. Koo & Li (2016) ask that reliability
    be read from the interval, not from the estimate alone.
    """
    from scipy.stats import f as f_dist

    value = icc(ratings, kind)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    x = np.asarray(ratings, dtype=np.float64)
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * ((x.mean(1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(0) - grand) ** 2).sum()
    ss_total = ((x - grand) ** 2).sum()
    ms_r, ms_c = ss_rows / (n - 1), ss_cols / (k - 1)
    df_e = (n - 1) * (k - 1)
    ms_e = (ss_total - ss_rows - ss_cols) / df_e
    ms_w = (ss_total - ss_rows) / (n * (k - 1))
    q = 1 - (1 - confidence) / 2
    if kind in ("ICC(1,1)", "ICC(3,1)"):
        ms_den, df_den = (ms_w, n * (k - 1)) if kind == "ICC(1,1)" else (ms_e, df_e)
        if ms_den == 0:  # no within-subject variation: the interval collapses on 1
            return value, 1.0, 1.0
        f_obs = ms_r / ms_den
        f_lo = f_obs / f_dist.ppf(q, n - 1, df_den)
        f_hi = f_obs * f_dist.ppf(q, df_den, n - 1)
        return value, float((f_lo - 1) / (f_lo + k - 1)), float((f_hi - 1) / (f_hi + k - 1))
    if ms_e == 0 or value >= 1:
        return value, 1.0, 1.0
    # ICC(2,1): McGraw & Wong's (1996) Satterthwaite degrees of freedom v
    a = k * value / (n * (1 - value))
    b = 1 + k * value * (n - 1) / (n * (1 - value))
    v = (a * ms_c + b * ms_e) ** 2 / ((a * ms_c) ** 2 / (k - 1) + (b * ms_e) ** 2 / df_e)
    f_up = f_dist.ppf(q, n - 1, v)
    f_lw = f_dist.ppf(q, v, n - 1)
    lower = n * (ms_r - f_up * ms_e) / (f_up * (k * ms_c + (k * n - k - n) * ms_e) + n * ms_r)
    upper = n * (f_lw * ms_r - ms_e) / (k * ms_c + (k * n - k - n) * ms_e + n * f_lw * ms_r)
    return value, float(lower), float(upper)


def segment_dark_lesion(images, *, sigma: float = 1.0, alpha: float = 0.6,
                        search_radius: float = 6.0) -> np.ndarray:
    """Segment one dark (hypoechoic) lesion per ultrasound image by region growing, chapter
    3's flood fill from a seed (chapter 6): smooth with a Gaussian (``sigma`` pixels), take as
    seed the darkest pixel within ``search_radius`` pixels of the centre, keep the connected
    region darker than ``seed + alpha * (median - seed)``, open it with a disk of radius 1
    and fill its holes. Returns a boolean stack ``(n, H, W)``, one non-empty mask per image.
    """
    from scipy import ndimage
    from skimage import filters, measure, morphology

    stack, _ = _as_stack(images, "images")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if search_radius <= 0:
        raise ValueError(f"search_radius must be positive, got {search_radius}")
    n, H, W = stack.shape
    yy, xx = np.mgrid[:H, :W]
    central = (yy - (H - 1) / 2) ** 2 + (xx - (W - 1) / 2) ** 2 <= search_radius ** 2
    out = np.zeros(stack.shape, dtype=bool)
    for k, img in enumerate(stack.astype(np.float64)):
        smooth = filters.gaussian(img, sigma=sigma, preserve_range=True)
        seed = np.unravel_index(np.argmin(np.where(central, smooth, np.inf)), smooth.shape)
        threshold = smooth[seed] + alpha * (np.median(smooth) - smooth[seed])
        regions = measure.label(smooth <= threshold)
        grown = regions == regions[seed]
        opened = morphology.opening(grown, morphology.disk(1)).astype(bool)
        out[k] = ndimage.binary_fill_holes(opened if opened[seed] else grown)
    return out


LESION_SHAPE_NAMES = ("area", "perimeter", "eccentricity", "solidity", "circularity",
                      "taller_than_wide")


def lesion_shape_features(masks) -> tuple[np.ndarray, list[str]]:
    """Shape of one lesion per mask (chapter 6): area and perimeter (pixels), eccentricity,
    solidity and circularity from :func:`shape_features`, and the **taller-than-wide** ratio
    radiologists read (height / width of the bounding box: > 1 means taller than wide, a sign
    of malignancy). ``masks``: a boolean stack ``(n, H, W)``; an empty mask gives NaNs."""
    arr = np.asarray(masks)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"masks must be a (n, H, W) stack of boolean masks, got shape {arr.shape}")
    if arr.dtype != np.bool_:
        if not np.isin(np.unique(arr), (0, 1)).all():
            raise ValueError("masks must be boolean (or 0/1) masks")
        arr = arr.astype(bool)
    X, names = shape_features(arr)
    cols = [names.index(p) for p in LESION_SHAPE_NAMES[:-1]]
    ratio = np.full(len(arr), np.nan)
    for k, m in enumerate(arr):
        rows, cols_ = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
        if rows.size:
            ratio[k] = (rows[-1] - rows[0] + 1) / (cols_[-1] - cols_[0] + 1)
    return np.column_stack([X[:, cols], ratio]), list(LESION_SHAPE_NAMES)

