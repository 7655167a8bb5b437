"""Paths that may be object-store URLs (fsspec: `s3://`, `gs://`, `hf://`, `memory://`, `file://`). Local paths
stay plain `os` paths (fast, and what the run folder's locks and atomic renames need); a URL goes through fsspec.
The backends are fsspec's: `s3fs` for s3://, `gcsfs` for gs:// (pip install them where you need them)."""

from __future__ import annotations

import os
from typing import BinaryIO


def is_url(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def local(path: str) -> str:
    """A `file://` URL as a plain path; other paths unchanged."""
    return path[len("file://"):] if path.startswith("file://") else path


def filesystem(url: str):
    """(fsspec filesystem, path within it) for a URL; an unknown protocol or a missing backend is a clear error."""
    import fsspec

    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as e:
        raise OSError(f"{url}: {e}") from None


def open_binary(path: str) -> BinaryIO:
    if not is_url(path):
        return open(local(path), "rb")
    fs, p = filesystem(path)
    return fs.open(p, "rb")


def size(path: str) -> int:
    if not is_url(path):
        return os.path.getsize(local(path))
    fs, p = filesystem(path)
    return fs.size(p)


def glob_urls(pattern: str) -> list[str]:
    """Files matching a URL glob, or every file below a URL folder, as full URLs."""
    fs, p = filesystem(pattern)
    if any(c in p for c in "*?["):
        found = fs.glob(p)
    elif fs.isdir(p):
        found = fs.find(p)
    else:
        found = [p] if fs.exists(p) else []
    return sorted(fs.unstrip_protocol(f) for f in found if fs.isfile(f))


def publish(folder: str, url: str, skip: tuple[str, ...] = ()) -> None:
    """Copy a complete run folder to an object store, manifest.json last (a reader that finds the manifest finds
    everything it lists). Idempotent: a publish cut short is redone whole by the next call."""
    fs, root = filesystem(url)
    manifest = os.path.join(folder, "manifest.json")
    for base, dirs, names in os.walk(folder):
        rel = os.path.relpath(base, folder)
        dirs[:] = [d for d in sorted(dirs) if os.path.normpath(os.path.join(rel, d)) not in skip]
        for name in sorted(names):
            path = os.path.join(base, name)
            if path != manifest and os.path.normpath(os.path.join(rel, name)) not in skip:
                fs.put_file(path, f"{root}/{os.path.normpath(os.path.join(rel, name))}")
    fs.put_file(manifest, f"{root}/manifest.json")


def read_text(url: str) -> str | None:
    """A small file of an object store, or None when it is not there."""
    fs, p = filesystem(url)
    return fs.cat_file(p).decode("utf-8") if fs.exists(p) else None
