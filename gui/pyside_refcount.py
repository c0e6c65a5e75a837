"""Work around PySide6 6.12.0 dropping references to None, True and False.

In this PySide6 build every bound call that returns ``None`` (any void C++
method: ``setToolTip``, ``processEvents``…) or a bool from ``Signal.emit``
returns the singleton without taking a reference, so each call lowers its
reference count by one.  On CPython 3.11, where these singletons are not yet
immortal, a window crashes within seconds ("deallocating None").

:func:`protect_singletons` probes for the defect and, only if it is present,
raises the three reference counts so far that they can never reach zero: what
CPython 3.12 does for every interpreter (immortal objects).  It is a no-op on a
fixed PySide6 or on Python ≥ 3.12.
"""

from __future__ import annotations

import ctypes
import sys

#: Added to each reference count: 2⁶⁰ calls will never be made.
_MARGIN = 1 << 60
_SINGLETONS = (None, True, False)


def singletons_leak() -> bool:
    """Whether PySide6 calls lose references to None or True (measured, not assumed).

    False when PySide6 cannot be imported (the Qt-free parts of :mod:`gui` work without it).
    """
    try:
        from PySide6.QtCore import QObject, Signal
    except ImportError:
        return False

    class _Probe(QObject):
        pinged = Signal()

    probe = _Probe()
    before = [sys.getrefcount(value) for value in _SINGLETONS]
    for _ in range(8):
        probe.setObjectName("probe")
        probe.pinged.emit()
    after = [sys.getrefcount(value) for value in _SINGLETONS]
    return any(a < b for a, b in zip(after, before))


def protect_singletons() -> bool:
    """Make None, True and False immortal if PySide6 leaks them; True if it did."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython" or not singletons_leak():
        return False
    for value in _SINGLETONS:
        count = ctypes.c_ssize_t.from_address(id(value))
        if count.value < _MARGIN:
            count.value += _MARGIN
    return True
