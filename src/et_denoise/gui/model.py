"""The open document: one image, the results computed from it, and what is shown.

Plain Python (no Qt): views receive a :class:`Document` and subscribe to its
signals; tabs add results to it and read the current image and slice from it.
Everything here is changed on the GUI thread only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import time
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Iterator

import numpy as np

from et_denoise.engine.describe import describe_params, format_seconds, plain_text, value_text
from et_denoise.engine.n2v.masks import same_mask
from et_denoise.engine.volume.storage import scratch_file_of
from et_denoise.gui.signals import Signal
from et_denoise.gui.slice_view import SliceView

_result_ids = itertools.count(1)


@dataclass(eq=False)
class Result:
    """A finished run on the whole image.

    Attributes
    ----------
    name : str
        Shown in the results list; the user may rename it.
    method : str
        The method's identifier (``"median"``), or another producer's name.
    method_label : str
        The method's human name (``"Median"``).
    params : MethodParams or None
        The parameters it was computed with.
    data : ndarray
        The result, same shape as the image (float32); a result larger than
        the memory budget is mapped read-only from its scratch file
        (:class:`~engine.volume.storage.ResultStorage`), deleted with it.
    elapsed_s : float
        Computing time in seconds.
    saved_path : str or None
        Where it was last saved; ``None`` while unsaved.
    shown : dict of str to str
        How parameters whose saved values mislead read instead (see
        :meth:`~engine.n2v.model.TrainedModel.shown_values`).
    model_folder : str or None
        For a StructN2V / N2V result: the folder its model was loaded from or
        saved to (its recipe); None while the model is saved nowhere.
    """

    name: str
    method: str
    method_label: str
    params: Any
    data: np.ndarray
    elapsed_s: float
    saved_path: str | None = None
    shown: dict = field(default_factory=dict)
    model_folder: str | None = None
    created: float = field(default_factory=time.time)
    id: int = field(default_factory=lambda: next(_result_ids))

    @property
    def saved(self) -> bool:
        """Whether the result was written to a file."""
        return self.saved_path is not None

    def summary(self) -> str:
        """One line: method, parameters and time taken."""
        described = describe_params(self.params, shown=self.shown)
        parts = [self.method_label] + ([described] if described else []) + [format_seconds(self.elapsed_s)]
        return " · ".join(parts)


@dataclass(frozen=True, eq=False)
class Preview:
    """A method run on one slice only, to judge parameters before the whole volume.

    ``z`` is the slice it was computed for; ``data`` is that 2-D slice.
    ``block`` is (first, last) slice of the small block a 3-D method ran on
    (so a live preview stays fast), or None for a 2-D run on the slice alone.
    ``region`` is the (rows, columns) part of the slice a slow 3-D method
    computed (the original elsewhere), or None for the whole slice.
    """

    method_label: str
    params: Any
    z: int
    data: np.ndarray
    elapsed_s: float
    block: tuple[int, int] | None = None
    region: tuple[slice, slice] | None = None

    @property
    def name(self) -> str:
        """Shown above the image."""
        return f"{self.method_label} preview{' (crop)' if self.region is not None else ''}"

    def summary(self) -> str:
        """One line: method, parameters and time taken on this slice."""
        where = f"slice {self.z + 1}"
        if self.block is not None:
            where += f" (3-D on slices {self.block[0] + 1}–{self.block[1] + 1}{describe_region(self.region)} only)"
        return f"Preview of {where}: {describe_params(self.params)} · {self.elapsed_s * 1000:.0f} ms"


Comparison = Result | Preview


def describe_region(region: tuple[slice, slice] | None) -> str:
    """``", x 65–192, y 65–192"``: the part of a slice a preview computed (1-based), or "" for all of it."""
    if region is None:
        return ""
    rows, columns = region
    return f", x {columns.start + 1}–{columns.stop}, y {rows.start + 1}–{rows.stop}"


class ResultList:
    """The finished results, in the order they were made.

    Signals: ``added(result)``, ``removed(result)``, ``changed(result)`` (renamed or saved).
    """

    def __init__(self) -> None:
        self._items: list[Result] = []
        self.added = Signal()
        self.removed = Signal()
        self.changed = Signal()

    def __iter__(self) -> Iterator[Result]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> Result:
        return self._items[index]

    def __contains__(self, result: object) -> bool:
        return result in self._items

    def index(self, result: Result) -> int:
        """Position of ``result`` in the list."""
        return self._items.index(result)

    def add(self, result: Result) -> None:
        """Append a result (its name made unique first)."""
        result.name = self.unique_name(self.distinct_name(result))
        self._items.append(result)
        self.added.emit(result)

    def remove(self, result: Result) -> None:
        """Drop a result."""
        self._items.remove(result)
        self.removed.emit(result)

    def clear(self) -> None:
        """Drop every result."""
        for result in list(self._items):
            self.remove(result)

    def rename(self, result: Result, name: str) -> None:
        """Give ``result`` a new name (blank names are refused; control characters, such as newlines, dropped)."""
        name = plain_text(name)
        name = self.unique_name(name, ignore=result) if name else result.name
        if name != result.name:
            result.name = name
            self.changed.emit(result)

    def mark_saved(self, result: Result, path: str) -> None:
        """Record that ``result`` was written to ``path``."""
        result.saved_path = str(path)
        self.changed.emit(result)

    def unsaved(self) -> list[Result]:
        """Results not written to any file yet."""
        return [result for result in self._items if not result.saved]

    def distinct_name(self, result: Result) -> str:
        """``"Median size 7"`` when a ``"Median"`` is already there with another size; else the name as is."""
        same = [other for other in self._items if other.method == result.method and other.params is not None]
        if result.name not in {other.name for other in self._items} or result.params is None or not same:
            return result.name
        previous = same[-1].params
        if type(previous) is not type(result.params) or not dataclasses.is_dataclass(previous):
            return result.name
        for item in dataclasses.fields(result.params):
            value = getattr(result.params, item.name)
            if value != getattr(previous, item.name):
                label = item.metadata.get("label", item.name)
                return f"{result.name} {label[:1].lower()}{label[1:]} {value_text(item, value)}"
        return result.name

    def unique_name(self, name: str, ignore: Result | None = None) -> str:
        """``name``, or ``name (2)``, ``name (3)``… if already taken."""
        taken = {result.name for result in self._items if result is not ignore}
        if name not in taken:
            return name
        for number in itertools.count(2):
            candidate = f"{name} ({number})"
            if candidate not in taken:
                return candidate
        raise AssertionError("unreachable")


class Document:
    """The open image, its results, the current slice and what is compared with it.

    Signals
    -------
    image_opened(document)
        A new image replaced the old one (results were cleared).
    slice_changed(z)
        The current slice changed.
    comparison_changed(comparison)
        The image shown against the original changed: a :class:`Result`, a
        :class:`Preview` or ``None``.
    blind_spot_mask_changed(mask)
        The StructN2V blind-spot mask changed (a bool array, or ``None`` for plain N2V).
    voxel_size_changed(voxel_size)
        The user set the open image's voxel size (Image > Properties).
    """

    def __init__(self) -> None:
        self.image = None
        self.name = ""
        self.reference: np.ndarray | None = None
        self.results = ResultList()
        self.z = 0
        self.comparison: Comparison | None = None
        self.image_opened = Signal()
        self.slice_changed = Signal()
        self.comparison_changed = Signal()
        self.blind_spot_mask: np.ndarray | None = None
        self.blind_spot_mask_changed = Signal()
        self.results.removed.connect(self._on_results_removed)
        self.voxel_size_changed = Signal()
        #: The plane shown (XY, XZ or YZ) and the cursor that places it.
        self.view = SliceView(self)

    # ------------------------------------------------------------ the image
    def open_image(self, image: Any, name: str, *, reference: np.ndarray | None = None) -> None:
        """Show ``image`` (an :class:`engine.io.ImageData`), dropping the old one and its results.

        ``reference`` is an optional noise-free version (the sample's ground truth).
        """
        self.comparison = None
        self.results.clear()
        self.image = image
        self.name = name
        self.reference = reference
        self.z = self.n_slices // 2
        self.image_opened.emit(self)
        self.comparison_changed.emit(None)

    @property
    def has_image(self) -> bool:
        """Whether an image is open."""
        return self.image is not None

    @property
    def is_volume(self) -> bool:
        """Whether the open image is a 3-D stack (False for a 2-D image)."""
        return self.image is not None and self.image.data.ndim == 3

    @property
    def n_slices(self) -> int:
        """Number of Z slices (1 for a 2-D image, 0 when nothing is open)."""
        if self.image is None:
            return 0
        return self.image.data.shape[0] if self.is_volume else 1

    @property
    def voxel_size(self) -> tuple | None:
        """(z, y, x) in Å, or ``None`` when unknown."""
        return None if self.image is None else self.image.voxel_size

    def set_voxel_size(self, voxel_size: tuple | None) -> None:
        """Give the open image a voxel size, (z, y, x) in Å (None: unknown); saved results carry it."""
        if self.image is None:
            return
        voxel_size = None if voxel_size is None else tuple(float(size) for size in voxel_size)
        if voxel_size is not None and (len(voxel_size) != 3 or not all(size > 0 for size in voxel_size)):
            raise ValueError(f"A voxel size is three sizes above zero, not {voxel_size}.")
        if voxel_size != self.image.voxel_size:
            self.image.voxel_size = voxel_size
            self.image.unit = None  # the file's unit no longer applies
            self.voxel_size_changed.emit(voxel_size)

    def planes(self) -> np.ndarray:
        """The image as a (Z, Y, X) stack (a 2-D image is one plane)."""
        data = self.image.data
        return data if data.ndim == 3 else data[np.newaxis]

    # ------------------------------------------------------------ the slice
    def set_z(self, z: int) -> None:
        """Show slice ``z`` (clamped to the stack)."""
        if self.image is None:
            return
        z = int(min(max(z, 0), self.n_slices - 1))
        if z != self.z:
            self.z = z
            self.slice_changed.emit(z)

    def step_z(self, steps: int) -> None:
        """Move ``steps`` slices up (positive) or down."""
        self.set_z(self.z + steps)

    def current_slice(self) -> np.ndarray:
        """The original image's current slice, 2-D."""
        return self.planes()[self.z]

    def slab(self, radius: int) -> tuple[np.ndarray, int]:
        """Up to ``radius`` slices either side of the current one, and the current slice's index in it."""
        start = max(self.z - radius, 0)
        stop = min(self.z + radius + 1, self.n_slices)
        return self.planes()[start:stop], self.z - start

    # ------------------------------------------------------------ the comparison
    def show(self, comparison: Comparison | None) -> None:
        """Compare the original with ``comparison`` (a result, a preview, or nothing)."""
        if comparison is not self.comparison:
            self.comparison = comparison
            self.comparison_changed.emit(comparison)

    def comparison_slice(self) -> np.ndarray | None:
        """The current slice of what is compared, or ``None`` (nothing, or a preview of another slice)."""
        shown = self.comparison
        if isinstance(shown, Result):
            data = shown.data
            return data[self.z] if data.ndim == 3 else data
        if isinstance(shown, Preview) and shown.z == self.z:
            return shown.data
        return None

    def add_result(self, result: Result) -> None:
        """Keep a finished result and show it."""
        self.results.add(result)
        self.show(result)

    # ------------------------------------------------------------ the StructN2V mask
    def set_blind_spot_mask(self, mask: np.ndarray | None) -> None:
        """Choose the StructN2V blind-spot mask (``None`` for plain N2V).

        ``mask`` is a 2-D or 3-D boolean array with odd sizes whose centre is the
        blind spot; the noise analysis suggests one, the StructN2V tab edits it.
        Setting the mask it already holds emits nothing, so views that both set
        and observe it do not loop.
        """
        if mask is not None:
            mask = np.array(mask, dtype=bool)
            if mask.ndim not in (2, 3) or any(size % 2 == 0 for size in mask.shape):
                raise ValueError(f"A blind-spot mask must be 2-D or 3-D with odd sizes, not {mask.shape}.")
        old = self.blind_spot_mask
        if same_mask(old, mask):
            return
        self.blind_spot_mask = mask
        self.blind_spot_mask_changed.emit(mask)

    def _on_results_removed(self, result: Result) -> None:
        if result is self.comparison:
            self.show(None)
        scratch = scratch_file_of(result.data)
        if scratch is not None:  # a result kept on disk: its file goes with it (the map stays valid)
            with contextlib.suppress(OSError):  # still mapped on Windows: removed with the session's folder
                scratch.unlink(missing_ok=True)
