"""The small interface a training backend implements (n2v on TensorFlow today).

Everything else (patches, masks, normalisation, tiling, progress events,
the model folder's metadata) is backend-independent, so another backend
(for example CAREamics on PyTorch) only has to train, predict, save and load
a network that works on normalised data.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from et_denoise.engine.errors import ModelError
from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.n2v.data import TrainingData
from et_denoise.engine.n2v.monitor import TrainingMonitor

# name -> "module:class"; modules are imported only when the backend is used.
BACKENDS = {"n2v": "et_denoise.engine.n2v.n2v_backend:N2VBackend"}


class BackendModel(ABC):
    """A trained network working on normalised data."""

    @abstractmethod
    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Apply the network to a batch (B, *spatial) of normalised float32 data; returns the same shape.

        Spatial sides are multiples of ``2 ** params.unet_depth``.
        """

    @abstractmethod
    def save(self, folder: Path) -> None:
        """Write the network's own files (weights, configuration) into an existing folder."""


class Backend(ABC):
    """Trains and loads :class:`BackendModel` objects."""

    name: str

    @abstractmethod
    def train(self, data: TrainingData, params: N2VParams, mask: np.ndarray | None, steps_per_epoch: int,
              monitor: TrainingMonitor) -> BackendModel:
        """Train a network; report through ``monitor`` and stop when it says so.

        Call ``monitor.start()`` when the training loop begins, then
        ``monitor.batch_done`` and ``monitor.epoch_done`` on the training thread.

        Returns the network with the weights of the epoch with the lowest
        validation loss (the current weights when no epoch finished).
        """

    @abstractmethod
    def load(self, folder: Path, params: N2VParams) -> BackendModel:
        """Load a network that :meth:`BackendModel.save` wrote; raise ``ModelError`` if that fails."""

    @abstractmethod
    def receptive_radius(self, params: N2VParams) -> int:
        """Pixels on each side that influence an output pixel: the overlap tiles need."""

    @abstractmethod
    def versions(self) -> dict:
        """Library versions to record in the model folder."""


def get_backend(name: str) -> Backend:
    """The backend called ``name`` (its libraries are imported when it trains or loads)."""
    if name not in BACKENDS:
        raise ModelError(f"unknown training backend {name!r}; known: {', '.join(BACKENDS)}")
    module, _, cls = BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), cls)()
