"""The command line: ``et-denoise``, ``python -m et_denoise`` and ``python main.py``.

:mod:`~cli.parser` builds the arguments, :mod:`~cli.options` maps parameter
fields to options and back, :mod:`~cli.handlers` runs one subcommand each,
:mod:`~cli.reproduce` writes the commands and scripts that compute a result
again, and :mod:`~cli.entry` turns every failure into one line.
"""

from et_denoise.cli.entry import main

__all__ = ["main"]
