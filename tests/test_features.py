"""medlab.features equals scikit-image's own functions on known inputs (chapter 4)."""

import numpy as np
import pytest
from scipy import stats
from skimage import data
from skimage.feature import graycomatrix, graycoprops, hog, local_binary_pattern
from skimage.measure import regionprops

from medlab import features as F


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (12, 40, 36)).astype(np.uint8)
    cam = data.camera()
    imgs[0] = cam[100:140, 200:236]               # natural texture
    imgs[1] = 7                                    # constant: correlation 1, ASM 1
    imgs[2] = (np.arange(36)[None, :] * 7 % 256).astype(np.uint8)  # vertical stripes
    imgs[3] = data.brick()[:40, :36]
    imgs[4] = imgs[4] // 64                        # only four gray levels
    return imgs


def _ref_glcm(imgs, distances, angles, levels, props, symmetric=True):
    rows = []
    for im in F.quantise(imgs, levels):
        P = graycomatrix(im, distances, angles, levels=levels, symmetric=symmetric, normed=True)
        rows.append(np.concatenate([graycoprops(P, p).ravel() for p in props]))
    return np.asarray(rows)


@pytest.mark.parametrize("levels", [256, 32, 8])
@pytest.mark.parametrize("symmetric", [True, False])
def test_glcm_equals_skimage(images, levels, symmetric):
    d, a = (1, 2, 5), (0, np.pi / 4, np.pi / 2, 3 * np.pi / 4, np.pi / 3)
    X, names = F.glcm_features(images, distances=d, angles=a, levels=levels,
                               props=F.ALL_GLCM_PROPS, symmetric=symmetric)
    ref = _ref_glcm(images, d, a, levels, F.ALL_GLCM_PROPS, symmetric)
    assert X.shape == ref.shape == (len(images), len(F.ALL_GLCM_PROPS) * 3 * 5)
    np.testing.assert_allclose(X, ref, rtol=1e-9, atol=1e-12)
    assert names[0] == "glcm_contrast_d1_a0" and names[4] == "glcm_contrast_d1_a60"
    assert len(set(names)) == len(names)


def test_glcm_defaults_single_image_and_chunks(images):
    X1, names = F.glcm_features(images[0])
    assert X1.shape == (1, 24) and len(names) == 24
    ref = _ref_glcm(images[:1], [1], F.DEFAULT_ANGLES, 256, F.GLCM_PROPS)
    np.testing.assert_allclose(X1, ref, rtol=1e-9)
    # chunking and threads do not change the values
    Xa, _ = F.glcm_features(images, chunk=5, n_jobs=2)
    Xb, _ = F.glcm_features(images, chunk=100, n_jobs=1)
    np.testing.assert_allclose(Xa, Xb, rtol=1e-13)  # summation order only
    # constant image: correlation 1 and ASM 1, as in scikit-image
    Xc, names = F.glcm_features(images[1])
    row = dict(zip(names, Xc[0]))
    assert row["glcm_correlation_d1_a0"] == 1.0 and row["glcm_ASM_d1_a45"] == 1.0


def test_glcm_average_angles_and_offset_bigger_than_image(images):
    X, names = F.glcm_features(images, average_angles=True)
    full, _ = F.glcm_features(images)
    np.testing.assert_allclose(X, full.reshape(len(images), 6, 4).mean(-1))
    assert names == [f"glcm_{p}_d1" for p in F.GLCM_PROPS]
    # no pair fits: scikit-image gives an all-zero matrix
    Xz, _ = F.glcm_features(images[:2], distances=(50,), props=F.ALL_GLCM_PROPS)
    ref = _ref_glcm(images[:2], [50], F.DEFAULT_ANGLES, 256, F.ALL_GLCM_PROPS)
    np.testing.assert_allclose(Xz, ref)


def test_quantise():
    v = np.arange(256, dtype=np.uint8)
    q = F.quantise(v, 4)
    assert q.dtype == np.uint8 and q.min() == 0 and q.max() == 3
    assert np.bincount(q).tolist() == [64] * 4
    assert F.quantise(v, 256) is v


@pytest.mark.parametrize("P,R", [(8, 1.0), (16, 2.0), (8, 1.5), (12, 3.0), (4, 1.0)])
def test_lbp_uniform_equals_skimage(images, P, R):
    X, names = F.lbp_histograms(images, P=P, R=R)
    npx = images.shape[1] * images.shape[2]
    ref = np.array([np.bincount(local_binary_pattern(im, P, R, "uniform").astype(int).ravel(),
                                minlength=P + 2) / npx for im in images])
    np.testing.assert_array_equal(X, ref)
    assert len(names) == P + 2 and np.allclose(X.sum(1), 1.0)


@pytest.mark.parametrize("method,k", [("default", 256), ("ror", 256), ("nri_uniform", 59)])
def test_lbp_other_methods(images, method, k):
    X, names = F.lbp_histograms(images[:3], method=method)
    assert X.shape == (3, k) and len(names) == k
    ref = np.bincount(local_binary_pattern(images[0], 8, 1.0, method).astype(int).ravel(),
                      minlength=k) / images[0].size
    np.testing.assert_array_equal(X[0], ref)


@pytest.mark.parametrize("kw", [
    {},
    {"orientations": 6, "pixels_per_cell": (7, 5), "cells_per_block": (3, 2)},
    {"orientations": 12, "pixels_per_cell": (4, 4), "cells_per_block": (1, 1)},
])
def test_hog_equals_skimage(images, kw):
    X, names = F.hog_features(images, **kw)
    full = {"orientations": 9, "pixels_per_cell": (8, 8), "cells_per_block": (2, 2), **kw}
    ref = np.array([hog(im, block_norm="L2-Hys", **full) for im in images])
    assert X.shape == ref.shape and len(names) == ref.shape[1]
    np.testing.assert_allclose(X, ref, rtol=1e-12, atol=1e-15)


def test_hog_float_input():
    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        im = rng.random((32, 32)).astype(dtype)
        X, _ = F.hog_features(im)
        np.testing.assert_allclose(X[0], hog(im, 9, (8, 8), (2, 2)), rtol=1e-6, atol=1e-9)


def test_first_order_against_scipy(images):
    X, names = F.first_order_features(images)
    col = {n: X[:, k] for k, n in enumerate(names)}
    flat = images.reshape(len(images), -1).astype(float)
    np.testing.assert_allclose(col["fo_mean"], flat.mean(1))
    np.testing.assert_allclose(col["fo_std"], flat.std(1))
    np.testing.assert_allclose(col["fo_p75"], np.percentile(flat, 75, axis=1))
    ok = flat.std(1) > 0
    np.testing.assert_allclose(col["fo_skewness"][ok], stats.skew(flat[ok], axis=1))
    np.testing.assert_allclose(col["fo_kurtosis"][ok], stats.kurtosis(flat[ok], axis=1))
    assert col["fo_entropy"][1] == 0.0  # constant image
    # a mask restricts the statistics; an empty mask gives NaN
    masks = np.zeros(images.shape, bool)
    masks[0, :10, :10] = True
    Xm, _ = F.first_order_features(images, masks)
    assert Xm[0, 0] == pytest.approx(images[0, :10, :10].mean())
    assert np.isnan(Xm[1]).all()


def test_texture_features_concatenates(images):
    X, names = F.texture_features(images, progress=False, levels=32)
    g, gn = F.glcm_features(images, levels=32)
    lb, ln = F.lbp_histograms(images)
    h, hn = F.hog_features(images)
    fo, fn = F.first_order_features(images)
    np.testing.assert_allclose(X, np.hstack([g, lb, h, fo]))
    assert names == gn + ln + hn + fn
    X1, _ = F.texture_features(images[0], progress=False, hog=False, first_order=False)
    assert X1.shape == (1, 24 + 10)


def test_texture_features_progress_bar(images, capsys, monkeypatch):
    monkeypatch.setenv("MEDLAB_PROGRESS", "text")
    F.texture_features(images, chunk=4)
    captured = capsys.readouterr()
    assert "texture features" in captured.out and captured.err == ""


def test_shape_features():
    lab = np.zeros((40, 40), np.int64)
    lab[5:15, 5:25] = 1
    lab[25:35, 25:35] = 3
    inten = np.arange(1600, dtype=float).reshape(40, 40)
    X, names = F.shape_features(lab, inten)
    regs = regionprops(lab, intensity_image=inten)
    assert X.shape == (2, len(names))
    col = {n: X[:, k] for k, n in enumerate(names)}
    np.testing.assert_allclose(col["area"], [r.area for r in regs])
    np.testing.assert_allclose(col["perimeter"], [r.perimeter for r in regs])
    np.testing.assert_allclose(col["intensity_mean"], [r.intensity_mean for r in regs])
    np.testing.assert_allclose(col["circularity"],
                               [4 * np.pi * r.area / r.perimeter ** 2 for r in regs])
    df = F.shape_features(lab, as_frame=True)
    assert list(df["label"]) == [1, 3] and "intensity_mean" not in df
    # a boolean mask is one region; a stack of masks gives one row per mask
    Xb, _ = F.shape_features(lab > 0)
    assert Xb.shape[0] == 1 and Xb[0, 0] == 300
    stack = np.stack([lab == 1, lab == 3, np.zeros_like(lab, bool)])
    Xs, _ = F.shape_features(stack)
    assert Xs[0, 0] == 200 and Xs[1, 0] == 100 and np.isnan(Xs[2]).all()


@pytest.mark.parametrize("fn", [F.glcm_features, F.lbp_histograms, F.texture_features])
def test_uint8_functions_reject_bad_images(fn):
    with pytest.raises(ValueError, match="images"):
        fn(np.zeros((2, 3, 4, 5), np.uint8))                     # wrong ndim
    with pytest.raises(ValueError, match="images.*integer"):
        fn(np.random.default_rng(0).random((8, 8)))              # float where uint8 expected
    with pytest.raises(ValueError, match="images.*empty"):
        fn(np.zeros((0, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="0..255"):
        fn(np.full((8, 8), 300, np.int32))
    with pytest.raises(ValueError, match="images"):
        fn(None)


def test_bad_arguments():
    img = np.zeros((16, 16), np.uint8)
    with pytest.raises(ValueError, match="levels"):
        F.glcm_features(img, levels=1)
    with pytest.raises(ValueError, match="props"):
        F.glcm_features(img, props=("sharpness",))
    with pytest.raises(ValueError, match="distances"):
        F.glcm_features(img, distances=(1.5,))
    with pytest.raises(ValueError, match="method"):
        F.lbp_histograms(img, method="fancy")
    with pytest.raises(ValueError, match="too small"):
        F.hog_features(np.zeros((10, 10)), pixels_per_cell=(8, 8))
    with pytest.raises(ValueError, match="images"):
        F.hog_features(np.array([[True, False]]))
    with pytest.raises(ValueError, match="masks"):
        F.first_order_features(img, np.zeros((3, 3), bool))
    with pytest.raises(ValueError, match="mask_or_labels"):
        F.shape_features(np.zeros(5, bool))
    with pytest.raises(ValueError, match="mask_or_labels"):
        F.shape_features(np.zeros((5, 5)))
    with pytest.raises(ValueError, match="intensity"):
        F.shape_features(np.ones((5, 5), bool), np.ones((4, 4)))
    with pytest.raises(ValueError, match="n_jobs"):
        F.glcm_features(img, n_jobs=0)


def test_bench_small(tmp_path):
    from medlab import features_bench as B

    res = B.compare(20, n_naive=10)
    assert res["max_rel_diff"] < 1e-9 and res["n_features"] == 24 + 10 + 1764
    js, md = B.write(res, tmp_path)
    assert js.exists() and "speed-up" in md.read_text()
    assert B.main(["--n", "3", "--repeats", "1", "--out", str(tmp_path / "cli")]) == 0
    assert (tmp_path / "cli" / "features_speed.json").exists()
    with pytest.raises(SystemExit):
        B.main(["--n", "0", "--out", str(tmp_path)])


def test_features_does_not_import_its_benchmark():
    """medlab.features_bench imports medlab.features; the reverse would be a cycle."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(F.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any("features_bench" in m for m in imported), imported


def test_importing_features_does_not_load_its_benchmark():
    """The same, at run time: a fresh interpreter that imports medlab.features (and whatever it
    imports) has not loaded medlab.features_bench, so no import path leads back to it."""
    import subprocess
    import sys

    code = ("import sys, medlab.features; "
            "print('medlab.features_bench' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stdout + out.stderr


def test_chapter_checks_right_and_wrong():
    import medlab.teach

    assert medlab.teach.check("ch04-contrast", 14 / 24)
    assert not medlab.teach.check("ch04-contrast", 14 / 12)
    assert not medlab.teach.check("ch04-contrast", "a lot")
    assert medlab.teach.check("ch04-hog-length", 5940)
    assert not medlab.teach.check("ch04-hog-length", 16 * 12 * 9)
    assert medlab.teach.check("ch04-levels", "blocked") and medlab.teach.check("ch04-levels", " Blocked")
    assert not medlab.teach.check("ch04-levels", "test") and not medlab.teach.check("ch04-levels", "random")
    assert not medlab.teach.check("ch04-levels", 16)
    assert medlab.teach.check("ch04-rotation", "LBP")
    for wrong in ("HOG", "both", "neither", "SIFT", None):
        assert not medlab.teach.check("ch04-rotation", wrong)
    assert medlab.teach.check("ch05-ppv", 18 / 67)
    assert not medlab.teach.check("ch05-ppv", 0.9)
    assert not medlab.teach.check("ch05-ppv", 1.5)


def test_glcm_chebyshev_offsets(images):
    """IBSI's Chebyshev distance: at d = 2 the diagonals are (2, 2), not scikit-image's
    rounded (1, 1), so no column repeats a d = 1 column (chapter 6)."""
    a = F.DEFAULT_ANGLES
    assert F.glcm_offsets([2], a)[1] == F.glcm_offsets([1], a)[1] == (1, 1)   # the problem
    cheb = F.glcm_offsets([1, 2], a, chebyshev=True)
    assert cheb[:4] == F.glcm_offsets([1], a)            # d = 1 is the same either way
    assert [abs(r) for r, c in cheb[4:]] == [0, 2, 2, 2] and len(set(cheb)) == 8
    X_eu, _ = F.glcm_features(images, distances=(1, 2))
    X_ch, _ = F.glcm_features(images, distances=(1, 2), chebyshev=True)
    eu_dups = sum(np.allclose(X_eu[:, i], X_eu[:, j]) for i in range(X_eu.shape[1])
                  for j in range(i))
    ch_dups = sum(np.allclose(X_ch[:, i], X_ch[:, j]) for i in range(X_ch.shape[1])
                  for j in range(i))
    assert eu_dups >= 12 and ch_dups < eu_dups   # 2 diagonals x 6 properties repeat
    # the (2, 2) diagonal is scikit-image's matrix at Euclidean distance 2*sqrt(2), 45 degrees
    ref = _ref_glcm(images[:4], [2 * np.sqrt(2)], [np.pi / 4], 256, F.GLCM_PROPS)
    X45, names = F.glcm_features(images[:4], distances=(2,), angles=(np.pi / 4,), chebyshev=True)
    np.testing.assert_allclose(X45, ref, rtol=1e-9)


def test_lesion_shape_features_and_segmentation():
    """Taller-than-wide and the other lesion shape features on known shapes; the region
    growing finds a dark ellipse in speckle-like noise (chapter 6)."""
    yy, xx = np.mgrid[:28, :28]
    tall = ((yy - 14) / 8) ** 2 + ((xx - 14) / 4) ** 2 <= 1
    wide = tall.T.copy()
    X, names = F.lesion_shape_features(np.stack([tall, wide, np.zeros_like(tall)]))
    row = dict(zip(names, X[0]))
    assert names == list(F.LESION_SHAPE_NAMES)
    assert row["taller_than_wide"] > 1.8 and X[1, names.index("taller_than_wide")] < 0.6
    assert row["area"] == tall.sum() and 0.9 < row["solidity"] <= 1
    assert np.isnan(X[2]).all()
    with pytest.raises(ValueError, match="masks"):
        F.lesion_shape_features(np.full((2, 5, 5), 3))
    rng = np.random.default_rng(0)
    img = np.clip(150 + 25 * rng.normal(size=(3, 28, 28)) - 100 * tall, 0, 255).astype(np.uint8)
    seg = F.segment_dark_lesion(img)
    assert seg.shape == img.shape and seg.dtype == bool
    for m in seg:
        assert 2 * (m & tall).sum() / (m.sum() + tall.sum()) > 0.8
    with pytest.raises(ValueError, match="alpha"):
        F.segment_dark_lesion(img, alpha=1.5)


def test_icc_shrout_fleiss_example():
    """Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges."""
    x = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9],
                  [6, 2, 4, 7]])
    assert F.icc(x, "ICC(1,1)") == pytest.approx(0.17, abs=0.005)
    assert F.icc(x, "ICC(2,1)") == pytest.approx(0.29, abs=0.005)
    assert F.icc(x, "ICC(3,1)") == pytest.approx(0.71, abs=0.005)
    same = np.repeat(np.arange(5.0)[:, None], 3, axis=1)
    assert F.icc(same) == pytest.approx(1.0)
    assert F.icc(same + np.array([0, 0, 10])) < 0.5 < F.icc(same + np.array([0, 0, 10]), "ICC(3,1)")
    with pytest.raises(ValueError, match="ratings"):
        F.icc(np.ones(5))
    with pytest.raises(ValueError, match="kind"):
        F.icc(x, "ICC(4,1)")


def test_icc_interval_shrout_fleiss_example():
    """95 % intervals on Shrout & Fleiss's (1979) data, as R's psych::ICC reports them:
    ICC(1,1) [-0.133, 0.723], ICC(2,1) [0.019, 0.761], ICC(3,1) [0.342, 0.946]."""
    x = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9],
                  [6, 2, 4, 7]])
    for kind, lo, hi in (("ICC(1,1)", -0.133, 0.723), ("ICC(2,1)", 0.019, 0.761),
                         ("ICC(3,1)", 0.342, 0.946)):
        value, lower, upper = F.icc_interval(x, kind)
        assert value == pytest.approx(F.icc(x, kind))
        assert lower == pytest.approx(lo, abs=1e-3) and upper == pytest.approx(hi, abs=1e-3)
    # a wider confidence gives a wider interval
    _, l90, u90 = F.icc_interval(x, confidence=0.9)
    _, l99, u99 = F.icc_interval(x, confidence=0.99)
    assert l99 < l90 < u90 < u99
    same = np.repeat(np.arange(5.0)[:, None], 3, axis=1)
    assert F.icc_interval(same) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="confidence"):
        F.icc_interval(x, confidence=95)
    with pytest.raises(ValueError, match="kind"):
        F.icc_interval(x, "ICC(2,k)")


def _pingouin_icc2_interval(x, alpha=0.05):
    """ICC(2,1)'s interval as pingouin's intraclass_corr writes it (Satterthwaite's v through
    another algebraic form than medlab's), for a cross-check on random tables."""
    from scipy.stats import f

    n, k = x.shape
    g = x.mean()
    ssb, ssj = k * ((x.mean(1) - g) ** 2).sum(), n * ((x.mean(0) - g) ** 2).sum()
    sst = ((x - g) ** 2).sum()
    msb, msj = ssb / (n - 1), ssj / (k - 1)
    mse = (sst - ssb - ssj) / ((n - 1) * (k - 1))
    icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
    fj = msj / mse
    vn = (n - 1) * (k - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = (n - 1) * k ** 2 * icc2 ** 2 * fj ** 2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    f2u, f2l = f.ppf(1 - alpha / 2, n - 1, v), f.ppf(1 - alpha / 2, v, n - 1)
    lo = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
    hi = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)
    return lo, hi


def test_icc_interval_matches_pingouins_formula():
    rng = np.random.default_rng(0)
    for n, k in ((30, 2), (12, 3), (240, 2)):
        x = rng.normal(size=(n, 1)) + rng.normal(scale=0.6, size=(n, k)) + rng.normal(size=k)
        _, lo, hi = F.icc_interval(x)
        np.testing.assert_allclose((lo, hi), _pingouin_icc2_interval(x), rtol=1e-9)


def test_glcm_and_first_order_equal_pyradiomics(images):
    """Chapter 4's cross-check as a unit test, so that it runs wherever PyRadiomics is installed
    (3.0.1 under Python 3.11, the pyradiomics-bhklab fork under 3.12 in `make test-py312`)."""
    pytest.importorskip("radiomics")
    import logging

    import SimpleITK as sitk
    from radiomics import firstorder, glcm

    logging.getLogger("radiomics").setLevel(logging.ERROR)
    patch = images[0][:64, :64]
    whole = sitk.GetImageFromArray(np.ones((1, *patch.shape), dtype=np.uint8))
    patch16 = F.quantise(patch, 16)
    pyrad_glcm = glcm.RadiomicsGLCM(sitk.GetImageFromArray(patch16[None].astype(np.float64)), whole,
                                    binWidth=1, force2D=True, distances=[1])
    pyrad_glcm.enableAllFeatures()
    pyrad = {k: float(v) for k, v in pyrad_glcm.execute().items()}
    ours, _ = F.glcm_features(patch16, levels=256, average_angles=True,
                              props=("contrast", "homogeneity", "ASM", "correlation", "dissimilarity"))
    names = ("Contrast", "Idm", "JointEnergy", "Correlation", "DifferenceAverage")
    np.testing.assert_allclose([pyrad[k] for k in names], ours[0], rtol=1e-9)

    pyrad_fo = firstorder.RadiomicsFirstOrder(sitk.GetImageFromArray(patch[None].astype(np.float64)),
                                              whole, binWidth=1, force2D=True)
    pyrad_fo.enableAllFeatures()
    fo = {k: float(v) for k, v in pyrad_fo.execute().items()}
    values, fo_names = F.first_order_features(patch)
    mine = dict(zip(fo_names, values[0]))
    assert np.isclose(fo["Energy"], mine["fo_energy"] * patch.size, rtol=1e-9)
    assert np.isclose(fo["Kurtosis"], mine["fo_kurtosis"] + 3, rtol=1e-9)
    assert np.isclose(fo["Mean"], mine["fo_mean"], rtol=1e-12)


def test_first_order_matches_ibsi_digital_phantom():
    """medlab's intensity statistics reproduce IBSI's reference values of its digital phantom
    (to the three significant digits IBSI publishes); a wrong estimator (sample instead of
    population variance, kurtosis without the -3) would not."""
    from medlab.data import ibsi

    image, mask, spacing = ibsi.digital_phantom()
    assert image.shape == mask.shape == (4, 4, 5) and mask.sum() == 74 and spacing == (2.0, 2.0, 2.0)
    # first-order statistics ignore where the voxels are: the 3-D region as one 2-D image
    values, names = F.first_order_features(image.reshape(-1, 5), mask.reshape(-1, 5))
    fo = dict(zip(names, values[0]))
    ours = {"mean": fo["fo_mean"], "variance": fo["fo_std"] ** 2, "skewness": fo["fo_skewness"],
            "excess kurtosis": fo["fo_kurtosis"], "median": fo["fo_median"],
            "minimum": fo["fo_min"], "10th percentile": fo["fo_p10"],
            "90th percentile": fo["fo_p90"], "maximum": fo["fo_max"],
            "interquartile range": fo["fo_iqr"], "range": fo["fo_range"],
            "energy": fo["fo_energy"] * mask.sum()}
    for name, value in ours.items():
        assert ibsi.agrees(value, ibsi.REFERENCE[name][1]), (name, value)
    # the checker itself can fail: the sample variance (ddof=1) is 3.09, not 3.05
    assert not ibsi.agrees(image[mask].var(ddof=1), ibsi.REFERENCE["variance"][1])
    assert not ibsi.agrees(ours["excess kurtosis"] + 3, ibsi.REFERENCE["excess kurtosis"][1])


def test_pyradiomics_matches_ibsi_digital_phantom():
    pytest.importorskip("radiomics")
    import logging

    import SimpleITK as sitk
    from radiomics import firstorder, glcm

    from medlab.data import ibsi

    logging.getLogger("radiomics").setLevel(logging.ERROR)
    image, mask, spacing = ibsi.digital_phantom()
    img, roi = sitk.GetImageFromArray(image), sitk.GetImageFromArray(mask.astype(np.uint8))
    for im in (img, roi):
        im.SetSpacing(spacing[::-1])  # SimpleITK's order is (x, y, z)
    fo = firstorder.RadiomicsFirstOrder(img, roi, binWidth=1)
    fo.enableAllFeatures()
    fo = {k: float(v) for k, v in fo.execute().items()}
    assert ibsi.agrees(fo["Energy"], ibsi.REFERENCE["energy"][1])
    assert ibsi.agrees(fo["Mean"], ibsi.REFERENCE["mean"][1])
    cm = glcm.RadiomicsGLCM(img, roi, binWidth=1)
    cm.enableFeatureByName("MaximumProbability")
    value = float(cm.execute()["MaximumProbability"])
    assert ibsi.agrees(value, ibsi.REFERENCE["GLCM joint maximum (3D, averaged)"][1])
