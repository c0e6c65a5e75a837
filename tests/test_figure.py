"""The exported comparison figure: sizes, unsquashed tiles, shared contrast, titles, formats."""

import numpy as np
import pytest
from matplotlib.colors import to_hex
from PIL import Image

from et_denoise.engine.compare.comparison import ComparedImage, compare
from et_denoise.engine.errors import ImageError, ParameterError
from et_denoise.engine.contrast import percentile_levels
from et_denoise.engine.compare.figure import (ORIGINAL_COLOUR, FigureSize, Panel, comparison_figure, result_colour,
                           save_comparison_figure)

SHAPE = (60, 90)  # not square, so a squashed tile would show


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    original = rng.normal(size=SHAPE).astype(np.float32)
    return original, original * 0.5, original * 0.25


def panels_of(images, **extra):
    names = ("Original", "Median · Size 5", "Non-local means · Patch 5 · Distance 6 · h 0.8")
    return [Panel(name.split(" ·")[0], image, title=name, **extra) for name, image in zip(names, images)]


def tile_axes(figure):
    return [axes for axes in figure.axes if axes.images]


def test_tiles_keep_the_image_aspect_and_share_the_original_contrast(images):
    figure = comparison_figure(panels_of(images), size=FigureSize(17, unit="cm", dpi=100))
    tiles = tile_axes(figure)
    assert len(tiles) == 3
    width, height = figure.get_size_inches()
    for axes in tiles:
        box = axes.get_position()
        assert (box.width * width) / (box.height * height) == pytest.approx(SHAPE[1] / SHAPE[0], rel=1e-6)
        assert axes.images[0].get_clim() == pytest.approx(percentile_levels(images[0]))


def test_titles_are_coloured_like_the_curves_and_the_table_rows(images):
    metrics = compare(images[0], [ComparedImage("Median", images[1]), ComparedImage("Non-local means", images[2])])
    figure = comparison_figure(panels_of(images), line=((5, 30), (80, 30)), metrics=metrics,
                               size=FigureSize(17, unit="cm", dpi=100))
    tiles = tile_axes(figure)
    colours = [ORIGINAL_COLOUR, result_colour(0), result_colour(1)]
    assert [to_hex(axes.title.get_color()) for axes in tiles] == [c.lower() for c in colours]
    assert "Median · Size 5" in tiles[1].title.get_text()
    profile = next(axes for axes in figure.axes if axes.lines and not axes.images)
    assert [to_hex(line.get_color()) for line in profile.lines] == [c.lower() for c in colours]
    assert [text.get_text() for text in profile.get_legend().get_texts()] == ["Original", "Median", "Non-local means"]
    table = next(axes for axes in figure.axes if axes.tables).tables[0]
    cells = table.get_celld()
    assert cells[2, 0].get_text().get_text() == "Median"
    assert to_hex(cells[2, 0].get_text().get_color()) == result_colour(0).lower()


def test_per_image_levels_are_kept(images):
    panels = [Panel("a", images[0]), Panel("b", images[1], levels=(-0.1, 0.1))]
    tiles = tile_axes(comparison_figure(panels, size=FigureSize(10, unit="cm", dpi=80)))
    assert tiles[1].images[0].get_clim() == (-0.1, 0.1)


def test_png_has_the_requested_size_and_resolution(images, tmp_path):
    path = save_comparison_figure(tmp_path / "grid.png", panels_of(images),
                                  size=FigureSize(6, 4, unit="in", dpi=150))
    with Image.open(path) as png:
        assert png.size == (900, 600)


def test_a_fixed_height_fits_everything_and_picks_the_largest_tiles(images):
    wide = comparison_figure(panels_of(images), size=FigureSize(30, 8, unit="cm", dpi=80))
    assert wide.get_size_inches() == pytest.approx((30 / 2.54, 8 / 2.54))
    rows = {round(axes.get_position().y0, 6) for axes in tile_axes(wide)}
    assert len(rows) == 1  # a wide, low figure puts the three tiles in one row
    for axes in wide.axes:
        box = axes.get_position()
        assert box.y0 >= 0 and box.y1 <= 1


def test_pdf_is_written(images, tmp_path):
    path = save_comparison_figure(tmp_path / "grid.pdf", panels_of(images), line=((0, 0), (89, 59)))
    assert path.read_bytes()[:5] == b"%PDF-"


def test_existing_files_other_formats_and_tiny_sizes_are_refused(images, tmp_path):
    (tmp_path / "taken.png").write_bytes(b"mine")
    with pytest.raises(ImageError, match="already exists"):
        save_comparison_figure(tmp_path / "taken.png", panels_of(images))
    assert (tmp_path / "taken.png").read_bytes() == b"mine"
    with pytest.raises(ParameterError, match=".png or .pdf"):
        save_comparison_figure(tmp_path / "grid.tif", panels_of(images))
    with pytest.raises(ParameterError, match="too small"):
        comparison_figure(panels_of(images), line=((0, 0), (5, 5)), size=FigureSize(3, 3, unit="cm"))
    with pytest.raises(ParameterError, match="positive"):
        FigureSize(-1)
    with pytest.raises(ParameterError, match="has shape"):
        comparison_figure([Panel("a", images[0]), Panel("b", images[0][:, :10])])


def test_the_first_four_results_get_clearly_different_colours():
    from matplotlib.colors import to_rgb

    colours = [np.array(to_rgb(result_colour(index))) * 255 for index in range(4)]
    distances = [np.linalg.norm(a - b) for i, a in enumerate(colours) for b in colours[i + 1:]]
    assert min(distances) > 100, distances


def test_the_figure_has_a_scale_bar_when_the_pixel_size_is_known_and_aligned_titles():
    from matplotlib.patches import Rectangle

    image = np.random.default_rng(0).random((64, 100))
    panels = [Panel("Original", image), Panel("Median", image, subtitle="Size 5"),
              Panel("StructN2V", image, subtitle="Mask horizontal:11 · stopped at epoch 2 of 10 · patch 64 · "
                                                   "learning rate 0.0004 cosine")]
    size = FigureSize(8, unit="cm", dpi=100)
    plain = comparison_figure(panels, size=size)
    scaled = comparison_figure(panels, size=size, pixel_size=10.0)  # 100 px of 10 Å: a 200 Å = 20 nm bar
    texts = [text.get_text() for text in scaled.axes[0].texts]
    assert "20 nm" in texts and "20 nm" not in [text.get_text() for text in plain.axes[0].texts]
    bars = [patch for patch in scaled.axes[0].patches if isinstance(patch, Rectangle)]
    assert len(bars) == 1 and bars[0].get_width() == pytest.approx(20.0)
    scaled.canvas.draw()
    tops = [axes.title.get_window_extent().y0 for axes in scaled.axes[:3]]
    by_row = {}
    for axes, top in zip(scaled.axes[:3], tops):
        by_row.setdefault(round(axes.get_position().y1, 3), []).append(top)
    assert all(max(row) - min(row) < 3.0 for row in by_row.values()), by_row  # glyphs differ by a pixel
