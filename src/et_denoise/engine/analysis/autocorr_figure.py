"""The in-plane noise autocorrelation as a labelled PNG heat map."""

from __future__ import annotations

from pathlib import Path

from et_denoise.engine.analysis.autocorr import Autocorrelation
from et_denoise.engine.errors import ImageError, OutputExistsError


def save_autocorrelation_heat_map(path, acf: Autocorrelation, *, overwrite: bool = False) -> Path:
    """Draw ``acf``'s in-plane correlation (shifts -r..r along X and Y) and write it as a PNG.

    Parameters
    ----------
    path : str or Path
        The ``.png`` file to write.  It appears only once complete.
    acf : Autocorrelation
        From :func:`~engine.analysis.autocorr.noise_autocorrelation` or
        :func:`~engine.analysis.autocorr.residual_autocorrelation`.
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is False.
    ImageError
        The file cannot be written (no such folder, no permission, a full disk).

    Examples
    --------
    >>> import numpy as np
    >>> from et_denoise.engine.analysis.autocorr import noise_autocorrelation
    >>> acf = noise_autocorrelation(np.random.default_rng(0).normal(size=(64, 64)), radius=3)
    >>> save_autocorrelation_heat_map("acf.png", acf)                  # doctest: +SKIP
    PosixPath('acf.png')
    """
    from matplotlib.figure import Figure

    from et_denoise.engine.io.partial_files import atomic_file

    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(path)
    radius = acf.radius
    figure = Figure(figsize=(4.5, 4), dpi=150)  # no pyplot: no global state, no GUI backend
    axes = figure.subplots()
    shown = axes.imshow(acf.plane, cmap="RdBu_r", vmin=-1, vmax=1,
                        extent=(-radius - 0.5, radius + 0.5, radius + 0.5, -radius - 0.5))
    axes.set_xlabel("shift along X (px)")
    axes.set_ylabel("shift along Y (px)")
    axes.set_title(f"Noise autocorrelation\n{acf.source}", fontsize=8)
    figure.colorbar(shown, ax=axes, label="correlation")
    figure.tight_layout()
    try:
        with atomic_file(path, overwrite=overwrite) as stream:
            figure.savefig(stream, format="png")
    except OSError as error:
        raise ImageError(f"cannot write the heat map ({error.strerror or error})", path) from None
    return path
