"""The data registry, the verified downloader and the loaders."""

from __future__ import annotations

import hashlib
import io
import warnings

import numpy as np
import pytest

from medlab import data
from medlab.data import DownloadError, RemoteFile, fetch, load_medmnist
from medlab.data.loaders import _read_medmnist_npz


def _npz_bytes(n_train=6, n_val=2, n_test=3, size=28, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in [("train", n_train), ("val", n_val), ("test", n_test)]:
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
        arrays[f"{split}_labels"] = rng.integers(0, 2, (n, 1), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue(), arrays


def _entry(body: bytes, name="testmnist") -> RemoteFile:
    return RemoteFile(name=name, url="http://127.0.0.1:9/unused", md5=hashlib.md5(body).hexdigest(),
                      licence="CC0", citation="test", description="test file",
                      record="a file the test made")


def test_registry_has_medmnist_with_hashes():
    for name in ("breastmnist", "pneumoniamnist", "dermamnist"):
        entry = data.REGISTRY[name]
        assert len(entry.md5) == 32 and int(entry.md5, 16) >= 0
        assert entry.licence == "CC BY 4.0" and "MedMNIST" in entry.citation
        assert entry.url.startswith("https://zenodo.org/")


def test_unknown_name_lists_known_ones():
    with pytest.raises(KeyError, match="breastmnist"):
        fetch("no-such-data")


def test_fetch_good_file_then_cache_hit(http_server, tmp_path):
    base, handler = http_server
    body, _ = _npz_bytes()
    handler.files["/good.npz"] = body
    entry = _entry(body)
    path = fetch(entry, cache_dir=tmp_path, url=f"{base}/good.npz", progress=False)
    assert path == tmp_path / "testmnist.npz" and path.read_bytes() == body
    handler.files.clear()  # a second call must not need the server
    assert fetch(entry, cache_dir=tmp_path, url=f"{base}/good.npz", progress=False) == path


def test_corrupted_cache_file_is_replaced(http_server, tmp_path):
    base, handler = http_server
    body, _ = _npz_bytes()
    handler.files["/good.npz"] = body
    (tmp_path / "testmnist.npz").write_bytes(b"half a file")
    path = fetch(_entry(body), cache_dir=tmp_path, url=f"{base}/good.npz", progress=False)
    assert path.read_bytes() == body


def test_wrong_checksum_raises_and_leaves_nothing(http_server, tmp_path):
    base, handler = http_server
    body, _ = _npz_bytes()
    handler.files["/bad.npz"] = body + b"tampered"
    with pytest.raises(DownloadError, match="checksum") as info:
        fetch(_entry(body), cache_dir=tmp_path, url=f"{base}/bad.npz", progress=False)
    assert "testmnist" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_truncated_transfer_raises_and_leaves_nothing(http_server, tmp_path):
    base, handler = http_server
    body, _ = _npz_bytes(n_train=200)
    handler.files["/cut.npz"] = body
    handler.truncate.add("/cut.npz")
    with pytest.raises(DownloadError):
        fetch(_entry(body), cache_dir=tmp_path, url=f"{base}/cut.npz", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_server_down_names_data_set_and_cache(free_port, tmp_path, capfd):
    body, _ = _npz_bytes()
    with pytest.raises(DownloadError) as info:
        fetch(_entry(body), cache_dir=tmp_path, url=f"http://127.0.0.1:{free_port}/x.npz",
              progress=False, timeout=5)
    message = str(info.value)
    assert "testmnist" in message and str(tmp_path) in message
    assert list(tmp_path.iterdir()) == []
    assert capfd.readouterr().err == ""  # nothing on stderr: it would show on the page


def test_medlab_data_env_sets_cache(monkeypatch, tmp_path):
    from medlab.config import data_dir

    monkeypatch.setenv("MEDLAB_DATA", str(tmp_path / "cache"))
    assert data_dir() == tmp_path / "cache"


def test_load_medmnist_from_local_server(http_server, tmp_path, monkeypatch):
    """The real loader, on an .npz with MedMNIST's keys served from 127.0.0.1."""
    base, handler = http_server
    body, arrays = _npz_bytes()
    handler.files["/breastmnist.npz"] = body
    real = data.registry.REGISTRY["breastmnist"]
    fake = RemoteFile(**{**real.__dict__, "md5": hashlib.md5(body).hexdigest()})
    monkeypatch.setitem(data.registry.REGISTRY, "breastmnist", fake)
    test = load_medmnist("breastmnist", "test", cache_dir=tmp_path,
                         url=f"{base}/breastmnist.npz", offline="error")
    assert not test.synthetic and test.split == "test"
    np.testing.assert_array_equal(test.images, arrays["test_images"])
    np.testing.assert_array_equal(test.labels, arrays["test_labels"].ravel())
    assert test.labels.dtype == np.int64 and test.images.shape == (3, 28, 28)
    assert test.info["licence"] == "CC BY 4.0"


def test_load_medmnist_offline_error_and_bad_arguments(free_port, tmp_path):
    url = f"http://127.0.0.1:{free_port}/x.npz"
    with pytest.raises(DownloadError, match="breastmnist"):
        load_medmnist("breastmnist", "train", cache_dir=tmp_path, url=url, offline="error")
    with pytest.raises(ValueError, match="split"):
        load_medmnist("breastmnist", "training")
    with pytest.raises(ValueError, match="offline"):
        load_medmnist("breastmnist", "train", offline="maybe")


def test_medlab_offline_error_makes_the_loader_raise(free_port, tmp_path, monkeypatch):
    url = f"http://127.0.0.1:{free_port}/x.npz"  # nothing listens there
    monkeypatch.setenv("MEDLAB_OFFLINE", "error")
    with pytest.raises(DownloadError, match="breastmnist"):
        load_medmnist("breastmnist", "test", cache_dir=tmp_path, url=url)
    monkeypatch.setenv("MEDLAB_OFFLINE", "sometimes")
    with pytest.raises(ValueError, match="MEDLAB_OFFLINE"):
        load_medmnist("breastmnist", "test", cache_dir=tmp_path, url=url)


def test_fallback_to_the_standin_is_loud(http_server, tmp_path, monkeypatch):
    """A 404 (or no network) gives the stand-in with a warning that says why and what to do."""
    from medlab.data import loaders

    base, _ = http_server  # serves nothing: every request is a 404
    monkeypatch.delenv("MEDLAB_OFFLINE", raising=False)
    monkeypatch.setattr(loaders, "_ANNOUNCED", set())
    with pytest.warns(UserWarning, match="SYNTHETIC STAND-IN") as caught:
        test = load_medmnist("breastmnist", "test", cache_dir=tmp_path, url=f"{base}/x.npz")
    message = str(caught[0].message)
    assert test.synthetic and "404" in message
    assert "python -m medlab.data fetch breastmnist" in message and str(tmp_path) in message
    assert not list(tmp_path.glob("*.npz")), "a failed download left a file behind"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once per data set, not once per split
        load_medmnist("breastmnist", "val", cache_dir=tmp_path, url=f"{base}/x.npz")


def test_read_npz_with_missing_keys_names_file(tmp_path):
    path = tmp_path / "broken.npz"
    np.savez(path, images=np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match="broken.npz"):
        _read_medmnist_npz(path, "breastmnist", "train")


def test_standin_split_labels_and_set():
    from medlab.data.standins import split_labels, standin_set

    sizes = {"train": (3, 5), "val": (1, 2), "test": (2, 2)}
    rng, labels = split_labels("train", sizes, seed=4, stream=7)
    assert labels.dtype == np.int64 and np.bincount(labels).tolist() == [3, 5]
    again_rng, again = split_labels("train", sizes, seed=4, stream=7)
    np.testing.assert_array_equal(labels, again)
    assert rng.random() == again_rng.random()  # the stream goes on from the same state
    expect = np.random.default_rng([4, 0, 7])
    np.testing.assert_array_equal(labels, np.array([0] * 3 + [1] * 5)[expect.permutation(8)])
    assert split_labels("val", sizes, 4, 7)[0].random() != split_labels("test", sizes, 4, 7)[0].random()
    with pytest.raises(ValueError, match=r"split must be one of \('train', 'val', 'test'\)"):
        split_labels("holdout", sizes, 0, 7)

    images, masks = np.zeros((2, 28, 28), np.uint8), np.zeros((2, 28, 28), bool)
    s = standin_set("breastmnist", "val", images, np.array([0, 1]), masks, source="src", seed=np.int64(2),
                    reason="offline", imitates="BreastMNIST", render_size=56, extra=[1])
    assert isinstance(s, data.ImageSet) and s.synthetic and s.split == "val" and s.masks is masks
    assert s.class_names == ["malignant", "benign/normal"] and "SYNTHETIC" in s.tag
    assert list(s.info.items()) == [("reason", "offline"), ("seed", 2), ("imitates", "BreastMNIST"),
                                    ("render_size", 56), ("extra", [1])]
    assert type(s.info["seed"]) is int
    with pytest.raises(KeyError):
        standin_set("nosuchmnist", "val", images, np.array([0, 1]), masks, source="", seed=0,
                    reason="", imitates="", render_size=28)


def test_load_wdbc():
    wdbc = data.load_wdbc()
    assert wdbc.X.shape == (569, 30) and wdbc.X.dtype == np.float64
    assert set(np.unique(wdbc.y)) == {0, 1} and wdbc.y.sum() == 212  # 212 malignant
    assert wdbc.target_names == ["benign", "malignant"] and len(wdbc.feature_names) == 30


def test_load_mni152_tissue():
    vol = data.load_mni152_tissue(resolution=2)
    assert vol.image.shape == vol.labels.shape == (99, 117, 95)
    assert vol.spacing == (2.0, 2.0, 2.0) and vol.labels.dtype == np.int64
    assert set(np.unique(vol.labels)) == {0, 1, 2, 3}
    counts = np.bincount(vol.labels.ravel())
    assert counts[2] > counts[1] and counts[3] > counts[1]  # more GM and WM than CSF
    assert vol.image[vol.labels == 3].mean() > vol.image[vol.labels == 2].mean()  # T1: WM brighter
    with pytest.raises(ValueError, match="resolution"):
        data.load_mni152_tissue(resolution=3)
