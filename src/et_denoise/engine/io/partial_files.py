"""Files and folders written under a temporary name beside their destination, renamed into place when complete.

A partial is called ``.NAME.HOST-PID-RANDOM.partial[.EXT]``: hidden, and
telling which process on which machine writes it.  Each process keeps a list
of its own partials so that a signal handler can remove them
(:func:`remove_partial_files`); one left by a process that was killed (its PID
no longer runs on this machine) is removed by the next write to the folder
(:func:`remove_stale_partials`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import pathlib
import re
import shutil
import socket
import threading
import uuid
import zlib
from collections.abc import Collection, Iterator
from typing import BinaryIO

from et_denoise.engine.errors import ImageError

_HOST = f"{zlib.crc32(socket.gethostname().encode()):08x}"
_PATTERN = re.compile(r"^\..*\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[0-9a-f]{8}\.partial(\.[^.]*)?$")
_STEM_BYTES = 100  # of the destination's name kept in the partial's, so a long name stays a valid one

# Free space under which a write that failed without saying why is put down to a full disk.
_FULL_DISK_BYTES = 1024**2

_LIVE: set[pathlib.Path] = set()
_LIVE_LOCK = threading.Lock()

# Errors of file systems without hard links (FAT, some network shares).
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}


def partial_path(path: pathlib.Path) -> pathlib.Path:
    """A new, unused temporary name in ``path``'s folder for what will become ``path``."""
    return _hidden_sibling(path.with_suffix(""), f"partial{path.suffix}")


def _hidden_sibling(path: pathlib.Path, ending: str) -> pathlib.Path:
    """``.NAME.HOST-PID-RANDOM.ENDING`` beside ``path``, NAME cut so that the whole stays a valid name."""
    name = path.name.encode("utf-8", "surrogateescape")[:_STEM_BYTES].decode("utf-8", "ignore")
    return path.with_name(f".{name}.{_HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}.{ending}")


@contextlib.contextmanager
def tracked(partial: pathlib.Path) -> Iterator[pathlib.Path]:
    """Register ``partial`` for :func:`remove_partial_files` while the block runs; remove it afterwards."""
    with _LIVE_LOCK:
        _LIVE.add(partial)
    try:
        yield partial
    finally:
        _remove(partial)
        with _LIVE_LOCK:
            _LIVE.discard(partial)


@contextlib.contextmanager
def atomic_file(path: pathlib.Path, *, overwrite: bool) -> Iterator[BinaryIO]:
    """Open a partial file for writing ``path``; rename it to ``path`` when the block completes.

    The data are flushed to the disk (``fsync``) before the rename, so a full
    disk or a failing network share is reported here and not lost later.  On
    any error the partial is removed and ``path`` is untouched.

    Raises
    ------
    ImageError
        ``overwrite`` is False and ``path`` appeared while the partial was
        being written (see :func:`publish`).
    OSError
        Writing failed (the caller names the file).
    """
    remove_stale_partials(path.parent)
    with tracked(partial_path(path)) as partial:
        try:
            with open(partial, "xb") as stream:
                yield stream
                stream.flush()
                os.fsync(stream.fileno())
        except OSError as error:
            if error.errno is None and _disk_is_full(partial.parent):  # numpy's tofile on a short write
                raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} ({error})") from error
            raise
        publish(partial, path, overwrite=overwrite)


def _disk_is_full(folder: pathlib.Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < _FULL_DISK_BYTES
    except OSError:
        return False


def publish(partial: pathlib.Path, path: pathlib.Path, *, overwrite: bool) -> None:
    """Give the complete file ``partial`` its final name ``path``.

    Without ``overwrite`` an existing ``path`` is never replaced, not even one
    that another process created a moment ago: the file is linked to its new
    name, which fails if the name is taken, and only then unlinked.
    """
    if overwrite:
        os.replace(partial, path)
        return
    try:
        os.link(partial, path)
    except FileExistsError:
        raise ImageError("another program created this file while it was being written; "
                         "it was left as it is and nothing was saved", path) from None
    except OSError as error:
        if error.errno not in _NO_LINKS:
            raise
        if os.path.lexists(path):  # no hard links here: check, then rename (a narrow race remains)
            raise ImageError("another program created this file while it was being written; "
                             "it was left as it is and nothing was saved", path) from None
        os.rename(partial, path)
    else:
        partial.unlink()


@contextlib.contextmanager
def staging_folder(folder: pathlib.Path, *, owned: Collection[str]) -> Iterator[pathlib.Path]:
    """An empty partial folder beside ``folder`` to fill; it replaces ``folder`` when the block completes.

    An existing ``folder`` stays as it is until the new one is complete: it is
    then renamed aside (``.NAME.HOST-PID-RANDOM.previous``, never taken for a
    stale partial), the new folder takes its name, the entries of the old one
    whose names are not in ``owned`` (files of the user's, not of the
    writer's) are moved into it, and the old one is removed.  On any error the
    partial folder is removed and ``folder`` is untouched.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(folder.parent)
    with tracked(partial_path(folder)) as staging:
        staging.mkdir()
        yield staging
        _fsync_folder(staging)
        if not folder.exists():
            os.rename(staging, folder)
            return
        previous = _hidden_sibling(folder, "previous")
        os.rename(folder, previous)
        try:
            os.rename(staging, folder)
        except OSError:
            os.rename(previous, folder)
            raise
        for entry in os.scandir(previous):
            if entry.name not in owned and not os.path.lexists(folder / entry.name):
                os.rename(entry.path, folder / entry.name)
        shutil.rmtree(previous, ignore_errors=True)


def _fsync_folder(folder: pathlib.Path) -> None:
    """Flush the files of ``folder`` to the disk, so that a full disk shows before the swap."""
    for entry in os.scandir(folder):
        if entry.is_file():
            with open(entry.path, "rb+") as stream:
                os.fsync(stream.fileno())


def remove_partial_files() -> None:
    """Remove every partial this process is writing (for a SIGTERM handler: nothing is left behind)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for partial in live:
        _remove(partial)


def remove_stale_partials(folder: pathlib.Path) -> None:
    """Remove partials in ``folder`` left by processes of this machine that no longer run."""
    try:
        entries = [entry for entry in os.scandir(folder) if entry.name.startswith(".")]
    except OSError:
        return
    for entry in entries:
        match = _PATTERN.match(entry.name)
        if match and match["host"] == _HOST and not process_runs(int(match["pid"])):
            _remove(pathlib.Path(entry.path))


def process_runs(pid: int) -> bool:
    """Whether process ``pid`` of this machine runs (True where that cannot be told cheaply)."""
    if pid == os.getpid():
        return True
    if os.name != "posix":  # no cheap, safe test: keep the file
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it runs, as another user
        return True
    return True


def _remove(partial: pathlib.Path) -> None:
    try:
        if partial.is_dir() and not partial.is_symlink():
            shutil.rmtree(partial, ignore_errors=True)
        else:
            partial.unlink(missing_ok=True)
    except OSError:
        pass
