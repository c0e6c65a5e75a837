"""Settings persist between runs and survive bad stored values."""

from dataclasses import dataclass

from PySide6.QtCore import QSettings

from et_denoise.engine.params import MethodParams, param
from et_denoise.gui.settings import AppSettings


@dataclass(frozen=True)
class _Params(MethodParams):
    size: int = param(5, label="Size", help="Window width.", minimum=1, maximum=9)


def _settings(tmp_path):
    return AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))


def test_recent_files_newest_first_and_only_existing(tmp_path):
    first, second = tmp_path / "a.tif", tmp_path / "b.tif"
    first.write_bytes(b"x")
    second.write_bytes(b"x")
    settings = _settings(tmp_path)
    for path in (first, second, first, tmp_path / "gone.tif"):
        settings.add_recent_file(str(path))
    assert _settings(tmp_path).recent_files() == [str(first), str(second)]


def test_parameters_round_trip_and_bad_values_fall_back_to_defaults(tmp_path):
    settings = _settings(tmp_path)
    settings.set_method_params("box", _Params(size=7))
    assert _settings(tmp_path).method_params("box", _Params) == _Params(size=7)
    settings.set_value("params/box", '{"size": 1000, "unknown": 1}')
    assert settings.method_params("box", _Params) == _Params()


def test_default_settings_use_the_temporary_location(temporary_settings):
    settings = AppSettings()
    settings.set_last_folder("open", str(temporary_settings))
    settings.sync()
    assert any(temporary_settings.rglob("*.ini"))
