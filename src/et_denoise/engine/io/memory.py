"""How much memory is available: when a file is opened memory-mapped, and whether a job fits at all."""

from __future__ import annotations

import ctypes
import os
import sys

from et_denoise.engine.errors import ImageError

#: Fraction of the available RAM above which :func:`engine.io.read_image` maps a file.
MMAP_FRACTION = 0.4

# Assumed when the platform does not report its memory.
_FALLBACK_AVAILABLE = 4 * 1024**3


def available_memory() -> int:
    """Return the bytes of RAM available to new allocations.

    Linux reports ``MemAvailable``; Windows ``GlobalMemoryStatusEx``; other
    systems fall back to the physical memory size, or 4 GiB if even that is
    unknown.
    """
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/meminfo", encoding="ascii") as meminfo:
                for line in meminfo:
                    if line.startswith("MemAvailable:"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
    if sys.platform == "win32":
        return _windows_available_memory()
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return _FALLBACK_AVAILABLE


def process_private_memory() -> int:
    """Bytes of anonymous (private, not file-backed) memory this process holds now; 0 where unknown.

    Linux reports it in ``/proc/self/smaps_rollup`` (``Anonymous``): the heap,
    arrays and libraries' data, not the pages of files it maps or reads.
    """
    try:
        with open("/proc/self/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Anonymous:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def default_mmap_threshold() -> int:
    """Return the image size in bytes above which files are memory-mapped."""
    return int(MMAP_FRACTION * available_memory())


def require_memory(nbytes: int, task: str, path=None) -> None:
    """Raise ImageError, naming both sizes, if ``nbytes`` exceed the memory available now.

    Parameters
    ----------
    nbytes : int
        What the work will allocate.
    task : str
        What it is for, completing "not enough memory {task}" ("to open this
        30000×30000 uint16 image").
    path : path-like, optional
        The file, named in the message.

    Raises
    ------
    ImageError
        ``"not enough memory to open this image: it needs 1.8 GB, 1.2 GB are available"``.
    """
    available = available_memory()
    if nbytes > available:
        raise ImageError(f"not enough memory {task}: it needs {format_bytes(nbytes)}, "
                         f"{format_bytes(available)} are available", path)


def format_bytes(nbytes: float) -> str:
    """``"1.8 GB"``: a size in bytes for messages (powers of 1000, as file managers show them)."""
    value, unit = float(nbytes), "bytes"
    for larger in ("kB", "MB", "GB", "TB"):
        if abs(value) < 1000:
            break
        value, unit = value / 1000, larger
    return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"


def _windows_available_memory() -> int:
    class MemoryStatusEx(ctypes.Structure):
        _fields_ = [
            ("dwLength", ctypes.c_ulong),
            ("dwMemoryLoad", ctypes.c_ulong),
            ("ullTotalPhys", ctypes.c_ulonglong),
            ("ullAvailPhys", ctypes.c_ulonglong),
            ("ullTotalPageFile", ctypes.c_ulonglong),
            ("ullAvailPageFile", ctypes.c_ulonglong),
            ("ullTotalVirtual", ctypes.c_ulonglong),
            ("ullAvailVirtual", ctypes.c_ulonglong),
            ("ullAvailExtendedVirtual", ctypes.c_ulonglong),
        ]

    status = MemoryStatusEx()
    status.dwLength = ctypes.sizeof(MemoryStatusEx)
    if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
        return _FALLBACK_AVAILABLE
    return int(status.ullAvailPhys)
