"""Speed of :mod:`medlab.features` against the naive scikit-image loop (chapter 4, appendix).

``python -m medlab.features_bench [--n 1000] [--out book/appendix]`` extracts GLCM (distance 1,
4 angles, 6 properties, 256 gray levels) + uniform LBP histogram (P=8, R=1) + HOG (9 bins,
8x8 cells, 2x2 blocks) from the same ``n`` 64x64 patches twice: once with the naive loop (one
image at a time, ``graycomatrix`` then ``graycoprops`` per property) and once with
``medlab.features``; checks that the values agree and writes ``features_speed.json`` and
``features_speed.md``. This module imports :mod:`medlab.features`, never the reverse.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from medlab import features as F

ROOT = Path(__file__).resolve().parents[1]


def sample_patches(n: int = 1000, size: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random ``size x size`` uint8 patches from scikit-image's bundled gray images
    (no download), and the index of the source image of each patch."""
    from skimage import color, data

    sources = [data.camera(), data.moon(), data.brick(), data.grass(), data.gravel(),
               data.coins(), data.cell(), (255 * color.rgb2gray(data.retina())).astype(np.uint8)]
    rng = np.random.default_rng(seed)
    src = rng.integers(0, len(sources), n)
    out = np.empty((n, size, size), dtype=np.uint8)
    for k, s in enumerate(src):
        img = sources[s]
        r = rng.integers(0, img.shape[0] - size + 1)
        c = rng.integers(0, img.shape[1] - size + 1)
        out[k] = img[r:r + size, c:c + size]
    return out, src


def naive_features(images, *, levels: int = 256, progress: bool = False) -> np.ndarray:
    """The loop a first script writes: one image at a time, one property at a time."""
    from skimage.feature import graycomatrix, graycoprops, hog, local_binary_pattern

    it = images
    if progress:
        from medlab.progress import progress as _progress
        it = _progress(images, desc="naive loop", unit="img")
    rows = []
    for img in it:
        glcm = graycomatrix(img, [1], F.DEFAULT_ANGLES, levels=levels, symmetric=True, normed=True)
        g = [graycoprops(glcm, p).ravel() for p in F.GLCM_PROPS]
        codes = local_binary_pattern(img, 8, 1.0, "uniform")
        lbp = np.bincount(codes.astype(int).ravel(), minlength=10) / codes.size
        h = hog(img, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2))
        rows.append(np.concatenate(g + [lbp, h]))
    return np.asarray(rows)


def fast_features(images, *, levels: int = 256, n_jobs=None) -> np.ndarray:
    """The same columns as :func:`naive_features`, with :mod:`medlab.features`."""
    return F.texture_features(images, levels=levels, first_order=False, progress=False,
                              n_jobs=n_jobs)[0]


def compare(n: int = 1000, *, n_naive: int | None = None, seed: int = 0, n_jobs=None,
            repeats: int = 1) -> dict:
    """Time both on the same ``n`` patches (the naive loop on the first ``n_naive`` only,
    scaled up linearly, when ``n_naive < n``) and check that the values agree."""
    images, _ = sample_patches(n, seed=seed)
    n_naive = n if n_naive is None else min(n, n_naive)
    t0 = time.perf_counter()
    ref = naive_features(images[:n_naive])
    t_naive = (time.perf_counter() - t0) * n / n_naive
    times = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        fast = fast_features(images, n_jobs=n_jobs)
        times.append(time.perf_counter() - t0)
    t_fast = min(times)
    diff = np.abs(fast[:n_naive] - ref)
    rel = float((diff / np.maximum(np.abs(ref), 1.0)).max())
    return {
        "n_images": n, "image_size": [64, 64], "n_naive_timed": n_naive,
        "features": "GLCM d=1, 4 angles, 6 props, 256 levels + uniform LBP(8,1) hist + "
                    "HOG(9, 8x8, 2x2)",
        "n_features": int(fast.shape[1]),
        "naive_s": round(t_naive, 3), "medlab_s": round(t_fast, 4),
        "speedup": round(t_naive / t_fast, 1),
        "max_abs_diff": float(diff.max()), "max_rel_diff": rel,
        "n_jobs": F._n_jobs(n_jobs), "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }


def write(result: dict, out_dir: str | Path) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    js = out_dir / "features_speed.json"
    md = out_dir / "features_speed.md"
    js.write_text(json.dumps(result, indent=2) + "\n")
    md.write_text(
        "| method | time for {n} images of 64x64 (s) | speed-up |\n"
        "|---|---:|---:|\n"
        "| naive loop (scikit-image, one image and one property at a time) | {naive_s:.2f} | 1x |\n"
        "| `medlab.features` ({n_jobs} threads) | {medlab_s:.2f} | {speedup:.1f}x |\n\n"
        "{features}; {n_features} features per image. Largest difference from scikit-image's "
        "values: {max_abs_diff:.1e} absolute, {max_rel_diff:.1e} relative.\n".format(
            n=result["n_images"], **result))
    return js, md


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m medlab.features_bench",
                                 description="time medlab.features against the naive loop "
                                             "(scikit-image, one image at a time) on the same "
                                             "images")
    ap.add_argument("--n", type=int, default=1000, help="number of 64x64 images (1000)")
    ap.add_argument("--n-jobs", type=int, default=None, help="threads (default: up to 2)")
    ap.add_argument("--repeats", type=int, default=3, help="best of this many fast runs")
    ap.add_argument("--out", default=str(ROOT / "book" / "appendix"),
                    help="folder for features_speed.json/.md (book/appendix)")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error(f"--n must be a positive number of images, got {args.n}")
    res = compare(args.n, n_jobs=args.n_jobs, repeats=args.repeats)
    js, md = write(res, args.out)
    print(md.read_text())
    print(f"wrote {js} and {md}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
