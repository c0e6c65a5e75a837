"""What the app remembers between runs, stored with QSettings.

Tests point QSettings at a temporary folder (``QSettings.setPath``) so they
never touch the user's settings.
"""

from __future__ import annotations

import dataclasses
import json
import os

from PySide6.QtCore import QByteArray, QSettings

from et_denoise.engine.errors import ParameterError
from et_denoise.engine.volume.budget import parse_memory

ORGANIZATION = "ET Denoise"
APPLICATION = "ET Denoise"
MAX_RECENT = 10


class AppSettings:
    """Recent files, last folders, window layout and each method's last parameters."""

    def __init__(self, store: QSettings | None = None) -> None:
        self._store = store if store is not None else QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)

    # ------------------------------------------------------------ files and folders
    def recent_files(self) -> list[str]:
        """Recently opened files, newest first, that still exist."""
        paths = self._read_json("files/recent", [])
        return [path for path in paths if isinstance(path, str) and os.path.exists(path)]

    def add_recent_file(self, path: str) -> None:
        """Put ``path`` first in the recent files."""
        path = os.path.abspath(path)
        paths = [path] + [p for p in self._read_json("files/recent", []) if p != path]
        self._write_json("files/recent", paths[:MAX_RECENT])

    def clear_recent_files(self) -> None:
        """Forget the recent files."""
        self._write_json("files/recent", [])

    def last_folder(self, purpose: str) -> str:
        """The folder last used to ``purpose`` ("open" or "save"); the home folder at first."""
        folder = self._store.value(f"folders/{purpose}", "")
        return folder if folder and os.path.isdir(folder) else os.path.expanduser("~")

    def set_last_folder(self, purpose: str, folder: str) -> None:
        """Remember ``folder`` for ``purpose``."""
        self._store.setValue(f"folders/{purpose}", str(folder))

    # ------------------------------------------------------------ memory and scratch files
    def memory_budget(self) -> int | None:
        """The memory budget of whole-volume jobs in bytes, or None for the default (half the available memory)."""
        value = self._store.value("memory/budget", "")
        try:
            return parse_memory(value) if value else None
        except ParameterError:
            return None

    def set_memory_budget(self, text: str) -> None:
        """Remember a budget such as ``"8GB"`` (blank: the default); ParameterError if it is not a size."""
        text = text.strip()
        if text:
            parse_memory(text)
        self._store.setValue("memory/budget", text)

    def memory_budget_text(self) -> str:
        """The budget as the user typed it ("" for the default)."""
        return str(self._store.value("memory/budget", "") or "")

    def scratch_base(self) -> str | None:
        """The folder chosen for results too large for memory, or None for the user's cache."""
        folder = self._store.value("memory/scratch_folder", "")
        return str(folder) if folder else None

    def set_scratch_base(self, folder: str | None) -> None:
        """Choose the folder for results too large for memory (None or "": the user's cache)."""
        self._store.setValue("memory/scratch_folder", folder or "")

    def scheduler(self) -> str | None:
        """The Dask scheduler whole-volume jobs go to (``tcp://HOST:8786``), or None for this machine."""
        address = self._store.value("cluster/scheduler", "")
        return str(address) if address else None

    def set_scheduler(self, address: str | None) -> None:
        """Send later whole-volume jobs to the scheduler at ``address`` (None or "": this machine)."""
        self._store.setValue("cluster/scheduler", (address or "").strip())

    # ------------------------------------------------------------ window
    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        """Saved (geometry, dock/toolbar state) of the main window."""
        return self._store.value("window/geometry"), self._store.value("window/state")

    def set_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        """Remember the main window's geometry and dock/toolbar state."""
        self._store.setValue("window/geometry", geometry)
        self._store.setValue("window/state", state)

    def value(self, key: str, default=None):
        """Any other stored value (view options)."""
        value = self._store.value(key, default)
        return default if value is None else value

    def set_value(self, key: str, value) -> None:
        """Store another value."""
        self._store.setValue(key, value)

    def json_value(self, key: str, default: dict) -> dict:
        """A dictionary stored with :meth:`set_json_value`, or ``default`` when absent or unreadable."""
        return self._read_json(key, default)

    def set_json_value(self, key: str, value: dict) -> None:
        """Store a JSON-ready dictionary."""
        self._write_json(key, value)

    # ------------------------------------------------------------ parameters
    def method_params(self, name: str, params_type: type):
        """The parameters last used with method ``name``, or its defaults."""
        stored = self._read_json(f"params/{name}", {})
        known = {item.name for item in dataclasses.fields(params_type)}
        try:
            return params_type(**{key: value for key, value in stored.items() if key in known})
        except (ParameterError, TypeError):
            return params_type()

    def set_method_params(self, name: str, params) -> None:
        """Remember ``params`` for method ``name``."""
        self._write_json(f"params/{name}", params.as_dict())

    def sync(self) -> None:
        """Write pending changes to disk."""
        self._store.sync()

    # ------------------------------------------------------------ helpers
    def _read_json(self, key: str, default):
        text = self._store.value(key, "")
        try:
            value = json.loads(text) if text else default
        except (TypeError, ValueError):
            return default
        return value if isinstance(value, type(default)) else default

    def _write_json(self, key: str, value) -> None:
        self._store.setValue(key, json.dumps(value))
