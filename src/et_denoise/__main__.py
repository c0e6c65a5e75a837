"""``python -m et_denoise``: the app and its command line."""

import multiprocessing
import signal
import sys

if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl+C while Python starts: end quietly, no traceback
    multiprocessing.freeze_support()
    from et_denoise.cli import main

    sys.exit(main())
