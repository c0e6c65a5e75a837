"""The command line's own error and the one line it prints for every error the user can fix."""

from __future__ import annotations

import re

#: Exit code of input or arguments the user can fix.
EXIT_BAD_INPUT = 2
#: Exit codes of a run stopped by Ctrl+C (SIGINT) or SIGTERM: 128 + the signal number, as shells report it.
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

# A partial file's name (engine.io.partial_files): never shown, the user knows only the final name.
_PARTIAL_NAME = re.compile(r"[^\s'\"/]*\.partial(\.[A-Za-z0-9]+)?")


class UserError(Exception):
    """Something the user can fix; printed as one line, exit code 2."""


def user_message(error: Exception) -> str:
    """The one line shown for ``error``: engine wording made command-line wording, no temporary names."""
    from et_denoise.engine.errors import OutputExistsError

    if isinstance(error, OutputExistsError):
        text = f"{error.path} already exists; add --overwrite to replace it"
    else:
        text = str(error)
    text = _PARTIAL_NAME.sub("(temporary file)", text)
    return " ".join(text.split())  # one line, whatever the message held
