"""The pinned Qt binding keeps Python's reference counts right.

PySide6 6.12.0 returned None and True from void calls and ``Signal.emit``
without taking a reference; on Python 3.11 an idle window crashed within
seconds ("deallocating None").  This guards the pin against that build.
"""

import sys

from PySide6.QtCore import QObject, Signal


class _Probe(QObject):
    pinged = Signal()


def test_qt_calls_do_not_drop_references_to_none_or_true(qapp):
    probe = _Probe()
    before = [sys.getrefcount(value) for value in (None, True, False)]
    for _ in range(1000):
        probe.setObjectName("probe")
        probe.pinged.emit()
        qapp.processEvents()
    after = [sys.getrefcount(value) for value in (None, True, False)]
    assert all(a >= b - 10 for a, b in zip(after, before)), (before, after)
