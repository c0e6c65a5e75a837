"""Blind-spot masks for StructN2V: presets, a text form and 0/1 mask files.

Noise2Void hides one pixel and predicts it from its neighbours.  When the noise
is correlated along a direction (tomogram noise is correlated along X after
back-projection) the neighbours in that direction betray the hidden pixel's
noise and the network learns the identity.  StructN2V (Broaddus et al. 2020)
also hides those neighbours.  A mask is a binary array with odd sides whose
centre is the blind spot; its other 1s are the neighbours hidden with it
(n2v's ``structN2Vmask``).

Text form (the command line's ``--mask`` and the saved parameters)::

    none            plain N2V: only the centre pixel is hidden
    horizontal:L    a 1 x L row (along X), L odd, e.g. horizontal:9
    vertical:L      an L x 1 column (along Y)
    cross:L         an L x L plus sign
    square:L        an L x L block
    PATH            a text file of 0/1 rows (digits with or without spaces);
                    a blank line starts the next Z plane of a 3-D mask

References
----------
Broaddus, C., Krull, A., Weigert, M., Schmidt, U. & Myers, G. (2020). Removing
structured noise with self-supervised blind-spot networks. ISBI 2020, 159-163.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from et_denoise.engine.errors import ParameterError

PRESETS = ("none", "horizontal", "vertical", "cross", "square")
#: Longest preset: the largest odd side that fits the largest training patch (512 pixels).
MAX_PRESET_LENGTH = 511


def _line(length: int, axis: int) -> np.ndarray:
    shape = [1, 1]
    shape[axis] = length
    return np.ones(shape, dtype=np.uint8)


def _cross(length: int) -> np.ndarray:
    mask = np.zeros((length, length), dtype=np.uint8)
    mask[length // 2, :] = 1
    mask[:, length // 2] = 1
    return mask


_BUILDERS: dict[str, Callable[[int], np.ndarray]] = {
    "horizontal": lambda n: _line(n, axis=1),
    "vertical": lambda n: _line(n, axis=0),
    "cross": _cross,
    "square": lambda n: np.ones((n, n), dtype=np.uint8),
}


def preset_mask(kind: str, length: int) -> np.ndarray | None:
    """A preset blind-spot mask.

    Parameters
    ----------
    kind : {"none", "horizontal", "vertical", "cross", "square"}
        Shape of the hidden neighbourhood.
    length : int
        Odd side length in pixels (at least 3); ignored for ``"none"``.

    Returns
    -------
    ndarray of uint8 or None
        The 2-D mask, or None for plain N2V.

    Examples
    --------
    >>> preset_mask("horizontal", 5)
    array([[1, 1, 1, 1, 1]], dtype=uint8)
    """
    if kind == "none":
        return None
    if kind not in _BUILDERS:
        raise ParameterError(f"unknown mask {kind!r}; use one of {', '.join(PRESETS)} or a mask file")
    if length < 3 or length % 2 == 0 or length > MAX_PRESET_LENGTH:
        raise ParameterError(f"mask length must be an odd number of at least 3 and at most "
                             f"{MAX_PRESET_LENGTH} (the largest patch side - 1), got {length}")
    return _BUILDERS[kind](length)


def parse_mask(spec: str) -> np.ndarray | None:
    """Turn the text form of a mask (see the module docstring) into an array.

    Parameters
    ----------
    spec : str
        ``none``, ``KIND:LENGTH`` or the path of a 0/1 mask file.

    Returns
    -------
    ndarray of uint8 or None
        The checked mask (2-D, or 3-D from a file with blank-line separated
        planes), or None for plain N2V.

    Raises
    ------
    ParameterError
        The text is not a valid mask, or the mask is invalid (see :func:`check_mask`).

    Examples
    --------
    >>> parse_mask("vertical:3").shape
    (3, 1)
    >>> parse_mask("none") is None
    True
    """
    text = spec.strip()
    kind, _, length = text.partition(":")
    kind = kind.strip().lower()
    if kind == "none" and not length:
        return None
    if kind in _BUILDERS:
        try:
            size = int(length)
        except ValueError:
            raise ParameterError(f"mask {spec!r}: write {kind}:LENGTH with an odd whole number, e.g. {kind}:9") from None
        return preset_mask(kind, size)
    path = Path(text)
    if path.is_file():
        return read_mask_file(path)
    raise ParameterError(
        f"mask {spec!r} is neither a preset (none, horizontal:L, vertical:L, cross:L, square:L) nor an existing file"
    )


def is_preset(spec: str) -> bool:
    """Whether a mask text names a preset rather than a file."""
    return spec.strip().partition(":")[0].strip().lower() in PRESETS


def read_mask_file(path: str | Path) -> np.ndarray:
    """Read a mask written as rows of 0 and 1 (blank lines separate Z planes).

    Raises
    ------
    ParameterError
        Other characters, rows or planes of unequal length, or an invalid mask.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise ParameterError(f"cannot read mask file {path}: {error}") from None
    planes, rows = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        digits = line.replace(" ", "").replace("\t", "").replace(",", "")
        if not digits:
            if rows:
                planes.append(rows)
                rows = []
            continue
        if set(digits) - {"0", "1"}:
            raise ParameterError(f"mask file {path}, line {number}: only 0 and 1 are allowed, got {line.strip()!r}")
        rows.append([int(c) for c in digits])
    if rows:
        planes.append(rows)
    if not planes:
        raise ParameterError(f"mask file {path} is empty")
    if len({len(r) for plane in planes for r in plane}) != 1 or len({len(p) for p in planes}) != 1:
        raise ParameterError(f"mask file {path}: all rows (and all planes) must have the same length")
    mask = np.array(planes, dtype=np.uint8)
    mask = mask[0] if len(planes) == 1 else mask
    check_mask(mask)
    return mask


def check_mask(mask: np.ndarray) -> None:
    """Check that an array is a usable blind-spot mask.

    Raises
    ------
    ParameterError
        Not 2-D or 3-D, even sides (no centre), values other than 0 and 1, or
        nothing hidden besides the centre (then use ``none``).
    """
    mask = np.asarray(mask)
    if mask.ndim not in (2, 3):
        raise ParameterError(f"a mask must be 2-D or 3-D, got {mask.ndim}-D")
    if any(side % 2 == 0 for side in mask.shape):
        raise ParameterError(f"mask sides must be odd so that it has a centre pixel, got shape {mask.shape}")
    if not np.isin(mask, (0, 1)).all():
        raise ParameterError("a mask may contain only 0 and 1")
    hidden = mask.copy()
    hidden[tuple(s // 2 for s in mask.shape)] = 0
    if not hidden.any():
        raise ParameterError("the mask hides no pixel besides the centre; use 'none' for plain Noise2Void")


def mask_for_dims(mask: np.ndarray | None, ndim: int) -> np.ndarray | None:
    """The mask with ``ndim`` axes: a 2-D mask lies in the YX plane of a 3-D patch.

    Raises
    ------
    ParameterError
        A 3-D mask for 2-D training.
    """
    if mask is None or mask.ndim == ndim:
        return mask
    if mask.ndim == 2 and ndim == 3:
        return mask[np.newaxis]
    raise ParameterError("a 3-D mask needs 3-D training (mode 3d)")


def blind_spot_plane(mask: np.ndarray) -> np.ndarray:
    """The mask's blind-spot plane: the YX plane through the centre of a 3-D mask, a 2-D mask itself.

    Examples
    --------
    >>> blind_spot_plane(np.ones((3, 1, 5), bool)).shape, blind_spot_plane(np.ones((1, 3), bool)).shape
    ((1, 5), (1, 3))
    """
    return mask[mask.shape[0] // 2] if mask.ndim == 3 else mask


def mask_to_text(mask: np.ndarray | None) -> str:
    """The mask as rows of 0/1 digits (planes separated by a blank line): the mask-file format."""
    if mask is None:
        return "none"
    planes = mask[np.newaxis] if mask.ndim == 2 else mask
    return "\n\n".join("\n".join("".join(str(int(v)) for v in row) for row in plane) for plane in planes) + "\n"


def same_mask(first: np.ndarray | None, second: np.ndarray | None) -> bool:
    """Whether two masks (or None for plain N2V) are the same: both None, or equal shapes and cells.

    Examples
    --------
    >>> same_mask(preset_mask("horizontal", 3), np.ones((1, 3), bool)), same_mask(None, None)
    (True, True)
    """
    if first is None or second is None:
        return first is None and second is None
    return np.array_equal(np.asarray(first, dtype=bool), np.asarray(second, dtype=bool))


def trim_mask(mask: np.ndarray) -> np.ndarray:
    """The smallest mask with the same centre and the same hidden cells (empty borders dropped).

    Examples
    --------
    >>> trim_mask(np.pad(np.ones((1, 3), bool), 2)).shape
    (1, 3)
    """
    mask = np.asarray(mask, dtype=bool)
    centre = [side // 2 for side in mask.shape]
    hidden = mask.copy()
    hidden[tuple(centre)] = False
    cells = np.argwhere(hidden)
    radius = np.abs(cells - centre).max(axis=0) if len(cells) else np.zeros(mask.ndim, int)
    trimmed = mask[tuple(slice(c - r, c + r + 1) for c, r in zip(centre, radius))].copy()
    trimmed[tuple(int(r) for r in radius)] = True
    return trimmed


def preset_of(mask: np.ndarray | None) -> tuple[str, int] | None:
    """``(kind, length)`` of the preset equal to ``mask`` once trimmed (``("none", 0)`` for None), or None.

    Examples
    --------
    >>> preset_of(np.pad(preset_mask("cross", 3), 1))
    ('cross', 3)
    """
    if mask is None:
        return "none", 0
    mask = trim_mask(mask)
    if mask.ndim == 3:
        if mask.shape[0] != 1:
            return None
        mask = mask[0]
    length = max(mask.shape)
    if length < 3 or length % 2 == 0:
        return None
    for kind in PRESETS[1:]:
        if same_mask(preset_mask(kind, length), mask):
            return kind, length
    return None


def symmetries(mask: np.ndarray | None) -> tuple[tuple[int, bool], ...]:
    """The YX-plane rotations and flips that leave the mask unchanged.

    Augmenting training patches with a transform the mask lacks would turn
    noise correlated along X into noise correlated along Y, which a horizontal
    mask does not hide; so augmentation uses only these transforms.

    Returns
    -------
    tuple of (quarter_turns, flip)
        Each transform is ``rot90(k=quarter_turns)`` then, when ``flip``, a
        flip along X; ``(0, False)`` (the identity) is always included.

    Examples
    --------
    >>> len(symmetries(None)), len(symmetries(preset_mask("horizontal", 5)))
    (8, 4)
    """
    transforms = tuple((k, flip) for flip in (False, True) for k in range(4))
    if mask is None:
        return transforms
    return tuple(t for t in transforms if np.array_equal(apply_symmetry(mask, t), mask))


def flip_symmetries(mask: np.ndarray | None, ndim: int) -> tuple[tuple[int, ...], ...]:
    """The in-plane flips that leave the mask unchanged, as the axes each one reverses: test-time augmentation's set.

    A network trained with a mask sees noise whose correlation the mask
    hides; averaging its predictions of flipped copies (each flipped back)
    keeps that so only for flips the mask shares.  Only Y and X are flipped,
    also for a 3-D network (``ndim`` 3): a volume denoised in slabs of planes
    then gives the same result as denoised whole (a flip along Z would move
    the U-Net's pooling grid differently in a slab and in the volume).  The
    first entry, ``()``, is the image itself.

    Examples
    --------
    >>> flip_symmetries(preset_mask("horizontal", 5), 2)
    ((), (-2,), (-1,), (-2, -1))
    >>> flip_symmetries(np.array([[1, 1, 0]]), 2)
    ((), (-2,))
    """
    flips = ((), (-2,), (-1,), (-2, -1))
    if mask is None:
        return flips
    mask = mask_for_dims(mask, ndim)
    return tuple(flip for flip in flips if np.array_equal(np.flip(mask, flip) if flip else mask, mask))


def apply_symmetry(array: np.ndarray, transform: tuple[int, bool], axes: tuple[int, int] = (-2, -1)) -> np.ndarray:
    """Apply one ``(quarter_turns, flip)`` transform from :func:`symmetries` over ``axes``."""
    turns, flip = transform
    out = np.rot90(array, k=turns, axes=axes) if turns else array
    return np.flip(out, axis=axes[1]) if flip else out
