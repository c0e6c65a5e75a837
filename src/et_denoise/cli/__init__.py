"""The command line: ``et-denoise``, ``python -m et_denoise`` and ``python main.py``."""

from et_denoise.cli.commands import main

__all__ = ["main"]
