"""Draw the app icon and write it in every size Linux, Windows and macOS need.

The design: a vesicle in a tomogram, its left half as the microscope sees it
(coarse noise, correlated along X like tomogram noise), its right half
denoised, and the yellow divider of the app's split view between them.

Run ``.venv/bin/python packaging/make_icons.py`` after changing the design;
the files it writes are committed:

- ``src/et_denoise/resources/app-icon-<N>.png`` for N in :data:`PNG_SIZES` (Linux hicolor
  icon theme, the ``.desktop`` entry, and the sources of the two below),
- ``src/et_denoise/resources/app-icon.ico`` (Windows: 16 to 256 pixels),
- ``src/et_denoise/resources/app-icon.icns`` (macOS: 16 to 512 points, 32 to 1024 pixels).

Every size is drawn on its own (4× supersampled), with the noise grain
scaled to the size so that small icons stay legible.  The noise is seeded,
so running the script again gives identical files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

RESOURCES = Path(__file__).resolve().parent.parent / "src" / "et_denoise" / "resources"
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: Pixel sizes in the .icns: 16 and 32 points at 2× (32, 64), 128 to 512 points at 1× and 2×.
ICNS_SIZES = (32, 64, 128, 256, 512, 1024)
SUPERSAMPLE = 4

BACKGROUND_TOP, BACKGROUND_BOTTOM = (43, 51, 64), (22, 27, 34)  # the window icon's gradient
DARK, LIGHT = np.array((28, 34, 44.0)), np.array((222, 228, 238.0))
DIVIDER = (255, 201, 64)


def _specimen(n: int) -> np.ndarray:
    """Brightness in [0, 1] of an n × n view of a vesicle: a lighter lumen inside a dark bilayer."""
    y, x = (np.mgrid[0:n, 0:n] + 0.5) / n - 0.5
    r = np.hypot(x, y)
    radius, leaflet, gap = 0.30, 0.028, 0.03
    membrane = (np.exp(-0.5 * ((r - radius + gap) / leaflet * 2) ** 2)
                + np.exp(-0.5 * ((r - radius - gap) / leaflet * 2) ** 2))
    lumen = 1 / (1 + np.exp((r - radius) / 0.01))
    return np.clip(0.5 + 0.25 * lumen - 0.55 * membrane, 0, 1)


def _noisy(clean: np.ndarray, grains: int) -> np.ndarray:
    """``clean`` seen through coarse pixels with noise correlated along X."""
    rng = np.random.default_rng(7)
    n = clean.shape[0]
    step = n / grains
    centres = ((np.arange(grains) + 0.5) * step).astype(int)
    coarse = clean[np.ix_(centres, centres)]
    noise = rng.normal(0, 0.15, (grains, grains + 2))
    noise = (noise[:, :-2] + noise[:, 1:-1] + noise[:, 2:]) / np.sqrt(3)
    index = (np.arange(n) / step).astype(int)
    return np.clip(coarse + noise, 0, 1)[np.ix_(index, index)]


def _colour(values: np.ndarray) -> np.ndarray:
    return (DARK + values[..., np.newaxis] * (LIGHT - DARK)).astype(np.uint8)


def draw_icon(size: int) -> Image.Image:
    """The icon at ``size`` × ``size`` pixels (RGBA)."""
    s = size * SUPERSAMPLE
    # Rounded square with a vertical gradient.
    ramp = np.linspace(0, 1, s)[:, np.newaxis, np.newaxis]
    gradient = np.array(BACKGROUND_TOP) * (1 - ramp) + np.array(BACKGROUND_BOTTOM) * ramp
    canvas = Image.fromarray(np.broadcast_to(gradient, (s, s, 3)).astype(np.uint8)).convert("RGBA")
    outline = Image.new("L", (s, s), 0)
    margin = round(0.03 * s)
    ImageDraw.Draw(outline).rounded_rectangle((margin, margin, s - margin, s - margin), radius=0.2 * s, fill=255)
    # The specimen panel: noisy left half, denoised right half.
    panel = round(0.72 * s)
    corner = (s - panel) // 2
    clean = _specimen(panel)
    grains = int(np.clip(size / 2.5, 6, 40))
    pixels = np.where(np.arange(panel) < panel // 2, _noisy(clean, grains), clean)
    panel_mask = Image.new("L", (panel, panel), 0)
    ImageDraw.Draw(panel_mask).rounded_rectangle((0, 0, panel - 1, panel - 1), radius=0.06 * s, fill=255)
    canvas.paste(Image.fromarray(_colour(pixels)), (corner, corner), panel_mask)
    # The split-view divider, reaching beyond the panel.
    width = max(round(0.045 * s), SUPERSAMPLE)
    top, bottom = round(0.09 * s), s - round(0.09 * s)
    ImageDraw.Draw(canvas).line((s // 2, top, s // 2, bottom), fill=DIVIDER, width=width)
    for end in (top, bottom):
        ImageDraw.Draw(canvas).ellipse((s // 2 - width / 2, end - width / 2, s // 2 + width / 2, end + width / 2),
                                       fill=DIVIDER)
    canvas.putalpha(outline)
    return canvas.resize((size, size), Image.LANCZOS)


def write_icons(folder: Path = RESOURCES) -> list[Path]:
    """Write the PNG set, the .ico and the .icns; return the files written."""
    icons = {size: draw_icon(size) for size in sorted(set(PNG_SIZES) | set(ICO_SIZES) | set(ICNS_SIZES))}
    written = []
    for size in PNG_SIZES:
        path = folder / f"app-icon-{size}.png"
        icons[size].save(path, optimize=True)
        written.append(path)
    largest = max(ICO_SIZES)
    icons[largest].save(folder / "app-icon.ico", sizes=[(n, n) for n in ICO_SIZES],
                        append_images=[icons[n] for n in ICO_SIZES if n != largest])
    largest = max(ICNS_SIZES)
    icons[largest].save(folder / "app-icon.icns", append_images=[icons[n] for n in ICNS_SIZES if n != largest])
    return written + [folder / "app-icon.ico", folder / "app-icon.icns"]


if __name__ == "__main__":
    for path in write_icons(Path(sys.argv[1]) if len(sys.argv) > 1 else RESOURCES):
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
