"""Ctrl+C (SIGINT) and SIGTERM: stop at once when nothing is worth keeping, or stop a computation cleanly.

By default a signal ends the process at once, as a user expects of Ctrl+C:
files being written under partial names are removed (an existing output
stays as it was), one line says ``cancelled`` and the exit code is 128 plus
the signal number.  This holds during start-up, while files are read or
written and while TensorFlow prepares training, whatever thread is busy.

Inside :meth:`Interrupts.cancelling` a first signal only sets the cancel
token, so that the computation stops at its next check: filters raise
:class:`~engine.errors.Cancelled`, training ends and keeps the best
weights.  A second signal ends the process at once.  A block given a
``grace_s`` (denoising, which computes and writes its output at once) also
ends the process that many seconds after the first signal if the work has
not stopped by then (a write or read blocked on a slow disk or share).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

from et_denoise.cli.errors import EXIT_INTERRUPTED, EXIT_TERMINATED

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """The process's SIGINT and SIGTERM handler, and the cancel token it sets.

    Examples
    --------
    >>> interrupts = Interrupts()
    >>> with interrupts.cancelling() as token:
    ...     token.cancelled
    False
    """

    def __init__(self) -> None:
        from et_denoise.engine.jobs import CancelToken

        self.token = CancelToken()
        self.received = None  # the last signal's number
        self._cancelling = False
        self._grace_s = None
        self._grace_timer = None

    def install(self) -> None:
        """Handle SIGINT and SIGTERM from now on (the main thread only may call it)."""
        for number in _SIGNALS:
            signal.signal(number, self._on_signal)

    def uninstall(self) -> None:
        """Give SIGINT and SIGTERM back to Python's defaults (for the desktop app, which handles its own)."""
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    @property
    def exit_code(self) -> int:
        """The exit code of a run stopped by the signal received."""
        return EXIT_TERMINATED if self.received == signal.SIGTERM else EXIT_INTERRUPTED

    @contextlib.contextmanager
    def cancelling(self, *, from_start: bool = True, grace_s: float | None = None) -> Iterator[object]:
        """A block in which a first signal sets the cancel token (yielded) instead of ending the process.

        With ``from_start`` False, only from the block's first :meth:`allow_cancel` on.  With
        ``grace_s``, the process still ends that many seconds after the first signal if the
        block has not ended by then.
        """
        self._cancelling = from_start
        self._grace_s = grace_s
        try:
            yield self.token
        finally:
            self._cancelling = False
            self._grace_s = None
            if self._grace_timer is not None:  # the block ended in time
                self._grace_timer.cancel()
                self._grace_timer = None

    def allow_cancel(self) -> None:
        """From now on, until the :meth:`cancelling` block ends, a first signal sets the token."""
        self._cancelling = True

    def _on_signal(self, number, _frame) -> None:
        self.received = number
        if self._cancelling and not self.token.cancelled:
            self.token.cancel()
            if self._grace_s is not None:
                self._grace_timer = threading.Timer(self._grace_s, self.exit_now)
                self._grace_timer.daemon = True
                self._grace_timer.start()
            return
        self.exit_now()

    def exit_now(self) -> None:
        """Remove the partial files being written, say ``cancelled`` and end the process."""
        partial_files = sys.modules.get("et_denoise.engine.io.partial_files")
        if partial_files is not None:  # not yet imported: nothing is being written
            partial_files.remove_partial_files()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.write("cancelled\n")
            sys.stderr.flush()
        os._exit(self.exit_code)  # at once: not even a busy TensorFlow thread is waited for
