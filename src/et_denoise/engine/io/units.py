"""Length units of image metadata, converted to and from ångström (the MRC unit)."""

from __future__ import annotations

import re
import unicodedata

import numpy as np

#: Ångström per unit, for the canonical unit names this package uses.
ANGSTROM_PER_UNIT = {
    "pm": 0.01,
    "Å": 1.0,
    "nm": 10.0,
    "µm": 1e4,
    "mm": 1e7,
    "cm": 1e8,
    "m": 1e10,
}

# Spellings met in ImageJ descriptions and TIFF tags, after NFKC normalisation
# (which turns the micro sign into the Greek mu and the ångström sign into Å)
# and lower-casing.
_ALIASES = {
    "pm": "pm", "picometer": "pm", "picometre": "pm",
    "a": "Å", "å": "Å", "angstrom": "Å", "angstroms": "Å", "ångström": "Å",
    "nm": "nm", "nanometer": "nm", "nanometre": "nm", "nanometers": "nm", "nanometres": "nm",
    "um": "µm", "μm": "µm", "micron": "µm", "microns": "µm", "micrometer": "µm",
    "micrometre": "µm", "micrometers": "µm", "micrometres": "µm",
    "mm": "mm", "millimeter": "mm", "millimetre": "mm",
    "cm": "cm", "centimeter": "cm", "centimetre": "cm",
    "m": "m", "meter": "m", "metre": "m", "meters": "m", "metres": "m",
}

# How ImageJ itself writes each unit into a TIFF description (ASCII only:
# ImageJ escapes other characters as \uXXXX).
_IMAGEJ_NAMES = {"Å": "\\u00C5", "µm": "micron"}


def parse_unit(text: str | None) -> str | None:
    """Return the canonical name of a length unit, or None if it is not one.

    ``"pixel"``, ``"inch"`` and unknown words give None: they say nothing
    about the physical pixel size.

    Examples
    --------
    >>> parse_unit("micron"), parse_unit("\\\\u00B5m"), parse_unit("pixel")
    ('µm', 'µm', None)
    """
    if not text:
        return None
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda match: chr(int(match.group(1), 16)), str(text))
    text = unicodedata.normalize("NFKC", text).strip().lower()
    return _ALIASES.get(text)


def imagej_unit_name(unit: str) -> str:
    """Return the ASCII spelling ImageJ writes for a canonical unit name."""
    return _IMAGEJ_NAMES.get(unit, unit)


def to_angstrom(value: float, unit: str) -> float:
    """Convert a length in ``unit`` to ångström, rounded by :func:`round_size`."""
    return round_size(value * ANGSTROM_PER_UNIT[unit])


def from_angstrom(value: float, unit: str) -> float:
    """Convert a length in ångström to ``unit``."""
    return value / ANGSTROM_PER_UNIT[unit]


def round_size(value: float) -> float:
    """Round a voxel size to 6 significant digits.

    Files store sizes approximately (TIFF as a rational number of pixels per
    unit, MRC as a float32 cell size divided by the number of samples);
    rounding makes a size written as 3.42 read back as 3.42.
    """
    return float(f"{value:.6g}")


def float32_rounded(value: float) -> float:
    """Return the shortest decimal that rounds to the same float32 (the MRC field type)."""
    return float(str(np.float32(value)))
