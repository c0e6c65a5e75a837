"""``main(argv)``: parse, run one subcommand, and turn every failure into one line and an exit code."""

from __future__ import annotations

import os
import sys

from et_denoise.cli.errors import EXIT_BAD_INPUT, UserError, user_message
from et_denoise.cli.interrupts import Interrupts


def _guard_missing_streams() -> None:
    """A windowed frozen build has no stdout/stderr: give libraries somewhere to write."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w"))


def main(argv=None) -> int:
    """Entry point of ``et-denoise``, ``python -m et_denoise`` and ``python main.py``; returns the exit code.

    Bad arguments or input (exit code 2), a bug (1) and Ctrl+C or SIGTERM
    (130, 143; see :mod:`cli.interrupts`) are each one line on stderr, without
    a traceback (set ``ET_DENOISE_DEBUG=1`` for the traceback of a bug).
    """
    _guard_missing_streams()
    interrupts = Interrupts()
    if argv is None:  # the process's own command line: its signals are ours to handle
        interrupts.install()
    argv = sys.argv[1:] if argv is None else list(argv)
    command = None
    try:
        from et_denoise.cli.handlers import HANDLERS, run_self_test
        from et_denoise.cli.parser import parse
        from et_denoise.engine.errors import Cancelled, ImageError, ModelError, ParameterError

        try:
            args = parse(argv)
            command = args.command
            handler = run_self_test if getattr(args, "self_test", False) else HANDLERS[args.command]
            return handler(args, interrupts)
        except (UserError, ImageError, ParameterError, ModelError) as error:
            print(f"error: {user_message(error)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except Cancelled:
            print("cancelled", file=sys.stderr)
            return interrupts.exit_code
        except MemoryError:
            hint = "2-D mode, or a smaller --memory budget (slabs of fewer planes)" if command == "denoise" else "2-D mode"
            print(f"error: not enough memory for this image; try {hint}", file=sys.stderr)
            return 1
    except SystemExit as done:  # --help and --version: argparse has printed them
        return done.code if isinstance(done.code, int) else 0
    except KeyboardInterrupt:  # Ctrl+C where no handler of ours was installed
        print("cancelled", file=sys.stderr)
        return interrupts.exit_code
    except Exception as error:  # a bug, not bad input: still one line for the user
        if os.environ.get("ET_DENOISE_DEBUG"):
            raise
        print(f"error: unexpected {type(error).__name__}: {user_message(error)} "
              "(set ET_DENOISE_DEBUG=1 for details)", file=sys.stderr)
        return 1
