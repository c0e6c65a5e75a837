"""A minimal Qt-free signal, so that :mod:`gui.model` stays plain Python."""

from __future__ import annotations

from typing import Any
from collections.abc import Callable


class Signal:
    """Calls every connected callback, in connection order, on :meth:`emit`.

    The model is only changed on the GUI thread, so no locking is needed.

    Examples
    --------
    >>> seen = []
    >>> changed = Signal()
    >>> changed.connect(seen.append)
    >>> changed.emit(3)
    >>> seen
    [3]
    """

    def __init__(self) -> None:
        self._slots: list[Callable[..., Any]] = []

    def connect(self, slot: Callable[..., Any]) -> None:
        """Call ``slot(*args)`` on every later :meth:`emit`."""
        self._slots.append(slot)

    def disconnect(self, slot: Callable[..., Any]) -> None:
        """Stop calling ``slot``; a slot that was never connected is ignored."""
        if slot in self._slots:
            self._slots.remove(slot)

    def emit(self, *args: Any) -> None:
        """Call the connected slots with ``args``."""
        for slot in list(self._slots):
            slot(*args)
