"""SIGTERM and Ctrl+C (SIGINT) in the desktop app: the window closes, and no partial file stays behind.

Qt's event loop runs no Python code while it waits, so Python's signal
handlers would only run at the next user event.  The signal's C handler
writes to a socket (:func:`signal.set_wakeup_fd`) that a
:class:`~PySide6.QtCore.QSocketNotifier` watches: the loop wakes up at once
and Python runs the handler.

SIGTERM (a logout, ``kill``, a cluster's time limit) removes the files being
written under partial names first, then closes the window without asking:
nothing may wait for a dialog.  Ctrl+C in the terminal that started the app
closes it like the window's close button, which asks before unsaved results
are discarded; once it is closed, no partial file remains either.
"""

from __future__ import annotations

import signal
import socket

from PySide6.QtCore import QObject, QSocketNotifier

from et_denoise.engine.io.partial_files import remove_partial_files


class TerminationSignals(QObject):
    """Handle SIGTERM and SIGINT for ``window`` from now on (call it on the main thread)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self._window = window
        self.received: int | None = None
        self._reader, self._writer = socket.socketpair()
        for end in (self._reader, self._writer):
            end.setblocking(False)
        signal.set_wakeup_fd(self._writer.fileno())
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_notifier_activated)
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._on_signal)

    @property
    def exit_code(self) -> int:
        """0, or 128 plus the number of the signal that ended the app (the shell's convention)."""
        return 0 if self.received is None else 128 + self.received

    def _on_notifier_activated(self) -> None:
        # Python has run the handler by the time this slot runs; only empty the socket.
        try:
            while self._reader.recv(64):
                pass
        except BlockingIOError:
            pass

    def _on_signal(self, number: int, _frame) -> None:
        if number == signal.SIGTERM:
            self.received = number
            remove_partial_files()
            self._window.close_without_asking()
        else:
            self._window.close()
            if not self._window.isVisible():  # closed: its jobs have ended; a partial left now is a stray
                self.received = number
                remove_partial_files()
