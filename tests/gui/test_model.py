"""The document model: plain Python, usable without Qt."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from et_denoise.engine.io import ImageData
from et_denoise.gui.model import Document, Preview, Result

ROOT = Path(__file__).resolve().parents[2]


def _document(shape=(5, 8, 9)):
    document = Document()
    data = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    document.open_image(ImageData(data, voxel_size=(2.0, 2.0, 2.0)), "stack.tif")
    return document


def _result(document, name="Median"):
    return Result(name, "median", "Median", None, document.image.data + 1, 0.5)


def test_model_imports_without_qt():
    code = ("import sys; sys.modules['PySide6'] = None; sys.modules['pyqtgraph'] = None\n"
            "import et_denoise.gui.model, et_denoise.gui.signals\n"
            "loaded = [n for n, m in sys.modules.items() if m is not None and n.split('.')[0] in ('PySide6', 'pyqtgraph')]\n"
            "assert not loaded, loaded\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_opening_an_image_starts_in_the_middle_slice_and_signals():
    document = Document()
    opened, slices = [], []
    document.image_opened.connect(opened.append)
    document.slice_changed.connect(slices.append)
    document.open_image(ImageData(np.zeros((7, 4, 4), np.float32)), "a.tif")
    assert opened == [document] and document.z == 3 and document.n_slices == 7
    document.set_z(100)
    document.step_z(-2)
    assert slices == [6, 4]
    assert document.current_slice().shape == (4, 4)


def test_a_2d_image_is_one_slice():
    document = Document()
    document.open_image(ImageData(np.ones((4, 6), np.float32)), "a.tif")
    assert not document.is_volume and document.n_slices == 1
    assert document.current_slice().shape == (4, 6)


def test_slab_is_clipped_at_the_stack_ends():
    document = _document()
    document.set_z(0)
    slab, centre = document.slab(2)
    assert slab.shape[0] == 3 and centre == 0
    document.set_z(2)
    slab, centre = document.slab(2)
    np.testing.assert_array_equal(slab[centre], document.current_slice())


def test_a_result_shows_its_current_slice_and_a_preview_only_its_own():
    document = _document()
    result = _result(document)
    document.add_result(result)
    assert document.comparison is result
    np.testing.assert_array_equal(document.comparison_slice(), document.image.data[document.z] + 1)
    preview = Preview("Median", None, document.z, np.zeros((8, 9), np.float32), 0.01)
    document.show(preview)
    assert document.comparison_slice() is preview.data
    document.step_z(1)
    assert document.comparison_slice() is None


def test_results_get_unique_names_and_track_saving():
    document = _document()
    first, second = _result(document), _result(document)
    changed = []
    document.results.changed.connect(changed.append)
    document.add_result(first)
    document.add_result(second)
    assert [r.name for r in document.results] == ["Median", "Median (2)"]
    document.results.rename(second, "  ")
    document.results.rename(second, "Median")
    assert second.name == "Median (2)"
    document.results.rename(second, "smooth")
    assert second.name == "smooth" and changed == [second]
    document.results.rename(second, "smooth\ntouch x\x1b[2J")  # pasted: one plain line is kept
    assert second.name == "smooth touch x[2J"
    document.results.mark_saved(first, "/tmp/x.tif")
    assert document.results.unsaved() == [second]


def test_removing_the_shown_result_shows_nothing_and_opening_clears_results():
    document = _document()
    result = _result(document)
    document.add_result(result)
    document.results.remove(result)
    assert document.comparison is None
    document.add_result(_result(document))
    document.open_image(ImageData(np.zeros((3, 3), np.float32)), "b.tif")
    assert len(document.results) == 0 and document.comparison is None


def test_result_summary_names_parameters_and_time():
    from et_denoise.engine.filters.median import MedianParams

    result = Result("Median", "median", "Median", MedianParams(size=7), np.zeros((2, 2), np.float32), 1.234)
    assert "Size 7" in result.summary() and "1.2 s" in result.summary()


@pytest.mark.parametrize("z", [-5, 99])
def test_set_z_clamps(z):
    document = _document()
    document.set_z(z)
    assert 0 <= document.z < document.n_slices
