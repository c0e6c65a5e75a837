"""The image view: the canvas with its split, side-by-side and difference modes, contrast, scale bar, pixel readout and slice control."""
