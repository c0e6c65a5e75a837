"""How much memory a file may take before it is opened memory-mapped."""

from __future__ import annotations

import ctypes
import os
import sys

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


def default_mmap_threshold() -> int:
    """Return the image size in bytes above which files are memory-mapped."""
    return int(MMAP_FRACTION * available_memory())


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
