"""The Noise analysis tab: autocorrelation of a drawn region, the suggested mask, its hand-over, residuals."""

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt
from scipy import ndimage

from et_denoise.engine.region import Region
from et_denoise.gui.model import Result
from et_denoise.engine.analysis.autocorr import MATCH_TOLERANCE
from et_denoise.gui.tabs.noise.noise_tab import SourceKind

REGION = Region(8, 72, 16, 80)


def _analysed(tab, qtbot, check=lambda outcome: True):
    """Wait until the tab shows an analysis that passes ``check``; return it."""
    qtbot.waitUntil(lambda: tab.outcome is not None and check(tab.outcome), timeout=20_000)
    return tab.outcome


@pytest.fixture
def noise_tab(sample_window, qtbot):
    tab = sample_window.select_tab("noise")
    tab.select_source(SourceKind.REGION)
    tab.region_selector.set_region(REGION)
    _analysed(tab, qtbot, lambda outcome: f"region {REGION}" in outcome.analysis.autocorrelation.source)
    return tab


def test_region_shows_horizontal_correlation_and_suggests_a_horizontal_mask(noise_tab):
    tab = noise_tab
    acf = tab.outcome.analysis.autocorrelation
    shown = tab.view.heat_image.image
    np.testing.assert_array_equal(shown, tab.view.central(acf))
    r = shown.shape[0] // 2
    assert shown[r, r + 1] > 0.4 and shown[r, r - 1] > 0.4        # neighbours along X: correlated
    assert abs(shown[r + 1, r]) < 0.2 and abs(shown[r - 1, r]) < 0.2  # along Y: not
    low, high = tab.view.colour_bar.levels()
    assert low == -high and high > 0                                 # symmetric range
    assert tab.view.heat.getAxis("bottom").labelText == "shift along X (px)"

    shifts, profile_x = tab.view.curves["X"].getData()
    _, profile_y = tab.view.curves["Y"].getData()
    assert profile_x[list(shifts).index(1)] > 0.4 and abs(profile_y[list(shifts).index(1)]) < 0.2
    z_shifts, profile_z = tab.view.curves["Z"].getData()
    assert len(z_shifts) > 1 and profile_z[list(z_shifts).index(0)] == pytest.approx(1)  # a volume has a Z profile

    mask = tab.suggestion.mask
    assert mask.shape[0] == 1 and mask.shape[1] >= 5 and mask.all()
    half = mask.shape[1] / 2
    assert tab.view.outline.path().boundingRect() == QRectF(-half, -0.5, mask.shape[1], 1)
    assert "along X" in tab.explanation.text() and "horizontal line" in tab.explanation.text()


def test_use_this_mask_puts_it_into_the_structn2v_tab(noise_tab, sample_window, qtbot):
    tab, document = noise_tab, sample_window.document
    tab.threshold.setValue(0.5)             # only the nearest neighbours along X pass: a line of 3
    assert tab.suggestion.mask.shape == (1, 3)
    assert set(tab.view.threshold_lines.getData()[1][[0, 3]]) == {0.5, -0.5}
    assert set(tab.view.tail_lines.getData()[1][[0, 3]]) == {0.325, -0.325}  # the level a kept lobe is followed to
    assert tab.view.outline.path().boundingRect() == QRectF(-1.5, -0.5, 3, 1)
    qtbot.mouseClick(tab.use_mask_button, Qt.MouseButton.LeftButton)

    np.testing.assert_array_equal(document.blind_spot_mask, np.ones((1, 3), dtype=bool))
    editor_mask = sample_window.tab("structn2v").mask_editor.mask()
    np.testing.assert_array_equal(editor_mask, np.ones((1, 3), dtype=bool))
    assert tab.use_mask_button.text() == "✓ Used by StructN2V"

    tab.threshold.setValue(0.95)            # nothing passes: plain N2V
    assert tab.suggestion.is_plain and "close to white" in tab.explanation.text()
    qtbot.mouseClick(tab.use_mask_button, Qt.MouseButton.LeftButton)
    assert document.blind_spot_mask is None and sample_window.tab("structn2v").mask_editor.mask() is None


def test_a_structn2v_result_selects_its_residual_and_says_whether_it_removed_the_structured_noise(
        noise_tab, sample_window, qtbot):
    tab, document = noise_tab, sample_window.document
    # A perfect denoiser's residual is the noise itself: correlated exactly like the raw noise.
    perfect = Result("Perfect", "n2v", "StructN2V", None, document.reference.astype(np.float32), 1.0)
    document.add_result(perfect)
    assert tab.source().result is perfect and tab.source_combo.currentText() == "Residual of “Perfect”"
    outcome = _analysed(tab, qtbot, lambda outcome: outcome.source.result is perfect)
    assert outcome.reference is not None and "correlated like the raw noise" in tab.verdict.text()
    assert tab.view.reference_curve.getData()[0] is not None

    # Predicting each pixel from its two horizontal neighbours (plain N2V's single-pixel blind
    # spot) copies the correlated noise into the result: its residual is correlated otherwise.
    raw = document.image.data
    neighbours = ndimage.correlate1d(raw, [0.5, 0.0, 0.5], axis=-1, mode="reflect")
    copied = Result("Neighbours", "n2v", "N2V", None, neighbours, 1.0)
    document.add_result(copied)
    _analysed(tab, qtbot, lambda outcome: outcome.source.result is copied)
    assert "differs from the raw noise's by up to" in tab.verdict.text()
    assert tab.verdict.property("error") is True
    largest = float(tab.verdict.text().split("by up to ")[1].split(" ")[0])
    assert largest > 3 * MATCH_TOLERANCE

    document.results.rename(copied, "Two neighbours")
    assert tab.source_combo.currentText() == "Residual of “Two neighbours”"
    document.results.remove(copied)
    texts = [tab.source_combo.itemText(i) for i in range(tab.source_combo.count())]
    assert "Residual of “Two neighbours”" not in texts and "Residual of “Perfect”" in texts


def test_whole_slice_and_volume_sources(noise_tab, sample_window, qtbot, sample_shape):
    tab = noise_tab
    tab.select_source(SourceKind.SLICE)
    outcome = _analysed(tab, qtbot, lambda outcome: outcome.source.kind is SourceKind.SLICE)
    assert outcome.analysis.autocorrelation.values.ndim == 2 and not tab.region_selector.isVisible()
    tab.select_source(SourceKind.VOLUME)
    outcome = _analysed(tab, qtbot, lambda outcome: outcome.source.kind is SourceKind.VOLUME)
    assert outcome.analysis.autocorrelation.z_radius == sample_shape[0] - 1


def test_moving_the_rectangle_analyses_the_new_region(noise_tab, qtbot):
    tab = noise_tab
    roi = tab.region_selector.roi
    roi.setSize((4, 40), finish=False)
    roi.setPos((40, 30), finish=True)          # what the end of a mouse drag does
    region = tab.region_selector.region()
    assert (region.x0, region.y0) == (40, 30)
    assert region.x1 - region.x0 >= 16         # too thin a box is widened to stay analysable
    _analysed(tab, qtbot, lambda outcome: f"region {region}" in outcome.analysis.autocorrelation.source)
    assert tab.region_selector.caption.text() == f"X {region.x0}–{region.x1}, Y {region.y0}–{region.y1}"
