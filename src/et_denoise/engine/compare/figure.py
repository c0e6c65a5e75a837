"""Figures of a comparison, ready for a slide or a paper: a labelled image grid, a line profile, a metrics table.

Drawn with matplotlib's object interface (no pyplot state, no GUI backend), so
a figure can be made on any thread and saved as PNG or PDF.  Tiles keep the
image's aspect ratio, share one contrast unless told otherwise, and carry
their title in the colour of their line-profile curve and table row.
matplotlib is imported when a figure is drawn, not when this module is.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Sequence

import numpy as np

from et_denoise.engine.compare.comparison import MetricsTable, format_value, line_profile
from et_denoise.engine.contrast import percentile_levels
from et_denoise.engine.errors import ImageError, OutputExistsError, ParameterError
from et_denoise.engine.scale_bar import scale_bar_length

#: Colours of the results' titles, curves and rows (Okabe & Ito's colour-blind-safe set, yellow left out),
#: ordered so that the first results (three filters and StructN2V) get clearly different hues: orange and
#: vermillion are five results apart.
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00")
#: The original's colour in figures (white paper).
ORIGINAL_COLOUR = "#000000"
#: The line-profile line drawn over the tiles.
LINE_COLOUR = "#FFD400"
#: Outlines of the signal and background regions.
SIGNAL_COLOUR = "#00E5FF"
BACKGROUND_COLOUR = "#FF5CF0"
#: File formats by extension.
FORMATS = {".png": "png", ".pdf": "pdf"}
UNITS = {"cm": 1 / 2.54, "in": 1.0}

_MARGIN = 0.12        # inches around everything
_GAP = 0.08           # inches between tiles
_MIN_TILE = 0.5       # inches: the smallest tile side drawn


def result_colour(index: int) -> str:
    """Colour of the ``index``-th result (0-based), cycling through :data:`PALETTE`."""
    return PALETTE[index % len(PALETTE)]


@dataclass(frozen=True)
class Panel:
    """One tile of the grid.

    Attributes
    ----------
    name : str
        Short name: the profile's legend and the metrics table's row.
    image : ndarray, shape (Y, X)
        What the tile shows.
    title : str
        Shown above the tile (wrapped to its width); default ``name``.
    subtitle : str
        A smaller, grey line under the title (e.g. the parameters), wrapped too.
    colour : str, optional
        Title, frame, curve and row colour; default black for the first panel
        and :func:`result_colour` for the others.
    levels : (float, float), optional
        Black and white; default the first panel's :func:`~engine.contrast.percentile_levels`, shared
        by every tile.
    """

    name: str
    image: np.ndarray
    title: str = ""
    subtitle: str = ""
    colour: str | None = None
    levels: tuple[float, float] | None = None


@dataclass(frozen=True)
class FigureSize:
    """The printed size of a figure.

    Attributes
    ----------
    width : float
        Width in ``unit``.
    height : float, optional
        Height in ``unit``; by default as tall as the content needs at this width.
    unit : str
        ``"cm"`` or ``"in"``.
    dpi : int
        Pixels per inch of a PNG (and of the images inside a PDF).
    """

    width: float = 17.0
    height: float | None = None
    unit: str = "cm"
    dpi: int = 300

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ParameterError(f"unit must be one of {', '.join(UNITS)}, got {self.unit!r}")
        for name, value in (("width", self.width), ("height", self.height)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ParameterError(f"the figure {name} must be a positive number, got {value}")
        if not 30 <= self.dpi <= 2400:
            raise ParameterError(f"the resolution must be between 30 and 2400 dpi, got {self.dpi}")

    @property
    def inches(self) -> tuple[float, float | None]:
        """(width, height) in inches; height ``None`` when automatic."""
        scale = UNITS[self.unit]
        return self.width * scale, None if self.height is None else self.height * scale


def validate_figure_path(path) -> str:
    """The matplotlib format for ``path``'s extension (``"png"`` or ``"pdf"``).

    Raises
    ------
    ParameterError
        For any other extension.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ParameterError(f"cannot write a figure as {suffix or 'a file without extension'}: "
                             f"use {' or '.join(FORMATS)}")
    return FORMATS[suffix]


@dataclass(frozen=True)
class _Layout:
    columns: int
    rows: int
    tile: float            # tile width, inches
    title_height: float    # inches above each tile
    font: float            # points
    profile: float         # inches (0: none)
    table: float           # inches (0: none)
    width: float
    height: float


#: Size of a subtitle relative to the title.
_SUBTITLE_SCALE = 0.82
_SUBTITLE_COLOUR = "#555555"


def _wrap(text: str, tile_inches: float, font: float) -> list[str]:
    """``text`` broken into lines that fit a tile's width at ``font`` points."""
    width = max(int(tile_inches * 72 / (0.55 * font)), 8)
    return textwrap.wrap(text, width)


def _titles_height(panels: Sequence[Panel], tile: float, font: float) -> float:
    """Inches taken by the tallest title and subtitle above a tile ``tile`` inches wide."""
    def height(panel: Panel) -> float:
        lines = max(len(_wrap(panel.title or panel.name, tile, font)), 1) * font
        lines += len(_wrap(panel.subtitle, tile, font * _SUBTITLE_SCALE)) * font * _SUBTITLE_SCALE
        return lines * 1.3 / 72
    return max(height(panel) for panel in panels) + 0.05


def _layout(panels: Sequence[Panel], width: float, height: float | None, *, profile: bool,
            table_rows: int, caption: bool) -> _Layout:
    """Choose the grid's columns and every block's size, in inches."""
    n = len(panels)
    aspect = panels[0].image.shape[0] / panels[0].image.shape[1]
    font = min(max(width * 1.25, 6.5), 11.0)
    line = font / 72
    profile_height = min(max(0.34 * width, 1.6), 3.2, 0.28 * height if height else math.inf) if profile else 0.0
    table_height = (table_rows + 1) * 1.55 * 0.85 * line + 0.15 if table_rows else 0.0
    extras = profile_height + table_height + (1.6 * line if caption else 0.0) + 2 * _MARGIN

    def fit(columns: int) -> tuple[float, float, float]:
        """(tile width, title height, grid height) with ``columns`` columns."""
        rows = math.ceil(n / columns)
        tile = (width - 2 * _MARGIN - (columns - 1) * _GAP) / columns
        for _ in range(3):  # the titles' height depends on the tile width: settle it
            title = _titles_height(panels, tile, font)
            if height is not None:
                tile = min(tile, ((height - extras) / rows - title - _GAP) / aspect)
        return tile, title, rows * (tile * aspect + title + _GAP)

    if height is None:  # as many columns as rows (up to 3 images in one row)
        columns = n if n <= 3 else math.ceil(math.sqrt(n))
    else:  # the arrangement with the largest tiles
        columns = max(range(1, n + 1), key=lambda c: fit(c)[0])
    tile, title, grid = fit(columns)
    if tile < _MIN_TILE:
        raise ParameterError("the figure is too small for its tiles: make it larger, or leave out the "
                             "line profile or the metrics")
    total = height if height is not None else grid + extras
    return _Layout(columns, math.ceil(n / columns), tile, title, font, profile_height, table_height, width, total)


def comparison_figure(panels: Sequence[Panel], *, line=None, metrics: MetricsTable | None = None,
                      size: FigureSize = FigureSize(), caption: str | None = None,
                      pixel_size: float | None = None):
    """Draw the comparison: a grid of tiles, optionally a line profile and the metrics table.

    Parameters
    ----------
    panels : sequence of Panel
        The original first, then the results; images of one shape.
    line : ((float, float), (float, float)), optional
        Ends ``(x, y)`` of a line (pixel coordinates, centres at whole
        numbers): drawn over every tile, and the intensity along it plotted
        for every panel below the grid.
    metrics : MetricsTable, optional
        Printed as a table below; its signal and background regions are
        outlined on the first tile.
    size : FigureSize
        Printed size and resolution; the grid's number of columns is chosen
        to make the tiles as large as the size allows.
    caption : str, optional
        A line of small text at the bottom (e.g. which slice is shown).
    pixel_size : float, optional
        Å per pixel: a scale bar (a round length, about a fifth of the width)
        is drawn in the first tile's bottom-right corner; none when unknown.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ParameterError
        No panels, panels of different shapes, or a size too small.

    Examples
    --------
    >>> image = np.random.default_rng(0).random((32, 48))
    >>> figure = comparison_figure([Panel("Original", image), Panel("Half", image / 2)],
    ...                            line=((2, 16), (45, 16)), size=FigureSize(12, unit="cm", dpi=100))
    >>> len(figure.axes)
    3
    """
    from matplotlib.figure import Figure

    panels = _checked_panels(panels)
    width, height = size.inches
    table_rows = len(metrics.rows) if metrics is not None else 0
    layout = _layout(panels, width, height, profile=line is not None, table_rows=table_rows,
                     caption=bool(caption))
    figure = Figure(figsize=(layout.width, layout.height), dpi=size.dpi, facecolor="white")
    top = _draw_tiles(figure, panels, layout, line, metrics, pixel_size)
    if line is not None:
        _draw_profile(figure, panels, layout, line, top)
    if metrics is not None:
        _draw_table(figure, panels, layout, metrics, caption is not None)
    if caption:
        figure.text(_MARGIN / layout.width, _MARGIN / layout.height, caption, fontsize=layout.font * 0.8,
                    color="#444444", va="bottom", ha="left")
    return figure


def save_comparison_figure(path, panels: Sequence[Panel], *, line=None, metrics: MetricsTable | None = None,
                           size: FigureSize = FigureSize(), caption: str | None = None,
                           overwrite: bool = False, pixel_size: float | None = None) -> Path:
    """Draw :func:`comparison_figure` and write it as PNG or PDF (by ``path``'s extension).

    Raises
    ------
    ImageError
        If ``path`` exists and ``overwrite`` is False, or it cannot be written.
    ParameterError
        For another extension, or see :func:`comparison_figure`.
    """
    path = Path(path)
    kind = validate_figure_path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(path)
    figure = comparison_figure(panels, line=line, metrics=metrics, size=size, caption=caption,
                               pixel_size=pixel_size)
    try:
        figure.savefig(path, format=kind, dpi=size.dpi, facecolor="white")
    except OSError as error:
        raise ImageError(f"cannot write the figure: {error.strerror or error}", path) from None
    return path


# ---------------------------------------------------------------- drawing

def _draw_scale_bar(axes, n_y: int, n_x: int, pixel_size: float, font: float) -> None:
    """A white bar with its length in the bottom-right corner of a tile (pixel coordinates)."""
    from matplotlib.patches import Rectangle

    length, label = scale_bar_length(n_x, pixel_size)
    margin, thickness = 0.04 * n_x, max(0.012 * n_y, 1.0)
    right, bottom = n_x - 0.5 - margin, n_y - 0.5 - margin
    axes.add_patch(Rectangle((right - length, bottom - thickness), length, thickness, facecolor="white",
                             edgecolor="black", linewidth=0.5))
    axes.text(right - length / 2, bottom - thickness * 1.6, label, color="white", fontsize=font * 0.8,
              ha="center", va="bottom", bbox=dict(facecolor="black", alpha=0.45, edgecolor="none", pad=1))


def _checked_panels(panels: Sequence[Panel]) -> list[Panel]:
    panels = list(panels)
    if not panels:
        raise ParameterError("a figure needs at least one image")
    shape = np.shape(panels[0].image)
    for panel in panels:
        if np.ndim(panel.image) != 2:
            raise ParameterError(f"{panel.name}: a tile shows a 2-D image, got shape {np.shape(panel.image)}")
        if np.shape(panel.image) != shape:
            raise ParameterError(f"{panel.name} has shape {np.shape(panel.image)}, the first image {shape}")
    shared = percentile_levels(panels[0].image)
    return [Panel(panel.name, panel.image, panel.title or panel.name, panel.subtitle,
                  panel.colour or (ORIGINAL_COLOUR if index == 0 else result_colour(index - 1)),
                  panel.levels or shared) for index, panel in enumerate(panels)]


def _draw_tiles(figure, panels: list[Panel], layout: _Layout, line, metrics, pixel_size=None) -> float:
    """Draw the grid from the top; return the height (inches) where it ends."""
    from matplotlib.patches import Rectangle

    inch_x, inch_y = 1 / layout.width, 1 / layout.height
    tile_h = layout.tile * panels[0].image.shape[0] / panels[0].image.shape[1]
    row_h = layout.title_height + tile_h + _GAP
    grid_w = layout.columns * layout.tile + (layout.columns - 1) * _GAP
    left0 = (layout.width - grid_w) / 2
    top = layout.height - _MARGIN
    n_y, n_x = panels[0].image.shape
    small = layout.font * _SUBTITLE_SCALE
    # Every title sits as high as the one with the most subtitle lines: the rows line up.
    subtitle_lines = max(len(_wrap(panel.subtitle, layout.tile, small)) for panel in panels)
    for index, panel in enumerate(panels):
        row, column = divmod(index, layout.columns)
        left = left0 + column * (layout.tile + _GAP)
        bottom = top - row * row_h - layout.title_height - tile_h
        axes = figure.add_axes((left * inch_x, bottom * inch_y, layout.tile * inch_x, tile_h * inch_y))
        axes.imshow(panel.image, cmap="gray", vmin=panel.levels[0], vmax=panel.levels[1], aspect="equal")
        axes.set_xticks([])
        axes.set_yticks([])
        for spine in axes.spines.values():
            spine.set_edgecolor(panel.colour)
            spine.set_linewidth(1.2)
        subtitle = _wrap(panel.subtitle, layout.tile, small)
        if subtitle:
            axes.annotate("\n".join(subtitle), (0.5, 1.0), xycoords="axes fraction", xytext=(0, 2),
                          textcoords="offset points", ha="center", va="bottom", fontsize=small,
                          color=_SUBTITLE_COLOUR, linespacing=1.1)
        axes.set_title("\n".join(_wrap(panel.title, layout.tile, layout.font)), fontsize=layout.font,
                       color=panel.colour, pad=2 + subtitle_lines * small * 1.3, linespacing=1.1)
        if pixel_size and index == 0:
            _draw_scale_bar(axes, n_y, n_x, pixel_size, layout.font)
        if line is not None:
            (x0, y0), (x1, y1) = line
            axes.plot([x0, x1], [y0, y1], color=LINE_COLOUR, linewidth=1.0, marker="o", markersize=2.0)
        if metrics is not None and index == 0:
            for region, colour, label, style in ((metrics.signal_region, SIGNAL_COLOUR, "S", "-"),
                                                 (metrics.background_region, BACKGROUND_COLOUR, "B", "--")):
                axes.add_patch(Rectangle((region.x0 - 0.5, region.y0 - 0.5), region.x1 - region.x0,
                                         region.y1 - region.y0, fill=False, edgecolor=colour,
                                         linewidth=1.0, linestyle=style))
                axes.text(region.x0 + 0.5, region.y0 + 0.5, label, color=colour, fontsize=layout.font * 0.75,
                          va="top", ha="left", fontweight="bold")
        axes.set_xlim(-0.5, n_x - 0.5)
        axes.set_ylim(n_y - 0.5, -0.5)
    return top - layout.rows * row_h


def _draw_profile(figure, panels: list[Panel], layout: _Layout, line, top: float) -> None:
    """The profile plot under the grid, its legend in rows of up to four above it."""
    inch_x, inch_y = 1 / layout.width, 1 / layout.height
    small = layout.font * 0.85
    columns = min(len(panels), 4)
    legend = math.ceil(len(panels) / columns) * 1.5 * small / 72
    left, right, below = 0.62, 0.15, 0.42
    bottom = top - layout.profile + below
    axes = figure.add_axes((left * inch_x, bottom * inch_y, (layout.width - left - right) * inch_x,
                            (layout.profile - below - 0.1 - legend) * inch_y))
    for panel in panels:
        distance, values = line_profile(panel.image, *line)
        axes.plot(distance, values, color=panel.colour, linewidth=1.1, label=panel.name)
    axes.set_xlabel("distance along the line (px)", fontsize=small)
    axes.set_ylabel("intensity", fontsize=small)
    axes.tick_params(labelsize=small * 0.9)
    axes.margins(x=0)
    axes.legend(fontsize=small * 0.9, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0),
                ncol=columns, handlelength=1.5, columnspacing=1.2, borderaxespad=0.1)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _draw_table(figure, panels: list[Panel], layout: _Layout, metrics: MetricsTable, caption: bool) -> None:
    inch_x, inch_y = 1 / layout.width, 1 / layout.height
    bottom = _MARGIN + (1.6 * layout.font / 72 if caption else 0.0)
    axes = figure.add_axes((_MARGIN * inch_x, bottom * inch_y, (layout.width - 2 * _MARGIN) * inch_x,
                            (layout.table - 0.1) * inch_y))
    axes.set_axis_off()
    columns = metrics.columns
    cells = [[row.name, *(format_value(row.value(column.key), column.digits) for column in columns)]
             for row in metrics.rows]
    name_share = 2.0
    widths = [name_share / (name_share + len(columns))] + [1 / (name_share + len(columns))] * len(columns)
    table = axes.table(cellText=cells, colLabels=["Image", *(c.header for c in columns)],
                       colWidths=widths, cellLoc="center", bbox=(0, 0, 1, 1))
    table.auto_set_font_size(False)
    table.set_fontsize(layout.font * 0.8)
    colours = {panel.name: panel.colour for panel in panels}
    for (row, column), cell in table.get_celld().items():
        cell.set_edgecolor("#BBBBBB")
        cell.set_linewidth(0.4)
        if row == 0:
            cell.set_text_props(fontweight="bold")
            cell.set_facecolor("#F0F0F0")
        elif column == 0:
            cell.set_text_props(color=colours.get(metrics.rows[row - 1].name, "black"), ha="left")
            cell.PAD = 0.04
