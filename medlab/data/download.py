"""Downloads with a verified hash, written atomically into the cache (``MEDLAB_DATA``).

Built on :mod:`pooch`: it writes to a temporary file, checks the MD5, and only then moves the
file into place, so an interrupted or corrupted download never leaves a file behind. A file
already in the cache is re-hashed before use.
"""

from __future__ import annotations

from pathlib import Path

from medlab.config import data_dir
from medlab.data.registry import RemoteFile, get


class DownloadError(RuntimeError):
    """A data set could not be fetched or failed its checksum."""


def md5sum(path: str | Path) -> str:
    """MD5 of a file, read in chunks."""
    import hashlib

    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(name: str | RemoteFile, *, cache_dir: str | Path | None = None,
          url: str | None = None, timeout: float = 60.0, progress: bool = True) -> Path:
    """Return the local path of a registered file, downloading it when it is missing.

    ``url`` overrides the registry's address (the tests serve files on 127.0.0.1).
    Raises :class:`DownloadError` naming the data set, the address and the cache directory.
    """
    import pooch

    entry = get(name) if isinstance(name, str) else name
    cache = Path(cache_dir) if cache_dir is not None else data_dir()
    source = url or entry.url
    target = cache / entry.filename
    if target.exists() and md5sum(target) == entry.md5:
        return target
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the cache directory {cache} for {entry.name!r}: "
                            f"{exc}; set MEDLAB_DATA to a writable folder") from exc
    downloader = pooch.HTTPDownloader(progressbar=progress, timeout=timeout)
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # pooch logs each attempt to stderr; our errors say it all
    try:
        path = pooch.retrieve(source, known_hash=f"md5:{entry.md5}", fname=entry.filename,
                              path=cache, downloader=downloader)
    except ValueError as exc:  # pooch's hash mismatch
        raise DownloadError(
            f"{entry.name!r} from {source} failed its checksum (expected MD5 {entry.md5} of "
            f"{entry.record}); nothing was written to {cache}"
        ) from exc
    except Exception as exc:  # connection refused, DNS, timeout, truncated transfer
        raise DownloadError(
            f"could not download {entry.name!r} from {source} into {cache}: "
            f"{type(exc).__name__}: {exc}. Offline? Copy {entry.filename} into {cache} "
            f"(or set MEDLAB_DATA), or use the book's offline stand-in."
        ) from exc
    finally:
        logger.setLevel(level)
    return Path(path)
