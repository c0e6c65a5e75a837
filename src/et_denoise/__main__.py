"""``python -m et_denoise``: the app and its command line."""

import multiprocessing
import sys

from et_denoise.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
