"""A validated copy of the shipped data files, kept between runs so a command starts fast.

Reading the catalogue and the rules means parsing about forty TOML files and validating them
with pydantic: most of what ``benzotaper convert`` used to spend before doing anything. The
result depends only on those files and on the code that reads them, so it is pickled once into
the user's cache directory under a key made of both: the bytes of every data file and the size
and modification time of every module of the package. Any change to either gives a new key, so
the strict loader runs again (and its errors surface exactly as before). A snapshot that is
missing, unreadable, or not the user's own private file is ignored and rebuilt, never trusted.
Only the shipped data folder is cached; a loader given its own folder always reads it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

#: The package's code and its shipped data folder (the only one snapshots are kept for).
PACKAGE = Path(__file__).resolve().parent
DATA = PACKAGE / "data"
#: Set to a folder to keep snapshots there, or to an empty string to keep none.
CACHE_ENV = "BENZOTAPER_CACHE_DIR"


@lru_cache(maxsize=4)
def _key(data: Path, code: Path) -> str:
    """What a snapshot depends on: the data files' bytes, the package's modules, the
    interpreter and pydantic (whose pickles are only read by the same versions). Once per
    process (like the loaded data itself: files changed meanwhile are seen by the next
    process); walked with ``os.scandir`` (pathlib's ``rglob`` and a ``stat`` per module
    were ~1% of ``convert``'s instructions)."""
    import pydantic

    digest = hashlib.sha256(f"{sys.version}|{pydantic.VERSION}".encode())
    for parts, full in sorted(_files(str(data))):
        with open(full, "rb") as fh:
            digest.update("/".join(parts).encode() + b"\0" + fh.read() + b"\0")
    digest.update("".join(_modules(str(code))).encode())
    return digest.hexdigest()[:32]


def _files(top: str, parts: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every file under ``top``: its path's parts below ``top`` (sorted as paths are), and
    its full path."""
    with os.scandir(top) as entries:
        for entry in entries:
            if entry.is_dir():
                yield from _files(entry.path, (*parts, entry.name))
            elif entry.is_file():
                yield (*parts, entry.name), entry.path


def _modules(top: str) -> Iterator[str]:
    """``path|size|mtime`` of every module under ``top``, a folder's own modules before its
    subfolders' (sorted by name; no caches, data or static files)."""
    with os.scandir(top) as found:
        entries = sorted(found, key=lambda e: e.name)
    for entry in entries:
        if entry.name.endswith(".py") and entry.is_file():
            info = entry.stat()
            yield f"{top}/{entry.name}|{info.st_size}|{info.st_mtime_ns}\n"
    for entry in entries:
        if entry.is_dir() and entry.name not in ("__pycache__", "data", "static"):
            yield from _modules(entry.path)


def _folder() -> Path | None:
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return Path(chosen) if chosen else None
    if sys.platform.startswith("linux"):  # the XDG rule, without importing platformdirs
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        if os.path.isabs(xdg):
            return Path(xdg) / "benzotaper"
        try:
            return Path.home() / ".cache" / "benzotaper"
        except (RuntimeError, KeyError):  # a service account without a home: no snapshots
            return None
    import platformdirs

    return Path(platformdirs.user_cache_dir("benzotaper", appauthor=False))


def _private(path: Path) -> bool:
    """Only a file this user owns and nobody else can write is read back (a pickle runs code)."""
    info = path.stat()
    owner_ok = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return owner_ok and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read(path: Path) -> Any:
    try:
        if not _private(path):
            return None
        with path.open("rb") as fh:
            return pickle.load(fh)
    except Exception:  # a missing, truncated or stale snapshot is rebuilt, never fatal
        return None


def _write(path: Path, value: object) -> None:
    """Write atomically (other processes may be reading or writing the same snapshot)."""
    try:
        path.parent.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".snapshot-")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        for old in path.parent.glob(f"{path.name.split('-')[0]}-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:  # a read-only home only costs the next start its speed
        return


def snapshot(
    name: str, build: Callable[[], T], kind: type[T], *, data: Path = DATA, code: Path = PACKAGE
) -> T:
    """``build()``'s result, read from the snapshot for the current files under ``data`` and
    ``code`` when there is one of type ``kind``; otherwise built (strictly, raising its
    errors) and saved."""
    folder = _folder()
    if folder is None:
        return build()
    # One subfolder per installed copy (a checkout's snapshots never evict another's).
    where = hashlib.sha256(str(code).encode()).hexdigest()[:12]
    path = folder / where / f"{name}-{_key(data, code)}.pickle"
    found = _read(path)
    if isinstance(found, kind):
        return found
    value = build()
    _write(path, value)
    return value
