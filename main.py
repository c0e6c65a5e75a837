"""ET Denoise from a source checkout: ``python main.py`` opens the app; ``--help`` lists the commands.

The same entry point is installed as ``et-denoise`` and runs as ``python -m et_denoise``.
"""

import multiprocessing
import signal
import sys
from pathlib import Path

if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl+C while Python starts: end quietly, no traceback
    multiprocessing.freeze_support()
    source = Path(__file__).resolve().parent / "src"
    if source.is_dir():  # a checkout: prefer its sources to an older installed copy
        sys.path.insert(0, str(source))
    from et_denoise.cli import main

    sys.exit(main())
