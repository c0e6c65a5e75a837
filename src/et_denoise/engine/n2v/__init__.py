"""Noise2Void and StructN2V: train a denoising network on the noisy data itself.

Importing this package is cheap: TensorFlow and n2v are imported only when a
model is trained or loaded.

Examples
--------
>>> from et_denoise.engine.n2v import N2VParams, train, TrainedModel   # doctest: +SKIP
>>> model = train([volume], N2VParams(mask="horizontal:9"), model_dir="my_model")  # doctest: +SKIP
>>> TrainedModel.load("my_model").predict(volume)           # doctest: +SKIP
"""

from et_denoise.engine.n2v.config import N2VParams
from et_denoise.engine.errors import ModelError
from et_denoise.engine.n2v.export import export_bioimageio
from et_denoise.engine.n2v.masks import parse_mask, preset_mask
from et_denoise.engine.n2v.model import TrainedModel
from et_denoise.engine.n2v.monitor import EventKind, History, StopReason, TrainingEvent
from et_denoise.engine.n2v.training import train

__all__ = ["EventKind", "History", "ModelError", "N2VParams", "StopReason", "TrainedModel", "TrainingEvent",
           "export_bioimageio", "parse_mask", "preset_mask", "train"]
