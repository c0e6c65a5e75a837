"""Measuring denoising results side by side: the numbers behind the comparison grid.

For the original and each result, :func:`compare` measures what eyes cannot:

* PSNR and SSIM against a noise-free reference, when there is one;
* the noise σ still in the image (:func:`engine.noise.estimate_noise_sigma`,
  robust to the correlated noise of tomograms);
* signal-to-noise and contrast-to-noise ratios in a signal region and a
  background region (:func:`default_regions` picks both when not given);
* the autocorrelation of what the method removed (original − result) at
  1 and 2 pixels along X and Y: near 0 when the removed part is white noise,
  large when the method also removed structure or left correlated noise
  behind (Broaddus et al. 2020);
* the time the method took.

:func:`compare_files` does it for files and writes the figure and a CSV table:
the command line's ``compare`` is a thin call to it.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from et_denoise.engine.analysis.autocorr import residual_autocorrelation
from et_denoise.engine.region import Region
from et_denoise.engine.errors import ImageError, OutputExistsError, ParameterError
from et_denoise.engine.validation import check_image
from et_denoise.engine.jobs import CancelToken, ProgressCounter, ProgressFn
from et_denoise.engine.compare.metrics import psnr, ssim
from et_denoise.engine.analysis.noise import estimate_noise_sigma

#: Name of the original image's row.
ORIGINAL_NAME = "Original"
#: Residual autocorrelation shifts reported, in pixels.
ACF_SHIFTS = (1, 2)
#: Smallest side of a measuring region, in pixels.
MIN_REGION_SIDE = 2


@dataclass(frozen=True)
class ComparedImage:
    """An image to measure against the original: a name, its data, and how long it took to compute."""

    name: str
    data: np.ndarray
    elapsed_s: float | None = None


@dataclass(frozen=True)
class Column:
    """One measurement of the metrics table.

    Attributes
    ----------
    key : str
        Attribute of :class:`ImageMetrics` holding it, and its CSV header.
    header : str
        Short header for tables and figures.
    description : str
        What it measures and which way is better (tooltips, help).
    digits : int
        Decimals shown.
    needs_reference : bool
        Measured only against a noise-free reference.
    """

    key: str
    header: str
    description: str
    digits: int
    needs_reference: bool = False


COLUMNS = (
    Column("psnr", "PSNR (dB)", "Peak signal-to-noise ratio against the reference: higher is closer to it.",
           2, needs_reference=True),
    Column("ssim", "SSIM", "Structural similarity to the reference (Wang et al. 2004): 1 is identical.",
           3, needs_reference=True),
    Column("noise_sigma", "Noise σ", "Noise standard deviation estimated in the image itself "
           "(robust to correlated noise): lower is smoother.", 4),
    Column("snr", "SNR", "Signal-to-noise ratio: standard deviation of the structure in the signal region "
           "(its variance less the background's) over the background's standard deviation. "
           "It drops when a method blurs away detail.", 2),
    Column("cnr", "CNR", "Contrast-to-noise ratio: |mean of signal region − mean of background| over the "
           "background's standard deviation.", 2),
    Column("acf_x1", "ACF X±1", "Autocorrelation of the removed part (original − result) at 1 px along X: "
           "near 0 when only white noise was removed.", 3),
    Column("acf_x2", "ACF X±2", "Autocorrelation of the removed part at 2 px along X.", 3),
    Column("acf_y1", "ACF Y±1", "Autocorrelation of the removed part at 1 px along Y.", 3),
    Column("acf_y2", "ACF Y±2", "Autocorrelation of the removed part at 2 px along Y.", 3),
    Column("elapsed_s", "Time (s)", "Time the method took on the whole image, in seconds.", 2),
)


@dataclass(frozen=True)
class ImageMetrics:
    """The measurements of one image (``None`` where one does not apply)."""

    name: str
    noise_sigma: float
    snr: float
    cnr: float
    psnr: float | None = None
    ssim: float | None = None
    acf_x1: float | None = None
    acf_x2: float | None = None
    acf_y1: float | None = None
    acf_y2: float | None = None
    elapsed_s: float | None = None

    def value(self, key: str) -> float | None:
        """The measurement of column ``key``."""
        return getattr(self, key)


@dataclass(frozen=True)
class MetricsTable:
    """The measurements of the original and every result, one row each.

    Attributes
    ----------
    rows : tuple of ImageMetrics
        The original first, then the results in the order given.
    signal_region, background_region : Region
        The in-plane boxes SNR and CNR were measured in.
    scope : str
        What was measured, in words: ``"slice 5"``, ``"the whole volume"`` or ``"the whole image"``.
    """

    rows: tuple[ImageMetrics, ...]
    signal_region: Region
    background_region: Region
    scope: str

    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns with a value in some row (PSNR and SSIM only with a reference, times only when known)."""
        return tuple(column for column in COLUMNS
                     if any(row.value(column.key) is not None for row in self.rows))

    def row(self, name: str) -> ImageMetrics:
        """The row of the image called ``name``."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)

    def to_csv(self) -> str:
        """The table as CSV text: a header of column keys, then one line per image (empty where none)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["image", *(column.key for column in self.columns)])
        for row in self.rows:
            values = (row.value(column.key) for column in self.columns)
            writer.writerow([row.name, *("" if value is None else repr(float(value)) for value in values)])
        return buffer.getvalue()

    def to_text(self) -> str:
        """The table as aligned plain text, for a terminal.

        Examples
        --------
        >>> table = MetricsTable((ImageMetrics("Original", 0.25, 1.0, 0.5),), Region(0, 8, 0, 8),
        ...                      Region(8, 16, 0, 8), "slice 3")
        >>> print(table.to_text())
        Image     Noise σ   SNR   CNR
        Original   0.2500  1.00  0.50
        """
        columns = self.columns
        rows = [["Image", *(column.header for column in columns)]]
        for row in self.rows:
            values = (row.value(column.key) for column in columns)
            rows.append([row.name, *(format_value(value, column.digits) for value, column in zip(values, columns))])
        widths = [max(len(line[index]) for line in rows) for index in range(len(rows[0]))]
        return "\n".join("  ".join([line[0].ljust(widths[0]), *(cell.rjust(width) for cell, width
                                                               in zip(line[1:], widths[1:]))]).rstrip()
                         for line in rows)

    def write_csv(self, path, *, overwrite: bool = False) -> Path:
        """Write :meth:`to_csv` to ``path`` (UTF-8).

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is False.
        """
        path = Path(path)
        with open(path, "w" if overwrite else "x", encoding="utf-8", newline="") as handle:
            handle.write(self.to_csv())
        return path


def format_value(value: float | None, digits: int) -> str:
    """A measurement as shown in tables: ``digits`` decimals, ``–`` when missing, ``∞`` when infinite."""
    if value is None:
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    text = f"{value:.{digits}f}"
    return text[1:] if float(text) == 0 and text.startswith("-") else text  # no "-0.000"


# ---------------------------------------------------------------- regions and profiles

def default_regions(plane: np.ndarray) -> tuple[Region, Region]:
    """A signal region and a background region for SNR and CNR, chosen from the image.

    Parameters
    ----------
    plane : ndarray, shape (Y, X)
        The image to choose in (best a noise-free reference, else the original).

    Returns
    -------
    (Region, Region)
        ``(signal, background)``: squares of about a fifth of the image's
        shorter side that do not overlap.  The background is where the
        smoothed image is flattest, the signal where it varies most.

    Notes
    -----
    The image is smoothed (Gaussian, σ 2 px) so that noise does not decide;
    the local standard deviation of the smoothed image is then compared
    between squares on a grid with half-square steps.

    Examples
    --------
    >>> image = np.zeros((60, 60)); image[5:20, 35:55] = np.indices((15, 20)).sum(0) % 4
    >>> signal, background = default_regions(image)
    >>> signal.x0 >= 25 and signal.y0 < 20
    True
    """
    plane = np.asarray(plane, dtype=np.float32)
    if plane.ndim != 2:
        raise ImageError(f"regions are chosen on a 2-D plane, got shape {plane.shape}")
    n_y, n_x = plane.shape
    side = min(max(min(n_y, n_x) // 5, 8), n_y, n_x)
    if side < 2 * MIN_REGION_SIDE:
        raise ImageError(f"the image ({n_y} x {n_x} px) is too small to place measuring regions in")
    smooth = ndimage.gaussian_filter(plane, 2.0)
    mean = ndimage.uniform_filter(smooth, side, mode="nearest")
    square = ndimage.uniform_filter(smooth * smooth, side, mode="nearest")
    spread = np.sqrt(np.maximum(square - mean * mean, 0))
    step = max(side // 2, 1)
    corners = [(y, x) for y in range(0, n_y - side + 1, step) for x in range(0, n_x - side + 1, step)]
    spreads = np.array([spread[y + side // 2, x + side // 2] for y, x in corners])
    order = np.argsort(spreads, kind="stable")
    y_b, x_b = corners[order[0]]
    background = Region(y_b, y_b + side, x_b, x_b + side)
    for index in order[::-1]:
        y_s, x_s = corners[index]
        if abs(y_s - y_b) >= side or abs(x_s - x_b) >= side:
            return Region(y_s, y_s + side, x_s, x_s + side), background
    raise ImageError(f"the image ({n_y} x {n_x} px) is too small for two separate measuring regions")


def line_profile(plane: np.ndarray, start: Sequence[float], end: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Intensity along a straight line, sampled once per pixel of length (linear interpolation).

    Parameters
    ----------
    plane : ndarray, shape (Y, X)
        The image.
    start, end : (float, float)
        The line's ends as ``(x, y)`` in pixel coordinates (pixel centres at
        whole numbers); clipped to the image.

    Returns
    -------
    distance : ndarray
        Distance from ``start`` of each sample, in pixels.
    values : ndarray, float64
        The image's values there.

    Examples
    --------
    >>> distance, values = line_profile(np.arange(12.0).reshape(3, 4), (0, 1), (3, 1))
    >>> distance.tolist(), values.tolist()
    ([0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0])
    """
    plane = np.asarray(plane, dtype=np.float64)
    if plane.ndim != 2:
        raise ImageError(f"a line profile needs a 2-D plane, got shape {plane.shape}")
    n_y, n_x = plane.shape
    (x0, y0), (x1, y1) = ((float(np.clip(x, 0, n_x - 1)), float(np.clip(y, 0, n_y - 1))) for x, y in (start, end))
    length = math.hypot(x1 - x0, y1 - y0)
    count = int(math.ceil(length)) + 1
    rows, cols = np.linspace(y0, y1, count), np.linspace(x0, x1, count)
    values = ndimage.map_coordinates(plane, [rows, cols], order=1, mode="nearest")
    return np.linspace(0.0, length, count), values


# ---------------------------------------------------------------- measuring

def _region_stats(data: np.ndarray, signal: Region, background: Region) -> tuple[float, float]:
    """(SNR, CNR) of ``data`` in the two in-plane regions (all planes of a volume)."""
    inside = signal.crop(data).astype(np.float64)
    outside = background.crop(data).astype(np.float64)
    noise = float(outside.std())
    structure = math.sqrt(max(float(inside.var()) - noise * noise, 0.0))
    contrast = abs(float(inside.mean()) - float(outside.mean()))
    if noise == 0:
        return (math.inf if structure else 0.0), (math.inf if contrast else 0.0)
    return structure / noise, contrast / noise


def _residual_correlations(original: np.ndarray, image: np.ndarray) -> dict:
    """Autocorrelation of ``original - image`` at the :data:`ACF_SHIFTS` along X and Y (empty if it is constant)."""
    radius = max(ACF_SHIFTS)
    try:
        acf = residual_autocorrelation(original, image, radius=radius, three_d=False)
    except ImageError:  # nothing was removed: there is no residual to correlate
        return {}
    values = {}
    for shift in ACF_SHIFTS:
        values[f"acf_x{shift}"] = float(acf.profile_x[radius + shift])
        values[f"acf_y{shift}"] = float(acf.profile_y[radius + shift])
    return values


def measure_image(original: np.ndarray, image: ComparedImage, *, signal_region: Region, background_region: Region,
                  reference: np.ndarray | None = None, data_range: float | None = None) -> ImageMetrics:
    """Every measurement of one image (see :data:`COLUMNS`).

    Parameters
    ----------
    original : ndarray, shape (Y, X) or (Z, Y, X)
        The noisy input the image was computed from.
    image : ComparedImage
        The image to measure, same shape (the original itself gives the
        baseline: no autocorrelation, since nothing was removed).
    signal_region, background_region : Region
        In-plane boxes for SNR and CNR (applied to every plane of a volume).
    reference : ndarray, optional
        Noise-free version, same shape: adds PSNR and SSIM.
    data_range : float, optional
        The span of possible values for PSNR and SSIM (see
        :func:`~engine.compare.metrics.psnr`); by default the reference's
        range, which a constant reference does not have.

    Returns
    -------
    ImageMetrics
    """
    data = image.data
    snr, cnr = _region_stats(data, signal_region, background_region)
    extra = {} if reference is None else {"psnr": psnr(reference, data, data_range=data_range),
                                          "ssim": ssim(reference, data, data_range=data_range)}
    return ImageMetrics(name=image.name, noise_sigma=estimate_noise_sigma(data), snr=snr, cnr=cnr,
                        elapsed_s=image.elapsed_s, **extra, **_residual_correlations(original, data))


def compare(original: np.ndarray, images: Sequence[ComparedImage], *, reference: np.ndarray | None = None,
            signal_region: Region | None = None, background_region: Region | None = None,
            slice_index: int | None = None, data_range: float | None = None,
            progress: ProgressFn | None = None, cancel: CancelToken | None = None) -> MetricsTable:
    """Measure the original and every result (see the module's description).

    Parameters
    ----------
    original : ndarray, shape (Y, X) or (Z, Y, X)
        The noisy input.
    images : sequence of ComparedImage
        Results computed from it, same shape, with distinct names.
    reference : ndarray, optional
        Noise-free version of the original, same shape: PSNR and SSIM are
        measured against it.
    signal_region, background_region : Region, optional
        In-plane boxes for SNR and CNR; by default both are chosen by
        :func:`default_regions` on the reference (or the original) at the
        measured slice (the middle one for a whole volume).
    slice_index : int, optional
        Measure only this plane of a volume; by default the whole volume (or
        the 2-D image).
    data_range : float, optional
        The span of possible values for PSNR and SSIM (see
        :func:`~engine.compare.metrics.psnr`); by default the reference's
        range, which a constant reference does not have.
    progress : callable, optional
        ``progress(fraction)`` after each image; 1.0 once at the end.
    cancel : CancelToken, optional
        Checked before each image.

    Returns
    -------
    MetricsTable
        The original's row first, then one per result.

    Raises
    ------
    ImageError
        Shapes differ, or the data are not 2-D/3-D finite numbers.
    ParameterError
        Bad slice index, regions outside the image, or repeated names.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> clean = np.zeros((64, 64), np.float32); clean[16:48, 16:48] = 1
    >>> noisy = clean + rng.normal(0, 0.3, clean.shape).astype(np.float32)
    >>> table = compare(noisy, [ComparedImage("truth", clean)], reference=clean)
    >>> table.row("truth").psnr == float("inf"), table.row("Original").psnr < 20
    (True, True)
    """
    original = check_image(original, name="original")
    names = [ORIGINAL_NAME, *(image.name for image in images)]
    if len(set(names)) != len(names):
        raise ParameterError(f"every image needs its own name, got {names}")
    for image in images:
        if np.shape(image.data) != original.shape:
            raise ImageError(f"{image.name} has shape {np.shape(image.data)}, the original {original.shape}: "
                             "a result must have the original's shape")
    if reference is not None and np.shape(reference) != original.shape:
        raise ImageError(f"the reference has shape {np.shape(reference)}, the original {original.shape}")
    plane_of = _plane_picker(original, slice_index)
    original_part = plane_of(original)
    reference_part = None if reference is None else plane_of(check_image(reference, name="reference"))
    if signal_region is None or background_region is None:
        chooser = original_part if reference_part is None else reference_part
        middle = chooser if chooser.ndim == 2 else chooser[chooser.shape[0] // 2]
        signal_default, background_default = default_regions(middle)
        signal_region = signal_region or signal_default
        background_region = background_region or background_default
    for name, region in (("signal", signal_region), ("background", background_region)):
        region.validate(original.shape[-2:])
        if min(region.y1 - region.y0, region.x1 - region.x0) < MIN_REGION_SIDE:
            raise ParameterError(f"the {name} region {region} is too small: make it at least "
                                 f"{MIN_REGION_SIDE} px on each side")
    counter = ProgressCounter(len(names), progress)
    rows = []
    for image in (ComparedImage(ORIGINAL_NAME, original), *images):
        if cancel is not None:
            cancel.check()
        part = original_part if image.data is original else plane_of(check_image(image.data, name=image.name))
        rows.append(measure_image(original_part, ComparedImage(image.name, part, image.elapsed_s),
                                  signal_region=signal_region, background_region=background_region,
                                  reference=reference_part, data_range=data_range))
        counter.step()
    counter.finish()
    scope = "the whole volume" if original.ndim == 3 and slice_index is None else (
        "the whole image" if original.ndim == 2 else f"slice {slice_index + 1}")
    return MetricsTable(tuple(rows), signal_region, background_region, scope)


def _plane_picker(original: np.ndarray, slice_index: int | None):
    """A function giving the part of an array that is measured."""
    if slice_index is None:
        return lambda data: data
    n_planes = original.shape[0] if original.ndim == 3 else 1
    if isinstance(slice_index, bool) or not isinstance(slice_index, (int, np.integer)) \
            or not 0 <= slice_index < n_planes:
        raise ParameterError(f"slice {slice_index} does not exist: the image has {n_planes} "
                             f"slice{'s' if n_planes > 1 else ''} (0 to {n_planes - 1})")
    return (lambda data: data[slice_index]) if original.ndim == 3 else (lambda data: data)


# ---------------------------------------------------------------- files (the compare command)

def unique_names(names: Sequence[str]) -> list[str]:
    """``names`` with repeats (and the original's name) made unique: ``x``, ``x (2)``…

    Examples
    --------
    >>> unique_names(["median", "median", "Original"])
    ['median', 'median (2)', 'Original (2)']
    """
    taken = {ORIGINAL_NAME}
    unique = []
    for name in names:
        candidate, number = name, 1
        while candidate in taken:
            number += 1
            candidate = f"{name} ({number})"
        taken.add(candidate)
        unique.append(candidate)
    return unique


def compare_files(original_path, result_paths: Sequence, figure_path, *, reference_path=None, csv_path=None,
                  slice_index: int | None = None, data_range: float | None = None,
                  overwrite: bool = False) -> MetricsTable:
    """Measure result files against their original and write the comparison figure (and a CSV).

    Parameters
    ----------
    original_path : str or Path
        The noisy input (TIFF, MRC or a folder of TIFF slices).
    result_paths : sequence of str or Path
        Results computed from it, same shape; each is titled with its file
        stem in the figure and the table.
    figure_path : str or Path
        The figure to write: ``.png`` or ``.pdf`` (see
        :func:`engine.figure.save_comparison_figure`): the original and the
        results in a labelled grid with shared contrast, and the metrics table.
    reference_path : str or Path, optional
        A noise-free version of the original: adds PSNR and SSIM.
    csv_path : str or Path, optional
        Where to write the metrics table as CSV.
    slice_index : int, optional
        Show and measure this slice (0-based) of a volume.  By default the
        figure shows the middle slice and the whole volume is measured.
    data_range : float, optional
        The span of possible values for PSNR and SSIM (see
        :func:`~engine.compare.metrics.psnr`); by default the reference's
        range, which a constant reference does not have.
    overwrite : bool
        Replace existing output files; without it, nothing is computed when
        one exists.

    Returns
    -------
    MetricsTable

    Raises
    ------
    ImageError
        An input cannot be read, shapes differ, or an output exists.
    ParameterError
        A bad slice index or output format.
    """
    from et_denoise.engine.compare.figure import Panel, save_comparison_figure, validate_figure_path
    from et_denoise.engine.io import read_image

    if not result_paths:
        raise ParameterError("give at least one result to compare with the original")
    outputs = [Path(figure_path)] + ([Path(csv_path)] if csv_path is not None else [])
    validate_figure_path(figure_path)
    for path in outputs:
        if path.exists() and not overwrite:
            raise OutputExistsError(path)
    original = read_image(original_path).data
    names = unique_names([Path(path).stem for path in result_paths])
    images = [ComparedImage(name, read_image(path).data) for name, path in zip(names, result_paths)]
    reference = None if reference_path is None else read_image(reference_path).data
    if reference is not None and data_range is None and np.ptp(reference) == 0:
        raise ImageError("the reference is constant, so PSNR and SSIM need the data range given explicitly",
                         reference_path)
    table = compare(original, images, reference=reference, slice_index=slice_index, data_range=data_range)
    shown = None if original.ndim == 2 else (original.shape[0] // 2 if slice_index is None else slice_index)

    def plane(data):
        return data if shown is None else data[shown]

    panels = [Panel(ORIGINAL_NAME, plane(original))] + [Panel(image.name, plane(image.data)) for image in images]
    where = "" if shown is None else f"slice {shown + 1} of {original.shape[0]} shown · "
    save_comparison_figure(figure_path, panels, metrics=table, overwrite=overwrite,
                           caption=f"{where}measured on {table.scope}")
    if csv_path is not None:
        table.write_csv(csv_path, overwrite=overwrite)
    return table
